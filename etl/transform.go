package etl

import (
	"errors"
	"fmt"
	"io"
)

// Transform reads a CSV stream row by row: it detects the encoding, the line ends and the
// delimiter, maps the header, decides how numbers and dates are written from the first rows
// (see format.go), and checks every row against the rules. Beyond those first rows it holds
// one record at a time.
type Transform struct {
	dec    *decoder
	sc     *scanner
	header *Header
	rules  *rowRules
	ahead  []*record // rows of the look-ahead window, not yet checked
	rows   int64     // data rows handed out
	err    error     // a defect met while reading (panicError)
}

// panicError is a defect met while reading a file. It is reported as the file's error
// instead of stopping the process, which would meet the same file again when it restarts.
type panicError struct {
	value any
	line  int64
}

func (e *panicError) Error() string {
	return fmt.Sprintf("internal error while reading line %d: %v", e.line, e.value)
}

// ErrEmptyFile is returned for a stream with no header line.
var ErrEmptyFile = errors.New("empty file: no header line")

// NewTransform reads the header and the look-ahead window. A *HeaderError, a *FormatError,
// ErrEmptyFile or a read error means the file cannot be loaded at all.
func NewTransform(r io.Reader) (_ *Transform, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, line: 1}
		}
	}()
	text, dec, err := newDecoder(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	t := &Transform{dec: dec, sc: newScanner(text)}
	first, err := t.sc.firstLine()
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
	if err := t.lookAhead(); err != nil {
		return nil, err
	}
	return t, nil
}

// lookAhead reads the first rows and decides from them how the file writes numbers and dates.
func (t *Transform) lookAhead() error {
	size, whole := 0, false
	for len(t.ahead) < formatWindowRows && size < formatWindowBytes {
		rec, ok := t.sc.next()
		if !ok {
			whole = true
			break
		}
		rec = rec.clone()
		t.ahead = append(t.ahead, rec)
		size += len(rec.raw)
		t.rules.observe(rec)
	}
	if t.sc.err != nil {
		return fmt.Errorf("read: %w", t.sc.err)
	}
	return t.rules.decide(len(t.ahead), whole)
}

// refusesFile reports whether an error of NewTransform refuses the file itself (its reason
// belongs in the ledger), rather than its reading.
func refusesFile(err error) bool {
	var herr *HeaderError
	var ferr *FormatError
	return errors.As(err, &herr) || errors.As(err, &ferr) || errors.Is(err, ErrEmptyFile)
}

// Next returns the next row, as a Sale or a Reject. It returns false at the end of the
// stream, or on a read error, which Err then reports.
func (t *Transform) Next() (_ Sale, _ *Reject, ok bool) {
	if t.err != nil {
		return Sale{}, nil, false
	}
	defer func() {
		if p := recover(); p != nil {
			t.err, ok = &panicError{value: p, line: t.sc.line}, false
		}
	}()
	var rec *record
	if len(t.ahead) > 0 {
		rec = t.ahead[0]
		t.ahead[0] = nil
		t.ahead = t.ahead[1:]
	} else if next, ok := t.sc.next(); ok {
		rec = next
	} else {
		return Sale{}, nil, false
	}
	t.rows++
	s, rej := t.rules.check(rec)
	return s, rej, true
}

// Err is the read error that ended the stream early, if any.
func (t *Transform) Err() error {
	if t.err != nil {
		return t.err
	}
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

// NumberFormat is how the file writes numbers (NumberPoint or NumberComma), or "" when no
// number in it tells: each reads the same either way. Final once the stream is drained.
func (t *Transform) NumberFormat() string { return t.rules.numberFormat.Name() }

// DateFormat is how the file writes dates (DateISO, DateDayFirst, DateMonthFirst), or ""
// when no date in it tells. Final once the stream is drained.
func (t *Transform) DateFormat() string { return t.rules.dateFormat.Name() }

// Delimiter is the sniffed field delimiter, printable.
func (t *Transform) Delimiter() string {
	if t.sc.delim == '\t' {
		return `\t`
	}
	return string(t.sc.delim)
}
