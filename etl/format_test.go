package etl

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// set names formats for the tables below.
func set(formats ...int) formatSet {
	var s formatSet
	for _, f := range formats {
		s |= 1 << f
	}
	return s
}

// readingsAgree is which formats read a value, and whether they all read it the same.
func readingsAgree(c *formatChoice, in string) (formatSet, bool) {
	reads, values := c.readings([]byte(in))
	for f := range c.kind.names {
		if reads.has(f) && values[f] != values[reads.first()] {
			return reads, false
		}
	}
	return reads, true
}

func TestNumberEvidence(t *testing.T) {
	both := set(numberPoint, numberComma)
	for _, tt := range []struct {
		in    string
		reads formatSet
		agree bool
	}{
		// The same either way.
		{"120", both, true},
		{"-5", both, true},
		{"+7", both, true},
		{"0", both, true},
		// A point and three digits: thousands or decimals?
		{"1.234", both, false},
		{"12.345", both, false},
		{"-123.456", both, false},
		{"1.000", both, false},
		// Only a decimal point.
		{"12.5", set(numberPoint), true},
		{"116.54", set(numberPoint), true},
		{"1234.567", set(numberPoint), true}, // four digits before the point: not a group
		{"0.123", set(numberPoint), true},    // a group never starts with 0
		{"20.0", set(numberPoint), true},
		{".5", set(numberPoint), true},
		{"1.5e3", set(numberPoint), true},
		{"2e1", set(numberPoint), true},
		// Only a decimal comma.
		{"12,5", set(numberComma), true},
		{"-12,50", set(numberComma), true},
		{"1.234,56", set(numberComma), true},
		{"1.234.567", set(numberComma), true}, // two grouping points
		{"1.234.567,89", set(numberComma), true},
		{"1,234", set(numberComma), true}, // this reader knows no comma grouping
		{",5", set(numberComma), true},
		// Neither.
		{"1.234.56", 0, true},
		{"12.34,5", 0, true},
		{"1,234.56", 0, true},
		{"1,5e3", 0, true},
		{"R$ 12,50", 0, true},
		{"abc", 0, true},
		{"1 234,56", 0, true},
	} {
		c := newFormatChoice(numberKind)
		reads, agree := readingsAgree(c, tt.in)
		if reads != tt.reads || agree != tt.agree {
			t.Errorf("%q: reads %s, agree %v; want %s, %v", tt.in, c.names(reads), agree, c.names(tt.reads), tt.agree)
		}
	}
}

func TestDateEvidence(t *testing.T) {
	slashed := set(dateDayFirst, dateMonthFirst)
	for _, tt := range []struct {
		in    string
		reads formatSet
		agree bool
	}{
		{"2024-03-16", set(dateISO), true},
		{"31/05/2024", set(dateDayFirst), true},
		{"13/1/2024", set(dateDayFirst), true},
		{"05/31/2024", set(dateMonthFirst), true},
		{"3/16/2024", set(dateMonthFirst), true},
		{"05/06/2024", slashed, false}, // 5 June or 6 May
		{"1/2/2024", slashed, false},
		{"05/05/2024", slashed, true}, // the same day either way
		{"12/12/2024", slashed, true},
		{"29/02/2024", set(dateDayFirst), true},
		{"29/02/2023", 0, true}, // no such day in either
		{"02/29/2023", 0, true},
		{"31/04/2024", 0, true},
		{"05/06/24", 0, true}, // a two-digit year
		{"2024/03/16", 0, true},
		{"16-03-2024", 0, true},
		{"16.03.2024", 0, true},
		{"005/06/2024", 0, true},
		{"/06/2024", 0, true},
		{"2024-3-16", 0, true},
	} {
		c := newFormatChoice(dateKind)
		reads, agree := readingsAgree(c, tt.in)
		if reads != tt.reads || agree != tt.agree {
			t.Errorf("%q: reads %q, agree %v; want %q, %v", tt.in, c.names(reads), agree, c.names(tt.reads), tt.agree)
		}
	}
}

