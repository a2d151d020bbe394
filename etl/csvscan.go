package etl

import (
	"bytes"
	"io"
	"unicode/utf8"
)

const (
	maxRecordBytes = 1 << 20 // no sane sales row comes near; beyond it a quote is unbalanced
	maxRawBytes    = 4 << 10 // how much of a rejected row's text is kept
)

// record is one CSV record as the scanner found it. Its slices point into the scanner's
// buffer and are valid until the next call to next.
type record struct {
	fields [][]byte
	line   int64  // physical line the record starts on, 1-based
	raw    []byte // the record's text without its final line break
	broken string // why the record could not be split into fields; then fields is empty
}

// clone copies a record out of the scanner's buffer, to be kept past the next call to next.
func (rec *record) clone() *record {
	size := len(rec.raw)
	for _, f := range rec.fields {
		size += len(f)
	}
	buf := make([]byte, 0, size)
	c := &record{fields: make([][]byte, len(rec.fields)), line: rec.line, broken: rec.broken}
	for i, f := range rec.fields {
		from := len(buf)
		buf = append(buf, f...)
		c.fields[i] = buf[from:len(buf):len(buf)]
	}
	c.raw = append(buf, rec.raw...)[len(buf):]
	return c
}

// scanner splits a UTF-8 stream into CSV records (RFC 4180 quoting, "" escapes, line breaks
// inside quotes, LF or CRLF, or CR alone as in a spreadsheet's "CSV (Macintosh)"). A record that cannot be closed (an unbalanced quote running to
// the end of the file or past maxRecordBytes) is reported as its first physical line alone,
// and scanning resumes on the next line, so no later line is swallowed.
type scanner struct {
	r        io.Reader
	buf      []byte
	start    int // first byte not yet consumed
	end      int // end of the bytes read
	eof      bool
	err      error
	delim    byte
	eol      byte  // the byte that ends a line: '\n' (CRLF too), or '\r' in a file of CR-only lines
	line     int64 // line number of buf[start]
	skipping bool  // discarding the rest of an over-long line
	rec      record
	unq      []byte // unescaped contents of quoted fields
}

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, 256<<10), delim: ',', eol: '\n', line: 1}
}

// firstLine returns the first non-blank line of unread input (without its line break), for
// sniffing. The file's first line break sets how its lines end: a CR not followed by LF
// means CR-only lines.
func (s *scanner) firstLine() ([]byte, error) {
	for {
		data := s.buf[s.start:s.end]
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 && (i+1 < len(data) || s.eof) {
			if data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
				s.eol = '\r'
			}
			return s.peekLine()
		}
		if s.eof || s.end-s.start >= maxRecordBytes {
			return data, s.err
		}
		if !s.fill() {
			return s.buf[s.start:s.end], s.err
		}
	}
}

// peekLine returns the first non-blank line of unread input (without its line break).
func (s *scanner) peekLine() ([]byte, error) {
	for {
		data := s.buf[s.start:s.end]
		if i := bytes.IndexByte(data, s.eol); i >= 0 {
			line := bytes.TrimSuffix(data[:i], []byte{'\r'})
			if len(line) == 0 { // a blank line, which next skips too
				s.consume(i+1, 1)
				continue
			}
			return line, nil
		}
		if s.eof || s.end-s.start >= maxRecordBytes {
			return data, s.err
		}
		if !s.fill() {
			return s.buf[s.start:s.end], s.err
		}
	}
}

// next advances to the next non-blank record. It returns false at the end of input or on a
// read error (see s.err).
func (s *scanner) next() (*record, bool) {
	for {
		if s.skipping {
			if !s.skipRestOfLine() {
				return nil, false
			}
			continue
		}
		data := s.buf[s.start:s.end]
		if len(data) == 0 {
			if s.eof || !s.fill() {
				return nil, false
			}
			continue
		}
		if data[0] == s.eol || (s.eol == '\n' && len(data) > 1 && data[0] == '\r' && data[1] == '\n') {
			s.consume(bytes.IndexByte(data, s.eol)+1, 1)
			continue
		}
		if n, lines, ok := s.parse(data); ok {
			s.rec.line = s.line
			s.consume(n, lines)
			return &s.rec, true
		}
		if len(data) >= maxRecordBytes {
			s.brokenFirstLine(data, "record longer than 1 MiB (unbalanced quote?)")
			return &s.rec, true
		}
		if s.eof {
			s.brokenFirstLine(data, "unterminated quoted field")
			return &s.rec, true
		}
		if !s.fill() {
			if s.err != nil {
				return nil, false
			}
		}
	}
}

