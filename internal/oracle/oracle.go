// Package oracle computes what loading CSV files must give, from the files' bytes alone: the
// expected sales, counts and KPI figures that tests compare salespulse with. It reads with
// encoding/csv and exact rationals and shares no code with the loader or the server, so
// that a test of theirs cannot agree with a mistake of their own.
//
// It reads the shapes the original generator wrote (display and snake_case headers, UTF-8,
// comma-separated), and with a Dialect the files of a spreadsheet in Portuguese (Windows-1252
// or Mac Roman, semicolons, 1.234,56, DD/MM/YYYY, Pago/Pendente/Cancelado), and checks what it can without
// salespulse's rules: a positive whole quantity, a known payment status, and quantity × price
// × (1 − discount %) within a cent of the total. The first occurrence of a sale id wins; a later one with other figures is an
// error, because the expected result would then depend on the order the files load in.
package oracle

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/encoding/charmap"
)

// Sale is one valid sale; money in cents, rounded half away from zero.
type Sale struct {
	ID, Date, Category, Region, Channel, Product, Rep string
	Status                                            string // Paid, Pending or Canceled
	Quantity, Total, Cost, Profit                     int64  // an empty cost or profit is 0
}

// Inputs are the files read so far.
type Inputs struct {
	sales map[string]Sale
	order []string // sale ids in first-seen order
	Rows  int64    // data rows read
	// Rejects are rows the oracle's checks refuse; Duplicates later occurrences of a sale id.
	Rejects, Duplicates int64
}

// New is an empty set of inputs.
func New() *Inputs { return &Inputs{sales: map[string]Sale{}} }

// columns maps what the oracle reads to the normalised header names of both shapes.
// and of a spreadsheet in Portuguese.
var columns = map[string][]string{
	"date":     {"saledate", "datadavenda"},
	"id":       {"saleid", "iddavenda"},
	"product":  {"productname", "nomedoproduto", "produto"},
	"category": {"productcategory", "categoriadoproduto", "categoria"},
	"quantity": {"quantitysold", "quantidadevendida", "quantidade"},
	"price":    {"unitprice", "preçounitário"},
	"discount": {"discount", "desconto"},
	"total":    {"totalvaluewithdiscount", "totalvalue", "valortotalcomdesconto", "valortotal"},
	"cost":     {"totalcost", "custototal"},
	"profit":   {"grossprofit", "lucrobruto"},
	"status":   {"paymentstatus", "statusdopagamento"},
	"channel":  {"saleschannel", "canaldevendas"},
	"region":   {"salesregion", "regiãodevendas"},
	"rep":      {"salesrepresentative", "salesrep", "representantedevendas", "vendedor"},
}

// Dialect is how a file is written, when not as the original generator wrote its files.
type Dialect struct {
	Comma        rune             // the field delimiter; 0 means ','
	Charmap      *charmap.Charmap // the bytes' single-byte encoding (Windows-1252, Mac Roman); nil means UTF-8
	CROnly       bool             // lines end with CR alone
	DecimalComma bool             // numbers are written 1.234,56, not 1234.56
	DayFirst     bool             // dates are written DD/MM/YYYY, not YYYY-MM-DD
}

