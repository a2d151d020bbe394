package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
	"salespulse/server/api"
)

const (
	uploadPrefix = "uploads/"
	// multipartSlack is what the multipart envelope may add to the file itself (boundaries,
	// part headers, other small fields).
	multipartSlack = 64 << 10
	// headerProbe is how much of an upload the content check may read: the header line, and
	// enough to detect the encoding and the delimiter.
	headerProbe = 1 << 20
	// An upload must keep arriving: at least uploadPaceBytes every uploadPaceWindow (6.4
	// KiB/s), or it is cut off with 408. Any phone connection does better.
	uploadPaceBytes  = 64 << 10
	uploadPaceWindow = 10 * time.Second
)

// errUploadTooSlow is an upload body that missed its pace or its deadline.
var errUploadTooSlow = errors.New("upload: the body arrives too slowly")

// handleUpload is POST /api/uploads: a CSV file in the multipart field "file", checked and
// put into the bucket under uploads/. It is then loaded like any object landing there (the
// bucket's event reaches the worker); its ledger row appears when that is done.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.S3 == nil || s.cfg.Bucket == "" {
		refuseBody(w)
		return &apiError{http.StatusServiceUnavailable, api.Error{Code: api.CodeUploadsDisabled, Message: "this server has no bucket for uploads (BUCKET_NAME)"}}
	}
	limit := s.cfg.UploadMaxBytes
	if r.ContentLength > limit+multipartSlack {
		refuseBody(w)
		return tooLarge(limit)
	}
	// UploadConcurrency uploads at a time, each with a deadline and a pace to keep: slow
	// clients cannot pile up connections and spooled files.
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		w.Header().Set("Retry-After", "5")
		refuseBody(w)
		return &apiError{http.StatusServiceUnavailable, api.Error{Code: api.CodeUnavailable,
			Message: fmt.Sprintf("the server is receiving %d uploads already; try again shortly", s.cfg.UploadConcurrency)}}
	}
	deadline := time.Now().Add(s.cfg.UploadTimeout)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	r.Body = http.MaxBytesReader(w, newPacedBody(r.Body, http.NewResponseController(w), deadline), limit+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return badParam("file", "send the file as multipart/form-data in the field \"file\"")
	}
	tmp, name, size, err := spoolFilePart(mr, limit)
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := checkCSV(tmp); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("upload: rewind: %w", err)
	}
	key := uploadPrefix + time.Now().UTC().Format("20060102T150405.000000Z") + "-" + sanitizeName(name)
	// A seekable body of known length: the SDK signs and, against S3-compatible stores,
	// retries it without buffering.
	out, err := s.cfg.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: tmp,
		ContentLength: aws.Int64(size), ContentType: aws.String("text/csv"),
	})
	if err != nil {
		// A store that is away answers 503 with Retry-After (see writeError).
		return fmt.Errorf("upload: put s3://%s/%s: %w", s.cfg.Bucket, key, err)
	}
	s.log.Info("upload: stored", "bucket", s.cfg.Bucket, "key", key, "bytes", size, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusCreated, api.Upload{
		Bucket: s.cfg.Bucket, Key: key, Size: size, ETag: strings.Trim(aws.ToString(out.ETag), `"`),
	})
	return nil
}

// refuseBody answers without the request's body: the connection closes after the answer,
// rather than wait to read what is left of the body (up to 256 KiB, as slowly as the client
// likes) in order to be reused.
func refuseBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

func tooLarge(limit int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, api.Error{Code: api.CodeTooLarge, Message: fmt.Sprintf("files are limited to %d bytes", limit)}}
}

