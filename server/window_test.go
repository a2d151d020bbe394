package server

import (
	"testing"
	"time"

	"salespulse/server/api"
)

func TestWindowSplitsIntoDaysAndWholeMonths(t *testing.T) {
	d := func(s string) time.Time {
		t, err := time.Parse(dateLayout, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	str := func(g grains) [4]string {
		part := func(from, to time.Time) string {
			if from.After(to) {
				return "-"
			}
			return from.Format(dateLayout) + ".." + to.Format(dateLayout)
		}
		return [4]string{part(g.headFrom.Time, g.headTo.Time), part(g.monthFrom.Time, g.monthTo.Time),
			part(g.tailFrom.Time, g.tailTo.Time), part(g.dayFrom.Time, g.dayTo.Time)}
	}
	for _, c := range []struct {
		from, to string
		want     [4]string // head days, months (first days), tail days, all days
	}{
		{"2024-02-10", "2024-05-20", [4]string{"2024-02-10..2024-02-29", "2024-03-01..2024-04-01", "2024-05-01..2024-05-20", "2024-02-10..2024-05-20"}},
		{"2024-03-01", "2024-03-31", [4]string{"-", "2024-03-01..2024-03-01", "-", "2024-03-01..2024-03-31"}},
		{"2024-03-01", "2024-04-30", [4]string{"-", "2024-03-01..2024-04-01", "-", "2024-03-01..2024-04-30"}},
		{"2024-03-05", "2024-03-20", [4]string{"2024-03-05..2024-03-20", "-", "-", "2024-03-05..2024-03-20"}},
		{"2024-03-05", "2024-04-02", [4]string{"2024-03-05..2024-04-02", "-", "-", "2024-03-05..2024-04-02"}},
		{"2024-03-01", "2024-04-02", [4]string{"-", "2024-03-01..2024-03-01", "2024-04-01..2024-04-02", "2024-03-01..2024-04-02"}},
		{"2024-02-15", "2024-03-31", [4]string{"2024-02-15..2024-02-29", "2024-03-01..2024-03-01", "-", "2024-02-15..2024-03-31"}},
		{"2024-12-31", "2024-12-31", [4]string{"2024-12-31..2024-12-31", "-", "-", "2024-12-31..2024-12-31"}},
		{"2023-01-01", "2024-12-31", [4]string{"-", "2023-01-01..2024-12-01", "-", "2023-01-01..2024-12-31"}},
	} {
		w := window{from: d(c.from), to: d(c.to)}
		if got := str(w.grains()); got != c.want {
			t.Errorf("%s..%s: %v, want %v", c.from, c.to, got, c.want)
		}
	}
	if got := str(window{empty: true}.grains()); got != [4]string{"-", "-", "-", "-"} {
		t.Errorf("empty window: %v", got)
	}
}

func TestFilterResolvesOpenEnds(t *testing.T) {
	first, last := time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		f    api.Filter
		want api.Window
	}{
		{api.Filter{}, api.Window{From: "2024-01-05", To: "2024-06-30"}},
		{api.Filter{From: "2024-03-01"}, api.Window{From: "2024-03-01", To: "2024-06-30"}},
		{api.Filter{To: "2024-02-01"}, api.Window{From: "2024-01-05", To: "2024-02-01"}},
		{api.Filter{From: "2024-07-01"}, api.Window{}}, // after the last sale: nothing
	} {
		q, err := parseFilter(c.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.resolve(first, last).api(); got != c.want {
			t.Errorf("%+v: %+v, want %+v", c.f, got, c.want)
		}
	}
	q, _ := parseFilter(api.Filter{})
	if w := q.resolve(time.Time{}, time.Time{}); !w.empty {
		t.Errorf("no sales and no window: %+v", w)
	}
}

func TestRounding(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{
		{10, 4, 3}, {10, 3, 3}, {11, 2, 6}, {-11, 2, -6}, {-10, 4, -3}, {9, 4, 2}, {7, 0, 0}, {362790575, 2663, 136234},
	} {
		if got := divRound(c.a, c.b); got != c.want {
			t.Errorf("divRound(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	for _, c := range []struct {
		profit, sales int64
		want          float64
	}{
		{1, 3, 33.33}, {2, 3, 66.67}, {1, 8, 12.5}, {-1, 8, -12.5}, {1, 200000, 0}, {1, 20000, 0.01}, {0, 0, 0}, {5, 5, 100},
	} {
		if got := marginPct(c.profit, c.sales); got != c.want {
			t.Errorf("marginPct(%d, %d) = %v, want %v", c.profit, c.sales, got, c.want)
		}
	}
}

func TestCORS(t *testing.T) {
	srv := startServer(t, Config{AllowedOrigins: []string{"https://dash.example.com"}})
	req, _ := newRequest("OPTIONS", srv.URL()+"/api/uploads", map[string]string{
		"Origin": "https://dash.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
	resp := send(t, req)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
		resp.Header.Get("Access-Control-Allow-Headers") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req, _ = newRequest("GET", srv.URL()+"/api/kpis", map[string]string{"Origin": "https://evil.example.com"})
	if resp := send(t, req); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a foreign origin was allowed: %v", resp.Header)
	}
}

func TestHalvesCoverTheWindowOnce(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(dateLayout, s); return t }
	for _, c := range []struct{ from, to string }{
		{"2023-01-01", "2024-12-31"}, {"2024-02-10", "2024-05-20"}, {"2024-02-10", "2024-03-31"},
		{"2024-03-05", "2024-03-20"}, {"2024-03-01", "2024-03-31"}, {"2024-02-15", "2024-06-03"},
	} {
		g := window{from: d(c.from), to: d(c.to)}.grains()
		seen := map[string]int{}
		for _, h := range g.halves() {
			for day := h.headFrom.Time; !day.After(h.headTo.Time); day = day.AddDate(0, 0, 1) {
				seen[day.Format(dateLayout)]++
			}
			for m := h.monthFrom.Time; !m.After(h.monthTo.Time); m = m.AddDate(0, 1, 0) {
				for day := m; day.Month() == m.Month(); day = day.AddDate(0, 0, 1) {
					seen[day.Format(dateLayout)]++
				}
			}
			for day := h.tailFrom.Time; !day.After(h.tailTo.Time); day = day.AddDate(0, 0, 1) {
				seen[day.Format(dateLayout)]++
			}
		}
		want := 0
		for day := d(c.from); !day.After(d(c.to)); day = day.AddDate(0, 0, 1) {
			want++
			if seen[day.Format(dateLayout)] != 1 {
				t.Errorf("%s..%s: %s read %d times", c.from, c.to, day.Format(dateLayout), seen[day.Format(dateLayout)])
			}
		}
		if len(seen) != want {
			t.Errorf("%s..%s: %d days read, want %d", c.from, c.to, len(seen), want)
		}
	}
}
