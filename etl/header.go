package etl

import (
	"fmt"
	"strings"
	"unicode"
)

// column is one of the 25 columns of the CSV contract (24 plus the optional comments).
type column int

const (
	colSaleDate column = iota
	colSaleID
	colProductID
	colProductName
	colProductCategory
	colQuantity
	colUnitPrice
	colDiscount
	colTotalValue
	colUnitCost
	colTotalCost
	colGrossProfit
	colPaymentMethod
	colPaymentStatus
	colPaymentDate
	colCustomerID
	colCustomerName
	colSalesChannel
	colSalesRegion
	colSalesRep
	colCustomerRating
	colCustomerComments
	colShippingCost
	colDeliveryStatus
	colDeliveryDate
	numColumns
)

type columnSpec struct {
	display  string   // the original generator's display header
	snake    string   // its snake_case header
	required bool     // the header must have it, and every row a value in it
	aliases  []string // further spellings, compared normalised
}

var columns = [numColumns]columnSpec{
	colSaleDate:         {"Sale Date", "sale_date", true, []string{"date", "order date", "transaction date"}},
	colSaleID:           {"Sale ID", "sale_id", true, []string{"order id", "transaction id"}},
	colProductID:        {"Product ID", "product_id", true, []string{"sku"}},
	colProductName:      {"Product Name", "product_name", true, []string{"product"}},
	colProductCategory:  {"Product Category", "product_category", true, []string{"category"}},
	colQuantity:         {"Quantity Sold", "quantity_sold", true, []string{"quantity", "qty", "units sold"}},
	colUnitPrice:        {"Unit Price", "unit_price", true, []string{"price"}},
	colDiscount:         {"Discount (%)", "discount", false, []string{"discount pct", "discount percent", "discount percentage"}},
	colTotalValue:       {"Total Value (with Discount)", "total_value", true, []string{"total value with discount", "total", "total amount"}},
	colUnitCost:         {"Unit Cost", "unit_cost", false, nil},
	colTotalCost:        {"Total Cost", "total_cost", false, nil},
	colGrossProfit:      {"Gross Profit", "gross_profit", false, []string{"profit"}},
	colPaymentMethod:    {"Payment Method", "payment_method", true, nil},
	colPaymentStatus:    {"Payment Status", "payment_status", true, nil},
	colPaymentDate:      {"Payment Date", "payment_date", false, nil},
	colCustomerID:       {"Customer ID", "customer_id", true, nil},
	colCustomerName:     {"Customer Name", "customer_name", false, nil},
	colSalesChannel:     {"Sales Channel", "sales_channel", true, []string{"channel"}},
	colSalesRegion:      {"Sales Region", "sales_region", true, []string{"region"}},
	colSalesRep:         {"Sales Representative", "sales_rep", true, []string{"sales representative", "sales person", "salesperson", "rep"}},
	colCustomerRating:   {"Customer Rating", "customer_rating", false, []string{"rating"}},
	colCustomerComments: {"Customer Comments", "customer_comments", false, []string{"comments", "comment"}},
	colShippingCost:     {"Shipping Cost", "shipping_cost", false, []string{"shipping"}},
	colDeliveryStatus:   {"Delivery Status", "delivery_status", false, nil},
	colDeliveryDate:     {"Delivery Date", "delivery_date", false, nil},
}

// headerIndex maps a normalised header to its column.
var headerIndex = func() map[string]column {
	m := make(map[string]column)
	for c, spec := range columns {
		for _, name := range append([]string{spec.display, spec.snake}, spec.aliases...) {
			m[normaliseHeader(name)] = column(c)
		}
	}
	return m
}()

// normaliseHeader ignores case, spacing and punctuation: "Discount (%)" and "discount" match.
func normaliseHeader(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Header describes how a file's header row maps onto the contract.
type Header struct {
	Names   []string        // the file's own header names, trimmed
	index   [numColumns]int // field position of each column, -1 when absent
	Unknown []string        // extra columns, ignored
	Shape   string          // display, snake or mixed, with "+comments" when that column is present
}

// HeaderError is a header the file cannot be loaded with; the whole file fails.
type HeaderError struct{ Reason string }

func (e *HeaderError) Error() string { return e.Reason }

func parseHeader(fields [][]byte) (*Header, error) {
	h := &Header{}
	for i := range h.index {
		h.index[i] = -1
	}
	display, snake, known := 0, 0, 0
	for pos, f := range fields {
		name := strings.TrimSpace(string(f))
		h.Names = append(h.Names, name)
		c, ok := headerIndex[normaliseHeader(name)]
		if !ok {
			if name == "" {
				name = fmt.Sprintf("(unnamed column %d)", pos+1)
			}
			h.Unknown = append(h.Unknown, name)
			continue
		}
		known++
		if prev := h.index[c]; prev >= 0 {
			return nil, &HeaderError{Reason: fmt.Sprintf("columns %q and %q both mean %s", h.Names[prev], name, columns[c].display)}
		}
		h.index[c] = pos
		switch name {
		case columns[c].display:
			display++
		case columns[c].snake:
			snake++
		}
	}
	var missing []string
	for c, spec := range columns {
		if spec.required && h.index[c] < 0 {
			missing = append(missing, spec.display)
		}
	}
	if len(missing) > 0 {
		return nil, &HeaderError{Reason: "missing required column(s): " + strings.Join(missing, ", ")}
	}
	switch {
	case display == known:
		h.Shape = "display"
	case snake == known:
		h.Shape = "snake"
	default:
		h.Shape = "mixed"
	}
	if h.index[colCustomerComments] >= 0 {
		h.Shape += "+comments"
	}
	return h, nil
}

// name is the file's own name for a column, for reject messages.
func (h *Header) name(c column) string {
	if i := h.index[c]; i >= 0 {
		return h.Names[i]
	}
	return columns[c].display
}

// sniffDelimiter picks ',', ';' or tab: whichever the header line holds most of outside quotes.
func sniffDelimiter(line []byte) byte {
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}
