package kpi

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/server/api"
)

// generate adds a generated file of sales between two dates to an oracle's inputs and to
// an engine, and returns what it did.
func generate(t *testing.T, e *Engine, all *oracle.Inputs, seed uint64, from, to string, rows int) Footprint {
	t.Helper()
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	var buf bytes.Buffer
	if _, err := etl.Generate(&buf, etl.GenerateOptions{Rows: rows, Seed: seed, From: a, To: b}); err != nil {
		t.Fatal(err)
	}
	file := oracle.New()
	if err := file.Add(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := all.Add(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return feed(t, e, file, 1<<30)
}

// The previous window is the one of the same length just before the window, with the
// oracle's totals; a window with an open start, or none at all, says why it has none.
func TestPreviousWindows(t *testing.T) {
	e, in := New(), oracle.New()
	generate(t, e, in, 1, "2024-03-01", "2024-06-30", 3000)
	for _, c := range []struct {
		filter api.Filter
		want   api.Window
		reason string
	}{
		{api.Filter{From: "2024-06-30", To: "2024-06-30"}, api.Window{From: "2024-06-29", To: "2024-06-29"}, ""},
		{api.Filter{From: "2024-06-24", To: "2024-06-30"}, api.Window{From: "2024-06-17", To: "2024-06-23"}, ""},
		{api.Filter{From: "2024-05-01", To: "2024-05-31", Category: "Technology"}, api.Window{From: "2024-03-31", To: "2024-04-30"}, ""},
		{api.Filter{From: "2024-03-05", To: "2024-03-20"}, api.Window{From: "2024-02-18", To: "2024-03-04"}, ""}, // partly before the sales
		{api.Filter{From: "2024-06-01"}, api.Window{From: "2024-05-02", To: "2024-05-31"}, ""},                   // open end: up to the last day
		{api.Filter{From: "2024-01-01", To: "2024-12-31"}, api.Window{From: "2022-12-31", To: "2023-12-31"}, ""}, // 366 days
		{api.Filter{To: "2024-05-31"}, api.Window{}, api.PreviousOpenStart},
		{api.Filter{}, api.Window{}, api.PreviousOpenStart},
		{api.Filter{From: "2030-01-01"}, api.Window{}, api.PreviousNoWindow},
		{api.Filter{From: "0001-01-01", To: "0001-01-05"}, api.Window{}, api.PreviousNoWindow},
		{api.Filter{From: "2024-06-01", Category: "Nope"}, api.Window{From: "2024-05-02", To: "2024-05-31"}, ""},
	} {
		snap := e.Snapshot(query(t, c.filter))
		if snap.Previous.Window != c.want || snap.Previous.Reason != c.reason {
			t.Errorf("filter %+v: previous %+v, want window %+v reason %q", c.filter, snap.Previous, c.want, c.reason)
		}
		if diffs := in.Check(snap, c.filter); len(diffs) > 0 {
			t.Errorf("filter %+v:\n  %s", c.filter, strings.Join(diffs, "\n  "))
		}
		if s := e.Summarize(query(t, c.filter)); s.Totals != snap.Totals || s.Previous != snap.Previous || s.Window != snap.Window {
			t.Errorf("filter %+v: summary %+v differs from the snapshot's totals %+v, previous %+v, window %+v",
				c.filter, s, snap.Totals, snap.Previous, snap.Window)
		}
	}
	if e.Snapshot(query(t, api.Filter{From: "2024-06-24", To: "2024-06-30"})).Previous.Totals.Orders == 0 {
		t.Error("the 7 days before the last 7 have no orders: the test shows nothing")
	}
}

// A change that touches only a view's previous window updates the view (its comparison
// changed); one touching neither leaves it untouched; both equal views computed afresh.
func TestRefreshFollowsThePreviousWindow(t *testing.T) {
	e, in := New(), oracle.New()
	generate(t, e, in, 1, "2024-03-01", "2024-06-30", 3000)
	f := api.Filter{From: "2024-06-24", To: "2024-06-30"}
	v := e.View(query(t, f))
	for i, c := range []struct {
		from, to string
		how      How
	}{
		{"2024-06-20", "2024-06-20", Updated},   // the previous window only
		{"2024-04-02", "2024-04-05", Untouched}, // neither
		{"2024-06-26", "2024-06-26", Updated},   // the window
	} {
		before := v.Snap.Previous
		got := e.Refresh(v, generate(t, e, in, uint64(10+i), c.from, c.to, 200))
		if got.How != c.how {
			t.Errorf("a file on %s..%s: refresh %v, want %v", c.from, c.to, got.How, c.how)
		}
		if want := e.View(query(t, f)); !reflect.DeepEqual(got.Snap, want.Snap) {
			t.Fatalf("a file on %s..%s: refreshed view differs from a fresh one:\n got %+v\nwant %+v", c.from, c.to, got.Snap.Previous, want.Snap.Previous)
		}
		if diffs := in.Check(got.Snap, f); len(diffs) > 0 {
			t.Errorf("a file on %s..%s:\n  %s", c.from, c.to, strings.Join(diffs, "\n  "))
		}
		if c.from == "2024-06-20" && got.Snap.Previous.Totals.Orders <= before.Totals.Orders {
			t.Errorf("the previous window's orders went from %d to %d", before.Totals.Orders, got.Snap.Previous.Totals.Orders)
		}
		v = got
	}
	// A window without an end moves its previous window back when a later day arrives.
	open := api.Filter{From: "2024-06-29"}
	v = e.View(query(t, open))
	got := e.Refresh(v, generate(t, e, in, 9, "2024-07-02", "2024-07-02", 50))
	if got.Snap.Previous.Window != (api.Window{From: "2024-06-25", To: "2024-06-28"}) {
		t.Errorf("open-ended window after a later day: previous %+v", got.Snap.Previous.Window)
	}
	if want := e.View(query(t, open)); !reflect.DeepEqual(got.Snap, want.Snap) {
		t.Errorf("open-ended window: refreshed view differs from a fresh one:\n got %+v\nwant %+v", got.Snap.Previous, want.Snap.Previous)
	}
	if diffs := in.Check(got.Snap, open); len(diffs) > 0 {
		t.Errorf("open-ended window:\n  %s", strings.Join(diffs, "\n  "))
	}
}
