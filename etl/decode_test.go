package etl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeAll runs bytes through the decoder, reading with the given wrapper.
func decodeAll(t *testing.T, in []byte, wrap func(io.Reader) io.Reader) (string, string) {
	t.Helper()
	r, d, err := newDecoder(wrap(bytes.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), d.Encoding()
}

var decodeReaders = map[string]func(io.Reader) io.Reader{
	"whole":      func(r io.Reader) io.Reader { return r },
	"one byte":   iotest.OneByteReader,
	"halves":     iotest.HalfReader,
	"data, EOF":  iotest.DataErrReader,
	"3-byte cut": func(r io.Reader) io.Reader { return &chunkReader{r: r, n: 3} },
}

func TestDecoder(t *testing.T) {
	for _, tt := range []struct {
		name, in, want, enc string
	}{
		{"ASCII", "a,b\n", "a,b\n", EncodingUTF8},
		{"empty", "", "", EncodingUTF8},
		{"UTF-8", "José,€,😀\n", "José,€,😀\n", EncodingUTF8},
		{"UTF-8 BOM stripped", "\xef\xbb\xbfSale Date\n", "Sale Date\n", EncodingUTF8},
		{"only a BOM", "\xef\xbb\xbf", "", EncodingUTF8},
		{"Windows-1252", "Jo\xe3o,Gon\xe7alves\n", "João,Gonçalves\n", EncodingWindows1252},
		// Bytes 0x80–0x9F are Windows-1252 characters, not Latin-1 control codes.
		{"Windows-1252 beyond Latin-1", "\x80 \x93q\x94 \x85", "€ “q” …", EncodingWindows1252},
		{"Windows-1252 undefined byte", "a\x81b", "a\uFFFDb", EncodingWindows1252},
		// Valid UTF-8 seen first: the file is UTF-8 and the bad byte is marked, not transcoded.
		{"UTF-8, then a bad byte", "José\nJo\xe3o\n", "José\nJo\uFFFDo\n", EncodingUTF8},
		{"BOM, then a bad byte", "\xef\xbb\xbfJo\xe3o", "Jo\uFFFDo", EncodingUTF8},
		// A sequence cut off by the end of the file.
		{"truncated at EOF after UTF-8", "é\xe2\x82", "é\uFFFD\uFFFD", EncodingUTF8},
		{"truncated at EOF after ASCII", "abc\xc3", "abcÃ", EncodingWindows1252},
		// Lines ending with CR alone, as Excel's "CSV (Macintosh)" writes them in Mac Roman.
		{"Mac Roman", "Pre\x8do Unit\x87rio\rS\x8bo Paulo\r", "Preço Unitário\rSão Paulo\r", EncodingMacintosh},
		{"Mac Roman on the last line", "h\rJos\x8e", "h\rJosé", EncodingMacintosh},
		{"Mac Roman on the last line, after a long one", "a header line\rJos\x8e", "a header line\rJosé", EncodingMacintosh},
		{"CRLF, then the last line", "a header line\r\nJo\xe3o", "a header line\r\nJoão", EncodingWindows1252},
		{"Mac Roman, CR at the very end", "Jos\x8e\r", "José\r", EncodingMacintosh},
		{"CRLF: Windows-1252", "h\r\nJo\xe3o\r\n", "h\r\nJoão\r\n", EncodingWindows1252},
		{"LF before, none after: Windows-1252", "h\nJo\xe3o", "h\nJoão", EncodingWindows1252},
		{"no line break: Windows-1252", "Jo\xe3o", "João", EncodingWindows1252},
		{"a CR inside a line is no line end", "a\rb\nJo\xe3o\n", "a\rb\nJoão\n", EncodingWindows1252},
	} {
		for name, wrap := range decodeReaders {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				got, enc := decodeAll(t, []byte(tt.in), wrap)
				if got != tt.want || enc != tt.enc {
					t.Errorf("decode(%q) = %q as %s, want %q as %s", tt.in, got, enc, tt.want, tt.enc)
				}
			})
		}
	}
}