// spoolFilePart copies the part named "file" to a temporary file (uploads may be large; they
// are never held in memory) and returns it with the name the client gave and its size.
func spoolFilePart(mr *multipart.Reader, limit int64) (*os.File, string, int64, error) {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", 0, badParam("file", "the form has no field \"file\"")
		}
		if err != nil {
			return nil, "", 0, formError(err, limit)
		}
		if part.FormName() != "file" {
			continue // NextPart skips what is left of it
		}
		if name := part.FileName(); !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
			return nil, "", 0, badParam("file", "the file name must be text without control characters")
		}
		tmp, err := os.CreateTemp("", "salespulse-upload-*.csv")
		if err != nil {
			return nil, "", 0, fmt.Errorf("upload: spool: %w", err)
		}
		form := &formReader{r: io.LimitReader(part, limit+1)}
		n, err := io.Copy(tmp, form)
		switch {
		case form.err != nil:
			err = formError(form.err, limit)
		case err != nil:
			err = fmt.Errorf("upload: spool: %w", err)
		case n > limit:
			err = tooLarge(limit)
		}
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, "", 0, err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, "", 0, fmt.Errorf("upload: rewind: %w", err)
		}
		return tmp, part.FileName(), n, nil
	}
}

// formReader remembers the error of reading the form, to tell it from one of writing the
// spooled copy.
type formReader struct {
	r   io.Reader
	err error
}

func (f *formReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		f.err = err
	}
	return n, err
}

// formError tells a body over the limit (413) or too slow (408) from a form that is
// malformed or cut off (400).
func formError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(limit)
	}
	if errors.Is(err, errUploadTooSlow) {
		return &apiError{http.StatusRequestTimeout, api.Error{Code: api.CodeTimeout, Message: fmt.Sprintf(
			"the upload arrived too slowly: at least %d KiB every %v, within UPLOAD_TIMEOUT, are needed", uploadPaceBytes>>10, uploadPaceWindow)}}
	}
	return badParam("file", "the multipart form is malformed: %v", err)
}

// pacedBody is an upload body that must arrive at a pace: each window of uploadPaceWindow
// must bring uploadPaceBytes, and the whole body must be in by the deadline. It moves the
// connection's read deadline on as the bytes come, so a client that sends nothing or
// trickles is cut off in a window's time.
type pacedBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	deadline time.Time
	got      int64 // bytes in the current window
}

func newPacedBody(body io.ReadCloser, rc *http.ResponseController, deadline time.Time) *pacedBody {
	p := &pacedBody{body: body, rc: rc, deadline: deadline}
	p.nextWindow()
	return p
}

func (p *pacedBody) nextWindow() {
	p.got = 0
	next := time.Now().Add(uploadPaceWindow)
	if next.After(p.deadline) {
		next = p.deadline
	}
	_ = p.rc.SetReadDeadline(next)
}

func (p *pacedBody) Read(b []byte) (int, error) {
	n, err := p.body.Read(b)
	if p.got += int64(n); p.got >= uploadPaceBytes {
		p.nextWindow()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = errUploadTooSlow
	}
	return n, err
}

func (p *pacedBody) Close() error { return p.body.Close() }

// checkCSV refuses a file the loader would refuse whole: not decodable, no header, or a
// header that does not map to the CSV contract. Only the first bytes are read, with the
// loader's own reader.
func checkCSV(f *os.File) error {
	plain, _, err := etl.Decompress(f)
	if err == nil {
		defer plain.Close()
		_, err = etl.NewTransform(io.LimitReader(plain, headerProbe))
	}
	var herr *etl.HeaderError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &herr), errors.Is(err, etl.ErrEmptyFile):
		return &apiError{http.StatusBadRequest, api.Error{Code: api.CodeBadFile, Message: "not a sales CSV file: " + err.Error()}}
	default:
		return &apiError{http.StatusBadRequest, api.Error{Code: api.CodeBadFile, Message: "the file cannot be read as CSV: " + err.Error()}}
	}
}

// sanitizeName keeps an uploaded file's base name to letters, digits, dot, dash and
// underscore (no path, no control or shell characters in object keys) and makes it end in
// .csv (or .csv.gz, .csv.zst), as the worker's key filter expects by default.
func sanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), "._")
	if len(out) > 100 {
		out = out[len(out)-100:]
	}
	if out == "" {
		out = "upload"
	}
	lower := strings.ToLower(out)
	if !strings.HasSuffix(lower, ".csv") && !strings.HasSuffix(lower, ".csv.gz") && !strings.HasSuffix(lower, ".csv.zst") {
		out += ".csv"
	}
	return out
}
