package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What an alert rule measures.
const (
	MeasureSales          = "sales"            // sales of the window, as the card
	MeasureOrders         = "orders"           // orders of the window
	MeasureAvgTicket      = "avg_ticket"       // average ticket of the window
	MeasureMarginPct      = "margin_pct"       // margin of the window, %
	MeasureCanceledShare  = "canceled_share"   // canceled sales / sales × 100
	MeasureRejectedShare  = "rejected_share"   // rows rejected / rows read × 100, by the files that finished in the window
	MeasureHoursSinceFile = "hours_since_file" // hours since the newest loaded file finished
)

// Measures are the measures in the order the dashboard offers them.
var Measures = []string{MeasureSales, MeasureOrders, MeasureAvgTicket, MeasureMarginPct,
	MeasureCanceledShare, MeasureRejectedShare, MeasureHoursSinceFile}

// FileMeasure reports whether a measure is read from the ledger (files) rather than from
// the sales.
func FileMeasure(m string) bool { return m == MeasureRejectedShare || m == MeasureHoursSinceFile }

// Alert comparisons, and the kinds of event.
const (
	Above         = "above"
	Below         = "below"
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// The units of an alert rule's window (AlertWindow).
const (
	WindowLatestDay = "latest_day" // the newest sale date loaded, or for files the newest day one finished (UTC)
	WindowDays      = "days"       // the last N such days, ending with it
	WindowHours     = "hours"      // the last N hours before the evaluation, by the files' finish times
)

// AlertWindow is a rule's window as written on the wire: "latest_day", "7d" or "24h".
type AlertWindow struct {
	Unit string // WindowLatestDay, WindowDays, WindowHours; "" for none
	Size int    // days or hours; 1 for WindowLatestDay
}

// maxWindow bounds a window: ten years of days, or of hours.
const maxWindow = 87660

// ParseAlertWindow reads "latest_day", "<N>d" or "<N>h"; "" is no window.
func ParseAlertWindow(s string) (AlertWindow, error) {
	if s == "" {
		return AlertWindow{}, nil
	}
	if s == WindowLatestDay {
		return AlertWindow{WindowLatestDay, 1}, nil
	}
	unit := map[byte]string{'d': WindowDays, 'h': WindowHours}[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if unit == "" || err != nil || n < 1 || n > maxWindow || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "0") {
		return AlertWindow{}, fmt.Errorf("window must be latest_day, a number of days such as 7d, or of hours such as 24h (at most %d), not %q", maxWindow, clipped(s))
	}
	return AlertWindow{unit, n}, nil
}

// String is the window as ParseAlertWindow reads it.
func (w AlertWindow) String() string {
	switch w.Unit {
	case WindowLatestDay:
		return WindowLatestDay
	case WindowDays:
		return strconv.Itoa(w.Size) + "d"
	case WindowHours:
		return strconv.Itoa(w.Size) + "h"
	}
	return ""
}

// Describe is the window for people: "latest day", "last 7 days", "last 24 hours".
func (w AlertWindow) Describe() string {
	plural := func(n int, one string) string {
		if n == 1 {
			return "last " + one
		}
		return "last " + strconv.Itoa(n) + " " + one + "s"
	}
	switch w.Unit {
	case WindowLatestDay:
		return "latest day"
	case WindowDays:
		return plural(w.Size, "day")
	case WindowHours:
		return plural(w.Size, "hour")
	}
	return ""
}

func clipped(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// AlertRule is a rule: what POST and PUT /api/alerts take (the fields from Name to
// WebhookURL), and what GET /api/alerts answers, with its state.
type AlertRule struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	Measure    string  `json:"measure"`          // one of Measures
	Window     string  `json:"window,omitempty"` // "latest_day", "7d", "24h" (AlertWindow); none for hours_since_file
	Filter     Filter  `json:"filter"`           // category, region and channel only; sales measures only
	Comparison string  `json:"comparison"`       // above or below: the rule fires while the value is strictly beyond the threshold
	Threshold  float64 `json:"threshold"`        // in the measure's unit (money, orders, %, hours), or % of change when Relative
	// Relative compares the change against the previous window of the same length, in %
	// of the previous value, instead of the value itself.
	Relative   bool       `json:"relative"`
	WebhookURL string     `json:"webhook_url,omitempty"` // http or https; each firing and recovery is POSTed there (AlertWebhook)
	Revision   int        `json:"revision"`              // counts the rule's edits
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	State      AlertState `json:"state"`
}

// AlertState is what the last evaluation of a rule found.
type AlertState struct {
	Firing bool       `json:"firing"`
	Since  *time.Time `json:"since"` // the last firing or recovery; null before any
	// Value is what was compared with the threshold: the measure, or its change in % when the
	// rule is relative. Null when the data could not tell (no sales or files in the window,
	// a previous value of 0 for a change, the server not yet holding every loaded file).
	Value       *float64   `json:"value"`
	Measured    *float64   `json:"measured"` // the measure in the window
	Previous    *float64   `json:"previous"` // and in the previous window, for relative rules
	Covered     Window     `json:"covered"`  // the window evaluated: dates, or RFC 3339 times for hours of files
	EvaluatedAt *time.Time `json:"evaluated_at"`
}

// AlertEvent is a firing or a recovery: GET /api/alerts/events, the WebSocket "alerts"
// message and the webhook's body.
type AlertEvent struct {
	ID         int64     `json:"id"`
	RuleID     int64     `json:"rule_id"` // 0 once the rule is deleted
	RuleName   string    `json:"rule_name"`
	Kind       string    `json:"kind"` // firing or resolved
	Measure    string    `json:"measure"`
	Comparison string    `json:"comparison"`
	Threshold  float64   `json:"threshold"`
	Relative   bool      `json:"relative"`
	Value      *float64  `json:"value"`
	Measured   *float64  `json:"measured"`
	Previous   *float64  `json:"previous"`
	Covered    Window    `json:"covered"`
	Message    string    `json:"message"` // for people: what crossed what
	At         time.Time `json:"at"`
	Delivery   *Delivery `json:"delivery,omitempty"` // to the rule's webhook, when it had one
}

// Delivery is how the POST of an event to its rule's webhook went.
type Delivery struct {
	URL        string     `json:"url"`
	Status     string     `json:"status"` // pending, delivered or failed (out of attempts)
	Attempts   int        `json:"attempts"`
	LastStatus int        `json:"last_status,omitempty"` // the HTTP status of the last attempt
	LastError  string     `json:"last_error,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// AlertEventsPage is a page of the history, newest first; NextBefore (when not 0) asks for
// the next.
type AlertEventsPage struct {
	Events     []AlertEvent `json:"events"`
	NextBefore int64        `json:"next_before,omitempty"`
}

// Alerts is the WebSocket "alerts" message's content: every rule with its state, and the
// events recorded since the last message (none on connect).
type Alerts struct {
	Rules  []AlertRule  `json:"rules"`
	Events []AlertEvent `json:"events,omitempty"`
}

// AlertWebhook is the body POSTed to a rule's webhook: Text for chat tools that show it
// as it is (Slack, Mattermost, Rocket.Chat, Discord with /slack), the event for others.
type AlertWebhook struct {
	Text  string     `json:"text"`
	Event AlertEvent `json:"event"`
}