// TestFormatDecision feeds a window of values of one kind and checks the decision: a format,
// none needed yet (""), or the reason the file fails.
func TestFormatDecision(t *testing.T) {
	for _, tt := range []struct {
		name   string
		kind   *valueKind
		values []string
		whole  bool   // the file ends within the window
		want   string // the format decided, "" for still open
		reason string // the start of the reason the file fails
	}{
		{"dot decimals", numberKind, []string{"4", "116.54", "396.24"}, true, NumberPoint, ""},
		{"ambiguous first, then a decimal comma", numberKind, []string{"1.234", "2", "12,5"}, true, NumberComma, ""},
		{"ambiguous first, then a decimal point", numberKind, []string{"1.234", "12.5"}, true, NumberPoint, ""},
		{"grouped thousands decide", numberKind, []string{"1.234", "1.234.567"}, true, NumberComma, ""},
		{"whole numbers only", numberKind, []string{"4", "100", "-3"}, true, "", ""},
		{"nothing readable", numberKind, []string{"abc", "R$ 10"}, true, "", ""},
		{"unreadable values do not count", numberKind, []string{"12.5", "1,234.56", "20.00"}, true, NumberPoint, ""},
		{"ambiguous only", numberKind, []string{"4", "1.234", "5"}, true, "",
			`numbers are ambiguous: "1.234" (line 3, Col) is 1.234 read as 1234.56 but 1234 read as 1.234,56, and no number in the file decides`},
		{"ambiguous in a cut window", numberKind, []string{"1.500"}, false, "", `numbers are ambiguous: "1.500" (line 2, Col) is 1.5 read as 1234.56 but 1500 read as 1.234,56, and no number in the first 1 rows decides`},
		{"mixed", numberKind, []string{"4", "12.5", "7", "12,5"}, true, "",
			`numbers are written in more than one way: "12.5" (line 3, Col) as 1234.56, but "12,5" (line 5, Col) as 1.234,56`},
		{"mixed after a decision", numberKind, []string{"1.234,56", "1.234", "99.90"}, true, "", `numbers are written in more than one way: "1.234,56" (line 2, Col) as 1.234,56, but "99.90" (line 4, Col) as 1234.56`},

		{"ISO dates", dateKind, []string{"2024-03-16", "2024-03-18"}, true, DateISO, ""},
		{"day first decided by a day after the 12th", dateKind, []string{"05/06/2024", "01/02/2024", "13/06/2024"}, true, DateDayFirst, ""},
		{"month first decided", dateKind, []string{"05/06/2024", "06/13/2024"}, true, DateMonthFirst, ""},
		{"same day either way", dateKind, []string{"01/01/2024", "12/12/2024"}, true, "", ""},
		{"ambiguous dates", dateKind, []string{"05/03/2024", "05/03/2024", "07/03/2024"}, true, "",
			`dates are ambiguous: "05/03/2024" (line 2, Col) is 2024-03-05 read as DD/MM/YYYY but 2024-05-03 read as MM/DD/YYYY, and no date in the file decides; write dates as YYYY-MM-DD`},
		{"ambiguous, then ISO", dateKind, []string{"05/03/2024", "2024-03-05"}, true, "",
			`dates are written in more than one way: "05/03/2024" (line 2, Col) as DD/MM/YYYY or MM/DD/YYYY, but "2024-03-05" (line 3, Col) as YYYY-MM-DD`},
		{"ISO then day first", dateKind, []string{"2024-03-16", "16/03/2024"}, true, "",
			`dates are written in more than one way: "2024-03-16" (line 2, Col) as YYYY-MM-DD, but "16/03/2024" (line 3, Col) as DD/MM/YYYY`},
		{"day first and month first", dateKind, []string{"13/01/2024", "01/13/2024"}, true, "",
			`dates are written in more than one way: "13/01/2024" (line 2, Col) as DD/MM/YYYY, but "01/13/2024" (line 3, Col) as MM/DD/YYYY`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newFormatChoice(tt.kind)
			for i, v := range tt.values {
				c.see([]byte(v), int64(i+2), "Col")
			}
			reason := c.decide(len(tt.values), tt.whole)
			if tt.reason != "" {
				if !strings.HasPrefix(reason, tt.reason) {
					t.Errorf("reason %q\nwant %q", reason, tt.reason)
				}
				return
			}
			if reason != "" || c.Name() != tt.want {
				t.Errorf("decided %q, reason %q; want %q", c.Name(), reason, tt.want)
			}
		})
	}
}

