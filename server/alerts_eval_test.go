package server

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/server/api"
)

// The value of every sales rule, over each kind of window and filter, is the one computed
// independently from the files; the rules whose threshold it crosses fire, once.
func TestAlertRulesMatchTheOracle(t *testing.T) {
	withFixtures(t)
	clearAlerts(t)
	srv := startServer(t, Config{})
	truth := oracle.FixtureInputs(t)
	last, _ := time.Parse(time.DateOnly, truth.KPIs(api.Filter{}).DataRange.To)
	window := func(days int, f api.Filter) (api.Filter, api.Filter) {
		f.From, f.To = last.AddDate(0, 0, 1-days).Format(time.DateOnly), last.Format(time.DateOnly)
		prev := f
		prev.From, prev.To = last.AddDate(0, 0, 1-2*days).Format(time.DateOnly), last.AddDate(0, 0, -days).Format(time.DateOnly)
		return f, prev
	}
	type check struct {
		rule api.AlertRule
		days int // the window in days, as the rule's window resolves
	}
	var checks []check
	for i, c := range []struct {
		measure, window string
		days            int
		filter          api.Filter
		relative        bool
	}{
		{api.MeasureSales, "latest_day", 1, api.Filter{}, false},
		{api.MeasureOrders, "7d", 7, api.Filter{Region: "Texas"}, false},
		{api.MeasureAvgTicket, "30d", 30, api.Filter{Category: "Technology"}, false},
		{api.MeasureMarginPct, "48h", 2, api.Filter{}, false}, // hours of sales: whole days
		{api.MeasureCanceledShare, "90d", 90, api.Filter{Channel: "Online Store"}, false},
		{api.MeasureSales, "7d", 7, api.Filter{}, true},
		{api.MeasureOrders, "30d", 30, api.Filter{Category: "Clothing", Region: "Florida"}, true},
		{api.MeasureMarginPct, "latest_day", 1, api.Filter{Channel: "Marketplace"}, true},
		{api.MeasureSales, "7d", 7, api.Filter{Category: "Nope"}, false},
	} {
		cur, prev := window(c.days, c.filter)
		want, ok := truth.KPIs(cur).Measure(c.measure)
		if c.relative {
			p, pok := truth.KPIs(prev).Measure(c.measure)
			want, ok = oracle.ChangePct(want, p)
			ok = ok && pok
		}
		if !ok {
			t.Fatalf("case %d: the oracle has no value for %+v", i, c)
		}
		// Every other rule fires: above just under the value, or below just under it.
		comparison := api.Above
		if i%2 == 1 {
			comparison = api.Below
		}
		r := createRule(t, srv, api.AlertRule{Name: fmt.Sprintf("rule %d", i), Measure: c.measure, Window: c.window,
			Filter: c.filter, Comparison: comparison, Threshold: want - 0.01, Relative: c.relative})
		checks = append(checks, check{r, c.days})
	}
	state := evaluatedAfter(t, srv)
	var firing []int64
	for _, c := range checks {
		r := c.rule
		got := state[r.ID].State
		cur, prev := window(c.days, r.Filter)
		k := truth.KPIs(cur)
		want, _ := k.Measure(r.Measure)
		if got.Measured == nil || *got.Measured != want {
			t.Errorf("%s (%s %s %+v): measured %v, the files say %v", r.Name, r.Measure, r.Window, r.Filter, ptr(got.Measured), want)
		}
		if r.Relative {
			p, _ := truth.KPIs(prev).Measure(r.Measure)
			change, _ := oracle.ChangePct(want, p)
			if got.Previous == nil || *got.Previous != p || got.Value == nil || *got.Value != change {
				t.Errorf("%s: previous %v and change %v, the files say %v and %v", r.Name, ptr(got.Previous), ptr(got.Value), p, change)
			}
		}
		if got.Covered != (api.Window{From: cur.From, To: cur.To}) {
			t.Errorf("%s: covered %+v, want %s to %s", r.Name, got.Covered, cur.From, cur.To)
		}
		if wantFiring := r.Comparison == api.Above; got.Firing != wantFiring {
			t.Errorf("%s: firing %v with value %v %s %v", r.Name, got.Firing, ptr(got.Value), r.Comparison, r.Threshold)
		}
		if got.Firing {
			firing = append(firing, r.ID)
		}
	}
	var fired []int64
	for _, e := range events(t, srv) {
		if e.Kind != api.AlertFiring {
			t.Errorf("event %+v: only firings were due", e)
		}
		fired = append(fired, e.RuleID)
	}
	if !slices.Equal(fired, firing) {
		t.Errorf("events for rules %v, want one for each firing rule %v", fired, firing)
	}
}

