package server

import (
	"net/url"
	"time"
	"unicode"
	"unicode/utf8"

	"salespulse/server/api"
	"salespulse/server/kpi"
)

const (
	dateLayout = "2006-01-02"
	maxValue   = 200 // the longest category, region or channel the CSV contract allows
)

// query is a validated filter with its dates parsed.
type query = kpi.Query

// filterFromURL reads the filter parameters of GET /api/kpis. Other parameters are ignored
// (cache busters); a filter parameter given twice is refused rather than guessed at.
func filterFromURL(v url.Values) (api.Filter, error) {
	var f api.Filter
	for _, p := range []struct {
		name string
		dst  *string
	}{{"from", &f.From}, {"to", &f.To}, {"category", &f.Category}, {"region", &f.Region}, {"channel", &f.Channel}} {
		switch vals := v[p.name]; len(vals) {
		case 0:
		case 1:
			*p.dst = vals[0]
		default:
			return f, badParam(p.name, "%s is given %d times", p.name, len(vals))
		}
	}
	return f, nil
}

// parseFilter validates a filter from the URL or a WebSocket subscribe message. Unknown
// category, region or channel values are fine: their figures are empty.
func parseFilter(f api.Filter) (query, error) {
	for _, p := range []struct{ name, value string }{{"from", f.From}, {"to", f.To}} {
		if _, err := time.Parse(dateLayout, p.value); p.value != "" && (err != nil || len(p.value) != len(dateLayout)) {
			return query{}, badParam(p.name, "%s must be a date YYYY-MM-DD, not %q", p.name, clip(p.value))
		}
	}
	if f.From != "" && f.To != "" && f.From > f.To {
		return query{}, badParam("from", "from (%s) is after to (%s)", f.From, f.To)
	}
	for _, p := range []struct{ name, value string }{{"category", f.Category}, {"region", f.Region}, {"channel", f.Channel}} {
		if err := checkValue(p.name, p.value); err != nil {
			return query{}, err
		}
	}
	return kpi.ParseQuery(f)
}

func checkValue(param, s string) error {
	if utf8.RuneCountInString(s) > maxValue || !utf8.ValidString(s) {
		return badParam(param, "%s must be valid UTF-8 of at most %d characters", param, maxValue)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return badParam(param, "%s must not contain control characters", param)
		}
	}
	return nil
}

// clip keeps an echoed value short in error messages.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
