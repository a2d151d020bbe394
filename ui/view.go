package ui

import (
	"net/url"
	"time"

	"salespulse/server/api"
)

// Date presets. "Latest day" and the last-N-days presets end at the newest sale date loaded
// (data_range.to), not at today: sales files describe past days, and "today" would usually
// show nothing.
const (
	rangeAll    = "all"
	rangeLatest = "latest"
	range7      = "7d"
	range30     = "30d"
	rangeCustom = "custom"
)

// presets are the date choices in the order the filter bar offers them.
var presets = []struct{ ID, Label string }{
	{rangeLatest, "Latest day"},
	{range7, "7 days"},
	{range30, "30 days"},
	{rangeAll, "All"},
	{rangeCustom, "Custom"},
}

// view is what the dashboard shows: a date preset (or a custom range) and the breakdown
// filters. It lives in the page URL, so that a view can be bookmarked and shared: presets
// stay relative (?range=7d keeps meaning "the last 7 days of data"), custom ranges are
// absolute (?from=2024-10-01&to=2024-10-27).
type view struct {
	Range    string
	From, To string // custom ranges only
	Category string
	Region   string
	Channel  string
}

// parseView reads a view from a URL query. Unknown or malformed values fall back to the
// defaults rather than failing: a stale bookmark should still open the dashboard.
func parseView(q url.Values) view {
	v := view{
		Range:    q.Get("range"),
		Category: q.Get("category"),
		Region:   q.Get("region"),
		Channel:  q.Get("channel"),
	}
	from, to := validDate(q.Get("from")), validDate(q.Get("to"))
	switch v.Range {
	case rangeLatest, range7, range30, rangeAll:
	default:
		if from != "" || to != "" {
			v.Range, v.From, v.To = rangeCustom, from, to
		} else {
			v.Range = rangeAll
		}
	}
	if v.Range == rangeCustom && from > to && to != "" {
		v.From, v.To = to, from
	}
	return v
}

// query is the canonical URL query of the view: defaults are left out.
func (v view) query() url.Values {
	q := url.Values{}
	switch v.Range {
	case rangeCustom:
		if v.From != "" {
			q.Set("from", v.From)
		}
		if v.To != "" {
			q.Set("to", v.To)
		}
	case rangeLatest, range7, range30:
		q.Set("range", v.Range)
	}
	for name, value := range map[string]string{"category": v.Category, "region": v.Region, "channel": v.Channel} {
		if value != "" {
			q.Set(name, value)
		}
	}
	return q
}

// key identifies the view, e.g. for the offline cache: its canonical query.
func (v view) key() string { return v.query().Encode() }

// filter resolves the view to the filter the server understands. Presets need the newest
// sale date: data is the data_range of any snapshot, nil while none has been seen (first
// visit, nothing cached). Then ok is false and the filter covers all dates, which is enough
// to learn data_range from the first snapshot.
func (v view) filter(data *api.Window) (f api.Filter, ok bool) {
	f = api.Filter{Category: v.Category, Region: v.Region, Channel: v.Channel}
	days := 0
	switch v.Range {
	case rangeCustom:
		f.From, f.To = v.From, v.To
		return f, true
	case rangeLatest:
		days = 1
	case range7:
		days = 7
	case range30:
		days = 30
	default:
		return f, true
	}
	if data == nil {
		return f, false
	}
	if data.To == "" {
		return f, true // no sales loaded at all: nothing to narrow
	}
	end, err := time.Parse(time.DateOnly, data.To)
	if err != nil {
		return f, false
	}
	f.From = end.AddDate(0, 0, 1-days).Format(time.DateOnly)
	f.To = data.To
	return f, true
}

// validDate keeps s when it is a YYYY-MM-DD date.
func validDate(s string) string {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return ""
	}
	return s
}
