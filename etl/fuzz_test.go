package etl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// FuzzTransform feeds arbitrary bytes through the whole transform and checks what holds for
// any input: no panic, each record is a sale or a reject, lines go forward, rejects are
// storable, and sales obey the row rules.
func FuzzTransform(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(transformFixtureDir, "*.csv"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		// The header and the first rows of each: small inputs mutate fast, and the whole
		// files' shapes (headers, quoting, dialects) are all in their first lines.
		f.Add(headLines(data, 6))
	}
	header := strings.Join(displayHeader(false), ",")
	good := "2024-03-16,ORD-1,PRD1,Phone,Tech,2,10.00,0,20.00,5.00,10.00,10.00,Pix,Paid,2024-03-16,C1,Ana,Online,Texas,Rep,5 stars,1.00,Delivered,2024-03-17"
	for _, s := range []string{
		"",
		"\xef\xbb\xbf",
		header,
		header + "\n" + good + "\n",
		header + "\r\n" + good + "\r\n\r\n" + good,
		header + "\n\"" + good + "\n" + good + "\n",                          // unterminated quote
		header + "\n\"ORD\"x," + good[11:] + "\n",                            // text after a quote
		header + "\n" + strings.Replace(good, "Ana", "\"A,\nna\"", 1) + "\n", // multi-line field
		header + "\n" + strings.Replace(good, "Ana", "A\x00na", 1),
		header + "\n" + strings.Replace(good, "Ana", "Jo\xe3o", 1),
		header + "\n" + strings.Replace(good, "Ana", "José", 1) + "\n" + strings.Replace(good, "Ana", "Jo\xe3o", 1) + "\xe2\x82",
		header + "\n" + strings.Replace(good, "20.00", "2e1", 1) + "\n" + good + ",extra\n" + good[:40] + "\n",
		strings.ReplaceAll(header, ",", ";") + "\n" + strings.ReplaceAll(good, ",", ";"),
		"\n\n" + strings.ReplaceAll(header, ",", "\t") + "\r\n" + strings.ReplaceAll(good, ",", "\t"),
		"\"Sale Date,Sale ID\n",
		"\r",
		"\"",
	} {
		f.Add([]byte(s))
	}
	f.Add(utf16File(header+"\n"+good+"\n", binary.LittleEndian))
	f.Add(utf16File(header+"\n"+good, binary.BigEndian)[:len(header)*2+11]) // odd length, cut mid-row

	// Other ways of writing numbers, dates and line ends: a Brazilian sheet (Windows-1252,
	// semicolons, CRLF, 1.234,56, DD/MM/YYYY), with a BOM in UTF-8; CR-only lines; files the
	// format decision refuses (ambiguous, mixed) and rows that contradict it.
	pt := fmt.Sprintf(ptRow, 1)
	for _, s := range []string{
		ptFile(pt, fmt.Sprintf(ptRow, 2)),
		"\ufeff" + ptFile(pt),
		ptFile(strings.NewReplacer("16/03/2024", "05/03/2024", "18/03/2024", "06/03/2024").Replace(pt)), // ambiguous dates
		ptFile(strings.NewReplacer("1.116,54", "1.116", "3.796,24", "3.794", "1.251,12", "1.251", "2.545,12", "2.543").Replace(pt)),
		ptFile(pt, strings.Replace(pt, "1.116,54", "1116.54", 1)), // mixed numbers
		ptFile(pt, strings.Replace(pt, "16/03/2024", "2024-03-16", 1), strings.Replace(pt, "Pago", "Estornado", 1)),
		strings.ReplaceAll(ptFile(pt, pt), "\r\n", "\r"),                                                               // CR-only
		header + "\r" + good + "\r" + good,                                                                             // CR-only, no final break
		header + "\n" + strings.NewReplacer("2024-03-16", "3/16/2024", "2024-03-17", "3/17/2024").Replace(good) + "\n", // month first
		header + "\n" + strings.NewReplacer("10.00", `"10,00"`, "20.00", `"20,00"`, "5.00", `"5,00"`, "1.00", `"1,00"`).Replace(good) + "\n",
	} {
		if b, err := charmap.Windows1252.NewEncoder().String(s); err == nil && !strings.HasPrefix(s, "\ufeff") {
			s = b
		}
		f.Add([]byte(s))
	}
	if mac, err := charmap.Macintosh.NewEncoder().String(strings.ReplaceAll(ptFile(pt, pt), "\r\n", "\r")); err == nil {
		f.Add([]byte(mac)) // Excel's "CSV (Macintosh)": Mac Roman, CR-only lines
	}
	if data, err := os.ReadFile(files[0]); err == nil {
		f.Add(bytes.ReplaceAll(headLines(data, 4), []byte("\n"), []byte("\r")))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := NewTransform(bytes.NewReader(data))
		if err != nil {
			var he *HeaderError
			var fe *FormatError
			if !refusesFile(err) {
				t.Fatalf("NewTransform: unexpected error %v", err)
			}
			if errors.As(err, &he) && he.Reason == "" || errors.As(err, &fe) && fe.Reason == "" {
				t.Fatal("a refused file without a reason")
			}
			return
		}
		h := tr.Header()
		// At most as many physical lines as LF and CR bytes (not in UTF-16), plus one.
		lines := int64(bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1)
		if enc := tr.Encoding(); enc == EncodingUTF16LE || enc == EncodingUTF16BE {
			lines = -1
		}
		var last, rows int64
		for {
			s, rej, ok := tr.Next()
			if !ok {
				break
			}
			rows++
			line := s.Line
			if rej != nil {
				if !reflect.DeepEqual(s, Sale{}) {
					t.Fatalf("line %d: both a sale and a reject", rej.Line)
				}
				line = rej.Line
				fuzzCheckReject(t, h, rej)
			} else {
				fuzzCheckSale(t, &s)
			}
			if line <= last || line < 2 {
				t.Fatalf("line %d after line %d", line, last)
			}
			if lines >= 0 && line > lines {
				t.Fatalf("line %d of a %d-line input", line, lines)
			}
			last = line
		}
		if err := tr.Err(); err != nil {
			t.Fatalf("read error from a bytes.Reader: %v", err)
		}
		if tr.Rows() != rows {
			t.Fatalf("Rows() = %d, Next gave %d", tr.Rows(), rows)
		}
		// What the ledger records must be one of the values its table admits.
		if nf, df := tr.NumberFormat(), tr.DateFormat(); !slices.Contains([]string{"", NumberPoint, NumberComma}, nf) ||
			!slices.Contains([]string{"", DateISO, DateDayFirst, DateMonthFirst}, df) {
			t.Fatalf("formats %q, %q", nf, df)
		}
		if len(h.Unknown) > maxUnknownKept+1 || len(h.Names) > maxHeaderColumns {
			t.Fatalf("a header of %d names, %d unknown", len(h.Names), len(h.Unknown))
		}
	})
}

