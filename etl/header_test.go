package etl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func parseNames(names ...string) (*Header, error) {
	fields := make([][]byte, len(names))
	for i, n := range names {
		fields[i] = []byte(n)
	}
	return parseHeader(fields)
}

// expectMapped checks that each column sits at the position of the name given for it, and
// that every other column is absent.
func expectMapped(t *testing.T, h *Header, names []string, at map[column]string) {
	t.Helper()
	for c := range numColumns {
		want := -1
		if name, ok := at[c]; ok {
			want = slices.Index(names, name)
		}
		if h.index[c] != want {
			t.Errorf("%s at field %d, want %d", columns[c].display, h.index[c], want)
		}
	}
}

// byColumn maps every column to one of its spellings, minus comments unless asked.
func byColumn(comments bool, spelling func(columnSpec) string) ([]string, map[column]string) {
	var names []string
	at := map[column]string{}
	for c, spec := range columns {
		if column(c) == colCustomerComments && !comments {
			continue
		}
		names = append(names, spelling(spec))
		at[column(c)] = spelling(spec)
	}
	return names, at
}

func TestHeaderShapes(t *testing.T) {
	display := func(s columnSpec) string { return s.display }
	snake := func(s columnSpec) string { return s.snake }
	for _, tt := range []struct {
		name     string
		comments bool
		spelling func(columnSpec) string
		shape    string
	}{
		{"display", false, display, "display"},
		{"display with comments", true, display, "display+comments"},
		{"snake", false, snake, "snake"},
		{"snake with comments", true, snake, "snake+comments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			names, at := byColumn(tt.comments, tt.spelling)
			h, err := parseNames(names...)
			if err != nil {
				t.Fatal(err)
			}
			expectMapped(t, h, names, at)
			if h.Shape != tt.shape || len(h.Unknown) != 0 || !slices.Equal(h.Names, names) {
				t.Errorf("shape %q, unknown %q, names %q", h.Shape, h.Unknown, h.Names)
			}
		})
	}
}

// The generator writes the same headers the original project did.
func TestHeaderMatchesTheFixtures(t *testing.T) {
	display := "Sale Date,Sale ID,Product ID,Product Name,Product Category,Quantity Sold,Unit Price,Discount (%),Total Value (with Discount),Unit Cost,Total Cost,Gross Profit,Payment Method,Payment Status,Payment Date,Customer ID,Customer Name,Sales Channel,Sales Region,Sales Representative,Customer Rating,Customer Comments,Shipping Cost,Delivery Status,Delivery Date"
	snake := "sale_date,sale_id,product_id,product_name,product_category,quantity_sold,unit_price,discount,total_value,unit_cost,total_cost,gross_profit,payment_method,payment_status,payment_date,customer_id,customer_name,sales_channel,sales_region,sales_rep,customer_rating,shipping_cost,delivery_status,delivery_date"
	if got := strings.Join(displayHeader(true), ","); got != display {
		t.Errorf("display header\n got %s\nwant %s", got, display)
	}
	if got := strings.Join(snakeHeader(false), ","); got != snake {
		t.Errorf("snake header\n got %s\nwant %s", got, snake)
	}
}

func TestHeaderAliases(t *testing.T) {
	names := []string{"Date", "Order ID", "SKU", "Product", "Category", "Qty", "Price", "Discount %", "Total",
		"Unit Cost", "Total Cost", "Profit", "Payment Method", "Payment Status", "Payment Date", "Customer ID",
		"Customer Name", "Channel", "Region", "Rep", "Rating", "Comments", "Shipping", "Delivery Status", "Delivery Date"}
	h, err := parseNames(names...)
	if err != nil {
		t.Fatal(err)
	}
	at := map[column]string{}
	for c := range numColumns {
		at[c] = names[c]
	}
	expectMapped(t, h, names, at)
	if h.Shape != "mixed+comments" {
		t.Errorf("shape %q", h.Shape)
	}
}

// Every spelling in the spec leads to its own column: no alias shadows another column's.
func TestHeaderEverySpellingMapsToItsColumn(t *testing.T) {
	for c, spec := range columns {
		for _, name := range spec.spellings() {
			if got, ok := headerIndex[normaliseHeader(name)]; !ok || got != column(c) {
				t.Errorf("%q maps to %v (%v), want %s", name, got, ok, spec.display)
			}
		}
	}
}

