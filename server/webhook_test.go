package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"salespulse/internal/poll"
	"salespulse/queries/db"
	"salespulse/server/api"
)

// fastHooks are webhook settings for tests: three attempts, a few milliseconds apart.
var fastHooks = AlertsConfig{Interval: time.Second, WebhookAttempts: 3, WebhookBackoff: 20 * time.Millisecond, WebhookTimeout: 2 * time.Second}

// ordersBelow is a rule that fires as soon as any file loaded: fewer than a million orders.
func ordersBelow(name, webhook string) api.AlertRule {
	return api.AlertRule{Name: name, Measure: api.MeasureOrders, Window: "latest_day", Comparison: api.Below, Threshold: 1e6, WebhookURL: webhook}
}

func TestWebhookDeliversTheEvent(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	h := newHook(t, http.StatusOK)
	srv := startServer(t, Config{Alerts: fastHooks})
	r := createRule(t, srv, ordersBelow("Orders", h.url))
	loadFiles(t, generated(t, 20, 1, "2024-05-01", 0))
	poll.Until(t, "the delivery", 10*time.Second, func() bool {
		ev := events(t, srv)
		return len(ev) == 1 && ev[0].Delivery != nil && ev[0].Delivery.Status == "delivered"
	})
	ev := events(t, srv)[0]
	posts := h.posts()
	if len(posts) != 1 {
		t.Fatalf("%d POSTs, want 1", len(posts))
	}
	p := posts[0]
	if p.body.Event.ID != ev.ID || p.body.Event.RuleID != r.ID || p.body.Event.Kind != api.AlertFiring || p.body.Text != ev.Message ||
		!strings.HasPrefix(p.body.Text, "Orders: orders, latest day (2024-05-01) is 20, below 1000000") {
		t.Errorf("webhook body %+v, event %+v", p.body, ev)
	}
	if got := p.header.Get("Idempotency-Key"); got != "salespulse-alert-"+strconv.FormatInt(ev.ID, 10) {
		t.Errorf("Idempotency-Key %q", got)
	}
	if p.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", p.header.Get("Content-Type"))
	}
	if d := ev.Delivery; d.Attempts != 1 || d.LastStatus != 200 || d.LastError != "" || d.FinishedAt == nil || d.URL != h.url {
		t.Errorf("delivery %+v", d)
	}
}

// A webhook that answers 500 is tried WebhookAttempts times, further and further apart, then
// the delivery is recorded failed with the answer.
func TestWebhookAnswering500IsRetriedThenRecordedFailed(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	h := newHook(t, http.StatusInternalServerError)
	srv := startServer(t, Config{Alerts: fastHooks})
	createRule(t, srv, ordersBelow("Orders", h.url))
	loadFiles(t, generated(t, 20, 1, "2024-05-01", 0))
	poll.Until(t, "the delivery recorded failed", 10*time.Second, func() bool {
		ev := events(t, srv)
		return len(ev) == 1 && ev[0].Delivery != nil && ev[0].Delivery.Status == "failed"
	})
	d := events(t, srv)[0].Delivery
	if d.Attempts != fastHooks.WebhookAttempts || d.LastStatus != 500 || !strings.Contains(d.LastError, "500 Internal Server Error") || d.FinishedAt == nil {
		t.Errorf("delivery %+v, want %d attempts ending with the 500", d, fastHooks.WebhookAttempts)
	}
	posts := h.posts()
	if len(posts) != fastHooks.WebhookAttempts {
		t.Fatalf("%d POSTs, want %d", len(posts), fastHooks.WebhookAttempts)
	}
	for i := 1; i < len(posts); i++ {
		if posts[i].body.Event.ID != posts[0].body.Event.ID {
			t.Errorf("attempt %d posted event %d, want %d", i, posts[i].body.Event.ID, posts[0].body.Event.ID)
		}
	}
	time.Sleep(200 * time.Millisecond) // were there a fourth attempt, it would be due by now
	if n := len(h.posts()); n != fastHooks.WebhookAttempts {
		t.Errorf("%d POSTs after the delivery failed", n)
	}
}

