package server

import (
	"net/url"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/server/api"
)

const (
	dateLayout = "2006-01-02"
	maxValue   = 200 // the longest category, region or channel the CSV contract allows
)

// query is a validated filter with its dates parsed; a zero date leaves that end open.
type query struct {
	filter   api.Filter
	from, to time.Time
}

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
	q := query{filter: f}
	var err error
	if q.from, err = parseDate("from", f.From); err != nil {
		return q, err
	}
	if q.to, err = parseDate("to", f.To); err != nil {
		return q, err
	}
	if !q.from.IsZero() && !q.to.IsZero() && q.from.After(q.to) {
		return q, badParam("from", "from (%s) is after to (%s)", f.From, f.To)
	}
	for _, p := range []struct{ name, value string }{{"category", f.Category}, {"region", f.Region}, {"channel", f.Channel}} {
		if err := checkValue(p.name, p.value); err != nil {
			return q, err
		}
	}
	return q, nil
}

func parseDate(param, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) {
		return time.Time{}, badParam(param, "%s must be a date YYYY-MM-DD, not %q", param, clip(s))
	}
	return t, nil
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

// window is the range of sale dates a snapshot covers, inclusive; empty when there is none
// (no sales loaded, or an open end that resolves past the other).
type window struct {
	from, to time.Time
	empty    bool
}

// resolve closes the open ends of q with the first and last sale dates loaded (zero when
// there are none): no window means all loaded sales.
func (q query) resolve(first, last time.Time) window {
	w := window{from: q.from, to: q.to}
	if w.from.IsZero() {
		w.from = first
	}
	if w.to.IsZero() {
		w.to = last
	}
	w.empty = w.from.IsZero() || w.to.IsZero() || w.from.After(w.to)
	return w
}

func (w window) api() api.Window {
	if w.empty {
		return api.Window{}
	}
	return api.Window{From: w.from.Format(dateLayout), To: w.to.Format(dateLayout)}
}

// grains is a window split for the rollups: whole months are read from grain 'm', the
// ragged days before the first and after the last whole month from grain 'd'. An empty part
// has from > to, which the queries' BETWEEN never matches.
type grains struct {
	headFrom, headTo   pgtype.Date
	tailFrom, tailTo   pgtype.Date
	monthFrom, monthTo pgtype.Date // first days of the first and last whole month
	dayFrom, dayTo     pgtype.Date // the whole window in days, for per-day series
}

var (
	noneFrom = date(time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC))
	noneTo   = date(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))
)

func date(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }

func (w window) grains() grains {
	g := grains{noneFrom, noneTo, noneFrom, noneTo, noneFrom, noneTo, noneFrom, noneTo}
	if w.empty {
		return g
	}
	g.dayFrom, g.dayTo = date(w.from), date(w.to)
	firstWhole := monthStart(w.from)
	if w.from.Day() != 1 {
		firstWhole = firstWhole.AddDate(0, 1, 0)
	}
	lastWholeEnd := w.to
	if next := w.to.AddDate(0, 0, 1); next.Day() != 1 {
		lastWholeEnd = monthStart(w.to).AddDate(0, 0, -1)
	}
	if firstWhole.After(lastWholeEnd) { // no whole month: days only
		g.headFrom, g.headTo = date(w.from), date(w.to)
		return g
	}
	if w.from.Before(firstWhole) {
		g.headFrom, g.headTo = date(w.from), date(firstWhole.AddDate(0, 0, -1))
	}
	g.monthFrom, g.monthTo = date(firstWhole), date(monthStart(lastWholeEnd))
	if lastWholeEnd.Before(w.to) {
		g.tailFrom, g.tailTo = date(lastWholeEnd.AddDate(0, 0, 1)), date(w.to)
	}
	return g
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// halves splits the window in two for the reads worth sharing between two connections: the
// head days and the first half of the whole months, then the other months and the tail days.
func (g grains) halves() [2]grains {
	first, second := g, g
	first.tailFrom, first.tailTo = noneFrom, noneTo
	second.headFrom, second.headTo = noneFrom, noneTo
	months := 0
	if !g.monthFrom.Time.After(g.monthTo.Time) {
		from, to := g.monthFrom.Time, g.monthTo.Time
		months = (to.Year()-from.Year())*12 + int(to.Month()-from.Month()) + 1
	}
	if months < 2 {
		second.monthFrom, second.monthTo = noneFrom, noneTo // the months, if any, go first
		return [2]grains{first, second}
	}
	mid := g.monthFrom.Time.AddDate(0, months/2, 0)
	first.monthTo = date(mid.AddDate(0, -1, 0))
	second.monthFrom = date(mid)
	return [2]grains{first, second}
}
