package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/schema/schematest"
	"salespulse/server/api"
)

var testDB *schematest.DB

func TestMain(m *testing.M) {
	os.Exit(schematest.Run(m, "server", &testDB))
}

// testLog is quiet unless the tests run with -v.
func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer runs a server on a free port of the test database; Close at the end.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Pool == nil {
		cfg.Pool = testDB.Pool
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Log == nil {
		cfg.Log = testLog()
	}
	s := New(cfg)
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	poll.Until(t, "the LISTEN connection", 5*time.Second, s.listener.connected.Load)
	select {
	case <-s.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not read the sales within 30 s")
	}
	return s
}

// dbState is what the package database holds, so that tests needing the fixtures alone
// load them only when another test changed the data.
var dbState string

// withFixtures makes the database hold exactly the 38 fixture files.
func withFixtures(t *testing.T) {
	t.Helper()
	if dbState == "fixtures" {
		return
	}
	testDB.Reset(t)
	files := fixtureFiles(t)
	for _, r := range loadFiles(t, files...) {
		if r.Status != etl.StatusLoaded {
			t.Fatalf("fixture %s: %s %s", r.File, r.Status, r.Error)
		}
	}
	dbState = "fixtures"
}

// dirty records that a test changed the data.
func dirty() { dbState = "" }

func fixtureFiles(t testing.TB) []string { return oracle.Fixtures(t) }

// loadFiles loads files through the real loader on another connection than the server's.
func loadFiles(t testing.TB, paths ...string) []etl.Result {
	t.Helper()
	loader := &etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5, Log: testLog()}
	var out []etl.Result
	for _, p := range paths {
		src, err := etl.NewLocalFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := loader.Load(context.Background(), src, nil)
		if err != nil {
			t.Fatalf("load %s: %v", p, err)
		}
		out = append(out, res)
	}
	return out
}

// generated writes a file of fake sales on the given day with a seed of its own.
func generated(t testing.TB, rows int, seed uint64, day string, invalid float64) string {
	t.Helper()
	d, err := time.Parse(dateLayout, day)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("gen-%d-%s.csv", seed, day))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := etl.Generate(f, etl.GenerateOptions{Rows: rows, Seed: seed, From: d, To: d, Invalid: invalid}); err != nil {
		t.Fatal(err)
	}
	return path
}

// getJSON GETs url into v (unless nil) and returns the status.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); v != nil && ct != "application/json; charset=utf-8" {
		t.Fatalf("GET %s: content type %q: %s", url, ct, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, body)
		}
	}
	return resp.StatusCode
}

// do sends a request without a body and decodes an error answer.
func do(t *testing.T, method, url string) (int, api.ErrorResponse) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e api.ErrorResponse
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("%s %s: not JSON: %q", method, url, body)
		}
	}
	return resp.StatusCode, e
}

func newRequest(method, url string, header map[string]string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req, err
}

func send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
