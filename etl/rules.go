package etl

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
)

// Sale is a row that passed every rule, typed for the COPY into sales.
type Sale struct {
	Line int64
	db.CopySalesParams
	discount int64 // fixed point, kept for the fold
}

// Reject is a row that broke at least one rule: the first failing column and all reasons.
type Reject struct {
	Line   int64
	Column string
	Reason string
	Raw    string
}

const (
	maxTextRunes = 200
	// maxMoney bounds every amount (in units of 0.0001) so sums and checks cannot overflow:
	// a hundred billion per field.
	maxMoney = 100_000_000_000 * fixedScale
)

// rowRules validates and types rows of one file; it keeps small caches, so one per file.
type rowRules struct {
	h       *Header
	fields  int // expected field count
	intern  map[string]string
	dates   map[string]pgtype.Date
	errs    []fieldError
	numbers map[int64]*big.Int
	// How the file writes numbers and dates: decided from the look-ahead window (decide),
	// or by the first later value that tells.
	numberFormat, dateFormat *formatChoice
}

type fieldError struct {
	col column
	msg string
}

func newRowRules(h *Header) *rowRules {
	return &rowRules{
		h:       h,
		fields:  len(h.Names),
		intern:  make(map[string]string),
		dates:   make(map[string]pgtype.Date),
		numbers: make(map[int64]*big.Int),

		numberFormat: newFormatChoice(numberKind),
		dateFormat:   newFormatChoice(dateKind),
	}
}

// The columns whose values show how a file writes numbers, and dates.
var (
	numberColumns = []column{colQuantity, colUnitPrice, colDiscount, colTotalValue, colUnitCost, colTotalCost,
		colGrossProfit, colShippingCost}
	dateColumns = []column{colSaleDate, colPaymentDate, colDeliveryDate}
)

// observe takes a record of the look-ahead window as evidence of the file's formats. A record
// that cannot be split, or has the wrong number of fields, shows nothing: its values may not
// stand in their columns.
func (r *rowRules) observe(rec *record) {
	if rec.broken != "" || len(rec.fields) != r.fields {
		return
	}
	for _, c := range numberColumns {
		if b := r.field(rec, c); len(b) > 0 {
			r.numberFormat.see(b, rec.line, r.h.name(c))
		}
	}
	for _, c := range dateColumns {
		if b := r.field(rec, c); len(b) > 0 {
			r.dateFormat.see(b, rec.line, r.h.name(c))
		}
	}
}

// decide settles the file's formats at the end of the look-ahead window of rows rows (whole:
// the file ended within it). A *FormatError says why the file cannot be read one way.
func (r *rowRules) decide(rows int, whole bool) error {
	var reasons []string
	for _, c := range []*formatChoice{r.numberFormat, r.dateFormat} {
		if why := c.decide(rows, whole); why != "" {
			reasons = append(reasons, why)
		}
	}
	if len(reasons) > 0 {
		return &FormatError{Reason: strings.Join(reasons, "; ")}
	}
	return nil
}

func (r *rowRules) fail(c column, format string, args ...any) {
	r.errs = append(r.errs, fieldError{col: c, msg: fmt.Sprintf(format, args...)})
}

