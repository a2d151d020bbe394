package etl

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"salespulse/internal/oracle"
	"salespulse/server/api"
)

// sheetStyle is how a spreadsheet program in Portuguese saves a sheet as CSV: Excel's "CSV
// (separado por vírgulas)" in Windows-1252 with CRLF, its "CSV (Macintosh)" in Mac Roman with
// CR, or "CSV UTF-8" with a BOM.
type sheetStyle struct {
	charmap *charmap.Charmap // nil: UTF-8 with a BOM
	eol     string           // CRLF unless set
	grouped bool             // amounts of a thousand or more written with grouping points (1.234,56)
}

var (
	excelWindows = sheetStyle{charmap: charmap.Windows1252}
	excelMac     = sheetStyle{charmap: charmap.Macintosh, eol: "\r"}
	excelUTF8    = sheetStyle{}
)

func (s sheetStyle) withGrouping() sheetStyle {
	s.grouped = true
	return s
}

// The header a Brazilian sheet of the original's columns has, in the original's order.
var brazilianHeader = []string{"Data da Venda", "ID da Venda", "ID do Produto", "Nome do Produto", "Categoria do Produto",
	"Quantidade Vendida", "Preço Unitário", "Desconto (%)", "Valor Total (com Desconto)", "Custo Unitário", "Custo Total",
	"Lucro Bruto", "Método de Pagamento", "Status do Pagamento", "Data do Pagamento", "ID do Cliente", "Nome do Cliente",
	"Canal de Vendas", "Região de Vendas", "Representante de Vendas", "Avaliação do Cliente", "Comentários do Cliente",
	"Custo de Envio", "Status da Entrega", "Data de Entrega"}

// brazilianText is what the generator's words are in such a sheet.
var brazilianText = map[string]string{
	"Paid": "Pago", "Pending": "Pendente", "Canceled": "Cancelado",
	"Technology": "Tecnologia", "Clothing": "Vestuário", "Furniture": "Móveis", "Accessories": "Acessórios",
	"Appliances": "Eletrodomésticos", "California": "São Paulo", "Texas": "Paraná", "New York": "Rio de Janeiro",
	"Florida": "Ceará", "Illinois": "Goiás", "Online Store": "Loja Virtual", "Physical Store": "Loja Física",
	"Credit Card": "Cartão de Crédito", "Invoice": "Boleto", "Bank Transfer": "Transferência Bancária",
	"Delivered": "Entregue", "In Transit": "Em Trânsito", "Coffee Maker": "Cafeteira", "Office Chair": "Cadeira de Escritório",
	"1 star": "1 estrela", "2 stars": "2 estrelas", "3 stars": "3 estrelas", "4 stars": "4 estrelas", "5 stars": "5 estrelas",
}

// brazilianSheet rewrites a generated file (display header) as such a sheet: Portuguese
// header and words, DD/MM/YYYY dates, decimal commas, semicolons, CRLF line ends.
func brazilianSheet(t testing.TB, generated []byte, style sheetStyle) []byte {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(generated)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := records[0]
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = brazilianHeader[slices.IndexFunc(columns[:], func(s columnSpec) bool { return s.display == h })]
	}
	var b strings.Builder
	if style.charmap == nil {
		b.WriteString("\ufeff")
	}
	eol := cmp.Or(style.eol, "\r\n")
	writeSheetLine(&b, names, eol)
	for _, rec := range records[1:] {
		for i, v := range rec {
			switch {
			case strings.Contains(header[i], "Date") && v != "":
				d, err := time.Parse(time.DateOnly, v)
				if err != nil {
					t.Fatal(err)
				}
				rec[i] = d.Format("02/01/2006")
			case slices.Contains([]string{"Quantity Sold", "Unit Price", "Discount (%)", "Total Value (with Discount)", "Unit Cost",
				"Total Cost", "Gross Profit", "Shipping Cost"}, header[i]) && v != "":
				rec[i] = decimalComma(v, style.grouped)
			case brazilianText[v] != "":
				rec[i] = brazilianText[v]
			}
		}
		writeSheetLine(&b, rec, eol)
	}
	if style.charmap == nil {
		return []byte(b.String())
	}
	out, err := style.charmap.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

