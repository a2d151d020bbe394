// Package api holds the wire types shared by the server and the dashboard: the KPI snapshot,
// the WebSocket envelope, the ingestion ledger and errors. Standard library only, so the
// WebAssembly dashboard can import it.
package api

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Filter selects the sales a snapshot covers. Dates are YYYY-MM-DD, inclusive; an empty
// From or To leaves that end open; empty Category, Region or Channel means all.
type Filter struct {
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Category string `json:"category,omitempty"`
	Region   string `json:"region,omitempty"`
	Channel  string `json:"channel,omitempty"`
}

// Key identifies a filter, e.g. as a cache key.
func (f Filter) Key() string {
	return strings.Join([]string{f.From, f.To, f.Category, f.Region, f.Channel}, "\x1f")
}

// Money is an exact amount in cents. In JSON it is a decimal number with two places
// (3627905.75), never a binary float on the server side.
type Money int64

// MarshalJSON writes the amount with two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// String is the amount with two decimals and no grouping: -12.05.
func (m Money) String() string {
	v := int64(m)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return sign + strconv.FormatInt(v/100, 10) + "." + twoDigits(v%100)
}

func twoDigits(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// UnmarshalJSON reads a decimal number exactly (at most two decimals).
func (m *Money) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return errors.New("api: money must have at most two decimals")
	}
	frac = (frac + "00")[:2]
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return errors.New("api: bad money amount")
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return errors.New("api: bad money amount")
	}
	v := w*100 + f
	if neg {
		v = -v
	}
	*m = Money(v)
	return nil
}

// Snapshot is the KPI view for one filter: GET /api/kpis, and the data of every
// WebSocket "snapshot" message.
type Snapshot struct {
	Seq        uint64     `json:"seq"`          // increases with every snapshot a server computes
	AsOf       *time.Time `json:"as_of"`        // when the newest loaded file committed; null before any
	LastFile   string     `json:"last_file"`    // that file's key (or path)
	LastFileID int64      `json:"last_file_id"` // and its ledger id
	Filter     Filter     `json:"filter"`       // the filter as asked
	Window     Window     `json:"window"`       // the dates it resolved to
	DataRange  Window     `json:"data_range"`   // first and last sale date loaded (all filters)

	Totals Totals `json:"totals"`
	// Previous is the window of the same length just before Window and its totals, from the
	// same data as every other figure: what the cards compare with.
	Previous        Previous      `json:"previous"`
	TopProducts     TopProducts   `json:"top_products"`
	ByCategory      []Slice       `json:"by_category"`
	ByRegion        []Slice       `json:"by_region"`
	ByChannel       []Slice       `json:"by_channel"`
	TopReps         []RepStat     `json:"top_reps"`
	ByPaymentStatus []StatusStat  `json:"by_payment_status"`
	Trend           []TrendPoint  `json:"trend"`          // one point per sale date
	CategoryTrend   []SeriesPoint `json:"category_trend"` // sales per category per SeriesGrain bucket
	ChannelDaily    []SeriesPoint `json:"channel_daily"`  // total value and gross profit per channel per SeriesGrain bucket
	// SeriesGrain is the bucket of CategoryTrend and ChannelDaily: "day" for windows up to 92
	// days, "week" (from Monday) up to 366, "month" beyond, so long windows stay light. A
	// point's date is its bucket's first day; it sums only the window's own days.
	SeriesGrain string  `json:"series_grain"`
	Options     Options `json:"options"` // values the filter menus offer
}

// Window is a range of sale dates, YYYY-MM-DD, inclusive; empty when there are no sales.
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Totals are the headline figures of the window.
type Totals struct {
	Sales         Money   `json:"sales"`      // sum of total value, canceled sales included
	Orders        int64   `json:"orders"`     // number of sales
	AvgTicket     Money   `json:"avg_ticket"` // sales / orders, to the cent
	Quantity      int64   `json:"quantity"`
	GrossProfit   Money   `json:"gross_profit"`
	MarginPct     float64 `json:"margin_pct"`     // gross profit / sales × 100, two decimals
	CanceledSales Money   `json:"canceled_sales"` // the part of sales whose payment was canceled
}