func fuzzCheckReject(t *testing.T, h *Header, r *Reject) {
	t.Helper()
	switch {
	case r.Reason == "":
		t.Fatalf("line %d: a reject without a reason", r.Line)
	case !utf8.ValidString(r.Raw) || strings.ContainsRune(r.Raw, 0):
		t.Fatalf("line %d: raw text %q cannot be stored", r.Line, r.Raw)
	case len(r.Raw) > 3*maxRawBytes+len(" …"):
		t.Fatalf("line %d: raw text of %d bytes", r.Line, len(r.Raw))
	case !utf8.ValidString(r.Reason) || strings.ContainsRune(r.Reason, 0):
		t.Fatalf("line %d: reason %q cannot be stored", r.Line, r.Reason)
	case r.Column != "" && !slices.Contains(h.Names, r.Column):
		t.Fatalf("line %d: column %q is not in the header %q", r.Line, r.Column, h.Names)
	}
}

func fuzzCheckSale(t *testing.T, s *Sale) {
	t.Helper()
	p := &s.CopySalesParams
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: "+format, append([]any{s.Line}, args...)...)
	}
	if p.Quantity < 1 {
		fail("quantity %d", p.Quantity)
	}
	if !p.SaleDate.Valid || p.SaleDate.Time.Year() < 1 || p.SaleDate.Time.Year() > 9999 {
		fail("sale date %+v", p.SaleDate)
	}
	for _, d := range []struct {
		name string
		ok   bool
	}{
		{"payment", !p.PaymentDate.Valid || !p.PaymentDate.Time.Before(p.SaleDate.Time)},
		{"delivery", !p.DeliveryDate.Valid || !p.DeliveryDate.Time.Before(p.SaleDate.Time)},
	} {
		if !d.ok {
			fail("%s date before the sale date", d.name)
		}
	}
	required := []string{p.SaleID, p.ProductID, p.ProductName, p.ProductCategory, p.PaymentMethod, p.CustomerID,
		p.SalesChannel, p.SalesRegion, p.SalesRep}
	for _, v := range required {
		if v == "" {
			fail("a required text is empty: %+v", p)
		}
	}
	for _, v := range append(required, p.CustomerName.String, p.CustomerRating.String, p.CustomerComments.String, p.DeliveryStatus.String) {
		if v != strings.TrimSpace(v) || textProblem([]byte(v)) != "" {
			fail("text %q: untrimmed, or %s", v, textProblem([]byte(v)))
		}
	}
	if !slices.Contains([]string{"Paid", "Pending", "Canceled"}, p.PaymentStatus) {
		fail("payment status %q", p.PaymentStatus)
	}
	if p.SaleKey != saleKey([]byte(p.SaleID)) {
		fail("sale key %x for %q", p.SaleKey.Bytes, p.SaleID)
	}
	maxCents := int64(maxMoney / 100)
	for _, c := range []int64{p.UnitPriceCents, p.TotalValueCents, p.UnitCostCents.Int64, p.TotalCostCents.Int64, p.ShippingCostCents.Int64} {
		if c < 0 || c > maxCents {
			fail("amount %d cents", c)
		}
	}
	if g := p.GrossProfitCents.Int64; g < -maxCents || g > maxCents {
		fail("gross profit %d cents", g)
	}
	if (s.discount != 0 && !p.DiscountPct.Valid) || s.discount < 0 || s.discount > 100*fixedScale {
		fail("discount %d", s.discount)
	}
	if p.DiscountPct.Valid && (p.DiscountPct.Exp != -4 || p.DiscountPct.Int.Cmp(big.NewInt(s.discount)) != 0) {
		fail("discount %v × 10^%d for %d", p.DiscountPct.Int, p.DiscountPct.Exp, s.discount)
	}
	// The total is quantity × price × (1 − discount) within 0.01 in fixed point; in cents,
	// each rounded by up to half a cent, within quantity/2 + 1.5 cents.
	q := big.NewInt(int64(p.Quantity))
	want := new(big.Rat).SetInt(q.Mul(q, big.NewInt(p.UnitPriceCents)))
	want.Mul(want, big.NewRat(100*fixedScale-s.discount, 100*fixedScale))
	diff := want.Sub(want, new(big.Rat).SetInt64(p.TotalValueCents))
	if diff.Abs(diff).Cmp(big.NewRat(int64(p.Quantity)+3, 2)) > 0 {
		fail("total %d cents for %d × %d cents less %d", p.TotalValueCents, p.Quantity, p.UnitPriceCents, s.discount)
	}
}

