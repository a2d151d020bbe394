package etl

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/internal/oracle"
)

// transformFixtureDir holds the original project's real CSV files, read in place.
var transformFixtureDir = oracle.FixtureDir()

// fieldRow is a data row by column. validRow passes every rule; cases change a field or two.
type fieldRow map[column]string

// In validRow 4 × 116.54 less 15 % is 396.236, 4 × 62.78 is 251.12, 396.24 − 251.12 is 145.12.
func validRow() fieldRow {
	return fieldRow{
		colSaleDate:         "2024-03-16",
		colSaleID:           "fbb26baa-958c-4015-83ec-0ee2319e5464",
		colProductID:        "PRD13777",
		colProductName:      "Smartphone",
		colProductCategory:  "Technology",
		colQuantity:         "4",
		colUnitPrice:        "116.54",
		colDiscount:         "15",
		colTotalValue:       "396.24",
		colUnitCost:         "62.78",
		colTotalCost:        "251.12",
		colGrossProfit:      "145.12",
		colPaymentMethod:    "Credit Card",
		colPaymentStatus:    "Paid",
		colPaymentDate:      "2024-03-18",
		colCustomerID:       "CUS3940",
		colCustomerName:     "Christopher Pollard",
		colSalesChannel:     "Online Store",
		colSalesRegion:      "New York",
		colSalesRep:         "Tiffany Vance",
		colCustomerRating:   "5 stars",
		colCustomerComments: "",
		colShippingCost:     "10.38",
		colDeliveryStatus:   "Delivered",
		colDeliveryDate:     "2024-03-20",
	}
}

func (r fieldRow) with(set fieldRow) fieldRow {
	out := fieldRow{}
	for c, v := range r {
		out[c] = v
	}
	for c, v := range set {
		out[c] = v
	}
	return out
}

// record lays the row out in the header's field order, as the scanner would hand it over.
func (r fieldRow) record(h *Header, line int64) *record {
	fields := make([][]byte, len(h.Names))
	for c := range numColumns {
		if i := h.index[c]; i >= 0 {
			fields[i] = []byte(r[c])
		}
	}
	return &record{fields: fields, line: line, raw: bytes.Join(fields, []byte(","))}
}

// headerFrom parses a header from its names.
func headerFrom(t testing.TB, names ...string) *Header {
	t.Helper()
	fields := make([][]byte, len(names))
	for i, n := range names {
		fields[i] = []byte(n)
	}
	h, err := parseHeader(fields)
	if err != nil {
		t.Fatalf("parseHeader(%q): %v", names, err)
	}
	return h
}

// fullDisplayHeader is the display header with all 25 columns.
func fullDisplayHeader(t testing.TB) *Header {
	var names []string
	for _, spec := range columns {
		names = append(names, spec.display)
	}
	return headerFrom(t, names...)
}

// drain reads a Transform to its end; Sales and Rejects are copies, safe to keep.
func drainTransform(t testing.TB, tr *Transform) ([]Sale, []Reject) {
	t.Helper()
	var sales []Sale
	var rejects []Reject
	for {
		s, rej, ok := tr.Next()
		if !ok {
			break
		}
		if rej != nil {
			rejects = append(rejects, *rej)
		} else {
			sales = append(sales, s)
		}
	}
	if err := tr.Err(); err != nil {
		t.Fatalf("transform: %v", err)
	}
	return sales, rejects
}

// rulesIn are row rules for a file whose formats are decided.
func rulesIn(h *Header, number, date int) *rowRules {
	r := newRowRules(h)
	r.numberFormat.narrow(1 << number)
	r.dateFormat.narrow(1 << date)
	return r
}

func isoDate(s string) pgtype.Date {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return pgtype.Date{Time: t, Valid: true}
}