// check turns a record into a Sale, or a Reject naming what is wrong with it.
func (r *rowRules) check(rec *record) (Sale, *Reject) {
	if rec.broken != "" {
		return Sale{}, r.reject(rec, "", rec.broken)
	}
	if len(rec.fields) != r.fields {
		return Sale{}, r.reject(rec, "", fmt.Sprintf("has %d fields, the header has %d", len(rec.fields), r.fields))
	}
	r.errs = r.errs[:0]
	var s Sale
	s.Line = rec.line
	p := &s.CopySalesParams

	p.SaleDate = r.date(rec, colSaleDate)
	p.SaleID = r.text(rec, colSaleID).String
	p.SaleKey = saleKey([]byte(p.SaleID))
	p.ProductID = r.text(rec, colProductID).String
	p.ProductName = r.text(rec, colProductName).String
	p.ProductCategory = r.text(rec, colProductCategory).String
	quantity, qok := r.quantity(rec)
	p.Quantity = int32(quantity)
	price, pok := r.amount(rec, colUnitPrice)
	p.UnitPriceCents = fixedToCents(price.Int64)
	discount, dok := r.discount(rec)
	s.discount = discount.Int64
	if discount.Valid {
		p.DiscountPct = pgtype.Numeric{Int: r.bigInt(discount.Int64), Exp: -4, Valid: true}
	}
	total, tok := r.amount(rec, colTotalValue)
	p.TotalValueCents = fixedToCents(total.Int64)
	unitCost, ucok := r.amount(rec, colUnitCost)
	p.UnitCostCents = cents(unitCost)
	totalCost, tcok := r.amount(rec, colTotalCost)
	p.TotalCostCents = cents(totalCost)
	profit, gpok := r.amount(rec, colGrossProfit)
	p.GrossProfitCents = cents(profit)
	p.PaymentMethod = r.text(rec, colPaymentMethod).String
	p.PaymentStatus = r.paymentStatus(rec)
	p.PaymentDate = r.date(rec, colPaymentDate)
	p.CustomerID = r.text(rec, colCustomerID).String
	p.CustomerName = r.text(rec, colCustomerName)
	p.SalesChannel = r.text(rec, colSalesChannel).String
	p.SalesRegion = r.text(rec, colSalesRegion).String
	p.SalesRep = r.text(rec, colSalesRep).String
	p.CustomerRating = r.text(rec, colCustomerRating)
	p.CustomerComments = r.text(rec, colCustomerComments)
	shipping, _ := r.amount(rec, colShippingCost)
	p.ShippingCostCents = cents(shipping)
	p.DeliveryStatus = r.text(rec, colDeliveryStatus)
	p.DeliveryDate = r.date(rec, colDeliveryDate)

	// Cross-field rules, each only when the fields it reads are valid.
	if qok && pok && dok && tok && totalValueOff(quantity, price.Int64, discount.Int64, total.Int64) {
		r.fail(colTotalValue, "%s is not quantity × unit price × (1 − discount/100) = %s (± 0.01)",
			formatFixed(total.Int64), formatFixed(expectedTotal(quantity, price.Int64, discount.Int64)))
	}
	if qok && ucok && tcok && unitCost.Valid && totalCost.Valid && productOff(quantity, unitCost.Int64, totalCost.Int64) {
		r.fail(colTotalCost, "%s is not quantity × unit cost = %s (± 0.01)",
			formatFixed(totalCost.Int64), formatFixed(quantity*unitCost.Int64))
	}
	if tok && tcok && gpok && totalCost.Valid && profit.Valid && differenceOff(total.Int64, totalCost.Int64, profit.Int64) {
		r.fail(colGrossProfit, "%s is not total value − total cost = %s (± 0.01)",
			formatFixed(profit.Int64), formatFixed(total.Int64-totalCost.Int64))
	}
	sale := p.SaleDate
	if sale.Valid && p.PaymentDate.Valid && p.PaymentDate.Time.Before(sale.Time) {
		r.fail(colPaymentDate, "%s is before the sale date", p.PaymentDate.Time.Format(time.DateOnly))
	}
	if sale.Valid && p.DeliveryDate.Valid && p.DeliveryDate.Time.Before(sale.Time) {
		r.fail(colDeliveryDate, "%s is before the sale date", p.DeliveryDate.Time.Format(time.DateOnly))
	}

	if len(r.errs) > 0 {
		msgs := make([]string, len(r.errs))
		for i, e := range r.errs {
			msgs[i] = r.h.name(e.col) + ": " + e.msg
		}
		return Sale{}, r.reject(rec, r.h.name(r.errs[0].col), strings.Join(msgs, "; "))
	}
	return s, nil
}

func (r *rowRules) reject(rec *record, col, reason string) *Reject {
	return &Reject{Line: rec.line, Column: col, Reason: reason, Raw: rawText(rec.raw)}
}

// rawText keeps a rejected row's text storable: bounded, valid UTF-8, NUL shown as U+2400.
// Only as much as is kept is copied: a record may be up to 1 MiB.
func rawText(raw []byte) string {
	return storable(string(raw[:min(len(raw), maxRawBytes+1)]), maxRawBytes)
}

func (r *rowRules) field(rec *record, c column) []byte {
	if i := r.h.index[c]; i >= 0 {
		return bytes.TrimFunc(rec.fields[i], unicode.IsSpace)
	}
	return nil
}