// After the window, a choice still open is settled by the first value that tells; a value
// read differently by the formats left is refused, not guessed.
func TestFormatSettledLater(t *testing.T) {
	c := newFormatChoice(dateKind)
	c.see([]byte("01/01/2024"), 2, "Col")
	if reason := c.decide(1, false); reason != "" || c.Name() != "" {
		t.Fatalf("decided %q, %q after a date that reads the same either way", c.Name(), reason)
	}
	for _, tt := range []struct {
		in      string
		format  int
		problem string
		after   string // the decision after the value
	}{
		{"02/02/2024", dateDayFirst, "", ""},
		{"2024-02-02", 0, "is written as YYYY-MM-DD, but this file writes dates as DD/MM/YYYY or MM/DD/YYYY", ""},
		{"05/06/2024", 0, "is 2024-06-05 read as DD/MM/YYYY but 2024-05-06 read as MM/DD/YYYY, and no date before it in the file decides", ""},
		{"x", dateDayFirst, "", ""}, // unreadable: the caller reports it
		{"06/13/2024", dateMonthFirst, "", DateMonthFirst},
		{"05/06/2024", dateMonthFirst, "", DateMonthFirst},
	} {
		f, err := c.settle([]byte(tt.in))
		var ve *valueError
		switch {
		case tt.problem != "" && (!errors.As(err, &ve) || ve.msg != tt.problem):
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.problem)
		case tt.problem == "" && (err != nil || f != tt.format):
			t.Errorf("%q: format %d, %v; want %d", tt.in, f, err, tt.format)
		}
		if c.Name() != tt.after {
			t.Errorf("after %q: decided %q, want %q", tt.in, c.Name(), tt.after)
		}
	}
}

// transformOf reads a whole CSV text; a NewTransform error is returned.
func transformOf(t *testing.T, in string) (*Transform, []Sale, []Reject, error) {
	t.Helper()
	tr, err := NewTransform(strings.NewReader(in))
	if err != nil {
		return nil, nil, nil, err
	}
	sales, rejects := drainTransform(t, tr)
	return tr, sales, rejects, nil
}

// ptRow is validRow written the Brazilian way, in the order of ptHeader.
const (
	ptHeader = "Data da Venda;ID da Venda;ID do Produto;Nome do Produto;Categoria;Quantidade;Preço Unitário;Desconto (%);Valor Total;Custo Total;Lucro Bruto;Forma de Pagamento;Status do Pagamento;Data do Pagamento;ID do Cliente;Canal de Vendas;Região de Vendas;Vendedor"
	ptRow    = "16/03/2024;S-%d;PRD1;Cadeira;Móveis;4;1.116,54;15;3.796,24;1.251,12;2.545,12;Pix;Pago;18/03/2024;C1;Loja Física;São Paulo;Ana"
)

func ptFile(rows ...string) string {
	return ptHeader + "\r\n" + strings.Join(rows, "\r\n") + "\r\n"
}

