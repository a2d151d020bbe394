package server

import (
	"testing"

	"salespulse/server/api"
)

// The first day of year 1 is a date like any other, not "no end".
func TestAWindowEndingOnTheFirstDayOfYearOneHoldsNothing(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	var all, none, from api.Snapshot
	getJSON(t, srv.URL()+"/api/kpis", &all)
	if code := getJSON(t, srv.URL()+"/api/kpis?to=0001-01-01", &none); code != 200 {
		t.Fatalf("to=0001-01-01: %d", code)
	}
	if all.Totals.Orders == 0 || none.Totals.Orders != 0 || none.Window != (api.Window{}) {
		t.Errorf("to=0001-01-01: %d orders in window %+v (all: %d), want none", none.Totals.Orders, none.Window, all.Totals.Orders)
	}
	if getJSON(t, srv.URL()+"/api/kpis?from=0001-01-01", &from); from.Totals.Orders != all.Totals.Orders {
		t.Errorf("from=0001-01-01: %d orders, want all %d", from.Totals.Orders, all.Totals.Orders)
	}
}
