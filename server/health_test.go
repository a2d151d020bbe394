package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"salespulse/etl"
	"salespulse/internal/poll"
	"salespulse/server/api"
)

// testutilCounter reads a counter or gauge of the server's registry.
func testutilCounter(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	mfs, err := s.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 {
			m := mf.Metric[0]
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return -1
}

// snapshotsMade is the snapshots counter of one way of making them.
func snapshotsMade(t *testing.T, s *Server, how string) float64 {
	t.Helper()
	return testutil.ToFloat64(s.metrics.snapshots.WithLabelValues(how))
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	withFixtures(t)
	srv := startServer(t, Config{})
	var health map[string]string
	if code := getJSON(t, srv.URL()+"/healthz", &health); code != 200 || health["status"] != "ok" {
		t.Errorf("healthz: %d %v", code, health)
	}
	var ready readiness
	if code := getJSON(t, srv.URL()+"/readyz", &ready); code != 200 || ready.Status != "ok" || ready.Schema != "current" || !ready.Listening {
		t.Errorf("readyz: %d %+v", code, ready)
	}

	c := dial(t, wsURL(srv, ""), nil)
	snapshot(t, c, 5*time.Second)
	// A file announced by an event: its ledger row has an event time, for the lag histogram.
	dirty()
	path := generated(t, 200, 505, "2024-10-31", 0.05)
	local, err := etl.NewLocalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loader := &etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5, Log: testLog()}
	res, err := loader.Load(context.Background(), eventSource{local, time.Now().Add(-2 * time.Second)}, nil)
	if err != nil || res.Status != etl.StatusLoaded {
		t.Fatalf("load: %v %+v", err, res)
	}
	snapshot(t, c, 2*time.Second)
	poll.Until(t, "the load histograms", 5*time.Second, func() bool {
		return histogramCount(t, srv, "salespulse_event_to_commit_seconds") == 1
	})

	body := scrape(t, srv)
	for _, want := range []string{
		`salespulse_files{status="loaded"} 39`,
		`salespulse_files{status="failed"} 0`,
		`salespulse_rows{outcome="loaded",status="loaded"} ` + strconv.FormatInt(2663+res.RowsLoaded, 10),
		`salespulse_rows{outcome="duplicate",status="loaded"} 1287`,
		`salespulse_rows{outcome="rejected",status="loaded"} ` + strconv.FormatInt(res.RowsRejected, 10),
		`salespulse_ws_clients 1`,
		`salespulse_load_seconds_count 1`,
		`salespulse_event_to_commit_seconds_count 1`,
		`salespulse_push_latency_seconds_count 1`,
		`salespulse_notifications_total 1`,
		`salespulse_snapshot_compute_seconds_count`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if histogramSum(t, srv, "salespulse_event_to_commit_seconds") < 2 {
		t.Errorf("event-to-commit lag under the 2 s the event is old")
	}
}

func scrape(t *testing.T, s *Server) string {
	t.Helper()
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func histogramCount(t *testing.T, s *Server, name string) uint64 {
	t.Helper()
	mfs, _ := s.metrics.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 && mf.Metric[0].Histogram != nil {
			return mf.Metric[0].Histogram.GetSampleCount()
		}
	}
	return 0
}

func histogramSum(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	mfs, _ := s.metrics.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) > 0 && mf.Metric[0].Histogram != nil {
			return mf.Metric[0].Histogram.GetSampleSum()
		}
	}
	return 0
}

// eventSource is a local file as if an S3 event had announced it at a given time.
type eventSource struct {
	*etl.LocalFile
	at time.Time
}

func (e eventSource) Info() etl.FileInfo {
	i := e.LocalFile.Info()
	i.EventTime = e.at
	return i
}

func TestReadinessFailsWithoutTheDatabase(t *testing.T) {
	// A pool of the server's own, closed under it: the database "goes away" for it alone.
	pool, err := pgxpool.New(context.Background(), testDB.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Config{Pool: pool})
	pool.Close()
	var ready readiness
	if code := getJSON(t, srv.URL()+"/readyz", &ready); code != 503 || ready.Status != "unavailable" || ready.Error == nil {
		t.Errorf("readyz without a database: %d %+v", code, ready)
	}
	var health map[string]string
	if code := getJSON(t, srv.URL()+"/healthz", &health); code != 200 {
		t.Errorf("healthz without a database: %d", code)
	}
	// The KPIs are held in memory: dashboards keep being answered while the database is away.
	var snap api.Snapshot
	if code := getJSON(t, srv.URL()+"/api/kpis?region=x", &snap); code != 200 || snap.Seq == 0 {
		t.Errorf("kpis without a database: %d %+v", code, snap)
	}
}

func TestUIServesEverythingElse(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ui:"+r.URL.Path) })
	srv := startServer(t, Config{UI: ui})
	for path, want := range map[string]string{"/": "ui:/", "/files/12": "ui:/files/12", "/app.wasm": "ui:/app.wasm"} {
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%s: %q", path, b)
		}
	}
	for _, path := range []string{"/api/nope", "/api", "/api/files/1/nope"} {
		if code, e := do(t, http.MethodGet, srv.URL()+path); code != 404 || e.Error.Code != "not_found" {
			t.Errorf("%s with a UI: %d %+v", path, code, e)
		}
	}
}
