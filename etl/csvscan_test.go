package etl

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// scanned is a record copied out of the scanner's buffer.
type scanned struct {
	line   int64
	fields []string
	raw    string
	broken string
}

// readerShapes feed the scanner in different sizes, from a tiny buffer that must grow, so
// every refill path (a record, a quote, a CR or a "" split across reads) is taken.
var readerShapes = []struct {
	name string
	wrap func(io.Reader) io.Reader
	buf  int // the scanner's initial buffer; 0 keeps the default
}{
	{"whole", func(r io.Reader) io.Reader { return r }, 0},
	{"one byte at a time, 1-byte buffer", iotest.OneByteReader, 1},
	{"halves, 7-byte buffer", iotest.HalfReader, 7},
	{"data with EOF, 16-byte buffer", iotest.DataErrReader, 16},
}

func scanAll(t testing.TB, r io.Reader, delim byte, buf int) []scanned {
	t.Helper()
	s := newScanner(r)
	s.delim = delim
	if buf > 0 {
		s.buf = make([]byte, buf)
	}
	var out []scanned
	for {
		rec, ok := s.next()
		if !ok {
			break
		}
		sc := scanned{line: rec.line, raw: string(rec.raw), broken: rec.broken}
		for _, f := range rec.fields {
			sc.fields = append(sc.fields, string(f))
		}
		out = append(out, sc)
	}
	if s.err != nil {
		t.Fatalf("scan: %v", s.err)
	}
	return out
}

func wantRec(line int64, raw string, fields ...string) scanned {
	return scanned{line: line, raw: raw, fields: fields}
}

func wantBroken(line int64, raw, why string) scanned {
	return scanned{line: line, raw: raw, broken: why}
}

func TestScanner(t *testing.T) {
	const unterminated, afterQuote = "unterminated quoted field", "text after a closing quote"
	for _, tt := range []struct {
		name  string
		in    string
		delim byte
		want  []scanned
	}{
		{"LF", "a,b\nc,d\n", ',', []scanned{wantRec(1, "a,b", "a", "b"), wantRec(2, "c,d", "c", "d")}},
		{"CRLF", "a,b\r\nc,d\r\n", ',', []scanned{wantRec(1, "a,b", "a", "b"), wantRec(2, "c,d", "c", "d")}},
		{"no final line break", "a,b\nc,d", ',', []scanned{wantRec(1, "a,b", "a", "b"), wantRec(2, "c,d", "c", "d")}},
		{"CR ends the file", "a,b\r", ',', []scanned{wantRec(1, "a,b", "a", "b")}},
		{"CR ends the file, quoted", "\"a\",b\r", ',', []scanned{wantRec(1, `"a",b`, "a", "b")}},
		{"CR ends the file after a quote", "a,\"b\"\r", ',', []scanned{wantRec(1, `a,"b"`, "a", "b")}},
		{"CR inside a field", "a\rb,c\n", ',', []scanned{wantRec(1, "a\rb,c", "a\rb", "c")}},
		{"quoted commas", "\"Doe, John\",x\n", ',', []scanned{wantRec(1, `"Doe, John",x`, "Doe, John", "x")}},
		{"doubled quotes", `"say ""hi""",""""` + "\r\n", ',', []scanned{wantRec(1, `"say ""hi""",""""`, `say "hi"`, `"`)}},
		{"empty quoted fields", `"",x,""`, ',', []scanned{wantRec(1, `"",x,""`, "", "x", "")}},
		{"quote inside an unquoted field", "5\" screen,x\n", ',', []scanned{wantRec(1, `5" screen,x`, `5" screen`, "x")}},
		{"spaces kept", " a , \"b\"\n", ',', []scanned{wantRec(1, ` a , "b"`, " a ", ` "b"`)}},
		{"empty fields", ",,\n", ',', []scanned{wantRec(1, ",,", "", "", "")}},
		{
			"line breaks inside quotes keep physical line numbers",
			"h\n\"l1\nl2\",x\r\n\"a\r\nb\",y\nlast\n", ',',
			[]scanned{wantRec(1, "h", "h"), wantRec(2, "\"l1\nl2\",x", "l1\nl2", "x"), wantRec(4, "\"a\r\nb\",y", "a\r\nb", "y"), wantRec(6, "last", "last")},
		},
		{"blank lines skipped", "\n\na\n\r\n\nb\n\n", ',', []scanned{wantRec(3, "a", "a"), wantRec(6, "b", "b")}},
		{"semicolons", "a;b,c;\"d;e\"\n", ';', []scanned{wantRec(1, `a;b,c;"d;e"`, "a", "b,c", "d;e")}},
		{"tabs", "a\tb c\t\"d\te\"\n", '\t', []scanned{wantRec(1, "a\tb c\t\"d\te\"", "a", "b c", "d\te")}},
		{
			"trailing delimiter",
			"a,b,\n\"a\",b,\r\nc,\n\"d\",", ',',
			[]scanned{wantRec(1, "a,b,", "a", "b", ""), wantRec(2, `"a",b,`, "a", "b", ""), wantRec(3, "c,", "c", ""), wantRec(4, `"d",`, "d", "")},
		},
		{
			"unterminated quote: its first line only, then the next lines",
			"a,b\nc,\"d\ne,f\ng,h", ',',
			[]scanned{wantRec(1, "a,b", "a", "b"), wantBroken(2, `c,"d`, unterminated), wantRec(3, "e,f", "e", "f"), wantRec(4, "g,h", "g", "h")},
		},
		{"unterminated quote on the last line", "a,b\r\nc,\"d", ',', []scanned{wantRec(1, "a,b", "a", "b"), wantBroken(2, `c,"d`, unterminated)}},
		{"unterminated quote, CRLF", "\"x\r\ny\r\n", ',', []scanned{wantBroken(1, `"x`, unterminated), wantRec(2, "y", "y")}},
		{"text after a closing quote", "\"ab\"cd,x\r\nnext,y\n", ',', []scanned{wantBroken(1, `"ab"cd,x`, afterQuote), wantRec(2, "next,y", "next", "y")}},
		{"text after a multi-line quote", "\"a\nb\"c,x\nz\n", ',', []scanned{wantBroken(1, "\"a\nb\"c,x", afterQuote), wantRec(3, "z", "z")}},
		{"raw text exactly", "\"a \"\"b\"\"\", c ,\"d\"\r\n", ',', []scanned{wantRec(1, `"a ""b""", c ,"d"`, `a "b"`, " c ", "d")}},
	} {
		for _, shape := range readerShapes {
			t.Run(tt.name+"/"+shape.name, func(t *testing.T) {
				got := scanAll(t, shape.wrap(strings.NewReader(tt.in)), tt.delim, shape.buf)
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("scan(%q):\n got %+v\nwant %+v", tt.in, got, tt.want)
				}
			})
		}
	}
}