func TestRowRules(t *testing.T) {
	type tc struct {
		name   string
		set    fieldRow // fields changed from validRow
		col    column   // the first failing column, when the row fails
		reason string   // a substring of the reason; empty when the row must pass
		not    string   // a substring the reason must not hold
		check  func(t *testing.T, s Sale)
	}
	tests := []tc{
		{name: "good row", set: fieldRow{}},

		// Dates: format and calendar.
		{name: "leap day", set: fieldRow{colSaleDate: "2024-02-29"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "SaleDate", s.SaleDate, isoDate("2024-02-29"))
		}},
		{name: "date trimmed", set: fieldRow{colSaleDate: " 2024-03-16\t"}},
		{name: "year one", set: fieldRow{colSaleDate: "0001-01-01"}},
		{name: "slashes", set: fieldRow{colSaleDate: "2024/03/16"}, col: colSaleDate, reason: `"2024/03/16" is not a date (YYYY-MM-DD)`},
		{name: "day first", set: fieldRow{colSaleDate: "16-03-2024"}, col: colSaleDate, reason: "is not a date"},
		{name: "no padding", set: fieldRow{colSaleDate: "2024-3-16"}, col: colSaleDate, reason: "is not a date"},
		{name: "with time", set: fieldRow{colSaleDate: "2024-03-16T10:00:00"}, col: colSaleDate, reason: "is not a date"},
		{name: "compact", set: fieldRow{colSaleDate: "20240316"}, col: colSaleDate, reason: "is not a date"},
		{name: "30 February", set: fieldRow{colSaleDate: "2024-02-30"}, col: colSaleDate, reason: "is not a date"},
		{name: "29 February, no leap year", set: fieldRow{colSaleDate: "2023-02-29"}, col: colSaleDate, reason: "is not a date"},
		{name: "31 April", set: fieldRow{colSaleDate: "2024-04-31"}, col: colSaleDate, reason: "is not a date"},
		{name: "month 13", set: fieldRow{colSaleDate: "2024-13-01"}, col: colSaleDate, reason: "is not a date"},
		{name: "month 0", set: fieldRow{colSaleDate: "2024-00-10"}, col: colSaleDate, reason: "is not a date"},
		{name: "day 0", set: fieldRow{colSaleDate: "2024-01-00"}, col: colSaleDate, reason: "is not a date"},
		{name: "year 0", set: fieldRow{colSaleDate: "0000-01-01"}, col: colSaleDate, reason: "is not a date"},
		{name: "payment date day first", set: fieldRow{colPaymentDate: "18/03/2024"}, col: colPaymentDate,
			reason: `"18/03/2024" is written as DD/MM/YYYY, but this file writes dates as YYYY-MM-DD`},
		{name: "payment date either way", set: fieldRow{colPaymentDate: "03/03/2024"}, col: colPaymentDate,
			reason: `"03/03/2024" is written as DD/MM/YYYY or MM/DD/YYYY, but this file writes dates as YYYY-MM-DD`},
		{name: "bad delivery date", set: fieldRow{colDeliveryDate: "2024-02-30"}, col: colDeliveryDate, reason: "is not a date"},
		{name: "paid on the sale day", set: fieldRow{colPaymentDate: "2024-03-16"}},
		{name: "paid the day before", set: fieldRow{colPaymentDate: "2024-03-15"}, col: colPaymentDate, reason: "2024-03-15 is before the sale date"},
		{name: "delivered on the sale day", set: fieldRow{colDeliveryDate: "2024-03-16"}},
		{name: "delivered the day before", set: fieldRow{colDeliveryDate: "2024-03-15"}, col: colDeliveryDate, reason: "2024-03-15 is before the sale date"},
		{name: "no payment or delivery date", set: fieldRow{colPaymentDate: "", colDeliveryDate: ""}, check: func(t *testing.T, s Sale) {
			expectEq(t, "PaymentDate", s.PaymentDate, pgtype.Date{})
			expectEq(t, "DeliveryDate", s.DeliveryDate, pgtype.Date{})
		}},

		// Quantity: a whole number ≥ 1.
		{name: "quantity 4.0", set: fieldRow{colQuantity: "4.0"}, check: func(t *testing.T, s Sale) { expectEq(t, "Quantity", s.Quantity, int32(4)) }},
		{name: "quantity +4", set: fieldRow{colQuantity: "+4"}},
		{name: "quantity with float noise", set: fieldRow{colQuantity: "4.000000001"}},
		{name: "quantity 0", set: fieldRow{colQuantity: "0"}, col: colQuantity, reason: `"0" is not a whole number of at least 1`},
		{name: "quantity -4", set: fieldRow{colQuantity: "-4"}, col: colQuantity, reason: "is not a whole number of at least 1"},
		{name: "quantity 4.5", set: fieldRow{colQuantity: "4.5"}, col: colQuantity, reason: "is not a whole number of at least 1"},
		{name: "quantity 0.9999", set: fieldRow{colQuantity: "0.9999"}, col: colQuantity, reason: "is not a whole number of at least 1"},
		{name: "quantity in words", set: fieldRow{colQuantity: "four"}, col: colQuantity, reason: "is not a whole number of at least 1"},
		{name: "quantity beyond int32", set: fieldRow{colQuantity: "2147483648"}, col: colQuantity, reason: "is not a whole number of at least 1"},
		{name: "cross checks skipped when an input is bad", set: fieldRow{colQuantity: "x"}, col: colQuantity, reason: "Quantity Sold", not: "Total"},

		// Money: ≥ 0, except gross profit; at most a hundred billion.
		{name: "negative unit price", set: fieldRow{colUnitPrice: "-116.54"}, col: colUnitPrice, reason: `"-116.54" is negative`},
		{name: "negative total value", set: fieldRow{colTotalValue: "-396.24"}, col: colTotalValue, reason: "is negative"},
		{name: "negative unit cost", set: fieldRow{colUnitCost: "-62.78"}, col: colUnitCost, reason: "is negative"},
		{name: "negative total cost", set: fieldRow{colTotalCost: "-251.12"}, col: colTotalCost, reason: "is negative"},
		{name: "negative shipping", set: fieldRow{colShippingCost: "-10.38"}, col: colShippingCost, reason: "is negative"},
		{name: "decimal comma", set: fieldRow{colShippingCost: "10,38"}, col: colShippingCost,
			reason: `"10,38" is written as 1.234,56, but this file writes numbers as 1234.56`},
		{name: "grouped quantity", set: fieldRow{colQuantity: "1.000.000"}, col: colQuantity,
			reason: `"1.000.000" is written as 1.234,56, but this file writes numbers as 1234.56`},
		{name: "comma discount", set: fieldRow{colDiscount: "12,5"}, col: colDiscount,
			reason: `"12,5" is written as 1.234,56, but this file writes numbers as 1234.56`},
		{name: "neither way", set: fieldRow{colShippingCost: "1,234.56"}, col: colShippingCost, reason: `"1,234.56" is not a number`},
		{name: "currency sign", set: fieldRow{colUnitPrice: "$116.54"}, col: colUnitPrice, reason: "is not a number"},
		{name: "too large", set: fieldRow{colShippingCost: "100000000000.01"}, col: colShippingCost, reason: "is too large"},
		{name: "largest amount", set: fieldRow{colShippingCost: "100000000000"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "ShippingCostCents", s.ShippingCostCents, pgtype.Int8{Int64: 10_000_000_000_000, Valid: true})
		}},
		{name: "negative gross profit", set: fieldRow{colUnitCost: "120.0025", colTotalCost: "480.01", colGrossProfit: "-83.765"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "UnitCostCents", s.UnitCostCents, pgtype.Int8{Int64: 12000, Valid: true})
			expectEq(t, "TotalCostCents", s.TotalCostCents, pgtype.Int8{Int64: 48001, Valid: true})
			expectEq(t, "GrossProfitCents", s.GrossProfitCents, pgtype.Int8{Int64: -8377, Valid: true}) // half away from zero
		}},
		{name: "half a cent rounds up", set: fieldRow{colShippingCost: "10.385"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "ShippingCostCents", s.ShippingCostCents, pgtype.Int8{Int64: 1039, Valid: true})
		}},
		{name: "under half a cent rounds down", set: fieldRow{colShippingCost: "10.3849"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "ShippingCostCents", s.ShippingCostCents, pgtype.Int8{Int64: 1038, Valid: true})
		}},
		{name: "optional amounts empty", set: fieldRow{colUnitCost: "", colShippingCost: ""}, check: func(t *testing.T, s Sale) {
			expectEq(t, "UnitCostCents", s.UnitCostCents, pgtype.Int8{})
			expectEq(t, "ShippingCostCents", s.ShippingCostCents, pgtype.Int8{})
		}},
		{name: "no total cost: no profit check", set: fieldRow{colTotalCost: "", colGrossProfit: "999"}},
		{name: "no gross profit", set: fieldRow{colGrossProfit: ""}},

		// Discount: a percentage from 0 to 100, empty for none.
		{name: "no discount", set: fieldRow{colDiscount: "", colTotalValue: "466.16", colGrossProfit: "215.04"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "DiscountPct", s.DiscountPct, pgtype.Numeric{})
			expectEq(t, "discount", s.discount, int64(0))
		}},
		{name: "discount 0", set: fieldRow{colDiscount: "0", colTotalValue: "466.16", colGrossProfit: "215.04"}, check: func(t *testing.T, s Sale) {
			expectDiscount(t, s.DiscountPct, 0)
		}},
		{name: "discount 100", set: fieldRow{colDiscount: "100", colTotalValue: "0", colGrossProfit: "-251.12"}, check: func(t *testing.T, s Sale) {
			expectDiscount(t, s.DiscountPct, 1_000_000)
			expectEq(t, "TotalValueCents", s.TotalValueCents, int64(0))
		}},
		{name: "discount 12.5", set: fieldRow{colDiscount: "12.5", colTotalValue: "407.89", colGrossProfit: "156.77"}, check: func(t *testing.T, s Sale) {
			expectDiscount(t, s.DiscountPct, 125_000)
			expectEq(t, "discount", s.discount, int64(125_000))
		}},
		{name: "discount 15.0", set: fieldRow{colDiscount: "15.0"}, check: func(t *testing.T, s Sale) { expectDiscount(t, s.DiscountPct, 150_000) }},
		{name: "discount over 100", set: fieldRow{colDiscount: "100.0001"}, col: colDiscount, reason: `"100.0001" is not a percentage from 0 to 100`},
		{name: "negative discount", set: fieldRow{colDiscount: "-5"}, col: colDiscount, reason: "is not a percentage from 0 to 100"},
		{name: "discount with %", set: fieldRow{colDiscount: "15%"}, col: colDiscount, reason: "is not a percentage from 0 to 100"},

		// Cross-field checks, with 0.01 of tolerance.
		{name: "total value 0.01 over", set: fieldRow{colTotalValue: "396.246"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "TotalValueCents", s.TotalValueCents, int64(39625))
		}},
		{name: "total value just over 0.01 over", set: fieldRow{colTotalValue: "396.2461"}, col: colTotalValue,
			reason: "396.2461 is not quantity × unit price × (1 − discount/100) = 396.2360 (± 0.01)", not: "Gross Profit"},
		{name: "total value 0.01 under", set: fieldRow{colTotalValue: "396.226", colGrossProfit: "145.106"}},
		{name: "total value just over 0.01 under", set: fieldRow{colTotalValue: "396.2259", colGrossProfit: "145.1059"}, col: colTotalValue, reason: "= 396.2360 (± 0.01)"},
		{name: "total cost 0.01 over", set: fieldRow{colTotalCost: "251.13", colGrossProfit: "145.11"}},
		{name: "total cost just over 0.01 over", set: fieldRow{colTotalCost: "251.1301", colGrossProfit: "145.1099"}, col: colTotalCost,
			reason: "251.1301 is not quantity × unit cost = 251.12 (± 0.01)", not: "Gross Profit"},
		{name: "total cost 0.01 under", set: fieldRow{colTotalCost: "251.11", colGrossProfit: "145.13"}},
		{name: "total cost just over 0.01 under", set: fieldRow{colTotalCost: "251.1099", colGrossProfit: "145.1301"}, col: colTotalCost, reason: "= 251.12 (± 0.01)"},
		{name: "gross profit 0.01 over", set: fieldRow{colGrossProfit: "145.13"}},
		{name: "gross profit just over 0.01 over", set: fieldRow{colGrossProfit: "145.1301"}, col: colGrossProfit,
			reason: "145.1301 is not total value − total cost = 145.12 (± 0.01)"},
		{name: "gross profit 0.01 under", set: fieldRow{colGrossProfit: "145.11"}},
		{name: "gross profit just over 0.01 under", set: fieldRow{colGrossProfit: "145.1099"}, col: colGrossProfit, reason: "= 145.12 (± 0.01)"},

		// Payment status: three values, any case.
		{name: "status paid", set: fieldRow{colPaymentStatus: "paid"}, check: expectStatus("Paid")},
		{name: "status PENDING", set: fieldRow{colPaymentStatus: "PENDING"}, check: expectStatus("Pending")},
		{name: "status Canceled", set: fieldRow{colPaymentStatus: "Canceled"}, check: expectStatus("Canceled")},
		{name: "status Cancelled", set: fieldRow{colPaymentStatus: "Cancelled"}, check: expectStatus("Canceled")},
		{name: "status CANCELLED", set: fieldRow{colPaymentStatus: "CANCELLED"}, check: expectStatus("Canceled")},
		{name: "status trimmed", set: fieldRow{colPaymentStatus: "  Paid "}, check: expectStatus("Paid")},
		{name: "status Refunded", set: fieldRow{colPaymentStatus: "Refunded"}, col: colPaymentStatus, reason: `"Refunded" is not Paid, Pending or Canceled`},
		{name: "status Paid.", set: fieldRow{colPaymentStatus: "Paid."}, col: colPaymentStatus, reason: "is not Paid, Pending or Canceled (Pago, Pendente, Cancelado)"},
		{name: "status Pago", set: fieldRow{colPaymentStatus: "Pago"}, check: expectStatus("Paid")},
		{name: "status PENDENTE", set: fieldRow{colPaymentStatus: "PENDENTE"}, check: expectStatus("Pending")},
		{name: "status cancelado", set: fieldRow{colPaymentStatus: "cancelado"}, check: expectStatus("Canceled")},
		{name: "status Estornado", set: fieldRow{colPaymentStatus: "Estornado"}, col: colPaymentStatus, reason: `"Estornado" is not Paid, Pending or Canceled`},

		// Text: trimmed, at most 200 characters, no control characters but tabs and line breaks.
		{name: "text trimmed", set: fieldRow{colProductName: " \tSmartphone  ", colSaleID: "  ORD-1 "}, check: func(t *testing.T, s Sale) {
			expectEq(t, "ProductName", s.ProductName, "Smartphone")
			expectEq(t, "SaleID", s.SaleID, "ORD-1")
			expectEq(t, "SaleKey", s.SaleKey, saleKey([]byte("ORD-1")))
		}},
		{name: "200 two-byte characters", set: fieldRow{colProductName: strings.Repeat("é", 200)}},
		{name: "200 four-byte characters", set: fieldRow{colCustomerComments: strings.Repeat("😀", 200)}},
		{name: "201 two-byte characters", set: fieldRow{colProductName: strings.Repeat("é", 201)}, col: colProductName, reason: "longer than 200 characters (201)"},
		{name: "200 ASCII characters", set: fieldRow{colCustomerName: strings.Repeat("a", 200)}},
		{name: "201 ASCII characters", set: fieldRow{colCustomerName: strings.Repeat("a", 201)}, col: colCustomerName, reason: "longer than 200 characters (201)"},
		{name: "NUL", set: fieldRow{colCustomerName: "Jo\x00ão"}, col: colCustomerName, reason: "control character U+0000"},
		{name: "BEL", set: fieldRow{colProductName: "Smart\aphone"}, col: colProductName, reason: "control character U+0007"},
		{name: "ESC", set: fieldRow{colSalesRep: "\x1b[31mTiffany"}, col: colSalesRep, reason: "control character U+001B"},
		{name: "DEL", set: fieldRow{colProductID: "PRD\x7f"}, col: colProductID, reason: "control character U+007F"},
		{name: "C1 control", set: fieldRow{colCustomerComments: "next\u0085line"}, col: colCustomerComments, reason: "control character U+0085"},
		{name: "tab and line breaks", set: fieldRow{colCustomerComments: "line one\r\nline\ttwo\nthree"}, check: func(t *testing.T, s Sale) {
			expectEq(t, "CustomerComments", s.CustomerComments, pgtype.Text{String: "line one\r\nline\ttwo\nthree", Valid: true})
		}},
		{name: "invalid UTF-8", set: fieldRow{colCustomerName: "Jo\xe3o"}, col: colCustomerName, reason: "invalid character encoding"},
		{name: "replacement character", set: fieldRow{colCustomerName: "Jo\uFFFDo"}, col: colCustomerName, reason: "invalid character encoding"},
		{name: "optional text empty", set: fieldRow{colCustomerName: "", colCustomerRating: " ", colDeliveryStatus: ""}, check: func(t *testing.T, s Sale) {
			expectEq(t, "CustomerName", s.CustomerName, pgtype.Text{})
			expectEq(t, "CustomerRating", s.CustomerRating, pgtype.Text{})
			expectEq(t, "DeliveryStatus", s.DeliveryStatus, pgtype.Text{})
		}},

		// Several failures: the first column names the reject, every reason is kept.
		{name: "two failures", set: fieldRow{colSaleDate: "x", colQuantity: "0"}, col: colSaleDate,
			reason: `Sale Date: "x" is not a date (YYYY-MM-DD); Quantity Sold: "0" is not a whole number`},
	}
	// Every required column, empty or blank.
	for c, spec := range columns {
		if spec.required {
			tests = append(tests,
				tc{name: "empty " + spec.display, set: fieldRow{column(c): ""}, col: column(c), reason: spec.display + ": is required"},
				tc{name: "blank " + spec.display, set: fieldRow{column(c): " \t "}, col: column(c), reason: spec.display + ": is required"})
		}
	}

	h := fullDisplayHeader(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := rulesIn(h, numberPoint, dateISO)
			s, rej := rules.check(validRow().with(tt.set).record(h, 7))
			if tt.reason == "" {
				if rej != nil {
					t.Fatalf("rejected: %s: %s", rej.Column, rej.Reason)
				}
				expectEq(t, "Line", s.Line, int64(7))
				if tt.check != nil {
					tt.check(t, s)
				}
				return
			}
			if rej == nil {
				t.Fatalf("passed, want a reject for %s: %s", columns[tt.col].display, tt.reason)
			}
			if !reflect.DeepEqual(s, Sale{}) {
				t.Errorf("a reject came with a sale: %+v", s)
			}
			expectEq(t, "Line", rej.Line, int64(7))
			expectEq(t, "Column", rej.Column, columns[tt.col].display)
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", rej.Reason, tt.reason)
			}
			if tt.not != "" && strings.Contains(rej.Reason, tt.not) {
				t.Errorf("reason %q contains %q", rej.Reason, tt.not)
			}
		})
	}
}