// Previous is the window of the same length just before a snapshot's (the day before the
// latest day, the 7 days before the last 7) and its totals. A window whose start was not
// asked has none: it begins with the first sale loaded, and nothing of its length lies
// before it. Reason then says why, and Window and Totals are empty.
type Previous struct {
	Window Window `json:"window"`
	Totals Totals `json:"totals"`
	Reason string `json:"reason,omitempty"` // PreviousOpenStart or PreviousNoWindow; empty when there is one
}

// Why a snapshot has no previous window.
const (
	PreviousOpenStart = "open_start" // the window starts where the sales do, as no start was asked
	PreviousNoWindow  = "no_window"  // the window holds no dates (no sales, or it ends before it starts), or the one before would start before year 1
)

// ChangePct is the change from prev to cur as a percentage of prev (of its size, so that a
// fall is negative whatever prev's sign), rounded half away from zero to two decimals; false
// when prev is 0, from which no percentage measures a change.
func ChangePct(cur, prev float64) (float64, bool) {
	if prev == 0 {
		return 0, false
	}
	return math.Round((cur-prev)/math.Abs(prev)*10000) / 100, true
}

// TopProducts are the best sellers by units and by value.
type TopProducts struct {
	ByQuantity []ProductStat `json:"by_quantity"`
	BySales    []ProductStat `json:"by_sales"`
}

// ProductStat is one product's figures.
type ProductStat struct {
	Product  string `json:"product"`
	Quantity int64  `json:"quantity"`
	Sales    Money  `json:"sales"`
	Orders   int64  `json:"orders"`
}

// Slice is one category, region or channel.
type Slice struct {
	Name        string `json:"name"`
	Sales       Money  `json:"sales"`
	Orders      int64  `json:"orders"`
	Quantity    int64  `json:"quantity"`
	GrossProfit Money  `json:"gross_profit"`
}

// RepStat is one sales representative.
type RepStat struct {
	Rep         string `json:"rep"`
	Sales       Money  `json:"sales"`
	Orders      int64  `json:"orders"`
	GrossProfit Money  `json:"gross_profit"`
}

// StatusStat is one payment status: Paid, Pending or Canceled.
type StatusStat struct {
	Status string `json:"status"`
	Sales  Money  `json:"sales"`
	Orders int64  `json:"orders"`
}

// TrendPoint is one sale date.
type TrendPoint struct {
	Date        string `json:"date"`
	Sales       Money  `json:"sales"`
	Orders      int64  `json:"orders"`
	GrossProfit Money  `json:"gross_profit"`
}

// SeriesPoint is one member of a breakdown (a category or channel) on one sale date.
type SeriesPoint struct {
	Date        string `json:"date"`
	Name        string `json:"name"`
	Sales       Money  `json:"sales"`
	GrossProfit Money  `json:"gross_profit"`
	Orders      int64  `json:"orders"`
}

// Options are the categories, regions and channels that have sales.
type Options struct {
	Categories []string `json:"categories"`
	Regions    []string `json:"regions"`
	Channels   []string `json:"channels"`
}

// WebSocket message types.
const (
	TypeSubscribe = "subscribe" // client → server: Filter
	TypeSnapshot  = "snapshot"  // server → client: Seq and Data
	TypeError     = "error"     // server → client: Error (the connection stays open)
	TypeAlerts    = "alerts"    // server → client: Alerts, on connect when rules exist and after every change of them
)

// Message is the WebSocket envelope, both ways.
type Message struct {
	Type   string    `json:"type"`
	Seq    uint64    `json:"seq,omitempty"`
	Filter *Filter   `json:"filter,omitempty"`
	Data   *Snapshot `json:"data,omitempty"`
	Error  *Error    `json:"error,omitempty"`
	Alerts *Alerts   `json:"alerts,omitempty"`
}