// A webhook that does not answer holds neither the evaluations nor the other deliveries.
func TestSlowWebhookBlocksNothing(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	slow := newHook(t, http.StatusOK)
	slow.block = make(chan struct{})
	fast := newHook(t, http.StatusOK)
	srv := startServer(t, Config{Alerts: AlertsConfig{Interval: time.Second, WebhookTimeout: time.Minute}})
	createRule(t, srv, ordersBelow("Slow", slow.url))
	loadFiles(t, generated(t, 20, 1, "2024-05-01", 0))
	poll.Until(t, "the slow webhook's request", 10*time.Second, func() bool { return len(slow.posts()) == 1 })
	createRule(t, srv, ordersBelow("Fast", fast.url))
	poll.Until(t, "the second rule firing and its delivery while the first hangs", 10*time.Second, func() bool {
		return len(fast.posts()) == 1
	})
	if ev := events(t, srv); len(ev) != 2 || ev[0].Delivery.Status != "pending" {
		t.Errorf("events %+v, want the slow one still pending", ev)
	}
	close(slow.block)
	poll.Until(t, "the slow delivery", 10*time.Second, func() bool {
		ev := events(t, srv)
		return ev[0].Delivery.Status == "delivered"
	})
}

// Two servers evaluate the same files at once: each firing and recovery is recorded once,
// and its webhook called once.
func TestReplicasRecordAndDeliverEachEventOnce(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	h := newHook(t, http.StatusOK)
	cfg := Config{Alerts: AlertsConfig{Interval: 10 * time.Millisecond, WebhookBackoff: 10 * time.Millisecond}}
	a, b := startServer(t, cfg), startServer(t, cfg)
	r := createRule(t, a, api.AlertRule{Name: "Few orders", Measure: api.MeasureOrders, Window: "latest_day",
		Comparison: api.Below, Threshold: 50, WebhookURL: h.url})
	days := []struct {
		rows int
		day  string
	}{{100, "2024-05-01"}, {10, "2024-05-02"}, {100, "2024-05-03"}, {10, "2024-05-04"}, {10, "2024-05-05"}, {100, "2024-05-06"}}
	for i, d := range days {
		loadFiles(t, generated(t, d.rows, uint64(i+1), d.day, 0))
		evaluatedAfter(t, a)
	}
	want := []string{api.AlertFiring, api.AlertResolved, api.AlertFiring, api.AlertResolved}
	poll.Until(t, "every delivery", 10*time.Second, func() bool {
		ev := events(t, b)
		if len(ev) != len(want) {
			return false
		}
		for _, e := range ev {
			if e.Delivery == nil || e.Delivery.Status != "delivered" {
				return false
			}
		}
		return true
	})
	ev := events(t, a)
	for i, e := range ev {
		if e.Kind != want[i] || e.RuleID != r.ID {
			t.Errorf("event %d: %s of rule %d, want %s", i, e.Kind, e.RuleID, want[i])
		}
	}
	if len(ev) != len(want) {
		t.Errorf("%d events, want %d: %+v", len(ev), len(want), ev)
	}
	seen := map[int64]int{}
	for _, p := range h.posts() {
		seen[p.body.Event.ID]++
	}
	for _, e := range ev {
		if seen[e.ID] != 1 {
			t.Errorf("event %d was posted %d times", e.ID, seen[e.ID])
		}
	}
	if len(seen) != len(ev) {
		t.Errorf("posts for events %v, want those of %d events", seen, len(ev))
	}
}