// brazilianRow is validRow as a Brazilian spreadsheet writes it.
func brazilianRow() fieldRow {
	return validRow().with(fieldRow{
		colSaleDate: "16/03/2024", colUnitPrice: "116,54", colTotalValue: "396,24", colUnitCost: "62,78",
		colTotalCost: "251,12", colGrossProfit: "145,12", colPaymentStatus: "Pago", colPaymentDate: "18/03/2024",
		colShippingCost: "10,38", colDeliveryDate: "20/03/2024",
	})
}

// The rules of a file decided as decimal comma and day first (or month first): each value is
// read that way, or refused saying how it is written.
func TestRowRulesInOtherFormats(t *testing.T) {
	type tc struct {
		name       string
		row        fieldRow
		col        column
		reason     string // a substring of the reason; empty when the row must pass
		check      func(t *testing.T, s Sale)
		monthFirst bool
	}
	pt := brazilianRow()
	grand := fieldRow{colQuantity: "10", colUnitPrice: "1.116,54", colDiscount: "0", colTotalValue: "11.165,40",
		colUnitCost: "1.000", colTotalCost: "10.000,00", colGrossProfit: "1.165,4"}
	tests := []tc{
		{name: "good row", row: pt, check: func(t *testing.T, s Sale) {
			expectEq(t, "SaleDate", s.SaleDate, isoDate("2024-03-16"))
			expectEq(t, "DeliveryDate", s.DeliveryDate, isoDate("2024-03-20"))
			expectEq(t, "UnitPriceCents", s.UnitPriceCents, int64(11654))
			expectEq(t, "GrossProfitCents", s.GrossProfitCents, pgtype.Int8{Int64: 14512, Valid: true})
			expectEq(t, "PaymentStatus", s.PaymentStatus, "Paid")
		}},
		{name: "thousands grouped or not", row: pt.with(grand), check: func(t *testing.T, s Sale) {
			expectEq(t, "UnitPriceCents", s.UnitPriceCents, int64(111654))
			expectEq(t, "UnitCostCents", s.UnitCostCents, pgtype.Int8{Int64: 100000, Valid: true}) // "1.000" is a thousand here
			expectEq(t, "TotalValueCents", s.TotalValueCents, int64(1116540))
		}},
		{name: "ungrouped", row: pt.with(grand).with(fieldRow{colUnitPrice: "1116,54", colTotalValue: "11165,4"})},
		{name: "quantity 4,0", row: pt.with(fieldRow{colQuantity: "4,0"}), check: func(t *testing.T, s Sale) { expectEq(t, "Quantity", s.Quantity, int32(4)) }},
		{name: "quantity 1.000", row: pt.with(fieldRow{colQuantity: "1.000", colUnitPrice: "1", colDiscount: "", colTotalValue: "1.000",
			colUnitCost: "", colTotalCost: "", colGrossProfit: ""}), check: func(t *testing.T, s Sale) { expectEq(t, "Quantity", s.Quantity, int32(1000)) }},
		{name: "discount 12,5", row: pt.with(fieldRow{colDiscount: "12,5", colTotalValue: "407,89", colGrossProfit: "156,77"}), check: func(t *testing.T, s Sale) {
			expectDiscount(t, s.DiscountPct, 125_000)
		}},
		{name: "negative gross profit", row: pt.with(fieldRow{colUnitCost: "120,0025", colTotalCost: "480,01", colGrossProfit: "-83,77"}), check: func(t *testing.T, s Sale) {
			expectEq(t, "GrossProfitCents", s.GrossProfitCents, pgtype.Int8{Int64: -8377, Valid: true})
		}},
		{name: "more decimals round", row: pt.with(fieldRow{colShippingCost: "10,385"}), check: func(t *testing.T, s Sale) {
			expectEq(t, "ShippingCostCents", s.ShippingCostCents, pgtype.Int8{Int64: 1039, Valid: true})
		}},
		{name: "one-digit day and month", row: pt.with(fieldRow{colPaymentDate: "18/3/2024", colDeliveryDate: "20/3/2024"})},
		{name: "a point decimal", row: pt.with(fieldRow{colUnitPrice: "116.54"}), col: colUnitPrice,
			reason: `Unit Price: "116.54" is written as 1234.56, but this file writes numbers as 1.234,56`},
		{name: "a point decimal in the quantity", row: pt.with(fieldRow{colQuantity: "4.5"}), col: colQuantity,
			reason: `"4.5" is written as 1234.56, but this file writes numbers as 1.234,56`},
		{name: "a group of two", row: pt.with(fieldRow{colShippingCost: "1.23,45"}), col: colShippingCost, reason: `"1.23,45" is not a number`},
		{name: "a group of four", row: pt.with(fieldRow{colShippingCost: "1.2345"}), col: colShippingCost,
			reason: `"1.2345" is written as 1234.56, but this file writes numbers as 1.234,56`},
		{name: "two commas", row: pt.with(fieldRow{colShippingCost: "1,2,3"}), col: colShippingCost, reason: `"1,2,3" is not a number`},
		{name: "an exponent", row: pt.with(fieldRow{colShippingCost: "1e3"}), col: colShippingCost, reason: `"1e3" is written as 1234.56`},
		{name: "negative price", row: pt.with(fieldRow{colUnitPrice: "-116,54"}), col: colUnitPrice, reason: `"-116,54" is negative`},
		{name: "discount over 100", row: pt.with(fieldRow{colDiscount: "100,5"}), col: colDiscount, reason: `"100,5" is not a percentage from 0 to 100`},
		{name: "an ISO date", row: pt.with(fieldRow{colSaleDate: "2024-03-16"}), col: colSaleDate,
			reason: `Sale Date: "2024-03-16" is written as YYYY-MM-DD, but this file writes dates as DD/MM/YYYY`},
		{name: "a month-first date", row: pt.with(fieldRow{colDeliveryDate: "03/20/2024"}), col: colDeliveryDate,
			reason: `"03/20/2024" is written as MM/DD/YYYY, but this file writes dates as DD/MM/YYYY`},
		{name: "no such day", row: pt.with(fieldRow{colSaleDate: "30/02/2024"}), col: colSaleDate, reason: `"30/02/2024" is not a date (DD/MM/YYYY)`},
		{name: "a two-digit year", row: pt.with(fieldRow{colSaleDate: "16/03/24"}), col: colSaleDate, reason: `"16/03/24" is not a date (DD/MM/YYYY)`},
		{name: "paid before the sale", row: pt.with(fieldRow{colPaymentDate: "15/03/2024"}), col: colPaymentDate, reason: "2024-03-15 is before the sale date"},
		{name: "total off", row: pt.with(fieldRow{colTotalValue: "396,30"}), col: colTotalValue,
			reason: "396.30 is not quantity × unit price × (1 − discount/100) = 396.2360 (± 0.01)"},

		{name: "month first", monthFirst: true, row: pt.with(fieldRow{colSaleDate: "3/16/2024", colPaymentDate: "03/18/2024", colDeliveryDate: "3/20/2024"}),
			check: func(t *testing.T, s Sale) { expectEq(t, "SaleDate", s.SaleDate, isoDate("2024-03-16")) }},
		{name: "month first, a day-first date", monthFirst: true, row: pt.with(fieldRow{colSaleDate: "3/16/2024", colPaymentDate: "18/03/2024", colDeliveryDate: ""}),
			col: colPaymentDate, reason: `"18/03/2024" is written as DD/MM/YYYY, but this file writes dates as MM/DD/YYYY`},
	}
	h := fullDisplayHeader(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dates := dateDayFirst
			if tt.monthFirst {
				dates = dateMonthFirst
			}
			s, rej := rulesIn(h, numberComma, dates).check(tt.row.record(h, 3))
			if tt.reason == "" {
				if rej != nil {
					t.Fatalf("rejected: %s: %s", rej.Column, rej.Reason)
				}
				if tt.check != nil {
					tt.check(t, s)
				}
				return
			}
			if rej == nil {
				t.Fatalf("passed, want a reject for %s: %s", columns[tt.col].display, tt.reason)
			}
			expectEq(t, "Column", rej.Column, columns[tt.col].display)
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", rej.Reason, tt.reason)
			}
		})
	}
}

