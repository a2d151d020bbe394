package server

import (
	"fmt"
	"math/big"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"salespulse/internal/oracle"
	"salespulse/server/api"
)

func TestKPIsMatchFiguresComputedFromTheFiles(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	truth := oracle.FixtureInputs(t)

	// Anchors: the figures the ETL's own tests know for these files.
	all := truth.KPIs(api.Filter{})
	if all.Orders != 2663 || all.Sales != 362790575 {
		t.Fatalf("the independent computation is off: %d orders, %d cents", all.Orders, all.Sales)
	}

	for _, f := range []api.Filter{
		{},
		{From: "2024-02-10", To: "2024-05-20"}, // ragged head, whole months, ragged tail
		{From: "2024-03-01", To: "2024-03-31"}, // exactly one month
		{From: "2024-10-26"},                   // the latest day, open end
		{To: "2023-11-15"},                     // open start
		{Category: "Technology"},
		{Region: "Texas"},
		{Region: "California", Channel: "Online Store", From: "2023-12-05", To: "2024-08-12"},
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var snap api.Snapshot
			if code := getJSON(t, srv.URL()+"/api/kpis?"+encodeFilter(f), &snap); code != 200 {
				t.Fatalf("status %d", code)
			}
			checkSnapshot(t, &snap, truth.KPIs(f), f)
		})
	}
}

func encodeFilter(f api.Filter) string {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "category": f.Category, "region": f.Region, "channel": f.Channel} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

func checkSnapshot(t *testing.T, snap *api.Snapshot, want oracle.KPIs, f api.Filter) {
	t.Helper()
	if snap.Filter != f {
		t.Errorf("filter %+v, want %+v", snap.Filter, f)
	}
	tot := snap.Totals
	if int64(tot.Sales) != want.Sales || tot.Orders != want.Orders || tot.Quantity != want.Quantity ||
		int64(tot.GrossProfit) != want.Profit || int64(tot.CanceledSales) != want.Canceled {
		t.Errorf("totals %+v, want sales %d orders %d quantity %d profit %d canceled %d",
			tot, want.Sales, want.Orders, want.Quantity, want.Profit, want.Canceled)
	}
	// avg ticket and margin, with big.Rat rather than the server's integer arithmetic.
	if want.Orders > 0 {
		avg := new(big.Rat).SetFrac64(want.Sales, want.Orders*100)
		if got := int64(tot.AvgTicket); got != oracle.Cents(avg) {
			t.Errorf("avg_ticket %v, want %d cents", tot.AvgTicket, oracle.Cents(avg))
		}
		margin := new(big.Rat).SetFrac64(want.Profit, want.Sales) // × 100 %, to 2 places = cents of it
		if got, exp := tot.MarginPct, float64(oracle.Cents(new(big.Rat).Mul(margin, big.NewRat(100, 1))))/100; got != exp {
			t.Errorf("margin_pct %v, want %v", got, exp)
		}
	}
	for _, st := range snap.ByPaymentStatus {
		w := want.ByStatus[st.Status]
		if int64(st.Sales) != w[0] || st.Orders != w[1] {
			t.Errorf("payment status %s: %+v, want %v", st.Status, st, w)
		}
	}
	if len(snap.ByPaymentStatus) != 3 {
		t.Errorf("by_payment_status has %d entries", len(snap.ByPaymentStatus))
	}
	if got, exp := snap.TopProducts.ByQuantity, want.TopProducts(false); !reflect.DeepEqual(got, exp) {
		t.Errorf("top products by quantity\n got %+v\nwant %+v", got, exp)
	}
	if got, exp := snap.TopProducts.BySales, want.TopProducts(true); !reflect.DeepEqual(got, exp) {
		t.Errorf("top products by sales\n got %+v\nwant %+v", got, exp)
	}
	if got, exp := snap.TopReps, want.TopReps(); !reflect.DeepEqual(got, exp) {
		t.Errorf("top reps\n got %+v\nwant %+v", got, exp)
	}
	for _, c := range []struct {
		name string
		got  []api.Slice
		want map[string]*api.Slice
	}{{"category", snap.ByCategory, want.ByCategory}, {"region", snap.ByRegion, want.ByRegion}, {"channel", snap.ByChannel, want.ByChannel}} {
		exp := oracle.Slices(c.want)
		if f.Category != "" && c.name == "category" || f.Region != "" && c.name == "region" || f.Channel != "" && c.name == "channel" {
			exp = filterSlices(exp, f)
		}
		if !reflect.DeepEqual(c.got, exp) {
			t.Errorf("by %s\n got %+v\nwant %+v", c.name, c.got, exp)
		}
	}
	if len(snap.Trend) != len(want.Trend) {
		t.Errorf("%d trend points, want %d (one per sale date)", len(snap.Trend), len(want.Trend))
	}
	dates := make([]string, 0, len(snap.Trend))
	for _, p := range snap.Trend {
		dates = append(dates, p.Date)
		if w := want.Trend[p.Date]; w == nil || *w != p {
			t.Errorf("trend %s: %+v, want %+v", p.Date, p, w)
		}
	}
	if !sort.StringsAreSorted(dates) {
		t.Errorf("trend not in date order")
	}
	catPoints := 0
	for _, p := range snap.CategoryTrend {
		catPoints++
		if w := want.CategoryTrend[[2]string{p.Date, p.Name}]; int64(p.Sales) != w {
			t.Errorf("category trend %s %s: %v, want %d", p.Date, p.Name, p.Sales, w)
		}
	}
	if catPoints != len(want.CategoryTrend) {
		t.Errorf("%d category trend points, want %d", catPoints, len(want.CategoryTrend))
	}
	if snap.SeriesGrain != want.SeriesGrain {
		t.Errorf("series grain %q, want %q", snap.SeriesGrain, want.SeriesGrain)
	}
	if snap.DataRange != (api.Window{From: "2023-10-26", To: "2024-10-26"}) {
		t.Errorf("data_range %+v", snap.DataRange)
	}
	wantWindow := api.Window{From: cmpOr(f.From, "2023-10-26"), To: cmpOr(f.To, "2024-10-26")}
	if snap.Window != wantWindow {
		t.Errorf("window %+v, want %+v", snap.Window, wantWindow)
	}
	if len(snap.Options.Categories) != 5 || len(snap.Options.Regions) != 5 || len(snap.Options.Channels) != 3 {
		t.Errorf("options %+v", snap.Options)
	}
	if snap.AsOf == nil || snap.LastFile == "" || snap.LastFileID == 0 || snap.Seq == 0 {
		t.Errorf("freshness: as_of %v last_file %q id %d seq %d", snap.AsOf, snap.LastFile, snap.LastFileID, snap.Seq)
	}
}