// fill reads more input, keeping unconsumed bytes. It reports whether anything was added.
func (s *scanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if len(s.buf)-s.end < utf8.UTFMax { // the decoder needs room for a whole character
		grown := make([]byte, 2*len(s.buf))
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if err == io.EOF {
		s.eof = true
	} else if err != nil {
		s.err = err
	}
	return n > 0 || s.eof
}

func (s *scanner) consume(n int, lines int) {
	s.start += n
	s.line += int64(lines)
}

// brokenFirstLine reports the first physical line of data as a record that cannot be split.
func (s *scanner) brokenFirstLine(data []byte, why string) {
	s.rec = record{fields: s.rec.fields[:0], line: s.line, broken: why}
	i := bytes.IndexByte(data, s.eol)
	if i < 0 {
		if !s.eof {
			// The line itself is over-long: keep its head, discard the rest as it streams.
			s.rec.raw = append([]byte(nil), data[:min(len(data), maxRawBytes)]...)
			s.start, s.end = 0, 0
			s.skipping = true
			s.line++
			return
		}
		s.rec.raw = data
		s.consume(len(data), 0)
		return
	}
	s.rec.raw = bytes.TrimSuffix(data[:i], []byte{'\r'})
	s.consume(i+1, 1)
}

func (s *scanner) skipRestOfLine() bool {
	for {
		if i := bytes.IndexByte(s.buf[s.start:s.end], s.eol); i >= 0 {
			s.start += i + 1
			s.skipping = false
			return true
		}
		s.start = s.end
		if !s.fill() || s.start == s.end {
			s.skipping = false
			return s.start < s.end
		}
	}
}

// parse splits the record at the start of data. It returns the bytes the record occupies
// (line break included), the line breaks it spans, and false if data holds no whole record yet.
func (s *scanner) parse(data []byte) (int, int, bool) {
	nl := bytes.IndexByte(data, s.eol)
	line := data
	if nl >= 0 {
		line = data[:nl]
	} else if !s.eof {
		return 0, 0, false
	}
	if bytes.IndexByte(line, '"') < 0 {
		line = bytes.TrimSuffix(line, []byte{'\r'})
		s.rec.raw = line
		s.rec.broken = ""
		s.splitPlain(line)
		if nl < 0 {
			return len(data), 0, true
		}
		return nl + 1, 1, true
	}
	return s.parseQuoted(data)
}

// splitPlain splits a line that contains no quote.
func (s *scanner) splitPlain(line []byte) {
	f := s.rec.fields[:0]
	for {
		i := bytes.IndexByte(line, s.delim)
		if i < 0 {
			s.rec.fields = append(f, line)
			return
		}
		f = append(f, line[:i])
		line = line[i+1:]
	}
}

// parseQuoted is the general state machine, for records with quotes (possibly multi-line).
func (s *scanner) parseQuoted(data []byte) (int, int, bool) {
	f := s.rec.fields[:0]
	s.unq = s.unq[:0]
	s.rec.broken = ""
	pos, lines := 0, 0
	for {
		if pos < len(data) && data[pos] == '"' {
			from := len(s.unq)
			pos++
			for {
				j := bytes.IndexByte(data[pos:], '"')
				if j < 0 {
					return 0, 0, false // closed later, or never (the caller decides)
				}
				chunk := data[pos : pos+j]
				lines += bytes.Count(chunk, []byte{s.eol})
				s.unq = append(s.unq, chunk...)
				pos += j + 1
				if pos == len(data) && !s.eof {
					return 0, 0, false // cannot tell "" from a closing quote yet
				}
				if pos < len(data) && data[pos] == '"' {
					s.unq = append(s.unq, '"')
					pos++
					continue
				}
				break
			}
			// Text after the closing quote is kept, but the row is marked malformed.
			for pos < len(data) && data[pos] != s.delim && data[pos] != s.eol {
				if data[pos] == '\r' && (pos+1 == len(data) || data[pos+1] == '\n') {
					break
				}
				if s.rec.broken == "" {
					s.rec.broken = "text after a closing quote"
				}
				s.unq = append(s.unq, data[pos])
				pos++
			}
			f = append(f, s.unq[from:len(s.unq):len(s.unq)])
		} else {
			j := pos
			for j < len(data) && data[j] != s.delim && data[j] != s.eol {
				j++
			}
			field := data[pos:j]
			if j == len(data) || data[j] == s.eol { // a CR that ends the line (or the file) is not data
				field = bytes.TrimSuffix(field, []byte{'\r'})
			}
			f = append(f, field)
			pos = j
		}
		switch {
		case pos < len(data) && data[pos] == s.delim:
			pos++
			if pos == len(data) && !s.eof {
				return 0, 0, false
			}
			if pos == len(data) {
				f = append(f, nil) // a trailing delimiter at the end of the file
				return s.finish(f, data, pos, lines, false)
			}
		case s.eol == '\n' && pos < len(data) && data[pos] == '\r' && pos+1 < len(data) && data[pos+1] == '\n':
			return s.finish(f, data, pos, lines, true)
		case pos < len(data) && data[pos] == s.eol:
			return s.finish(f, data, pos, lines, true)
		case s.eol == '\n' && pos < len(data) && data[pos] == '\r': // the last byte: LF may follow
			if !s.eof {
				return 0, 0, false
			}
			n, l, ok := s.finish(f, data, pos, lines, false)
			return n + 1, l, ok
		default: // end of data
			if !s.eof {
				return 0, 0, false
			}
			return s.finish(f, data, pos, lines, false)
		}
	}
}

func (s *scanner) finish(f [][]byte, data []byte, pos, lines int, lineBreak bool) (int, int, bool) {
	s.rec.fields = f
	if s.rec.broken != "" {
		s.rec.fields = f[:0]
	}
	s.rec.raw = bytes.TrimSuffix(data[:pos], []byte{'\r'})
	if !lineBreak {
		return pos, lines, true
	}
	if data[pos] == '\r' && s.eol == '\n' { // the CR of a CRLF
		pos++
	}
	return pos + 1, lines + 1, true
}
