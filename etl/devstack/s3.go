package devstack

import (
	"fmt"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// newBackend returns the object store: in memory, or in dir.
//
// The directory backend is s3afero's: each object is a plain file under
// dir/buckets/<bucket>/<key>, its metadata (MD5, headers) under
// dir/metadata. Unlike s3bolt, which keeps each object as one value in a
// bolt database, it streams objects from disk, so large files are never
// held in memory by GetObject. Its limits are those of a file system: a
// key cannot be both an object and a "directory" of others (a.csv and
// a.csv/b.csv).
func newBackend(dir string) (gofakes3.Backend, error) {
	if dir == "" {
		return s3mem.New(), nil
	}
	fs, err := s3afero.FsPath(dir, s3afero.FsPathCreateAll)
	if err != nil {
		return nil, fmt.Errorf("devstack: S3 directory %s: %w", dir, err)
	}
	b, err := s3afero.MultiBucket(fs)
	if err != nil {
		return nil, fmt.Errorf("devstack: S3 directory %s: %w", dir, err)
	}
	return b, nil
}

// createBuckets creates the buckets that do not exist yet (a directory
// backend still has them from the last run).
func createBuckets(b gofakes3.Backend, names []string) error {
	for _, name := range names {
		ok, err := b.BucketExists(name)
		if err != nil {
			return fmt.Errorf("devstack: bucket %s: %w", name, err)
		}
		if ok {
			continue
		}
		if err := b.CreateBucket(name); err != nil {
			return fmt.Errorf("devstack: creating bucket %s: %w", name, err)
		}
	}
	return nil
}