// text reads a trimmed text field. Small sets of repeated values (categories, regions,
// names of products and reps) are interned so a million rows do not hold a million copies.
// recurring are the text columns whose values repeat from row to row (products, categories,
// regions, customers, ...): rows then share one string per value instead of allocating
// their own.
var recurring = [numColumns]bool{
	colProductID: true, colCustomerID: true, colCustomerName: true,
	colProductName: true, colProductCategory: true, colPaymentMethod: true, colSalesChannel: true,
	colSalesRegion: true, colSalesRep: true, colCustomerRating: true, colDeliveryStatus: true,
}

// text reads a text column; a required one must not be empty.
func (r *rowRules) text(rec *record, c column) pgtype.Text {
	b := r.field(rec, c)
	if len(b) == 0 {
		if columns[c].required {
			r.fail(c, "is required")
		}
		return pgtype.Text{}
	}
	if msg := textProblem(b); msg != "" {
		r.fail(c, "%s", msg)
		return pgtype.Text{}
	}
	if !recurring[c] {
		return pgtype.Text{String: string(b), Valid: true}
	}
	if s, ok := r.intern[string(b)]; ok {
		return pgtype.Text{String: s, Valid: true}
	}
	s := string(b)
	if len(r.intern) < 50_000 {
		r.intern[s] = s
	}
	return pgtype.Text{String: s, Valid: true}
}

// textProblem checks length and characters. Tabs and line breaks are allowed inside text
// (quoted CSV fields may hold them); other control characters, NUL included, are not.
func textProblem(b []byte) string {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F {
				return fmt.Sprintf("control character U+%04X", c)
			}
			i++
			n++
			continue
		}
		ru, size := utf8.DecodeRune(b[i:])
		if ru == utf8.RuneError {
			return "invalid character encoding"
		}
		if unicode.IsControl(ru) {
			return fmt.Sprintf("control character U+%04X", ru)
		}
		i += size
		n++
	}
	if n > maxTextRunes {
		return fmt.Sprintf("longer than %d characters (%d)", maxTextRunes, n)
	}
	return ""
}

// date reads a date in the file's format. Dates repeat a lot, so parsed ones are remembered.
func (r *rowRules) date(rec *record, c column) pgtype.Date {
	b := r.field(rec, c)
	if len(b) == 0 {
		if columns[c].required {
			r.fail(c, "is required")
		}
		return pgtype.Date{}
	}
	if d, ok := r.dates[string(b)]; ok {
		return d
	}
	t, err := r.readDate(b)
	if err != nil {
		r.fail(c, "%q %s", clip(b), err)
		return pgtype.Date{}
	}
	d := pgtype.Date{Time: t, Valid: true}
	if len(r.dates) < 100_000 {
		r.dates[string(b)] = d
	}
	return d
}

// readDate reads b in the file's date format, deciding it if b is the first date that tells.
func (r *rowRules) readDate(b []byte) (time.Time, error) {
	f := r.dateFormat.only
	if f < 0 {
		var err error
		if f, err = r.dateFormat.settle(b); err != nil {
			return time.Time{}, err
		}
	}
	t, ok := parseDate(f, b)
	if !ok {
		if err := r.dateFormat.mismatch(b); err != nil {
			return time.Time{}, err
		}
		return time.Time{}, &valueError{"is not a date (" + r.dateFormat.names(r.dateFormat.live) + ")"}
	}
	return t, nil
}

// number reads b in the file's number format, deciding it if b is the first number that
// tells. A *valueError says b is written another way, or cannot tell which.
func (r *rowRules) number(b []byte) (int64, error) {
	f := r.numberFormat.only
	if f < 0 {
		var err error
		if f, err = r.numberFormat.settle(b); err != nil {
			return 0, err
		}
	}
	v, err := parseNumber(f, b)
	if err == errNotNumber {
		if mismatch := r.numberFormat.mismatch(b); mismatch != nil {
			return 0, mismatch
		}
	}
	return v, err
}

// numberProblem is the reason a number is refused: the format's when it is written another
// way (or cannot tell which), else the column's own.
func numberProblem(b []byte, err error, plain string) string {
	var ve *valueError
	if errors.As(err, &ve) {
		return fmt.Sprintf("%q %s", clip(b), ve.msg)
	}
	return fmt.Sprintf("%q %s", clip(b), plain)
}