func TestScannerRecordLongerThanTheLimit(t *testing.T) {
	// An opening quote that is never closed: the scanner gives up at 1 MiB, reports the
	// first line and reads every following line as its own record.
	const n = 300_000 // 1.2 MB of lines after the quote
	in := "a,\"start\n" + strings.Repeat("r,s\n", n)
	chunked := func(r io.Reader) io.Reader { return &chunkReader{r: r, n: 4096} }
	for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, chunked} {
		got := scanAll(t, wrap(strings.NewReader(in)), ',', 0)
		if len(got) != n+1 {
			t.Fatalf("%d records, want %d", len(got), n+1)
		}
		if want := wantBroken(1, `a,"start`, "record longer than 1 MiB (unbalanced quote?)"); !reflect.DeepEqual(got[0], want) {
			t.Errorf("first record %+v, want %+v", got[0], want)
		}
		for i, r := range got[1:] {
			if want := wantRec(int64(i+2), "r,s", "r", "s"); !reflect.DeepEqual(r, want) {
				t.Fatalf("record %d: %+v, want %+v", i+1, r, want)
			}
		}
	}
}

func TestScannerOverLongLine(t *testing.T) {
	long := strings.Repeat("x", 2<<20) // one line of 2 MiB, no quote
	head := wantBroken(2, long[:maxRawBytes], "record longer than 1 MiB (unbalanced quote?)")
	for _, tt := range []struct {
		name, in string
		want     []scanned
	}{
		{"then more lines", "a,b\n" + long + "\nc,d\n", []scanned{wantRec(1, "a,b", "a", "b"), head, wantRec(3, "c,d", "c", "d")}},
		{"then more lines, CRLF", "a,b\r\n" + long + "\r\nc,d\r\n\r\ne\r\n", []scanned{wantRec(1, "a,b", "a", "b"), head, wantRec(3, "c,d", "c", "d"), wantRec(5, "e", "e")}},
		{"at the end without a line break", "a,b\n" + long, []scanned{wantRec(1, "a,b", "a", "b"), head}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, buf := range []int{0, 4096} {
				got := scanAll(t, &chunkReader{r: strings.NewReader(tt.in), n: 64 << 10}, ',', buf)
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("buffer %d: got %d records, want %d; first differences: %s", buf, len(got), len(tt.want), firstDiff(got, tt.want))
				}
			}
		})
	}
}

