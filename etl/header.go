package etl

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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
	display    string   // the original generator's display header
	snake      string   // its snake_case header
	required   bool     // the header must have it, and every row a value in it
	aliases    []string // further spellings, compared normalised
	portuguese []string // the names of a spreadsheet in Portuguese, compared normalised
}

var columns = [numColumns]columnSpec{
	colSaleDate:         {"Sale Date", "sale_date", true, []string{"date", "order date", "transaction date"}, []string{"Data da Venda"}},
	colSaleID:           {"Sale ID", "sale_id", true, []string{"order id", "transaction id"}, []string{"ID da Venda"}},
	colProductID:        {"Product ID", "product_id", true, []string{"sku"}, []string{"ID do Produto"}},
	colProductName:      {"Product Name", "product_name", true, []string{"product"}, []string{"Nome do Produto", "Produto"}},
	colProductCategory:  {"Product Category", "product_category", true, []string{"category"}, []string{"Categoria do Produto", "Categoria"}},
	colQuantity:         {"Quantity Sold", "quantity_sold", true, []string{"quantity", "qty", "units sold"}, []string{"Quantidade Vendida", "Quantidade"}},
	colUnitPrice:        {"Unit Price", "unit_price", true, []string{"price"}, []string{"Preço Unitário"}},
	colDiscount:         {"Discount (%)", "discount", false, []string{"discount pct", "discount percent", "discount percentage"}, []string{"Desconto (%)"}},
	colTotalValue:       {"Total Value (with Discount)", "total_value", true, []string{"total value with discount", "total", "total amount"}, []string{"Valor Total (com Desconto)", "Valor Total"}},
	colUnitCost:         {"Unit Cost", "unit_cost", false, nil, []string{"Custo Unitário"}},
	colTotalCost:        {"Total Cost", "total_cost", false, nil, []string{"Custo Total"}},
	colGrossProfit:      {"Gross Profit", "gross_profit", false, []string{"profit"}, []string{"Lucro Bruto"}},
	colPaymentMethod:    {"Payment Method", "payment_method", true, nil, []string{"Método de Pagamento", "Forma de Pagamento"}},
	colPaymentStatus:    {"Payment Status", "payment_status", true, nil, []string{"Status do Pagamento"}},
	colPaymentDate:      {"Payment Date", "payment_date", false, nil, []string{"Data do Pagamento"}},
	colCustomerID:       {"Customer ID", "customer_id", true, nil, []string{"ID do Cliente"}},
	colCustomerName:     {"Customer Name", "customer_name", false, nil, []string{"Nome do Cliente"}},
	colSalesChannel:     {"Sales Channel", "sales_channel", true, []string{"channel"}, []string{"Canal de Vendas"}},
	colSalesRegion:      {"Sales Region", "sales_region", true, []string{"region"}, []string{"Região de Vendas"}},
	colSalesRep:         {"Sales Representative", "sales_rep", true, []string{"sales representative", "sales person", "salesperson", "rep"}, []string{"Representante de Vendas", "Vendedor"}},
	colCustomerRating:   {"Customer Rating", "customer_rating", false, []string{"rating"}, []string{"Avaliação do Cliente"}},
	colCustomerComments: {"Customer Comments", "customer_comments", false, []string{"comments", "comment"}, []string{"Comentários do Cliente"}},
	colShippingCost:     {"Shipping Cost", "shipping_cost", false, []string{"shipping"}, []string{"Custo de Envio", "Frete"}},
	colDeliveryStatus:   {"Delivery Status", "delivery_status", false, nil, []string{"Status da Entrega"}},
	colDeliveryDate:     {"Delivery Date", "delivery_date", false, nil, []string{"Data de Entrega"}},
}

// spellings are every name a column is known by.
func (spec columnSpec) spellings() []string {
	return slices.Concat([]string{spec.display, spec.snake}, spec.aliases, spec.portuguese)
}

// headerIndex maps a normalised header to its column; portugueseNames holds the normalised
// Portuguese ones.
var headerIndex, portugueseNames = func() (map[string]column, map[string]bool) {
	m, pt := make(map[string]column), make(map[string]bool)
	for c, spec := range columns {
		for _, name := range spec.spellings() {
			m[normaliseHeader(name)] = column(c)
		}
		for _, name := range spec.portuguese {
			pt[normaliseHeader(name)] = true
		}
	}
	return m, pt
}()

// normaliseHeader ignores case, accents, spacing and punctuation: "Discount (%)" and
// "discount" match, and so do "Preço Unitário" and "PRECO_UNITARIO".
func normaliseHeader(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Header describes how a file's header row maps onto the contract.
type Header struct {
	Names   []string        // the file's own header names, trimmed (and clipped)
	index   [numColumns]int // field position of each column, -1 when absent
	Unknown []string        // extra columns, ignored: the first maxUnknownKept, then a count
	Shape   string          // display, snake, portuguese or mixed, with "+comments" when that column is present
}

// Bounds on a header, so that no line can make the ledger row or a reject absurdly wide.
const (
	maxHeaderColumns = 1000 // a sales file has two dozen: more means the line is no header
	maxUnknownKept   = 20   // unknown columns named in the ledger; the rest are counted
	maxColumnName    = 100  // characters of a column's name kept
)

// HeaderError is a header the file cannot be loaded with; the whole file fails.
type HeaderError struct{ Reason string }

func (e *HeaderError) Error() string { return e.Reason }

func parseHeader(fields [][]byte) (*Header, error) {
	if len(fields) > maxHeaderColumns {
		return nil, &HeaderError{Reason: fmt.Sprintf("the header line has %d columns, more than the %d a sales file may have (are the delimiter and line ends right?)",
			len(fields), maxHeaderColumns)}
	}
	h := &Header{}
	for i := range h.index {
		h.index[i] = -1
	}
	display, snake, portuguese, known, unknown := 0, 0, 0, 0, 0
	for pos, f := range fields {
		full := strings.TrimSpace(string(f))
		name := clipName(full)
		h.Names = append(h.Names, name)
		key := normaliseHeader(full)
		c, ok := headerIndex[key]
		if !ok {
			if name == "" {
				name = fmt.Sprintf("(unnamed column %d)", pos+1)
			}
			if unknown++; unknown <= maxUnknownKept {
				h.Unknown = append(h.Unknown, name)
			}
			continue
		}
		known++
		if portugueseNames[key] {
			portuguese++
		}
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
	if unknown > maxUnknownKept {
		h.Unknown = append(h.Unknown, fmt.Sprintf("(and %d more)", unknown-maxUnknownKept))
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
	case portuguese == known:
		h.Shape = "portuguese"
	default:
		h.Shape = "mixed"
	}
	if h.index[colCustomerComments] >= 0 {
		h.Shape += "+comments"
	}
	return h, nil
}

// clipName keeps at most maxColumnName characters of a column's name.
func clipName(name string) string {
	if utf8.RuneCountInString(name) <= maxColumnName {
		return name
	}
	return string([]rune(name)[:maxColumnName]) + "…"
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
