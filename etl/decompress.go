package etl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compressed files are recognised by their first bytes, whatever their name says.
var (
	gzipMagic = []byte{0x1f, 0x8b, 0x08} // with the only compression method gzip defines
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// A compressed file may inflate to at most inflateRatio times the stored bytes read so far,
// plus inflateSlack: sales CSV compresses 5 to 15 times with gzip and zstd, while a
// compression bomb of a few kB inflates a million times. The bomb fails as soon as it passes
// the bound, having cost the bytes up to it, not the machine.
const (
	inflateRatio = 100
	inflateSlack = 64 << 20
)

// zstdMaxWindow bounds the decoder's memory (zstd frames may ask for windows of gigabytes).
const zstdMaxWindow = 64 << 20

// InflateError ends a compressed file that inflates past the bound: a compression bomb.
type InflateError struct {
	Compression      string
	Stored, Inflated int64 // bytes read of the file and bytes it had inflated to
}

func (e *InflateError) Error() string {
	return fmt.Sprintf("%s: %d bytes inflate to more than %d: over %d times their size, refused as a compression bomb",
		e.Compression, e.Stored, e.Inflated, inflateRatio)
}

// CorruptError is a compressed stream its decoder cannot read: the file's own fault.
type CorruptError struct {
	Compression string
	Err         error
}

func (e *CorruptError) Error() string { return e.Compression + ": " + e.Err.Error() }
func (e *CorruptError) Unwrap() error { return e.Err }

// decompressed is what a file's stored bytes hold: r itself, or r inflated. stored counts
// the stored bytes read (for the bomb bound). Close releases the decoder, not r.
func decompressed(r io.Reader, stored func() int64) (io.ReadCloser, string, error) {
	src := &sourceErrors{r: r}
	br := bufio.NewReaderSize(src, 1<<16)
	head, err := br.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", err
	}
	var dec io.Reader
	var closeDec func()
	var name string
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", readError("gzip", src, err)
		}
		dec, closeDec, name = zr, func() { zr.Close() }, "gzip"
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, "", readError("zstd", src, err)
		}
		dec, closeDec, name = zr, zr.Close, "zstd"
	default:
		return io.NopCloser(br), "", nil
	}
	return &inflater{r: dec, close: closeDec, name: name, src: src, stored: stored}, name, nil
}

// inflater reads a decoder, bounding what it inflates to and telling the file's corrupt
// stream from a failure to read the file.
type inflater struct {
	r      io.Reader
	close  func()
	name   string
	src    *sourceErrors
	stored func() int64
	n      int64
}

func (f *inflater) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if stored := f.stored(); f.n > inflateRatio*stored+inflateSlack {
		return n, &InflateError{Compression: f.name, Stored: stored, Inflated: f.n}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = readError(f.name, f.src, err)
	}
	return n, err
}

func (f *inflater) Close() error {
	f.close()
	return nil
}

// readError is the source's own error when reading the file failed (a lost connection stays
// what it is), else the decoder's: a corrupt stream.
func readError(name string, src *sourceErrors, err error) error {
	if src.err != nil {
		return src.err
	}
	return &CorruptError{Compression: name, Err: err}
}

// sourceErrors remembers the error of reading the stored bytes.
type sourceErrors struct {
	r   io.Reader
	err error
}

func (s *sourceErrors) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// Decompress reads the plain bytes of a file's stored bytes (see Loader for what is
// recognised), with the same bound on what a compressed file inflates to. It names the
// compression ("" for none). Close releases the decoder, not r.
func Decompress(r io.Reader) (io.ReadCloser, string, error) {
	c := &countingReader{r: r}
	return decompressed(c, func() int64 { return c.n })
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