// AddFile reads a file; the test fails on a file the oracle cannot read.
func (in *Inputs) AddFile(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Add(data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Add reads one file's bytes, written as the original generator wrote its files.
func (in *Inputs) Add(data []byte) error { return in.AddAs(data, Dialect{}) }

// AddAs reads one file's bytes, written in the dialect given.
func (in *Inputs) AddAs(data []byte, d Dialect) error {
	if d.Charmap != nil {
		var err error
		if data, err = d.Charmap.NewDecoder().Bytes(data); err != nil {
			return err
		}
	}
	if d.CROnly {
		data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	if d.Comma != 0 {
		r.Comma = d.Comma
	}
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[Norm(h)] = i
	}
	idx := map[string]int{}
	for name, aliases := range columns {
		idx[name] = -1
		for _, a := range aliases {
			if i, ok := col[a]; ok {
				idx[name] = i
				break
			}
		}
		if idx[name] < 0 {
			return fmt.Errorf("no column for %s in %v", name, header)
		}
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		in.Rows++
		get := func(name string) string { return strings.TrimSpace(rec[idx[name]]) }
		s, ok := readSale(get, d)
		if !ok {
			in.Rejects++
			continue
		}
		if prev, seen := in.sales[s.ID]; seen {
			if prev != s {
				return fmt.Errorf("line %d: sale id %s appears with different figures: %+v and %+v", line, s.ID, prev, s)
			}
			in.Duplicates++
			continue
		}
		in.sales[s.ID] = s
		in.order = append(in.order, s.ID)
	}
}

// readSale applies the oracle's checks to a row.
func readSale(get func(string) string, d Dialect) (Sale, bool) {
	s := Sale{
		ID: strings.ToLower(get("id")), Date: d.date(get("date")), Category: get("category"), Region: get("region"),
		Channel: get("channel"), Product: get("product"), Rep: get("rep"), Status: status(get("status")),
	}
	decimal := func(name string) *big.Rat { return decimal(d.number(get(name))) }
	qty, price, disc, total := decimal("quantity"), decimal("price"), decimal("discount"), decimal("total")
	if qty == nil || price == nil || disc == nil || total == nil || !qty.IsInt() || qty.Sign() <= 0 || s.Status == "" {
		return s, false
	}
	want := new(big.Rat).Mul(qty, price)
	want.Mul(want, new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Quo(disc, big.NewRat(100, 1))))
	if d := want.Sub(want, total); d.Abs(d).Cmp(big.NewRat(1, 100)) > 0 {
		return s, false
	}
	s.Quantity, s.Total = qty.Num().Int64(), Cents(total)
	if c := decimal("cost"); c != nil {
		s.Cost = Cents(c)
	}
	if p := decimal("profit"); p != nil {
		s.Profit = Cents(p)
	}
	return s, true
}

func status(s string) string {
	switch strings.ToLower(s) {
	case "paid", "pago":
		return "Paid"
	case "pending", "pendente":
		return "Pending"
	case "canceled", "cancelled", "cancelado":
		return "Canceled"
	}
	return ""
}

// number is a number of the dialect as big.Rat reads them: 1.234,56 becomes 1234.56.
func (d Dialect) number(s string) string {
	if !d.DecimalComma {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
}

// date is a date of the dialect as YYYY-MM-DD; one it cannot read stays as written.
func (d Dialect) date(s string) string {
	if !d.DayFirst {
		return s
	}
	t, err := time.Parse("02/01/2006", s)
	if err != nil {
		return s
	}
	return t.Format(time.DateOnly)
}

func decimal(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

// Cents rounds an amount to the cent, half away from zero.
func Cents(r *big.Rat) int64 {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	n, d := new(big.Int).Set(x.Num()), x.Denom()
	neg := n.Sign() < 0
	n.Abs(n)
	q, m := new(big.Int).QuoRem(n, d, new(big.Int))
	if m.Lsh(m, 1).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// Norm normalises a header name: lower case, letters and digits only ("Total Value (with
// Discount)" is "totalvaluewithdiscount").
func Norm(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Sales are the distinct valid sales, in the order first seen.
func (in *Inputs) Sales() []Sale {
	out := make([]Sale, 0, len(in.order))
	for _, id := range in.order {
		out = append(out, in.sales[id])
	}
	return out
}

// Has reports whether a sale id (in any letter case) was read.
func (in *Inputs) Has(id string) bool {
	_, ok := in.sales[strings.ToLower(id)]
	return ok
}

// Distinct is the number of distinct valid sales.
func (in *Inputs) Distinct() int64 { return int64(len(in.sales)) }

// TotalCents is the sum of total value over the distinct sales.
func (in *Inputs) TotalCents() int64 {
	var sum int64
	for _, s := range in.sales {
		sum += s.Total
	}
	return sum
}