func TestHeaderNormalisation(t *testing.T) {
	for _, name := range []string{"SALE DATE", "sale-date", "  Sale   Date ", "Sale_Date", "sale.date", "SaleDate", "Sale Date:"} {
		if c, ok := headerIndex[normaliseHeader(name)]; !ok || c != colSaleDate {
			t.Errorf("%q is not Sale Date", name)
		}
	}
	if got := normaliseHeader("Discount (%)"); got != "discount" {
		t.Errorf("normaliseHeader(Discount (%%)) = %q", got)
	}
	// Letters of any script count; these are no name of a column.
	if _, ok := headerIndex[normaliseHeader("Дата продажи")]; ok {
		t.Error("a Russian header matched")
	}
	// Accents are ignored.
	if got := normaliseHeader("Preço Unitário (R$)"); got != "precounitarior" {
		t.Errorf("normaliseHeader(Preço Unitário (R$)) = %q", got)
	}
}

func TestHeaderAnyOrder(t *testing.T) {
	names, at := byColumn(true, func(s columnSpec) string { return s.snake })
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		h, err := parseNames(names...)
		if err != nil {
			t.Fatal(err)
		}
		expectMapped(t, h, names, at)
		if h.Shape != "snake+comments" {
			t.Errorf("shape %q", h.Shape)
		}
	}
}

func TestHeaderUnknownColumns(t *testing.T) {
	names, at := byColumn(false, func(s columnSpec) string { return s.display })
	names = append([]string{"Store Notes"}, names...)
	names = append(names, " ", "Loyalty Tier ")
	h, err := parseNames(names...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Store Notes", "(unnamed column 26)", "Loyalty Tier"}; !slices.Equal(h.Unknown, want) {
		t.Errorf("unknown %q, want %q", h.Unknown, want)
	}
	names[len(names)-1] = "Loyalty Tier" // Names are trimmed
	names[len(names)-2] = ""
	expectMapped(t, h, names, at)
	if h.Shape != "display" || len(h.Names) != 27 {
		t.Errorf("shape %q, %d names", h.Shape, len(h.Names))
	}
}

func TestHeaderMissingColumns(t *testing.T) {
	display, _ := byColumn(true, func(s columnSpec) string { return s.display })
	without := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(display), func(n string) bool { return slices.Contains(drop, n) })
	}
	for _, tt := range []struct {
		name  string
		names []string
		want  string // the reason; empty when the header is fine
	}{
		{"no Sale ID", without("Sale ID"), "missing required column(s): Sale ID"},
		{"no quantity nor rep", without("Quantity Sold", "Sales Representative"), "missing required column(s): Quantity Sold, Sales Representative"},
		{"nothing known", []string{"a", "b"}, "missing required column(s): Sale Date, Sale ID, Product ID"},
		{"optional columns only missing", without("Discount (%)", "Unit Cost", "Total Cost", "Gross Profit", "Payment Date",
			"Customer Name", "Customer Rating", "Customer Comments", "Shipping Cost", "Delivery Status", "Delivery Date"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parseNames(tt.names...)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if h.index[colDiscount] != -1 || h.name(colDiscount) != "Discount (%)" {
					t.Errorf("an absent column: at %d, named %q", h.index[colDiscount], h.name(colDiscount))
				}
				return
			}
			var he *HeaderError
			if !errors.As(err, &he) || !strings.HasPrefix(he.Error(), tt.want) {
				t.Errorf("error %v, want a *HeaderError %q", err, tt.want)
			}
		})
	}
}

func TestHeaderDuplicateColumns(t *testing.T) {
	display, _ := byColumn(false, func(s columnSpec) string { return s.display })
	for _, tt := range []struct {
		extra, want string
	}{
		{"sale_date", `columns "Sale Date" and "sale_date" both mean Sale Date`},
		{"Qty", `columns "Quantity Sold" and "Qty" both mean Quantity Sold`},
		{" SALE ID ", `columns "Sale ID" and "SALE ID" both mean Sale ID`},
		{"Comments", ""}, // once is fine
	} {
		_, err := parseNames(append(slices.Clone(display), tt.extra)...)
		var he *HeaderError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v", tt.extra, err)
		case tt.want != "" && (!errors.As(err, &he) || he.Reason != tt.want):
			t.Errorf("%q: error %v, want %q", tt.extra, err, tt.want)
		}
	}
}