// TestRowRulesTypes checks every typed value of a good row.
func TestRowRulesTypes(t *testing.T) {
	h := fullDisplayHeader(t)
	s, rej := newRowRules(h).check(validRow().with(fieldRow{colCustomerComments: "Great phone, fast delivery"}).record(h, 2))
	if rej != nil {
		t.Fatalf("rejected: %+v", rej)
	}
	text := func(s string) pgtype.Text { return pgtype.Text{String: s, Valid: true} }
	cents := func(v int64) pgtype.Int8 { return pgtype.Int8{Int64: v, Valid: true} }
	p := s.CopySalesParams
	expectEq(t, "SaleDate", p.SaleDate, isoDate("2024-03-16"))
	expectEq(t, "SaleID", p.SaleID, "fbb26baa-958c-4015-83ec-0ee2319e5464")
	expectEq(t, "SaleKey", p.SaleKey, pgtype.UUID{Bytes: [16]byte{0xfb, 0xb2, 0x6b, 0xaa, 0x95, 0x8c, 0x40, 0x15, 0x83, 0xec, 0x0e, 0xe2, 0x31, 0x9e, 0x54, 0x64}, Valid: true})
	expectEq(t, "ProductID", p.ProductID, "PRD13777")
	expectEq(t, "ProductName", p.ProductName, "Smartphone")
	expectEq(t, "ProductCategory", p.ProductCategory, "Technology")
	expectEq(t, "Quantity", p.Quantity, int32(4))
	expectEq(t, "UnitPriceCents", p.UnitPriceCents, int64(11654))
	expectDiscount(t, p.DiscountPct, 150_000)
	expectEq(t, "discount", s.discount, int64(150_000))
	expectEq(t, "TotalValueCents", p.TotalValueCents, int64(39624))
	expectEq(t, "UnitCostCents", p.UnitCostCents, cents(6278))
	expectEq(t, "TotalCostCents", p.TotalCostCents, cents(25112))
	expectEq(t, "GrossProfitCents", p.GrossProfitCents, cents(14512))
	expectEq(t, "PaymentMethod", p.PaymentMethod, "Credit Card")
	expectEq(t, "PaymentStatus", p.PaymentStatus, "Paid")
	expectEq(t, "PaymentDate", p.PaymentDate, isoDate("2024-03-18"))
	expectEq(t, "CustomerID", p.CustomerID, "CUS3940")
	expectEq(t, "CustomerName", p.CustomerName, text("Christopher Pollard"))
	expectEq(t, "SalesChannel", p.SalesChannel, "Online Store")
	expectEq(t, "SalesRegion", p.SalesRegion, "New York")
	expectEq(t, "SalesRep", p.SalesRep, "Tiffany Vance")
	expectEq(t, "CustomerRating", p.CustomerRating, text("5 stars"))
	expectEq(t, "CustomerComments", p.CustomerComments, text("Great phone, fast delivery"))
	expectEq(t, "ShippingCostCents", p.ShippingCostCents, cents(1038))
	expectEq(t, "DeliveryStatus", p.DeliveryStatus, text("Delivered"))
	expectEq(t, "DeliveryDate", p.DeliveryDate, isoDate("2024-03-20"))
	expectEq(t, "FileID", p.FileID, int64(0)) // the loader's to set
}