// A record that nearly fills the scanner's buffer leaves fewer than four bytes free; the
// decoder cannot put a multi-byte character there and the scanner must make room instead of
// failing the whole file with "short buffer". The padding moves the edge across characters.
func TestTransformLongRecordWithMultiByteText(t *testing.T) {
	header := strings.Join(displayHeader(false), ",")
	good := "2024-03-16,ORD-1,PRD1,Phone,Tech,1,10.00,0,10.00,5.00,5.00,5.00,Pix,Paid,,C1,Ana,Online,Texas,Rep,5 stars,1.00,Delivered,"
	for _, enc := range []struct {
		name, char, want string
	}{
		{"utf-8", "é", EncodingUTF8},
		{"windows-1252", "\xe9", EncodingWindows1252},
	} {
		for pad := range 8 {
			in := header + "\n\"" + strings.Repeat("x", pad) + strings.Repeat(enc.char, 200_000) + "\n" + good + "\n"
			tr, err := NewTransform(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				_, rej, ok := tr.Next()
				if !ok {
					break
				}
				if rej != nil {
					got = append(got, rej.Reason)
				} else {
					got = append(got, "sale")
				}
			}
			if err := tr.Err(); err != nil {
				t.Fatalf("%s, pad %d: %v", enc.name, pad, err)
			}
			if want := []string{"unterminated quoted field", "sale"}; !reflect.DeepEqual(got, want) || tr.Encoding() != enc.want {
				t.Errorf("%s, pad %d: rows %q in %s, want %q in %s", enc.name, pad, got, tr.Encoding(), want, enc.want)
			}
		}
	}
}

func TestScannerPeekLine(t *testing.T) {
	// Blank lines before the header are skipped for sniffing as they are for reading.
	s := newScanner(iotest.OneByteReader(strings.NewReader("\r\n\nSale;Date\r\nx;y\n")))
	s.buf = make([]byte, 2)
	line, err := s.peekLine()
	if err != nil || string(line) != "Sale;Date" {
		t.Fatalf("peekLine = %q, %v", line, err)
	}
	s.delim = sniffDelimiter(line)
	r, ok := s.next()
	if !ok || r.line != 3 || len(r.fields) != 2 || string(r.fields[1]) != "Date" {
		t.Fatalf("header record %+v", r)
	}
	if r, ok = s.next(); !ok || r.line != 4 || string(r.raw) != "x;y" {
		t.Fatalf("first row %+v", r)
	}

	s = newScanner(strings.NewReader("a,b"))
	if line, err := s.peekLine(); err != nil || string(line) != "a,b" {
		t.Errorf("peekLine without a line break = %q, %v", line, err)
	}
}

func TestScannerReadError(t *testing.T) {
	boom := errors.New("boom")
	s := newScanner(io.MultiReader(strings.NewReader("a,b\nc,"), iotest.ErrReader(boom)))
	if r, ok := s.next(); !ok || string(r.raw) != "a,b" {
		t.Fatalf("first record %+v, %v", r, ok)
	}
	if r, ok := s.next(); ok {
		t.Fatalf("a record after the error: %+v", r)
	}
	if !errors.Is(s.err, boom) {
		t.Errorf("err = %v, want boom", s.err)
	}
}

// chunkReader returns at most n bytes per Read, like a network stream.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func firstDiff(got, want []scanned) string {
	clip := func(s scanned) string {
		if len(s.raw) > 40 {
			s.raw = s.raw[:40] + "…"
		}
		return strings.Join([]string{s.raw, s.broken}, " | ")
	}
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			return "missing " + clip(want[i])
		case i >= len(want):
			return "extra " + clip(got[i])
		case !reflect.DeepEqual(got[i], want[i]):
			return "got " + clip(got[i]) + ", want " + clip(want[i])
		}
	}
	return "none"
}