func TestSniffDelimiter(t *testing.T) {
	for _, tt := range []struct {
		line string
		want byte
	}{
		{"a,b,c", ','},
		{"a;b;c", ';'},
		{"a\tb\tc", '\t'},
		{"", ','},
		{"single", ','},
		{"a;b,c", ','}, // a tie goes to the comma
		{"a\tb;c", ';'},
		{`"a,b,c";"d,e";f`, ';'}, // delimiters inside quotes do not count
		{"\"a;b;c\",\"d\"\t\"e\"", ','},
		{"Sale Date;Sale ID;Discount (%);Total Value (with Discount)", ';'},
		{"Sale Date\tSale ID, the key\tProduct", '\t'},
	} {
		if got := sniffDelimiter([]byte(tt.line)); got != tt.want {
			t.Errorf("sniffDelimiter(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestTransformHeaderFailures(t *testing.T) {
	display := strings.Join(displayHeader(false), ",")
	for _, tt := range []struct {
		name, in string
		want     string // a *HeaderError's reason, or "empty" for ErrEmptyFile
	}{
		{"empty", "", "empty"},
		{"blank lines only", "\r\n\n\n", "empty"},
		{"a BOM only", "\xef\xbb\xbf", "empty"},
		{"unterminated quote", "\"Sale Date,Sale ID\n", "header line: unterminated quoted field"},
		{"text after a quote", "\"Sale Date\"x,Sale ID\n", "header line: text after a closing quote"},
		{"missing column", strings.Replace(display, ",Sale ID", "", 1) + "\n", "missing required column(s): Sale ID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTransform(strings.NewReader(tt.in))
			var he *HeaderError
			switch {
			case tt.want == "empty":
				if !errors.Is(err, ErrEmptyFile) {
					t.Errorf("error %v, want ErrEmptyFile", err)
				}
			case !errors.As(err, &he) || !strings.HasPrefix(he.Reason, tt.want):
				t.Errorf("error %v, want a *HeaderError %q", err, tt.want)
			}
		})
	}
}

func TestTransformHeaderOnly(t *testing.T) {
	for _, in := range []string{
		strings.Join(displayHeader(false), ","),
		strings.Join(snakeHeader(true), ";") + "\r\n\r\n",
		// Blank lines before the header do not hide its delimiter.
		"\r\n\n" + strings.Join(displayHeader(true), "\t") + "\n",
	} {
		tr, err := NewTransform(strings.NewReader(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if _, _, ok := tr.Next(); ok || tr.Rows() != 0 || tr.Err() != nil {
			t.Errorf("%q: a row from a header-only file", in)
		}
	}
}

// Spreadsheets often quote every field, the header's too.
func TestTransformQuotedHeader(t *testing.T) {
	quote := func(fields []string) string {
		out := make([]string, len(fields))
		for i, f := range fields {
			out[i] = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		return strings.Join(out, ";")
	}
	row := []string{"2024-03-16", "ORD-1", "PRD1", "Phone, 5\" screen", "Tech", "2", "10.00", "0", "20.00", "5.00",
		"10.00", "10.00", "Pix", "Paid", "2024-03-16", "C1", "Ana", "Online", "Texas", "Rep", "5 stars", "1.00",
		"Delivered", "2024-03-17"}
	tr, err := NewTransform(strings.NewReader(quote(displayHeader(false)) + "\r\n" + quote(row) + "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	sales, rejects := drainTransform(t, tr)
	if len(rejects) != 0 || len(sales) != 1 || tr.Delimiter() != ";" || tr.Header().Shape != "display" {
		t.Fatalf("%d sales, rejects %+v, delimiter %s, shape %s", len(sales), rejects, tr.Delimiter(), tr.Header().Shape)
	}
	if got := sales[0].ProductName; got != `Phone, 5" screen` {
		t.Errorf("product name %q", got)
	}
}

// A spreadsheet in Portuguese, with the freedom people take in writing its names.
func TestHeaderPortuguese(t *testing.T) {
	var names []string
	at := map[column]string{}
	for c, spec := range columns {
		names = append(names, spec.portuguese[0])
		at[column(c)] = spec.portuguese[0]
	}
	h, err := parseNames(names...)
	if err != nil {
		t.Fatal(err)
	}
	expectMapped(t, h, names, at)
	if h.Shape != "portuguese+comments" || len(h.Unknown) != 0 {
		t.Errorf("shape %q, unknown %q", h.Shape, h.Unknown)
	}

	// Every other Portuguese name, in other cases, without accents, with other spacing.
	for c, spec := range columns {
		for _, name := range spec.portuguese {
			for _, spelling := range []string{name, strings.ToUpper(name), strings.ReplaceAll(strings.ToLower(name), " ", "_"),
				unaccented(name), " " + unaccented(strings.ToUpper(name)) + " "} {
				if got, ok := headerIndex[normaliseHeader(spelling)]; !ok || got != column(c) {
					t.Errorf("%q maps to %v (%v), want %s", spelling, got, ok, spec.display)
				}
			}
		}
	}
	for spelling, want := range map[string]column{
		"Produto": colProductName, "Categoria": colProductCategory, "Quantidade": colQuantity, "Valor Total": colTotalValue,
		"Forma de Pagamento": colPaymentMethod, "Vendedor": colSalesRep, "Frete": colShippingCost,
		"PREÇO-UNITÁRIO": colUnitPrice, "Método de pagamento": colPaymentMethod, "Região de vendas": colSalesRegion,
		"Desconto %": colDiscount, "avaliacao do cliente": colCustomerRating, "Comentarios do Cliente": colCustomerComments,
	} {
		if got, ok := headerIndex[normaliseHeader(spelling)]; !ok || got != want {
			t.Errorf("%q maps to %v (%v), want %s", spelling, got, ok, columns[want].display)
		}
	}
}

func unaccented(s string) string {
	return strings.NewReplacer("ç", "c", "ã", "a", "á", "a", "é", "e", "í", "i", "ó", "o", "õ", "o", "ú", "u", "ê", "e",
		"Ç", "C", "Ã", "A", "Á", "A", "É", "E", "Í", "I", "Ó", "O", "Õ", "O", "Ú", "U", "Ê", "E").Replace(s)
}

// A header line can be absurd (a file whose lines are not split, a wrong delimiter): the
// ledger keeps a bounded account of it, and past a width the line is no header at all.
func TestHeaderBounds(t *testing.T) {
	display, _ := byColumn(false, func(s columnSpec) string { return s.display })
	names := slices.Clone(display)
	for i := range 500 {
		names = append(names, fmt.Sprintf("Extra %d", i))
	}
	names = append(names, strings.Repeat("Very long name ", 100))
	h, err := parseNames(names...)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Unknown) != maxUnknownKept+1 || h.Unknown[0] != "Extra 0" || h.Unknown[maxUnknownKept] != "(and 481 more)" {
		t.Errorf("unknown %q", h.Unknown)
	}
	long := h.Names[len(h.Names)-1]
	if utf8.RuneCountInString(long) != maxColumnName+1 || !strings.HasSuffix(long, "…") {
		t.Errorf("a long name kept as %q", long)
	}

	// A known name padded with punctuation still maps, and is kept clipped.
	padded := slices.Clone(display)
	padded[0] = "Sale Date" + strings.Repeat(" .", 200)
	if h, err = parseNames(padded...); err != nil || h.index[colSaleDate] != 0 || utf8.RuneCountInString(h.name(colSaleDate)) != maxColumnName+1 {
		t.Errorf("padded Sale Date: %v, %q", err, h.name(colSaleDate))
	}

	wide := slices.Clone(display)
	for len(wide) <= maxHeaderColumns {
		wide = append(wide, "x")
	}
	_, err = parseNames(wide...)
	var he *HeaderError
	if !errors.As(err, &he) || !strings.HasPrefix(he.Reason, "the header line has 1001 columns, more than the 1000") {
		t.Errorf("error %v", err)
	}
}
