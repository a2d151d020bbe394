package ui

import (
	"net/url"
	"testing"

	"salespulse/server/api"
)

func TestParseView(t *testing.T) {
	for _, c := range []struct {
		query string
		want  view
		canon string
	}{
		{"", view{Range: rangeAll}, ""},
		{"range=7d&category=Clothing", view{Range: range7, Category: "Clothing"}, "category=Clothing&range=7d"},
		{"from=2024-10-01&to=2024-10-07", view{Range: rangeCustom, From: "2024-10-01", To: "2024-10-07"}, "from=2024-10-01&to=2024-10-07"},
		{"from=2024-10-07&to=2024-10-01", view{Range: rangeCustom, From: "2024-10-01", To: "2024-10-07"}, "from=2024-10-01&to=2024-10-07"},
		{"from=2024-10-01", view{Range: rangeCustom, From: "2024-10-01"}, "from=2024-10-01"},
		{"range=latest&from=2024-10-01", view{Range: rangeLatest}, "range=latest"}, // a preset wins
		{"range=bogus&from=nope&region=Texas", view{Range: rangeAll, Region: "Texas"}, "region=Texas"},
		{"range=all&channel=Online+Store&token=x", view{Range: rangeAll, Channel: "Online Store"}, "channel=Online+Store"},
	} {
		q, _ := url.ParseQuery(c.query)
		got := parseView(q)
		if got != c.want {
			t.Errorf("parseView(%q) = %+v, want %+v", c.query, got, c.want)
		}
		if k := got.key(); k != c.canon {
			t.Errorf("key of %q = %q, want %q", c.query, k, c.canon)
		}
		if again := parseView(got.query()); again != got {
			t.Errorf("%q does not survive the URL: %+v", c.query, again)
		}
	}
}

func TestViewFilter(t *testing.T) {
	data := &api.Window{From: "2023-10-26", To: "2024-10-26"}
	for _, c := range []struct {
		v      view
		data   *api.Window
		want   api.Filter
		wantOK bool
	}{
		{view{Range: rangeAll, Category: "Clothing"}, nil, api.Filter{Category: "Clothing"}, true},
		{view{Range: rangeLatest}, data, api.Filter{From: "2024-10-26", To: "2024-10-26"}, true},
		{view{Range: range7, Region: "Texas"}, data, api.Filter{From: "2024-10-20", To: "2024-10-26", Region: "Texas"}, true},
		{view{Range: range30}, data, api.Filter{From: "2024-09-27", To: "2024-10-26"}, true},
		{view{Range: range7}, nil, api.Filter{}, false},          // the range is not known yet
		{view{Range: range7}, &api.Window{}, api.Filter{}, true}, // nothing loaded at all
		{view{Range: rangeCustom, From: "2024-01-01"}, nil, api.Filter{From: "2024-01-01"}, true},
	} {
		got, ok := c.v.filter(c.data)
		if got != c.want || ok != c.wantOK {
			t.Errorf("%+v over %+v = %+v %v, want %+v %v", c.v, c.data, got, ok, c.want, c.wantOK)
		}
	}
}