// The rules must not keep state from one row in the next (they cache dates and text).
func TestRowRulesIndependentRows(t *testing.T) {
	h := fullDisplayHeader(t)
	rules := newRowRules(h)
	if _, rej := rules.check(validRow().with(fieldRow{colSaleDate: "2024-02-30"}).record(h, 2)); rej == nil {
		t.Fatal("bad date passed")
	}
	if _, rej := rules.check(validRow().record(h, 3)); rej != nil {
		t.Fatalf("good row after a bad one: %+v", rej)
	}
	if _, rej := rules.check(validRow().with(fieldRow{colSaleDate: "2024-02-30"}).record(h, 4)); rej == nil {
		t.Fatal("bad date passed the second time")
	}
	s1, _ := rules.check(validRow().record(h, 5))
	s2, _ := rules.check(validRow().with(fieldRow{colSaleDate: "2024-03-17", colProductName: "Laptop"}).record(h, 6))
	expectEq(t, "first sale date", s1.SaleDate, isoDate("2024-03-16"))
	expectEq(t, "second sale date", s2.SaleDate, isoDate("2024-03-17"))
	expectEq(t, "second product", s2.ProductName, "Laptop")
}

// The README's list of required columns is the one the header spec enforces.
func TestRequiredColumnsMatchTheContract(t *testing.T) {
	want := []column{colSaleDate, colSaleID, colProductID, colProductName, colProductCategory, colQuantity,
		colUnitPrice, colTotalValue, colPaymentMethod, colPaymentStatus, colCustomerID, colSalesChannel,
		colSalesRegion, colSalesRep}
	var got []column
	for c, spec := range columns {
		if spec.required {
			got = append(got, column(c))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("required columns %v, want %v", got, want)
	}
}

func TestRowRulesFieldCountAndBrokenRecords(t *testing.T) {
	h := fullDisplayHeader(t)
	rec := validRow().record(h, 9)
	for _, tt := range []struct {
		name   string
		rec    *record
		reason string
	}{
		{"one field short", &record{fields: rec.fields[:24], line: 9, raw: []byte("short")}, "has 24 fields, the header has 25"},
		{"one field more", &record{fields: append(slices.Clone(rec.fields), []byte("x")), line: 9, raw: []byte("long")}, "has 26 fields, the header has 25"},
		{"empty line", &record{fields: [][]byte{nil}, line: 9, raw: []byte("")}, "has 1 fields, the header has 25"},
		{"broken", &record{line: 9, raw: []byte(`a,"b`), broken: "unterminated quoted field"}, "unterminated quoted field"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, rej := newRowRules(h).check(tt.rec)
			if rej == nil {
				t.Fatal("passed")
			}
			want := Reject{Line: 9, Column: "", Reason: tt.reason, Raw: string(tt.rec.raw)}
			expectEq(t, "reject", *rej, want)
		})
	}
}

