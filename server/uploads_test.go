package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
	"salespulse/etl/devstack"
	"salespulse/server/api"
)

// bucket runs an in-process S3 on a free port with one bucket, and a client for it.
func bucket(t *testing.T) (*s3.Client, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Config{S3Addr: "127.0.0.1:0", DisableKafka: true, Buckets: []string{"sales"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	client, err := etl.NewS3Client(ctx, etl.S3Options{
		Endpoint: stack.S3Endpoint(), Region: "us-east-1", AccessKeyID: "test", SecretAccessKey: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return client, "sales"
}

// upload posts a multipart form with the file under field, and decodes the answer.
func upload(t *testing.T, url, field, name string, content []byte, header http.Header) (int, api.Upload, api.ErrorResponse) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("note", "a field before the file")
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var up api.Upload
	var e api.ErrorResponse
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(raw, &up); err != nil {
			t.Fatalf("answer: %v %s", err, raw)
		}
	} else if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("error answer not JSON: %s", raw)
	}
	return resp.StatusCode, up, e
}

func TestUploads(t *testing.T) {
	client, name := bucket(t)
	srv := startServer(t, Config{S3: client, Bucket: name, UploadMaxBytes: 256 << 10, APIToken: "tok"})
	auth := http.Header{"Authorization": {"Bearer tok"}}
	fixture, err := os.ReadFile(fixtureFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}

	code, up, e := upload(t, srv.URL(), "file", `C:\Users\me\My Sales (Oct).csv`, fixture, auth)
	if code != http.StatusCreated || up.Bucket != name || up.Size != int64(len(fixture)) || up.ETag == "" ||
		!strings.HasPrefix(up.Key, "uploads/") || !strings.HasSuffix(up.Key, "-My_Sales__Oct_.csv") {
		t.Fatalf("upload: %d %+v %+v", code, up, e)
	}
	obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(name), Key: aws.String(up.Key)})
	if err != nil {
		t.Fatalf("the upload is not in the bucket: %v", err)
	}
	stored, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(stored, fixture) {
		t.Errorf("stored %d bytes, sent %d", len(stored), len(fixture))
	}

	// A gzip-compressed export is stored as sent, under a name the worker's filter takes.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(fixture)
	zw.Close()
	if code, up, e := upload(t, srv.URL(), "file", "export.csv.gz", gz.Bytes(), auth); code != http.StatusCreated || !strings.HasSuffix(up.Key, "-export.csv.gz") {
		t.Errorf("gzip upload: %d %+v %+v", code, up, e)
	}
	var badGz bytes.Buffer
	zw = gzip.NewWriter(&badGz)
	zw.Write([]byte("Sale Date,Sale ID\n2024-01-01,x\n"))
	zw.Close()
	if code, _, e := upload(t, srv.URL(), "file", "x.csv.gz", badGz.Bytes(), auth); code != 400 || e.Error.Code != api.CodeBadFile {
		t.Errorf("gzip of a file missing columns: %d %+v", code, e)
	}

	for _, c := range []struct {
		name    string
		field   string
		content []byte
		header  http.Header
		status  int
		code    string
	}{
		{"not a CSV", "file", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary"), auth, 400, api.CodeBadFile},
		{"missing columns", "file", []byte("Sale Date,Sale ID\n2024-01-01,x\n"), auth, 400, api.CodeBadFile},
		{"empty", "file", nil, auth, 400, api.CodeBadFile},
		{"no file field", "attachment", fixture, auth, 400, api.CodeBadParameter},
		{"too big", "file", append(bytes.Repeat(fixture, (256<<10)/len(fixture)+1), '\n'), auth, 413, api.CodeTooLarge},
		{"no token", "file", fixture, nil, 401, api.CodeUnauthorized},
		{"wrong token", "file", fixture, http.Header{"Authorization": {"Bearer nope"}}, 401, api.CodeUnauthorized},
		{"foreign page", "file", fixture, http.Header{"Authorization": {"Bearer tok"}, "Origin": {"https://evil.example"}}, 403, api.CodeForbiddenOrigin},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, e := upload(t, srv.URL(), c.field, "x.csv", c.content, c.header)
			if code != c.status || e.Error.Code != c.code || e.Error.Message == "" {
				t.Errorf("%d %+v, want %d %s", code, e, c.status, c.code)
			}
		})
	}
	// A body announced too large is refused before it is read.
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/api/uploads", strings.NewReader("x"))
	req.Header = auth.Clone()
	req.ContentLength = 300 << 20
	req.Body = io.NopCloser(io.LimitReader(zeros{}, 300<<20))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if resp.StatusCode != 413 {
			t.Errorf("announced 300 MiB: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}

	disabled := startServer(t, Config{})
	if code, _, e := upload(t, disabled.URL(), "file", "x.csv", fixture, nil); code != 503 || e.Error.Code != api.CodeUploadsDisabled {
		t.Errorf("without a bucket: %d %+v", code, e)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"sales.csv":              "sales.csv",
		"../../etc/passwd":       "passwd.csv",
		`C:\data\Q1 report.CSV`:  "Q1_report.CSV",
		".hidden.csv":            "hidden.csv",
		"":                       "upload.csv",
		"ventes-été.csv":         "ventes-_t_.csv",
		"a;rm -rf /;b.csv":       "b.csv",
		strings.Repeat("x", 300): strings.Repeat("x", 100) + ".csv",
		"report.csv.exe":         "report.csv.exe.csv",
		"export.csv.gz":          "export.csv.gz",
		"export.CSV.ZST":         "export.CSV.ZST",
		"export.gz":              "export.gz.csv",
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}
