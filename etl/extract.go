package etl

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"
)

// Source is a file to load: where it comes from, and how to read it from the start (a load
// may read it again, e.g. after finding that it repeats sale ids already loaded).
type Source interface {
	Info() FileInfo
	Open(ctx context.Context) (io.ReadCloser, error)
}

// FileInfo identifies a file in the ledger.
type FileInfo struct {
	Kind      string // "file", "s3" or "upload"
	Bucket    string
	Key       string // object key, or local path
	ETag      string
	Size      int64
	EventTime time.Time // when the object was created, if known (for event-to-commit lag)
	// Event identifies the event that announced the file (see S3Object.AnnouncedBy): the same
	// event seen again, redelivered or replayed, is recognised and adds no ledger row.
	Event string
}

// Name is how people refer to the file: its path or its s3:// URL.
func (f FileInfo) Name() string {
	if f.Kind == "file" {
		return f.Key
	}
	return "s3://" + f.Bucket + "/" + f.Key
}

// contentHasher is a Source that can hash its bytes cheaply before a load, so the load of
// bytes already loaded is skipped without any work. Changed reports whether the bytes may
// differ from those hashed; the load then does not need to hash them again as they stream.
type contentHasher interface {
	Hash(ctx context.Context) ([]byte, error)
	Changed() bool
}

// LocalFile is a file on disk.
type LocalFile struct {
	Path   string
	info   FileInfo
	hashed os.FileInfo // the file as it was when hashed
}

// NewLocalFile checks that path is a readable regular file.
func NewLocalFile(path string) (*LocalFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return &LocalFile{Path: path, info: FileInfo{Kind: "file", Key: path, Size: st.Size()}}, nil
}

func (f *LocalFile) Info() FileInfo { return f.info }

func (f *LocalFile) Open(context.Context) (io.ReadCloser, error) { return os.Open(f.Path) }

// Hash is the SHA-256 of the file's bytes.
func (f *LocalFile) Hash(ctx context.Context) ([]byte, error) {
	r, err := os.Open(f.Path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if f.hashed, err = r.Stat(); err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Changed reports whether the file was replaced or modified since it was hashed.
func (f *LocalFile) Changed() bool {
	now, err := os.Stat(f.Path)
	return err != nil || f.hashed == nil || !os.SameFile(now, f.hashed) ||
		now.Size() != f.hashed.Size() || !now.ModTime().Equal(f.hashed.ModTime())
}

// ctxReader stops a long read when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
