package etl

import (
	"bytes"
	"encoding/binary"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings a file can be detected as.
const (
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingMacintosh   = "macintosh" // Mac Roman
)

// decoder turns a file's bytes into UTF-8 while they stream, reading ahead only as far as the
// line break that tells a single-byte encoding.
//
// A byte-order mark decides the encoding. Without one the file is taken as UTF-8 until the
// first byte sequence that is not valid UTF-8: if every byte before it was ASCII (identical in
// all these encodings) the rest is decoded as Windows-1252, the superset of Latin-1 that
// spreadsheets write, or as Mac Roman when the lines end with CR alone, as in Excel's "CSV
// (Macintosh)"; if valid multi-byte UTF-8 came first, the file really is UTF-8 and
// the bad bytes become U+FFFD, which the row rules reject.
type decoder struct {
	src      io.Reader
	in       []byte // raw bytes read; in[pos:] are not decoded yet
	pos      int
	eof      bool
	encoding string
	sawUTF8  bool             // a valid multi-byte UTF-8 sequence was seen
	latin    *charmap.Charmap // the single-byte encoding switched to, if any
	choosing bool             // a byte at pos is not UTF-8: the single-byte encoding is to be chosen
	crOnly   bool             // the last line break decoded was a CR alone (noted while it may matter)
	crLast   bool             // the bytes decoded so far end with a CR: an LF may follow
}

func newDecoder(src io.Reader) (io.Reader, *decoder, error) {
	d := &decoder{src: src, in: make([]byte, 0, 64<<10), encoding: EncodingUTF8}
	head := make([]byte, 3)
	n, err := io.ReadFull(src, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, nil, err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		d.sawUTF8 = true // declared UTF-8: bad bytes are errors, not a hint of Latin-1
		return d, d, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		d.encoding = EncodingUTF16LE
		if head[0] == 0xFE {
			d.encoding = EncodingUTF16BE
		}
		utf16 := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(io.MultiReader(bytes.NewReader(head), src), utf16), d, nil
	}
	d.in = append(d.in, head...)
	return d, d, nil
}

// Encoding names what the stream was decoded from so far (final once it is drained).
func (d *decoder) Encoding() string { return d.encoding }

func (d *decoder) Read(p []byte) (int, error) {
	for {
		if n := d.decode(p); n > 0 {
			return n, nil
		}
		if d.choosing {
			if err := d.chooseCharmap(); err != nil {
				return 0, err
			}
			continue
		}
		if d.eof {
			if d.pos < len(d.in) { // a truncated sequence at the very end
				d.pos = len(d.in)
				return copy(p, "\uFFFD"), nil
			}
			return 0, io.EOF
		}
		if len(p) < utf8.UTFMax {
			return 0, io.ErrShortBuffer
		}
		if err := d.fill(); err != nil {
			return 0, err
		}
	}
}

func (d *decoder) fill() error {
	if d.latin == nil && !d.sawUTF8 {
		d.noteLineEnd()
	}
	d.in = d.in[:copy(d.in, d.in[d.pos:])]
	d.pos = 0
	n, err := d.src.Read(d.in[len(d.in):cap(d.in)])
	d.in = d.in[:len(d.in)+n]
	if err == io.EOF {
		d.eof = true
		return nil
	}
	return err
}

// decode moves as much of d.in as fits into p, converted, and returns the bytes written.
func (d *decoder) decode(p []byte) int {
	w, r := 0, d.pos
	for r < len(d.in) && w < len(p) {
		c := d.in[r]
		if c < utf8.RuneSelf {
			n := asciiRun(d.in[r:min(len(d.in), r+len(p)-w)])
			copy(p[w:], d.in[r:r+n])
			w, r = w+n, r+n
			continue
		}
		if d.latin != nil {
			if w+utf8.UTFMax > len(p) {
				break
			}
			w += utf8.EncodeRune(p[w:], d.latin.DecodeByte(c))
			r++
			continue
		}
		if !utf8.FullRune(d.in[r:]) && !d.eof {
			break // wait for the rest of the sequence
		}
		ru, size := utf8.DecodeRune(d.in[r:])
		if ru == utf8.RuneError && size <= 1 {
			if !d.sawUTF8 {
				d.choosing = true
				break // this byte again, once the encoding is chosen
			}
			if w+utf8.UTFMax > len(p) {
				break
			}
			w += utf8.EncodeRune(p[w:], utf8.RuneError)
			r++
			continue
		}
		if w+size > len(p) {
			break
		}
		d.sawUTF8 = true
		w += copy(p[w:], d.in[r:r+size])
		r += size
	}
	d.pos = r
	return w
}

// chooseCharmap picks the single-byte encoding of a file that is not UTF-8 from the first
// line break at or after the byte that is not (read ahead as far as the buffer holds), or else
// the last one before it: CR alone means Mac Roman, LF or CRLF Windows-1252.
func (d *decoder) chooseCharmap() error {
	d.noteLineEnd()
	crOnly := d.crOnly
	for {
		rest := d.in[d.pos:]
		if i := bytes.IndexAny(rest, "\r\n"); i >= 0 && (i+1 < len(rest) || d.eof) {
			crOnly = rest[i] == '\r' && (i+1 == len(rest) || rest[i+1] != '\n')
			break
		}
		if d.eof || (d.pos == 0 && len(d.in) == cap(d.in)) {
			break
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
	d.latin, d.encoding = charmap.Windows1252, EncodingWindows1252
	if crOnly {
		d.latin, d.encoding = charmap.Macintosh, EncodingMacintosh
	}
	d.choosing = false
	return nil
}

// noteLineEnd notes how the last line break of the bytes decoded from the buffer ends.
func (d *decoder) noteLineEnd() {
	done := d.in[:d.pos]
	if d.crLast && len(done) > 0 {
		d.crOnly, d.crLast = done[0] != '\n', false
	}
	i := bytes.LastIndexAny(done, "\r\n")
	switch {
	case i < 0:
	case done[i] == '\n':
		d.crOnly = false
	case i+1 < len(d.in): // a CR, and the byte after it (decoded or not) tells
		d.crOnly = d.in[i+1] != '\n'
	default:
		d.crLast = true
	}
}

// asciiRun is the length of b's leading run of ASCII bytes, eight at a time.
func asciiRun(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	return i
}