// numberGrammar is what parseFixed accepts: a sign, digits with at most one point, and an
// optional exponent.
var numberGrammar = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// FuzzParseFixed compares parseFixed with exact rational arithmetic: the value times 10^4,
// rounded half away from zero.
func FuzzParseFixed(f *testing.F) {
	for _, s := range []string{"0", "12.5", "-0.00005", "1.234567E+03", "4e-05", "922337203685477.5799", "1e-99x",
		"0.99995", ".5e1", "1e15", "00000000000000000000001.5", "-", "1..2", "1e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseFixed([]byte(s))
		if !numberGrammar.MatchString(s) {
			if err == nil { // errTooLarge may come first for a long run of digits
				t.Fatalf("parseFixed(%q) = %d, want an error", s, got)
			}
			return
		}
		if errors.Is(err, errNotNumber) {
			t.Fatalf("parseFixed(%q): %v", s, err)
		}
		mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
		if digits := strings.TrimLeft(exp, "+-0"); len(digits) > 2 {
			// A huge exponent: the value rounds to 0, or is too large unless it is 0.
			if strings.HasPrefix(exp, "-") || strings.Trim(mant, "+-.0") == "" {
				if err != nil || got != 0 {
					t.Fatalf("parseFixed(%q) = %d, %v; want 0", s, got, err)
				}
			} else if !errors.Is(err, errTooLarge) {
				t.Fatalf("parseFixed(%q) = %d, %v; want errTooLarge", s, got, err)
			}
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat cannot read %q", s)
		}
		r.Mul(r, big.NewRat(fixedScale, 1))
		// Round half away from zero.
		neg := r.Sign() < 0
		r.Abs(r)
		r.Add(r, big.NewRat(1, 2))
		want := new(big.Int).Quo(r.Num(), r.Denom())
		if neg {
			want.Neg(want)
		}
		switch {
		case err == nil && (!want.IsInt64() || want.Int64() != got):
			t.Fatalf("parseFixed(%q) = %d, want %v", s, got, want)
		case errors.Is(err, errTooLarge) && want.IsInt64() && want.CmpAbs(big.NewInt(1e18)) < 0 && len(mant) < 19:
			t.Fatalf("parseFixed(%q): too large, want %v", s, want)
		case err != nil && !errors.Is(err, errTooLarge):
			t.Fatalf("parseFixed(%q): %v", s, err)
		}
	})
}