// writeSheetLine writes fields as spreadsheets do: quoted only when they must be.
func writeSheetLine(b *strings.Builder, fields []string, eol string) {
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(';')
		}
		if strings.ContainsAny(f, ";\"\r\n") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		b.WriteString(f)
	}
	b.WriteString(eol)
}

// decimalComma writes 1234.5 as 1234,5, or 1.234,5 grouped.
func decimalComma(v string, grouped bool) string {
	whole, frac, hasFrac := strings.Cut(v, ".")
	sign := ""
	if strings.HasPrefix(whole, "-") {
		sign, whole = "-", whole[1:]
	}
	if grouped {
		for i := len(whole) - 3; i > 0; i -= 3 {
			whole = whole[:i] + "." + whole[i:]
		}
	}
	if hasFrac {
		return sign + whole + "," + frac
	}
	return sign + whole
}

// brazilianDialect is how the oracle reads such a sheet, told rather than detected.
func brazilianDialect(style sheetStyle) oracle.Dialect {
	return oracle.Dialect{Comma: ';', Charmap: style.charmap, CROnly: style.eol == "\r", DecimalComma: true, DayFirst: true}
}

// ledgerRow is what the ledger says of a file.
type ledgerRow struct {
	status, shape, encoding, delimiter, numberFormat, dateFormat, reason string
	unknown                                                              []string
	total, loaded, rejected                                              int64
}