// A reject names the column as the file spells it, so people find it in their file.
func TestRejectNamesTheFilesColumn(t *testing.T) {
	var names []string
	for c, spec := range columns {
		if column(c) == colQuantity {
			names = append(names, " QTY ")
		} else {
			names = append(names, spec.snake)
		}
	}
	h := headerFrom(t, names...)
	_, rej := newRowRules(h).check(validRow().with(fieldRow{colQuantity: "0", colDiscount: "200"}).record(h, 2))
	if rej == nil {
		t.Fatal("passed")
	}
	expectEq(t, "Column", rej.Column, "QTY")
	if !strings.Contains(rej.Reason, "QTY: ") || !strings.Contains(rej.Reason, "; discount: ") {
		t.Errorf("reason %q does not use the file's names", rej.Reason)
	}
}

func TestRawText(t *testing.T) {
	long := func(prefix, unit string) string {
		return prefix + strings.Repeat(unit, (maxRawBytes+len(unit))/len(unit))
	}
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain", "a,b,c", "a,b,c"},
		{"NUL is shown", "a\x00b", "a\u2400b"},
		{"invalid bytes", "a\xffb", "a\uFFFDb"},
		{"long ASCII", strings.Repeat("x", maxRawBytes+1), strings.Repeat("x", maxRawBytes) + " …"},
		// 2-byte characters from an even offset: the cut falls between two of them.
		{"long two-byte", long("", "é"), strings.Repeat("é", maxRawBytes/2) + " …"},
		// From an odd offset, the cut splits a character: only that one is dropped.
		{"long two-byte, split", long("x", "é"), "x" + strings.Repeat("é", (maxRawBytes-1)/2) + " …"},
		{"long three-byte, split", long("", "€"), strings.Repeat("€", maxRawBytes/3) + " …"},
		{"long four-byte, split", long("ab", "😀"), "ab" + strings.Repeat("😀", (maxRawBytes-2)/4) + " …"},
		{"long four-byte", long("", "😀"), strings.Repeat("😀", maxRawBytes/4) + " …"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := rawText([]byte(tt.in))
			if got != tt.want {
				t.Errorf("rawText = %.60q… (%d bytes), want %.60q… (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if !utf8.ValidString(got) {
				t.Error("not valid UTF-8")
			}
		})
	}
}