// scanSniffed reads like NewTransform: the first line sets the line ends, then records.
func scanSniffed(t testing.TB, r io.Reader, buf int) (byte, []scanned) {
	t.Helper()
	s := newScanner(r)
	if buf > 0 {
		s.buf = make([]byte, buf)
	}
	if _, err := s.firstLine(); err != nil {
		t.Fatal(err)
	}
	var out []scanned
	for {
		rec, ok := s.next()
		if !ok {
			break
		}
		sc := scanned{line: rec.line, raw: string(rec.raw), broken: rec.broken}
		for _, f := range rec.fields {
			sc.fields = append(sc.fields, string(f))
		}
		out = append(out, sc)
	}
	if s.err != nil {
		t.Fatalf("scan: %v", s.err)
	}
	return s.eol, out
}

// Excel's "CSV (Macintosh)" ends lines with CR alone: each is a line, as LF and CRLF are.
func TestScannerLineEnds(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		eol  byte
		want []scanned
	}{
		{"LF", "h\na,b\n", '\n', []scanned{wantRec(1, "h", "h"), wantRec(2, "a,b", "a", "b")}},
		{"CRLF", "h\r\na,b\r\n", '\n', []scanned{wantRec(1, "h", "h"), wantRec(2, "a,b", "a", "b")}},
		{"CR", "h\ra,b\rc,d\r", '\r', []scanned{wantRec(1, "h", "h"), wantRec(2, "a,b", "a", "b"), wantRec(3, "c,d", "c", "d")}},
		{"CR, no final line break", "h\ra,b", '\r', []scanned{wantRec(1, "h", "h"), wantRec(2, "a,b", "a", "b")}},
		{"CR, blank lines", "\r\rh\r\ra,b\r\r", '\r', []scanned{wantRec(3, "h", "h"), wantRec(5, "a,b", "a", "b")}},
		{"CR, quoted line breaks", "h\r\"x\ry\",z\r\"p\nq\",r\rlast\r", '\r',
			[]scanned{wantRec(1, "h", "h"), wantRec(2, "\"x\ry\",z", "x\ry", "z"), wantRec(4, "\"p\nq\",r", "p\nq", "r"), wantRec(5, "last", "last")}},
		{"CR, an LF is data", "h\ra\nb,c\r", '\r', []scanned{wantRec(1, "h", "h"), wantRec(2, "a\nb,c", "a\nb", "c")}},
		{"CR, trailing delimiter", "h\ra,\r\"b\",", '\r', []scanned{wantRec(1, "h", "h"), wantRec(2, "a,", "a", ""), wantRec(3, `"b",`, "b", "")}},
		{"CR, unterminated quote", "h\r\"a\rb,c\r", '\r', []scanned{wantRec(1, "h", "h"), wantBroken(2, `"a`, "unterminated quoted field"), wantRec(3, "b,c", "b", "c")}},
		{"CR, text after a quote", "h\r\"a\"b,c\rd\r", '\r', []scanned{wantRec(1, "h", "h"), wantBroken(2, `"a"b,c`, "text after a closing quote"), wantRec(3, "d", "d")}},
		{"a CR alone at the end", "h\r", '\r', []scanned{wantRec(1, "h", "h")}},
		{"no line break", "h,i", '\n', []scanned{wantRec(1, "h,i", "h", "i")}},
	} {
		for _, shape := range readerShapes {
			t.Run(tt.name+"/"+shape.name, func(t *testing.T) {
				eol, got := scanSniffed(t, shape.wrap(strings.NewReader(tt.in)), shape.buf)
				if eol != tt.eol || !reflect.DeepEqual(got, tt.want) {
					t.Errorf("scan(%q): eol %q\n got %+v\nwant %q %+v", tt.in, eol, got, tt.eol, tt.want)
				}
			})
		}
	}
}

func TestRecordClone(t *testing.T) {
	s := newScanner(strings.NewReader("\"a,\"\"b\",c,\n\"zzzzzz\",\"wwwwwwwwww\"\n"))
	rec, ok := s.next()
	if !ok {
		t.Fatal("no record")
	}
	c := rec.clone()
	if _, ok := s.next(); !ok {
		t.Fatal("no second record")
	}
	got := scanned{line: c.line, raw: string(c.raw)}
	for _, f := range c.fields {
		got.fields = append(got.fields, string(f))
	}
	if want := wantRec(1, `"a,""b",c,`, `a,"b`, "c", ""); !reflect.DeepEqual(got, want) {
		t.Errorf("clone %+v, want %+v", got, want)
	}
}
