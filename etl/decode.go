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
)

// decoder turns a file's bytes into UTF-8 while they stream, without reading ahead.
//
// A byte-order mark decides the encoding. Without one the file is taken as UTF-8 until the
// first byte sequence that is not valid UTF-8: if every byte before it was ASCII (identical in
// both encodings) the rest is decoded as Windows-1252, the superset of Latin-1 that
// spreadsheets write; if valid multi-byte UTF-8 came first, the file really is UTF-8 and the
// bad bytes become U+FFFD, which the row rules reject.
type decoder struct {
	src      io.Reader
	in       []byte // raw bytes read; in[pos:] are not decoded yet
	pos      int
	eof      bool
	encoding string
	sawUTF8  bool // a valid multi-byte UTF-8 sequence was seen
	latin    bool // switched to Windows-1252
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
		if d.latin {
			if w+utf8.UTFMax > len(p) {
				break
			}
			w += utf8.EncodeRune(p[w:], charmap.Windows1252.DecodeByte(c))
			r++
			continue
		}
		if !utf8.FullRune(d.in[r:]) && !d.eof {
			break // wait for the rest of the sequence
		}
		ru, size := utf8.DecodeRune(d.in[r:])
		if ru == utf8.RuneError && size <= 1 {
			if !d.sawUTF8 {
				d.latin, d.encoding = true, EncodingWindows1252
				continue // this byte again, as Windows-1252
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