// TestFixturesPassEveryRule reads the 38 real files: each one's header maps, every row
// passes, and no row is lost.
func TestFixturesPassEveryRule(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(transformFixtureDir, "*.csv"))
	if err != nil || len(files) != 38 {
		t.Fatalf("%d fixtures (%v), want 38", len(files), err)
	}
	shapes := map[string]int{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTransform(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		sales, rejects := drainTransform(t, tr)
		for _, r := range rejects {
			t.Errorf("%s:%d: %s: %s", filepath.Base(path), r.Line, r.Column, r.Reason)
		}
		lines := bytes.Count(bytes.TrimRight(data, "\r\n"), []byte("\n")) // data lines: one per record in these files
		if len(sales) != lines || tr.Rows() != int64(lines) {
			t.Errorf("%s: %d sales, %d rows, want %d", filepath.Base(path), len(sales), tr.Rows(), lines)
		}
		if len(tr.Header().Unknown) != 0 {
			t.Errorf("%s: unknown columns %q", filepath.Base(path), tr.Header().Unknown)
		}
		if tr.Encoding() != EncodingUTF8 || tr.Delimiter() != "," || tr.NumberFormat() != NumberPoint || tr.DateFormat() != DateISO {
			t.Errorf("%s: encoding %s, delimiter %s, formats %s %s", filepath.Base(path), tr.Encoding(), tr.Delimiter(), tr.NumberFormat(), tr.DateFormat())
		}
		for i, s := range sales {
			if s.Line != int64(i+2) {
				t.Fatalf("%s: sale %d on line %d", filepath.Base(path), i, s.Line)
			}
		}
		shapes[tr.Header().Shape]++
	}
	// The original generator wrote all three shapes, and snake files with comments too.
	want := map[string]int{"display": 30, "display+comments": 3, "snake": 4, "snake+comments": 1}
	if !reflect.DeepEqual(shapes, want) {
		t.Errorf("shapes %v, want %v", shapes, want)
	}
}