// Text split across reads at every possible point, multi-byte characters included, comes out
// whole; Windows-1252 found only after the decoder's first 64 KiB still switches cleanly.
func TestDecoderAcrossReads(t *testing.T) {
	utf8Text := strings.Repeat("a€b😀cé\n", 20_000)
	got, enc := decodeAll(t, []byte(utf8Text), iotest.OneByteReader)
	if got != utf8Text || enc != EncodingUTF8 {
		t.Errorf("UTF-8 one byte at a time: %d bytes as %s, want %d as utf-8", len(got), enc, len(utf8Text))
	}
	ascii := strings.Repeat("plain ascii line\n", 10_000) // 170 KB
	got, enc = decodeAll(t, []byte(ascii+"Jo\xe3o\n"), iotest.HalfReader)
	if got != ascii+"João\n" || enc != EncodingWindows1252 {
		t.Errorf("late Windows-1252: tail %q as %s", got[max(0, len(got)-10):], enc)
	}

	// The smallest buffer the decoder serves is one character's worth.
	r, _, err := newDecoder(strings.NewReader(utf8Text))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p := make([]byte, utf8.UTFMax)
	for {
		n, err := r.Read(p)
		b.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if b.String() != utf8Text {
		t.Error("4-byte reads changed the text")
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := io.ErrClosedPipe
	if _, _, err := newDecoder(iotest.ErrReader(boom)); err != boom {
		t.Errorf("newDecoder on a failing reader: %v", err)
	}
	r, _, err := newDecoder(io.MultiReader(strings.NewReader("abcdé"), iotest.ErrReader(boom)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != boom || string(out) != "abcdé" {
		t.Errorf("ReadAll = %q, %v; want the text, then the error", out, err)
	}
}

// salesFile is a small display+comments file with one valid row per customer name, in the
// given delimiter and with CRLF line ends; the first row has a comment.
func salesFile(delim string, names ...string) string {
	lines := []string{strings.Join(displayHeader(true), delim)}
	for i, name := range names {
		comment := ""
		if i == 0 {
			comment = "Ótimo 😀"
		}
		lines = append(lines, strings.Join([]string{"2024-03-16", fmt.Sprintf("ORD-%d", i+1), "PRD1", "Phone", "Tech",
			"2", "10.00", "0", "20.00", "5.00", "10.00", "10.00", "Pix", "Paid", "2024-03-16", "C1", name, "Online",
			"Texas", "Rep", "5 stars", comment, "1.00", "Delivered", "2024-03-17"}, delim))
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func utf16File(s string, order binary.ByteOrder) []byte {
	var b []byte
	for _, u := range append([]uint16{0xFEFF}, utf16.Encode([]rune(s))...) {
		b = order.(binary.AppendByteOrder).AppendUint16(b, u)
	}
	return b
}

func TestTransformEncodings(t *testing.T) {
	text := salesFile("\t", "João Gonçalves", "Zoë")
	for _, tt := range []struct {
		name  string
		in    []byte
		enc   string
		delim string
	}{
		{"UTF-16LE, tabs", utf16File(text, binary.LittleEndian), EncodingUTF16LE, `\t`},
		{"UTF-16BE, tabs", utf16File(text, binary.BigEndian), EncodingUTF16BE, `\t`},
		{"UTF-8 BOM, tabs", append([]byte("\xef\xbb\xbf"), text...), EncodingUTF8, `\t`},
		{"UTF-8 BOM, semicolons", []byte("\xef\xbb\xbf" + salesFile(";", "João Gonçalves", "Zoë")), EncodingUTF8, ";"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for name, wrap := range decodeReaders {
				tr, err := NewTransform(wrap(bytes.NewReader(tt.in)))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if tr.Header().Names[0] != "Sale Date" || tr.Header().Shape != "display+comments" {
					t.Errorf("%s: header %q, shape %s", name, tr.Header().Names[:2], tr.Header().Shape)
				}
				sales, rejects := drainTransform(t, tr)
				if len(rejects) != 0 || len(sales) != 2 {
					t.Fatalf("%s: %d sales, rejects %+v", name, len(sales), rejects)
				}
				if tr.Encoding() != tt.enc || tr.Delimiter() != tt.delim {
					t.Errorf("%s: encoding %s, delimiter %s; want %s, %s", name, tr.Encoding(), tr.Delimiter(), tt.enc, tt.delim)
				}
				if sales[0].CustomerName.String != "João Gonçalves" || sales[0].CustomerComments.String != "Ótimo 😀" ||
					sales[1].CustomerName.String != "Zoë" || sales[1].Line != 3 {
					t.Errorf("%s: decoded %q, %q, %q on line %d", name, sales[0].CustomerName.String,
						sales[0].CustomerComments.String, sales[1].CustomerName.String, sales[1].Line)
				}
			}
		})
	}
}

func TestTransformWindows1252(t *testing.T) {
	in := strings.NewReplacer("ã", "\xe3", "ç", "\xe7", "ë", "\xeb", "Ó", "\xd3", "😀", "\x80").
		Replace(salesFile(",", "João Gonçalves", "Zoë"))
	tr, err := NewTransform(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	sales, rejects := drainTransform(t, tr)
	if len(rejects) != 0 || len(sales) != 2 {
		t.Fatalf("%d sales, rejects %+v", len(sales), rejects)
	}
	if tr.Encoding() != EncodingWindows1252 {
		t.Errorf("encoding %s", tr.Encoding())
	}
	if sales[0].CustomerName.String != "João Gonçalves" || sales[0].CustomerComments.String != "Ótimo €" || sales[1].CustomerName.String != "Zoë" {
		t.Errorf("decoded %q, %q, %q", sales[0].CustomerName.String, sales[0].CustomerComments.String, sales[1].CustomerName.String)
	}
}

// A UTF-8 file with one bad byte: that row is rejected, not silently read as Windows-1252,
// and the rows around it are loaded.
func TestTransformInvalidByteInUTF8(t *testing.T) {
	in := salesFile(",", "José", "Jo\xe3o", "Zoë")
	for _, prefix := range []string{"", "\xef\xbb\xbf"} {
		tr, err := NewTransform(strings.NewReader(prefix + in))
		if err != nil {
			t.Fatal(err)
		}
		sales, rejects := drainTransform(t, tr)
		if len(sales) != 2 || len(rejects) != 1 {
			t.Fatalf("%d sales, %d rejects, want 2 and 1", len(sales), len(rejects))
		}
		r := rejects[0]
		if r.Line != 3 || r.Column != "Customer Name" || !strings.Contains(r.Reason, "Customer Name: invalid character encoding") ||
			!strings.Contains(r.Raw, "Jo\uFFFDo") {
			t.Errorf("reject %+v", r)
		}
		if tr.Encoding() != EncodingUTF8 || sales[0].CustomerName.String != "José" || sales[1].Line != 4 {
			t.Errorf("encoding %s, first name %q, last line %d", tr.Encoding(), sales[0].CustomerName.String, sales[1].Line)
		}
	}
}

// A truncated sequence at the very end of a UTF-8 file fails the last row, whatever the
// column order (here the customer's name is the last column).
func TestTransformTruncatedAtEOF(t *testing.T) {
	names := displayHeader(false)
	names[16], names[len(names)-1] = names[len(names)-1], names[16]
	row := []string{"2024-03-16", "ORD-1", "PRD1", "Phone", "Tech", "2", "10.00", "0", "20.00", "5.00",
		"10.00", "10.00", "Pix", "Paid", "2024-03-16", "C1", "2024-03-17", "Online", "Texas", "Rep", "5 stars",
		"1.00", "Delivered", "José"}
	in := strings.Join(names, ",") + "\n" + strings.Join(row, ",") + "\n" + strings.Join(row, ",") + "\xe2\x82"
	tr, err := NewTransform(iotest.OneByteReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	sales, rejects := drainTransform(t, tr)
	if len(sales) != 1 || sales[0].CustomerName.String != "José" {
		t.Fatalf("sales %+v", sales)
	}
	if len(rejects) != 1 || rejects[0].Line != 3 || rejects[0].Column != "Customer Name" ||
		!strings.Contains(rejects[0].Reason, "invalid character encoding") || !utf8.ValidString(rejects[0].Raw) {
		t.Errorf("rejects %+v", rejects)
	}
}