// decimalCommaGrammar is what parseDecimalComma accepts: a sign, digits grouped in threes by
// points or not grouped, and a comma before decimals.
var decimalCommaGrammar = regexp.MustCompile(`^[+-]?([0-9]+|[1-9][0-9]{0,2}(\.[0-9]{3})+)?(,[0-9]*)?$`)

// FuzzDecimalComma checks parseDecimalComma against its grammar and against parseFixed of
// the same number written with a point.
func FuzzDecimalComma(f *testing.F) {
	for _, s := range []string{"1.234,56", "-12,5", "1.234", "0.123", "12.5", ",5", "1,", "1.234.567,891", "1,2,3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseDecimalComma([]byte(s))
		digits := strings.ContainsAny(s, "0123456789")
		if !decimalCommaGrammar.MatchString(s) || !digits {
			if err == nil {
				t.Fatalf("parseDecimalComma(%q) = %d, want an error", s, got)
			}
			return
		}
		point := strings.Replace(strings.ReplaceAll(s, ".", ""), ",", ".", 1)
		want, wantErr := parseFixed([]byte(point))
		if got != want || !errors.Is(err, wantErr) && err != wantErr {
			t.Fatalf("parseDecimalComma(%q) = %d, %v; parseFixed(%q) = %d, %v", s, got, err, point, want, wantErr)
		}
	})
}

// headLines is the first n lines of data.
func headLines(data []byte, n int) []byte {
	end := 0
	for i := 0; i < n && end < len(data); i++ {
		next := bytes.IndexByte(data[end:], '\n')
		if next < 0 {
			return data
		}
		end += next + 1
	}
	return data[:end]
}