// The same sale appears in several fixtures, in display and in snake shape (discounts "20"
// and "20.0"): it must come out identical from each.
func TestFixturesSameSaleSameValues(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(transformFixtureDir, "*.csv"))
	first := map[string]Sale{}
	repeats := 0
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTransform(f)
		if err != nil {
			t.Fatal(err)
		}
		sales, _ := drainTransform(t, tr)
		f.Close()
		for _, s := range sales {
			p, seen := first[s.SaleID]
			if !seen {
				first[s.SaleID] = s
				continue
			}
			repeats++
			if !reflect.DeepEqual(p.CopySalesParams, s.CopySalesParams) {
				t.Errorf("%s differs in %s:\n%+v\n%+v", s.SaleID, filepath.Base(path), p.CopySalesParams, s.CopySalesParams)
			}
		}
	}
	if repeats < 1000 {
		t.Errorf("only %d repeated sales; the fixtures changed?", repeats)
	}
}

func expectEq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// eqNumeric checks a discount: fixed point, four decimals.
func expectDiscount(t *testing.T, got pgtype.Numeric, want int64) {
	t.Helper()
	if !got.Valid || got.Int == nil || got.Int.Cmp(big.NewInt(want)) != 0 || got.Exp != -4 || got.NaN || got.InfinityModifier != pgtype.Finite {
		t.Errorf("DiscountPct = %+v, want %d × 10^-4", got, want)
	}
}

func expectStatus(want string) func(t *testing.T, s Sale) {
	return func(t *testing.T, s Sale) { expectEq(t, "PaymentStatus", s.PaymentStatus, want) }
}
