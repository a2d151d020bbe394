//go:build !wasm

package ui_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"salespulse/server/api"
	"salespulse/ui"
)

// figuresOf answers every filter with a snapshot of that filter, newest sale on 2024-01-31,
// and records what it was asked.
func figuresOf(asked *[]api.Filter) ui.Figures {
	return func(r *http.Request, f api.Filter) ([]byte, error) {
		*asked = append(*asked, f)
		from, to := f.From, f.To
		if from == "" {
			from, to = "2024-01-01", "2024-01-31"
		}
		return json.Marshal(api.Snapshot{
			Filter: f, Window: api.Window{From: from, To: to}, DataRange: api.Window{From: "2024-01-01", To: "2024-01-31"},
			Totals: api.Totals{Sales: 123456789, Orders: 42},
		})
	}
}

// served is the record a page carries, false when it has none.
func served(t *testing.T, page string) (rec struct{ Key, Cards, Window string }, ok bool) {
	t.Helper()
	const start = `<script type="application/json" id="salespulse-served">`
	i := strings.Index(page, start)
	if i < 0 {
		return rec, false
	}
	if j := strings.Index(page, "salespulseSavePaint"); j < i {
		t.Errorf("the record comes after the script that paints it")
	}
	text := page[i+len(start):]
	text = text[:strings.Index(text, "</script>")]
	if err := json.Unmarshal([]byte(text), &rec); err != nil {
		t.Fatalf("the record: %v\n%s", err, text)
	}
	return rec, true
}

// TestPageFigures: a navigation to the dashboard comes with its view's figures, drawn; the
// copy the service worker fetches, other pages and a server that cannot answer get none.
func TestPageFigures(t *testing.T) {
	var asked []api.Filter
	h := ui.Handler("test", figuresOf(&asked))

	res := get(t, h, "/", "Sec-Fetch-Mode", "navigate")
	page := string(body(t, res))
	rec, ok := served(t, page)
	if res.StatusCode != http.StatusOK || !ok {
		t.Fatalf("navigation to /: %d, record %v", res.StatusCode, ok)
	}
	if rec.Key != "" || !strings.Contains(rec.Cards, `data-kpi="sales"`) || !strings.Contains(rec.Cards, "1,234,567.89") ||
		!strings.Contains(rec.Cards, ">42<") || rec.Window != "2024-01-01 → 2024-01-31 · 31 days" {
		t.Errorf("record %+v", rec)
	}
	if cc, cl := res.Header.Get("Cache-Control"), res.Header.Get("Content-Length"); cc != "no-store" || cl != strconv.Itoa(len(page)) {
		t.Errorf("Cache-Control %q, Content-Length %q for %d bytes", cc, cl, len(page))
	}
	if len(asked) != 1 || asked[0] != (api.Filter{}) {
		t.Errorf("asked %+v, want all sales once", asked)
	}

	// A preset learns the newest sale date first.
	asked = nil
	rec, ok = served(t, string(body(t, get(t, h, "/?range=7d&region=Sul", "Sec-Fetch-Mode", "navigate"))))
	want := []api.Filter{{Region: "Sul"}, {From: "2024-01-25", To: "2024-01-31", Region: "Sul"}}
	if !ok || rec.Key != "range=7d&region=Sul" || rec.Window != "2024-01-25 → 2024-01-31 · 7 days" || len(asked) != 2 || asked[0] != want[0] || asked[1] != want[1] {
		t.Errorf("7 days in Sul: record %v %+v, asked %+v", ok, rec, asked)
	}

	for _, c := range []struct {
		name, path string
		header     []string
	}{
		{"the service worker's copy", "/", []string{"Sec-Fetch-Mode", "cors"}},
		{"a client that does not say", "/", nil},
		{"another page", "/files", []string{"Sec-Fetch-Mode", "navigate"}},
	} {
		asked = nil
		res := get(t, h, c.path, c.header...)
		if _, ok := served(t, string(body(t, res))); ok || res.StatusCode != http.StatusOK || len(asked) != 0 {
			t.Errorf("%s: %d, record %v, asked %+v", c.name, res.StatusCode, ok, asked)
		}
	}

	failing := ui.Handler("test", func(*http.Request, api.Filter) ([]byte, error) { return nil, errors.New("not ready") })
	res = get(t, failing, "/", "Sec-Fetch-Mode", "navigate")
	if _, ok := served(t, string(body(t, res))); ok || res.StatusCode != http.StatusOK {
		t.Errorf("server without figures: %d, record %v", res.StatusCode, ok)
	}
	other := ui.Handler("test", func(r *http.Request, f api.Filter) ([]byte, error) {
		return json.Marshal(api.Snapshot{Filter: api.Filter{Region: "Norte"}})
	})
	if _, ok := served(t, string(body(t, get(t, other, "/", "Sec-Fetch-Mode", "navigate")))); ok {
		t.Error("a snapshot of another filter was served")
	}
}