func TestTransformDecidesFormats(t *testing.T) {
	row := func(i int, replace ...string) string {
		return strings.NewReplacer(replace...).Replace(fmt.Sprintf(ptRow, i))
	}
	for _, tt := range []struct {
		name           string
		in             string
		number, date   string
		reason         string // the FormatError's reason starts so
		sales, rejects int
	}{
		{"pt-BR", ptFile(row(1), row(2)), NumberComma, DateDayFirst, "", 2, 0},
		{"no grouping", ptFile(row(1, "1.116,54", "1116,54", "3.796,24", "3796,24")), NumberComma, DateDayFirst, "", 1, 0},
		{"ambiguous amounts before the deciding one", ptFile(row(1, "1.116,54", "1.116", "3.796,24", "3.794,40", "2.545,12", "2.543,28"),
			row(2)), NumberComma, DateDayFirst, "", 2, 0},
		{"ambiguous dates", ptFile(row(1, "16/03/2024", "05/03/2024", "18/03/2024", "06/03/2024")), "", "",
			`dates are ambiguous: "05/03/2024" (line 2, Data da Venda) is 2024-03-05 read as DD/MM/YYYY but 2024-05-03 read as MM/DD/YYYY`, 0, 0},
		{"ambiguous numbers", ptFile(row(1, "1.116,54", "1.116", "3.796,24", "3.794", "1.251,12", "1.250", "2.545,12", "2.544")), "", "",
			`numbers are ambiguous: "1.116" (line 2, Preço Unitário) is 1.116 read as 1234.56 but 1116 read as 1.234,56`, 0, 0},
		{"both ambiguous", ptFile(row(1, "1.116,54", "1.116", "3.796,24", "3.794", "1.251,12", "1.250", "2.545,12", "2.544",
			"16/03/2024", "05/03/2024", "18/03/2024", "06/03/2024")), "", "", `numbers are ambiguous: "1.116" (line 2, Preço Unitário) is 1.116 read as 1234.56 but 1116 read as 1.234,56, and no number in the file decides; write amounts with their decimals (1.234,00 or 1234.00); dates are ambiguous`, 0, 0},
		{"mixed numbers", ptFile(row(1), row(2, "1.116,54", "1116.54")), "", "",
			`numbers are written in more than one way: "1.116,54" (line 2, Preço Unitário) as 1.234,56, but "1116.54" (line 3, Preço Unitário) as 1234.56`, 0, 0},
		// A Portuguese header and semicolons are hints, not proof: the values decide.
		{"Portuguese header, points and ISO dates", ptFile(row(1, "1.116,54", "1116.54", "3.796,24", "3796.24", "1.251,12", "1251.12",
			"2.545,12", "2545.12", "16/03/2024", "2024-03-16", "18/03/2024", "2024-03-18")), NumberPoint, DateISO, "", 1, 0},
		{"English header, commas, quoted decimal commas", strings.Join(displayHeader(false), ",") + "\n" +
			`16/03/2024,S-1,PRD1,Phone,Tech,2,"10,00",0,"20,00","5,00","10,00","10,00",Pix,Paid,17/03/2024,C1,Ana,Online,Texas,Rep,5 stars,"1,00",Delivered,18/03/2024` + "\n",
			NumberComma, DateDayFirst, "", 1, 0},
		{"US dates, month first", strings.Join(displayHeader(false), ",") + "\n" +
			`3/16/2024,S-1,PRD1,Phone,Tech,2,10.00,0,20.00,5.00,10.00,10.00,Pix,Paid,3/17/2024,C1,Ana,Online,Texas,Rep,5 stars,1.00,Delivered,3/18/2024` + "\n",
			NumberPoint, DateMonthFirst, "", 1, 0},
		{"a row that cannot be split shows nothing", ptFile(row(1), `"`+row(2, "1.116,54", "1116.54")), NumberComma, DateDayFirst, "", 1, 1},
		{"a row with a field too many shows nothing", ptFile(row(1), row(2, "1.116,54", "1116.54")+";x"), NumberComma, DateDayFirst, "", 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr, sales, rejects, err := transformOf(t, tt.in)
			if tt.reason != "" {
				var fe *FormatError
				if !errors.As(err, &fe) || !strings.HasPrefix(fe.Reason, tt.reason) {
					t.Fatalf("error %v\nwant a *FormatError %q", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.NumberFormat() != tt.number || tr.DateFormat() != tt.date || len(sales) != tt.sales || len(rejects) != tt.rejects {
				t.Errorf("formats %q %q, %d sales, rejects %+v", tr.NumberFormat(), tr.DateFormat(), len(sales), rejects)
			}
		})
	}
}

// The Brazilian row carries the same figures as validRow, scaled by the thousands.
func TestTransformReadsBrazilianValues(t *testing.T) {
	_, sales, rejects, err := transformOf(t, ptFile(fmt.Sprintf(ptRow, 1)))
	if err != nil || len(rejects) != 0 || len(sales) != 1 {
		t.Fatalf("%v, rejects %+v", err, rejects)
	}
	s := sales[0]
	expectEq(t, "SaleDate", s.SaleDate, isoDate("2024-03-16"))
	expectEq(t, "PaymentDate", s.PaymentDate, isoDate("2024-03-18"))
	expectEq(t, "UnitPriceCents", s.UnitPriceCents, int64(111654))
	expectEq(t, "TotalValueCents", s.TotalValueCents, int64(379624))
	expectEq(t, "TotalCostCents", s.TotalCostCents.Int64, int64(125112))
	expectEq(t, "GrossProfitCents", s.GrossProfitCents.Int64, int64(254512))
	expectEq(t, "PaymentStatus", s.PaymentStatus, "Paid")
	expectEq(t, "SalesRegion", s.SalesRegion, "São Paulo")
}

// Beyond the window, a value in another format is a rejected row, named as such; it is not
// read another way, and the decision holds for the rows after it.
func TestTransformLaterContradictionsAreRejects(t *testing.T) {
	var rows []string
	for i := range formatWindowRows + 3 {
		rows = append(rows, fmt.Sprintf(ptRow, i))
	}
	late := formatWindowRows + 1 // the index of a row after the window
	rows[late] = strings.Replace(rows[late], "1.116,54", "1116.54", 1)
	rows[late+1] = strings.Replace(rows[late+1], "16/03/2024", "2024-03-16", 1)
	tr, sales, rejects, err := transformOf(t, ptFile(rows...))
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != len(rows)-2 || len(rejects) != 2 || tr.NumberFormat() != NumberComma || tr.DateFormat() != DateDayFirst {
		t.Fatalf("%d sales, rejects %+v, formats %s %s", len(sales), rejects, tr.NumberFormat(), tr.DateFormat())
	}
	for i, want := range []Reject{
		{Line: int64(late + 2), Column: "Preço Unitário", Reason: `Preço Unitário: "1116.54" is written as 1234.56, but this file writes numbers as 1.234,56`},
		{Line: int64(late + 3), Column: "Data da Venda", Reason: `Data da Venda: "2024-03-16" is written as YYYY-MM-DD, but this file writes dates as DD/MM/YYYY`},
	} {
		got := rejects[i]
		got.Raw = ""
		expectEq(t, "reject", got, want)
	}
}

// A window whose numbers are all whole leaves the format open; the first later decimal decides
// it, and an ambiguous value before that is refused.
func TestTransformDecidesAfterTheWindow(t *testing.T) {
	// 4 × 1116 less 25 % is 3348; 3348 − 1251 is 2097.
	whole := strings.NewReplacer("1.116,54;15;3.796,24", "1116;25;3348", "1.251,12;2.545,12", "1251;2097")
	var rows []string
	for i := range formatWindowRows {
		rows = append(rows, whole.Replace(fmt.Sprintf(ptRow, i)))
	}
	rows = append(rows,
		strings.NewReplacer("1.116,54;15;3.796,24", "1.116;25;3.348", "1.251,12;2.545,12", "1.251;2.097").Replace(fmt.Sprintf(ptRow, 9001)),
		fmt.Sprintf(ptRow, 9002),
		strings.Replace(fmt.Sprintf(ptRow, 9003), "1.116,54", "1116.54", 1))
	tr, sales, rejects, err := transformOf(t, ptFile(rows...))
	if err != nil {
		t.Fatal(err)
	}
	if len(sales) != formatWindowRows+1 || len(rejects) != 2 || tr.NumberFormat() != NumberComma {
		t.Fatalf("%d sales, %d rejects, format %q", len(sales), len(rejects), tr.NumberFormat())
	}
	if want := `Preço Unitário: "1.116" is 1.116 read as 1234.56 but 1116 read as 1.234,56, and no number before it in the file decides`; !strings.HasPrefix(rejects[0].Reason, want) {
		t.Errorf("reason %q\nwant %q", rejects[0].Reason, want)
	}
	if want := `"1116.54" is written as 1234.56, but this file writes numbers as 1.234,56`; !strings.Contains(rejects[1].Reason, want) {
		t.Errorf("reason %q\nwant %q", rejects[1].Reason, want)
	}
}

// The generator's files, like the originals, are decided on their first row.
func TestGeneratedFilesKeepTheirFormats(t *testing.T) {
	for _, snake := range []bool{false, true} {
		tr, sales, rejects, err := transformOf(t, string(generated(t, GenerateOptions{Rows: 300, Seed: 3, Snake: snake})))
		if err != nil || len(rejects) != 0 || len(sales) != 300 || tr.NumberFormat() != NumberPoint || tr.DateFormat() != DateISO {
			t.Errorf("snake %v: %v, %d sales, rejects %+v, formats %q %q", snake, err, len(sales), rejects, tr.NumberFormat(), tr.DateFormat())
		}
	}
}