func ptr(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// Over several loads, a rule fires when its value crosses the threshold and recovers when it
// comes back, each recorded once however often rules are evaluated meanwhile.
func TestAlertFiresAndRecoversOnceAcrossLoads(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	srv := startServer(t, Config{Alerts: AlertsConfig{Interval: 20 * time.Millisecond}}) // evaluations all the time
	orders := createRule(t, srv, api.AlertRule{Name: "Few orders", Measure: api.MeasureOrders, Window: "latest_day",
		Comparison: api.Below, Threshold: 50})
	drop := createRule(t, srv, api.AlertRule{Name: "Sales halved", Measure: api.MeasureSales, Window: "latest_day",
		Comparison: api.Below, Threshold: -50, Relative: true})
	type step struct {
		rows int
		day  string
		// the state each rule must then be in
		few, halved bool
	}
	truth := oracle.New()
	for i, s := range []step{
		{100, "2024-05-01", false, false}, // 100 orders; no day before to compare with
		{100, "2024-05-02", false, false}, // 100 and 100
		{10, "2024-05-03", true, true},    // 10 orders, about a tenth of the sales: both fire
		{10, "2024-05-03", true, true},    // 20: still firing, no new event
		{80, "2024-05-03", false, false},  // 100 orders: both recover
		{5, "2024-05-03", false, false},   // 105
		{5, "2024-05-04", true, true},     // a new latest day of 5: both fire again
	} {
		path := generated(t, s.rows, uint64(100+i), s.day, 0)
		truth.AddFile(t, path)
		loadFiles(t, path)
		state := evaluatedAfter(t, srv)
		for _, c := range []struct {
			rule api.AlertRule
			want bool
		}{{orders, s.few}, {drop, s.halved}} {
			got := state[c.rule.ID].State
			if got.Firing != c.want {
				t.Errorf("step %d (%d rows on %s): %s firing %v with value %v, want %v", i, s.rows, s.day, c.rule.Name, got.Firing, ptr(got.Value), c.want)
			}
		}
		want, _ := truth.KPIs(api.Filter{From: s.day, To: s.day}).Measure(api.MeasureOrders)
		if got := state[orders.ID].State.Measured; got == nil || *got != want {
			t.Errorf("step %d: orders of the latest day %v, the files say %v", i, ptr(got), want)
		}
		time.Sleep(60 * time.Millisecond) // a few ticks of the timer in each state
	}
	var kinds []string
	for _, e := range events(t, srv) {
		kinds = append(kinds, fmt.Sprintf("%d:%s", e.RuleID, e.Kind))
	}
	want := []string{}
	for _, k := range []string{"firing", "resolved", "firing"} {
		want = append(want, fmt.Sprintf("%d:%s", orders.ID, k), fmt.Sprintf("%d:%s", drop.ID, k))
	}
	slices.Sort(kinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want each firing and recovery once: %v", kinds, want)
	}
	if n := testDB.Int(t, "SELECT transitions FROM alert_rules WHERE id = $1", orders.ID); n != 3 {
		t.Errorf("%d transitions recorded, want 3", n)
	}
}

// "No file for a while" fires on the timer alone, with no file to trigger it, and recovers
// with the next file.
func TestStaleDataFiresOnTheTimer(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	srv := startServer(t, Config{Alerts: AlertsConfig{Interval: 50 * time.Millisecond}})
	loadFiles(t, generated(t, 10, 1, "2024-05-01", 0))
	const threshold = 0.0006 // hours: about two seconds
	r := createRule(t, srv, api.AlertRule{Name: "No files", Measure: api.MeasureHoursSinceFile, Comparison: api.Above, Threshold: threshold})
	poll.Until(t, "the stale-data rule firing", 10*time.Second, func() bool { return rules(t, srv)[r.ID].State.Firing })
	st := rules(t, srv)[r.ID].State
	if st.Value == nil || *st.Value <= threshold || st.Covered.From == "" {
		t.Errorf("firing state %+v", st)
	}
	var finished time.Time
	if err := testDB.Pool.QueryRow(t.Context(), "SELECT max(finished_at) FROM ingested_files").Scan(&finished); err != nil {
		t.Fatal(err)
	}
	loadFiles(t, generated(t, 10, 2, "2024-05-02", 0))
	poll.Until(t, "the stale-data rule recovering", 10*time.Second, func() bool { return !rules(t, srv)[r.ID].State.Firing })
	ev := events(t, srv)
	if len(ev) != 2 || ev[0].Kind != api.AlertFiring || ev[1].Kind != api.AlertResolved {
		t.Fatalf("events %+v, want a firing then a recovery", ev)
	}
	if ev[0].Message == "" || ev[0].Covered.From == "" || ev[0].At.Sub(finished).Hours() <= threshold {
		t.Errorf("firing event %+v, for a file that finished at %v", ev[0], finished)
	}
}

// The rejected share of the files that finished in the window, failed files included.
func TestRejectedShareRule(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	srv := startServer(t, Config{})
	r := createRule(t, srv, api.AlertRule{Name: "Rejects", Measure: api.MeasureRejectedShare, Window: "6h",
		Comparison: api.Above, Threshold: 10})
	results := loadFiles(t, generated(t, 400, 1, "2024-05-01", 0.02), generated(t, 200, 2, "2024-05-02", 0.6))
	if results[1].Status != etl.StatusFailed {
		t.Fatalf("the second file %s, want failed over the reject ratio", results[1].Status)
	}
	var rejected, total int64
	for _, res := range results {
		rejected, total = rejected+res.RowsRejected, total+res.RowsTotal
	}
	st := evaluatedAfter(t, srv)[r.ID].State
	want := oracle.Share(rejected, total)
	if st.Measured == nil || *st.Measured != want || !st.Firing {
		t.Errorf("rejected share %v firing %v, want %v (%d of %d rows) firing", ptr(st.Measured), st.Firing, want, rejected, total)
	}
}