func (r *rowRules) quantity(rec *record) (int64, bool) {
	b := r.field(rec, colQuantity)
	if len(b) == 0 {
		r.fail(colQuantity, "is required")
		return 0, false
	}
	v, err := r.number(b)
	if err != nil || v%fixedScale != 0 || v < fixedScale || v/fixedScale > 1<<31-1 {
		r.fail(colQuantity, "%s", numberProblem(b, err, "is not a whole number of at least 1"))
		return 0, false
	}
	return v / fixedScale, true
}

// amount reads money: ≥ 0 unless signed, at most maxMoney. The result is fixed point.
func (r *rowRules) amount(rec *record, c column) (pgtype.Int8, bool) {
	b := r.field(rec, c)
	if len(b) == 0 {
		if columns[c].required {
			r.fail(c, "is required")
			return pgtype.Int8{}, false
		}
		return pgtype.Int8{}, true
	}
	v, err := r.number(b)
	switch {
	case err != nil:
		r.fail(c, "%s", numberProblem(b, err, "is not a number"))
	case v > maxMoney || v < -maxMoney:
		r.fail(c, "%q is too large", clip(b))
	case v < 0 && c != colGrossProfit: // the one amount that may be negative
		r.fail(c, "%q is negative", clip(b))
	default:
		return pgtype.Int8{Int64: v, Valid: true}, true
	}
	return pgtype.Int8{}, false
}

func (r *rowRules) discount(rec *record) (pgtype.Int8, bool) {
	b := r.field(rec, colDiscount)
	if len(b) == 0 {
		return pgtype.Int8{}, true // no discount given: none applies
	}
	v, err := r.number(b)
	if err != nil || v < 0 || v > 100*fixedScale {
		r.fail(colDiscount, "%s", numberProblem(b, err, "is not a percentage from 0 to 100"))
		return pgtype.Int8{}, false
	}
	return pgtype.Int8{Int64: v, Valid: true}, true
}

// bigInt shares one *big.Int per distinct discount: pgtype.Numeric wants one, discounts repeat.
func (r *rowRules) bigInt(v int64) *big.Int {
	if b, ok := r.numbers[v]; ok {
		return b
	}
	b := big.NewInt(v)
	if len(r.numbers) < 10_000 {
		r.numbers[v] = b
	}
	return b
}

func (r *rowRules) paymentStatus(rec *record) string {
	b := r.field(rec, colPaymentStatus)
	switch {
	case len(b) == 0:
		r.fail(colPaymentStatus, "is required")
	case bytes.EqualFold(b, []byte("paid")), bytes.EqualFold(b, []byte("pago")):
		return "Paid"
	case bytes.EqualFold(b, []byte("pending")), bytes.EqualFold(b, []byte("pendente")):
		return "Pending"
	case bytes.EqualFold(b, []byte("canceled")), bytes.EqualFold(b, []byte("cancelled")), bytes.EqualFold(b, []byte("cancelado")):
		return "Canceled"
	default:
		r.fail(colPaymentStatus, "%q is not Paid, Pending or Canceled (Pago, Pendente, Cancelado)", clip(b))
	}
	return ""
}

func cents(v pgtype.Int8) pgtype.Int8 {
	if !v.Valid {
		return v
	}
	return pgtype.Int8{Int64: fixedToCents(v.Int64), Valid: true}
}

// expectedTotal is quantity × price × (1 − discount/100) in fixed point, for messages only.
func expectedTotal(quantity, price, discount int64) int64 {
	v := new(big.Int).Mul(big.NewInt(quantity), big.NewInt(price))
	v.Mul(v, big.NewInt(100*fixedScale-discount))
	v.Quo(v, big.NewInt(100*fixedScale))
	return v.Int64()
}

// formatFixed prints fixed point with two decimals, or four when they matter.
func formatFixed(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if v%100 == 0 {
		return fmt.Sprintf("%s%d.%02d", sign, v/fixedScale, v%fixedScale/100)
	}
	return fmt.Sprintf("%s%d.%04d", sign, v/fixedScale, v%fixedScale)
}

// clip shortens a value quoted in a message.
func clip(b []byte) string {
	if len(b) > 40 {
		return strings.ToValidUTF8(string(b[:40]), "") + "…"
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