// File is a ledger row: GET /api/files and /api/files/{id}.
type File struct {
	ID             int64    `json:"id"`
	Source         string   `json:"source"` // file, s3 or upload
	Bucket         string   `json:"bucket,omitempty"`
	Key            string   `json:"key"`
	ETag           string   `json:"etag,omitempty"`
	SHA256         string   `json:"sha256,omitempty"` // hex
	SizeBytes      int64    `json:"size_bytes"`
	Status         string   `json:"status"` // loaded, failed or skipped
	LoadPath       string   `json:"load_path,omitempty"`
	RowsTotal      int64    `json:"rows_total"`
	RowsLoaded     int64    `json:"rows_loaded"`
	RowsRejected   int64    `json:"rows_rejected"`
	RowsDuplicate  int64    `json:"rows_duplicate"`
	HeaderShape    string   `json:"header_shape,omitempty"`
	Encoding       string   `json:"encoding,omitempty"`
	Delimiter      string   `json:"delimiter,omitempty"`
	NumberFormat   string   `json:"number_format,omitempty"` // 1234.56 or 1.234,56, as decided from the file
	DateFormat     string   `json:"date_format,omitempty"`   // YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY
	UnknownColumns []string `json:"unknown_columns"`
	Error          string   `json:"error,omitempty"`
	// RepeatsFileID is, for a skipped attempt, the earlier file whose bytes or object version
	// it repeats.
	RepeatsFileID int64      `json:"repeats_file_id,omitempty"`
	EventTime     *time.Time `json:"event_time,omitempty"`
	StartedAt     time.Time  `json:"started_at"`
	FinishedAt    time.Time  `json:"finished_at"`
}

// FilesPage is a page of the ledger, newest first; NextBefore (when not 0) asks for the next.
type FilesPage struct {
	Files      []File `json:"files"`
	NextBefore int64  `json:"next_before,omitempty"`
}

// Reject is a rejected row: GET /api/files/{id}/rejects.
type Reject struct {
	Line   int64  `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`
}

// RejectsPage is a page of a file's rejected rows by line; NextAfter (when not 0) asks for
// the next.
type RejectsPage struct {
	FileID    int64    `json:"file_id"`
	Rejects   []Reject `json:"rejects"`
	NextAfter int64    `json:"next_after,omitempty"`
}

// Upload is the answer to POST /api/uploads: where the file went. It is loaded like any
// object in the bucket; its ledger row appears when that is done.
type Upload struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

// Error is the body of every error response, and of WebSocket error messages.
type Error struct {
	Code    string `json:"code"`            // stable: bad_parameter, not_found, unauthorized, ...
	Message string `json:"message"`         // for people
	Param   string `json:"param,omitempty"` // the parameter at fault, for bad_parameter
}

// Error codes: the stable values of Error.Code.
const (
	CodeBadParameter     = "bad_parameter"      // a query parameter or filter field is malformed; Param names it
	CodeBadMessage       = "bad_message"        // a WebSocket message that is not JSON or not a known type
	CodeNotFound         = "not_found"          // no such file, or no such route
	CodeMethodNotAllowed = "method_not_allowed" // the route exists for other methods
	CodeUnauthorized     = "unauthorized"       // API_TOKEN is set and the request lacks it
	CodeForbiddenOrigin  = "forbidden_origin"   // a browser page from an origin not allowed
	CodeTooLarge         = "too_large"          // an upload over the size limit
	CodeBadFile          = "bad_file"           // an upload that is not a CSV of the contract
	CodeUploadsDisabled  = "uploads_disabled"   // the server has no bucket to put uploads in
	CodeUnavailable      = "unavailable"        // the database or the store cannot be reached, the schema is behind, or the server is at a limit; Retry-After says when to try again
	CodeRateLimited      = "rate_limited"       // a WebSocket client sending messages faster than the server takes them
	CodeUnknownHost      = "unknown_host"       // a Host header that does not name this server (see ALLOWED_HOSTS)
	CodeTimeout          = "timeout"            // a request body that arrived too slowly
	CodeInternal         = "internal"           // anything else; the server logged it
)

// ErrorResponse wraps an Error: {"error": {...}}.
type ErrorResponse struct {
	Error Error `json:"error"`
}