// Many evaluations of the same data deciding at the same moment, as many servers would,
// record one transition.
func TestConcurrentDecisionsRecordOneTransition(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	srv := startServer(t, Config{Alerts: AlertsConfig{Interval: time.Hour}})
	r := createRule(t, srv, ordersBelow("Orders", "http://127.0.0.1:1/hooks/x"))
	evaluatedAfter(t, srv) // no sales yet: evaluated, nothing to tell
	loadFiles(t, generated(t, 20, 1, "2024-05-01", 0))
	poll.Until(t, "the engine holding the file", 10*time.Second, func() bool { return len(srv.engine.Files()) == 1 })
	rows, err := db.New(testDB.Pool).ListAlertRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	outcomes, rd, err := srv.alerts.measure(context.Background(), rows)
	if err != nil || outcomes[0].skip || outcomes[0].value == nil {
		t.Fatalf("measure: %+v %v", outcomes, err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := srv.alerts.decide(context.Background(), rows[0], outcomes[0], rd); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := testDB.Int(t, "SELECT count(*) FROM alert_events WHERE rule_id = $1", r.ID); n != 1 {
		t.Errorf("%d events recorded, want 1", n)
	}
	if n := testDB.Int(t, "SELECT count(*) FROM alert_deliveries"); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
	// An evaluation on fewer ledger rows than the one recorded decides nothing.
	stale := rd
	stale.ledger.Attempts--
	resolved := outcomes[0]
	v := 2e6
	resolved.value = &v
	if err := srv.alerts.decide(context.Background(), rows[0], resolved, stale); err != nil {
		t.Fatal(err)
	}
	if n := testDB.Int(t, "SELECT count(*) FROM alert_events"); n != 1 {
		t.Errorf("an evaluation on older data recorded an event: %d events", n)
	}
}

// Dashboards hear of rules and their state on connect and of every firing and recovery as
// it is recorded, by whichever server recorded it.
func TestAlertsReachTheWebSocket(t *testing.T) {
	testDB.Reset(t)
	dirty()
	clearAlerts(t)
	cfg := Config{Alerts: AlertsConfig{Interval: 20 * time.Millisecond}}
	a, b := startServer(t, cfg), startServer(t, cfg)
	c := dial(t, wsURL(b, ""), nil)
	snapshot(t, c, 5*time.Second)
	r := createRule(t, a, ordersBelow("Orders", ""))
	next := func(what string, ok func(*api.Alerts) bool) *api.Alerts {
		t.Helper()
		for {
			m := read(t, c, 5*time.Second)
			if m.Type == api.TypeAlerts && m.Alerts != nil && ok(m.Alerts) {
				return m.Alerts
			}
		}
	}
	next("the new rule", func(al *api.Alerts) bool { return len(al.Rules) == 1 && al.Rules[0].ID == r.ID })
	loadFiles(t, generated(t, 20, 1, "2024-05-01", 0))
	got := next("the firing", func(al *api.Alerts) bool { return len(al.Events) > 0 })
	if e := got.Events[0]; e.Kind != api.AlertFiring || e.RuleID != r.ID || !got.Rules[0].State.Firing || len(got.Events) != 1 {
		t.Errorf("alerts message %+v", got)
	}
	// A dashboard that connects now is told the state, without the past events (once the
	// other server saw the firing too).
	poll.Until(t, "the other server's state", 5*time.Second, func() bool {
		a.alerts.mu.Lock()
		defer a.alerts.mu.Unlock()
		return strings.Contains(string(a.alerts.current), `"firing":true`)
	})
	c2 := dial(t, wsURL(a, ""), nil)
	snapshot(t, c2, 5*time.Second)
	m := read(t, c2, 5*time.Second)
	if m.Type != api.TypeAlerts || m.Alerts == nil || len(m.Alerts.Rules) != 1 || !m.Alerts.Rules[0].State.Firing || len(m.Alerts.Events) != 0 {
		t.Errorf("on connect: %+v", m)
	}
	if code, _ := do(t, "DELETE", a.URL()+"/api/alerts/"+strconv.FormatInt(r.ID, 10)); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	next("no rules any more", func(al *api.Alerts) bool { return len(al.Rules) == 0 })
}