func ledgerOf(t testing.TB, id int64) ledgerRow {
	t.Helper()
	var r ledgerRow
	err := testDB.Pool.QueryRow(context.Background(), `
		SELECT status, header_shape, encoding, delimiter, number_format, date_format, error, unknown_columns,
		       rows_total, rows_loaded, rows_rejected
		FROM ingested_files WHERE id = $1`, id).Scan(&r.status, &r.shape, &r.encoding, &r.delimiter, &r.numberFormat,
		&r.dateFormat, &r.reason, &r.unknown, &r.total, &r.loaded, &r.rejected)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Sheets saved by Excel or LibreOffice in Portuguese load end to end, to the cent and to the
// day of the oracle's reading of the same bytes.
func TestBrazilianSpreadsheetsLoad(t *testing.T) {
	testDB.Reset(t)
	from := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		style    sheetStyle
		comments bool
		seed     uint64
		encoding string
		shape    string
	}{
		{"Excel, Windows-1252, grouped thousands", excelWindows.withGrouping(), true, 31, EncodingWindows1252, "portuguese+comments"},
		{"CSV UTF-8 with a BOM, no grouping", excelUTF8, false, 32, EncodingUTF8, "portuguese"},
		{"CSV (Macintosh): Mac Roman, CR-only lines", excelMac.withGrouping(), true, 33, EncodingMacintosh, "portuguese+comments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := brazilianSheet(t, generated(t, GenerateOptions{Rows: 1500, Seed: tt.seed, Comments: tt.comments,
				From: from, To: from.AddDate(0, 0, 20)}), tt.style)
			if want := map[string]string{EncodingWindows1252: "Pre\xe7o Unit\xe1rio", EncodingMacintosh: "Pre\x8do Unit\x87rio",
				EncodingUTF8: "\xef\xbb\xbfData da Venda"}[tt.encoding]; !bytes.Contains(data, []byte(want)) || !bytes.Contains(data, []byte(";Pago;")) {
				t.Fatalf("the sheet is not %s text in Portuguese", tt.encoding)
			}
			if tt.style.grouped && !bytes.Contains(data, []byte(".")) {
				t.Fatal("no grouped amount in the sheet")
			}
			in := oracle.New()
			if err := in.AddAs(data, brazilianDialect(tt.style)); err != nil {
				t.Fatal(err)
			}
			if in.Rejects != 0 || in.Distinct() != 1500 {
				t.Fatalf("the oracle read %d sales and %d rejects", in.Distinct(), in.Rejects)
			}

			res := loadPath(t, newLoader(), writeFile(t, "vendas.csv", data))
			if res.Status != StatusLoaded || res.RowsTotal != in.Rows || res.RowsLoaded != in.Distinct() || res.RowsRejected != 0 {
				t.Fatalf("%+v, want %d rows loaded", res, in.Distinct())
			}
			got := ledgerOf(t, res.FileID)
			want := ledgerRow{status: StatusLoaded, shape: tt.shape, encoding: tt.encoding, delimiter: ";", numberFormat: NumberComma,
				dateFormat: DateDayFirst, unknown: []string{}, total: 1500, loaded: 1500}
			expectEq(t, "ledger", got, want)

			// Every figure of the file, by payment status and by sale date, as the oracle reads it.
			k := in.KPIs(api.Filter{})
			var sales, profit, quantity int64
			if err := testDB.Pool.QueryRow(context.Background(), `
				SELECT sum(total_value_cents), sum(gross_profit_cents), sum(quantity) FROM sales WHERE file_id = $1`,
				res.FileID).Scan(&sales, &profit, &quantity); err != nil {
				t.Fatal(err)
			}
			expectEq(t, "sales", [3]int64{sales, profit, quantity}, [3]int64{k.Sales, k.Profit, k.Quantity})
			byStatus := map[string][2]int64{}
			byDay := map[string]api.TrendPoint{}
			rows, err := testDB.Pool.Query(context.Background(), `
				SELECT payment_status, sale_date::text, sum(total_value_cents), count(*), sum(gross_profit_cents)
				FROM sales WHERE file_id = $1 GROUP BY 1, 2`, res.FileID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var status, day string
				var total, n, gp int64
				if err := rows.Scan(&status, &day, &total, &n, &gp); err != nil {
					t.Fatal(err)
				}
				s := byStatus[status]
				byStatus[status] = [2]int64{s[0] + total, s[1] + n}
				p := byDay[day]
				byDay[day] = api.TrendPoint{Date: day, Sales: p.Sales + api.Money(total), Orders: p.Orders + n, GrossProfit: p.GrossProfit + api.Money(gp)}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			expectEq(t, "by payment status", byStatus, k.ByStatus)
			if len(byStatus) != 3 {
				t.Errorf("statuses %v: want Paid, Pending and Canceled", byStatus)
			}
			wantDays := map[string]api.TrendPoint{}
			for day, p := range k.Trend {
				wantDays[day] = *p
			}
			expectEq(t, "by sale date", byDay, wantDays)
			if len(byDay) != 21 {
				t.Errorf("%d sale dates, want 21", len(byDay))
			}
			var region string
			if err := testDB.Pool.QueryRow(context.Background(), `SELECT sales_region FROM sales WHERE file_id = $1 AND sales_region LIKE 'S%'
				LIMIT 1`, res.FileID).Scan(&region); err != nil || region != "São Paulo" {
				t.Errorf("region %q, %v", region, err)
			}
		})
	}
	assertConsistent(t)
}

