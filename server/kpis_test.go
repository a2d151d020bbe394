package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
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
			if diffs := truth.Check(&snap, f); len(diffs) > 0 {
				t.Error(strings.Join(diffs, "\n"))
			}
			if snap.AsOf == nil || snap.LastFile == "" || snap.LastFileID == 0 || snap.Seq == 0 {
				t.Errorf("freshness: as_of %v last_file %q id %d seq %d", snap.AsOf, snap.LastFile, snap.LastFileID, snap.Seq)
			}
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

// TestPageFigures: a page's figures are the API's, under the API's token.
func TestPageFigures(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{APIToken: "s3cret"})
	truth := oracle.FixtureInputs(t)
	f := api.Filter{Category: "Technology"}
	page := func(target string) ([]byte, error) {
		return srv.PageFigures(httptest.NewRequest(http.MethodGet, target, nil), f)
	}
	if _, err := page("/"); err == nil {
		t.Error("figures for a page without the token")
	}
	if _, err := page("/?token=nope"); err == nil {
		t.Error("figures for a page with a wrong token")
	}
	body, err := page("/?token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	var snap api.Snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		t.Fatal(err)
	}
	if diffs := truth.Check(&snap, f); len(diffs) > 0 {
		t.Error(strings.Join(diffs, "\n"))
	}
}
