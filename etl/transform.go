package etl

import (
	"errors"
	"fmt"
	"io"
)

// Transform reads a CSV stream row by row: it detects the encoding and the delimiter, maps
// the header, and checks every row against the rules. It never holds more than one record.
type Transform struct {
	dec    *decoder
	sc     *scanner
	header *Header
	rules  *rowRules
	rows   int64 // data rows seen
}

// ErrEmptyFile is returned for a stream with no header line.
var ErrEmptyFile = errors.New("empty file: no header line")

// NewTransform reads up to and including the header. A *HeaderError, ErrEmptyFile or a
// read error means the file cannot be loaded at all.
func NewTransform(r io.Reader) (*Transform, error) {
	text, dec, err := newDecoder(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	t := &Transform{dec: dec, sc: newScanner(text)}
	first, err := t.sc.peekLine()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	t.sc.delim = sniffDelimiter(first)
	rec, ok := t.sc.next()
	if !ok {
		if t.sc.err != nil {
			return nil, fmt.Errorf("read: %w", t.sc.err)
		}
		return nil, ErrEmptyFile
	}
	if rec.broken != "" {
		return nil, &HeaderError{Reason: "header line: " + rec.broken}
	}
	if t.header, err = parseHeader(rec.fields); err != nil {
		return nil, err
	}
	t.rules = newRowRules(t.header)
	return t, nil
}

// Next returns the next row, as a Sale or a Reject. It returns false at the end of the
// stream, or on a read error, which Err then reports.
func (t *Transform) Next() (Sale, *Reject, bool) {
	rec, ok := t.sc.next()
	if !ok {
		return Sale{}, nil, false
	}
	t.rows++
	s, rej := t.rules.check(rec)
	return s, rej, true
}

// Err is the read error that ended the stream early, if any.
func (t *Transform) Err() error {
	if t.sc.err != nil {
		return fmt.Errorf("read: %w", t.sc.err)
	}
	return nil
}

// Rows is the number of data rows read so far.
func (t *Transform) Rows() int64 { return t.rows }

// Header is the file's header mapping.
func (t *Transform) Header() *Header { return t.header }

// Encoding is the detected character encoding.
func (t *Transform) Encoding() string { return t.dec.Encoding() }

// Delimiter is the sniffed field delimiter, printable.
func (t *Transform) Delimiter() string {
	if t.sc.delim == '\t' {
		return `\t`
	}
	return string(t.sc.delim)
}