// A file whose dates or numbers can be read two ways fails whole, saying which value and
// why, and loads nothing.
func TestAmbiguousFilesFailWhole(t *testing.T) {
	testDB.Reset(t)
	// Sales of the 1st and 2nd, paid within a week and delivered within ten days: every date
	// has a day of 12 or less, so DD/MM and MM/DD both read it.
	early := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	ambiguousDates := brazilianSheet(t, generated(t, GenerateOptions{Rows: 400, Seed: 41, From: early, To: early.AddDate(0, 0, 1)}),
		excelWindows.withGrouping())
	mixed := brazilianSheet(t, generated(t, GenerateOptions{Rows: 400, Seed: 42}), excelWindows)
	lines := bytes.SplitAfter(mixed, []byte("\r\n"))
	fields := bytes.Split(lines[300], []byte(";"))
	fields[6] = bytes.ReplaceAll(fields[6], []byte(","), []byte(".")) // one unit price written 123.45
	lines[300] = bytes.Join(fields, []byte(";"))
	mixed = bytes.Join(lines, nil)

	l := newLoader()
	for _, tt := range []struct {
		name   string
		data   []byte
		reason string
	}{
		{"dates", ambiguousDates, `dates are ambiguous: "01/03/2024" (line 2, Data da Venda) is 2024-03-01 read as DD/MM/YYYY but 2024-01-03 read as MM/DD/YYYY, and no date in the file decides; write dates as YYYY-MM-DD`},
		{"numbers", mixed, fmt.Sprintf(`numbers are written in more than one way: %q (line 2, Preço Unitário) as 1.234,56, but %q (line 301, Preço Unitário) as 1234.56`,
			bytes.Split(lines[1], []byte(";"))[6], fields[6])},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := loadPath(t, l, writeFile(t, "ambiguous.csv", tt.data))
			if res.Status != StatusFailed || res.Error != tt.reason || res.RowsLoaded != 0 {
				t.Fatalf("%+v\nwant failed: %s", res, tt.reason)
			}
			if got := ledgerOf(t, res.FileID); got.status != StatusFailed || got.reason != tt.reason {
				t.Errorf("ledger %+v", got)
			}
			if n := testDB.Int(t, `SELECT count(*) FROM sales WHERE file_id = $1`, res.FileID); n != 0 {
				t.Errorf("%d sales of a refused file", n)
			}
		})
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 0 {
		t.Errorf("%d sales loaded", n)
	}
	assertConsistent(t)
}

// Excel's "CSV (Macintosh)" ends lines with CR alone. Such a file loads as its LF twin does;
// and a header line can never fill the ledger with thousands of column names.
func TestCROnlyFileLoads(t *testing.T) {
	testDB.Reset(t)
	path := fixtureFiles(t)[0]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := computeFixtureTruth(t, []string{path})
	mac := bytes.ReplaceAll(data, []byte("\n"), []byte("\r"))
	res := loadPath(t, newLoader(), writeFile(t, "mac.csv", mac))
	if res.Status != StatusLoaded || res.RowsTotal != want.rows || res.RowsLoaded != want.distinct || res.RowsRejected != 0 {
		t.Fatalf("%+v, want %+v", res, want)
	}
	if got := ledgerOf(t, res.FileID); len(got.unknown) != 0 || !strings.HasPrefix(got.shape, "display") || got.numberFormat != NumberPoint || got.dateFormat != DateISO {
		t.Errorf("ledger %+v", got)
	}
	if n := testDB.Int(t, `SELECT sum(total_value_cents) FROM sales`); n != want.totalCents {
		t.Errorf("total %d cents, want %d", n, want.totalCents)
	}

	// Its rows on one line, as they were read before CR ended lines: a header of 23,001
	// columns. It is refused, and the ledger row stays small.
	oneLine := bytes.ReplaceAll(data, []byte("\n"), []byte(","))
	res = loadPath(t, newLoader(), writeFile(t, "one-line.csv", oneLine))
	got := ledgerOf(t, res.FileID)
	if res.Status != StatusFailed || !strings.HasPrefix(got.reason, "the header line has ") || len(got.unknown) != 0 {
		t.Errorf("%+v, ledger %+v", res, got)
	}

	// Many unknown columns: the first few are named, the rest counted.
	header, rest, _ := bytes.Cut(data, []byte("\n"))
	var wide bytes.Buffer
	wide.Write(header)
	for i := range 300 {
		fmt.Fprintf(&wide, ",Extra %d", i)
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(rest, []byte("\n")), []byte("\n")) {
		wide.WriteString("\n")
		wide.Write(line)
		wide.WriteString(strings.Repeat(",", 300))
	}
	res = loadPath(t, newLoader(), writeFile(t, "wide.csv", wide.Bytes()))
	got = ledgerOf(t, res.FileID)
	if res.Status != StatusLoaded || len(got.unknown) != maxUnknownKept+1 || got.unknown[0] != "Extra 0" || got.unknown[maxUnknownKept] != "(and 280 more)" {
		t.Errorf("%+v, unknown %q", res, got.unknown)
	}
	if res.RowsDuplicate != want.distinct { // the same sales as the CR-only file's
		t.Errorf("%+v: want its %d sales counted as duplicates", res, want.distinct)
	}
	assertConsistent(t)
}
