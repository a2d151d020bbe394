package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"salespulse/internal/testbin"
	"salespulse/server/api"
)

// servedProc is a running `salespulse serve`.
type servedProc struct {
	*testbin.Proc
	addr string
}

// rss is the process's resident set size.
func (s *servedProc) rss(t testing.TB) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// kpis gets the snapshot of a filter.
func (s *servedProc) kpis(t testing.TB, f api.Filter) api.Snapshot {
	t.Helper()
	snap, _ := s.timedKPIs(t, f)
	return snap
}

// timedKPIs gets the snapshot of a filter, and the time until its whole body was read (not
// decoded: that is the client's cost).
func (s *servedProc) timedKPIs(t testing.TB, f api.Filter) (api.Snapshot, time.Duration) {
	t.Helper()
	v := url.Values{}
	for k, val := range map[string]string{"from": f.From, "to": f.To, "category": f.Category, "region": f.Region, "channel": f.Channel} {
		if val != "" {
			v.Set(k, val)
		}
	}
	start := time.Now()
	resp, err := http.Get("http://" + s.addr + "/api/kpis?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/kpis %+v: %s %v", f, resp.Status, err)
	}
	var snap api.Snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		t.Fatal(err)
	}
	return snap, took
}

// metric is the value of a metric line of the server's /metrics, e.g.
// `salespulse_snapshots_total{how="computed"}`; 0 when absent.
func (s *servedProc) metric(t testing.TB, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpStatus(u string) int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