func filterSlices(s []api.Slice, f api.Filter) []api.Slice {
	out := []api.Slice{}
	for _, x := range s {
		if x.Name == f.Category || x.Name == f.Region || x.Name == f.Channel {
			out = append(out, x)
		}
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestKPIsRefuseBadParameters(t *testing.T) {
	srv := startServer(t, Config{})
	for _, c := range []struct{ query, param string }{
		{"from=2024-13-01", "from"},
		{"from=yesterday", "from"},
		{"to=2024-2-1", "to"},
		{"from=2024-05-02&to=2024-05-01", "from"},
		{"from=2024-05-01&from=2024-05-02", "from"},
		{"category=" + strings.Repeat("x", 201), "category"},
		{"region=a%00b", "region"},
	} {
		var e api.ErrorResponse
		if code := getJSON(t, srv.URL()+"/api/kpis?"+c.query, &e); code != 400 ||
			e.Error.Code != api.CodeBadParameter || e.Error.Param != c.param || e.Error.Message == "" {
			t.Errorf("%s: %d %+v", c.query, code, e)
		}
	}
	// Values nobody sells are a filter like any other: empty figures, not an error.
	var snap api.Snapshot
	if code := getJSON(t, srv.URL()+"/api/kpis?category=Nope&from=2030-01-01", &snap); code != 200 ||
		snap.Totals.Orders != 0 || snap.Trend == nil || snap.TopReps == nil || len(snap.ByPaymentStatus) != 3 {
		t.Errorf("unknown values: %d %+v", code, snap)
	}
}

func TestKPIsOfAnEmptyDatabase(t *testing.T) {
	testDB.Reset(t)
	dirty()
	srv := startServer(t, Config{})
	var snap api.Snapshot
	if code := getJSON(t, srv.URL()+"/api/kpis", &snap); code != 200 {
		t.Fatalf("status %d", code)
	}
	if snap.AsOf != nil || snap.Window != (api.Window{}) || snap.DataRange != (api.Window{}) || snap.Totals != (api.Totals{}) ||
		snap.Trend == nil || snap.Options.Categories == nil {
		t.Errorf("empty snapshot: %+v", snap)
	}
}

func TestErrorsAreJSON(t *testing.T) {
	srv := startServer(t, Config{})
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", 404, api.CodeNotFound},
		{"GET", "/api/nope", 404, api.CodeNotFound},
		{"DELETE", "/api/kpis", 405, api.CodeMethodNotAllowed},
		{"GET", "/api/uploads", 405, api.CodeMethodNotAllowed},
		{"GET", "/api/files/abc", 400, api.CodeBadParameter},
		{"GET", "/api/files/99999", 404, api.CodeNotFound},
		{"GET", "/api/files?limit=501", 400, api.CodeBadParameter},
	} {
		code, e := do(t, c.method, srv.URL()+c.path)
		if code != c.status || e.Error.Code != c.code {
			t.Errorf("%s %s: %d %+v, want %d %s", c.method, c.path, code, e, c.status, c.code)
		}
	}
}
