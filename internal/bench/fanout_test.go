package bench

import (
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"salespulse/internal/proof"
	"salespulse/server/api"
)

// raiseOpenFiles lets this process (and the server it starts) hold n connections.
func raiseOpenFiles(t testing.TB, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur = min(max(n, lim.Cur), max(lim.Max, n))
	lim.Max = max(lim.Max, lim.Cur)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("open files limit: %v (run as root or raise it)", err)
	}
}

// TestFanout connects FANOUT_CLIENTS WebSocket clients (one process holding them all) to a
// `salespulse serve` of 30 days of sales, all watching all sales, loads a 1,000-row file
// FANOUT_ROUNDS times, and times every client's new snapshot from the commit.
func TestFanout(t *testing.T) {
	proof.Enabled(t)
	n := proof.Int("FANOUT_CLIENTS", 500, 10_000)
	rounds := proof.Int("FANOUT_ROUNDS", 2, 5)
	raiseOpenFiles(t, uint64(2*n+1024))
	url := freshDB(t, "bench_fanout")
	dir := t.TempDir()
	base := filepath.Join(dir, "base.csv")
	if g := bin.Run(t, nil, "generate", "--rows", "30000", "--seed", "7", "--date", "2024-12-02..2024-12-31", "--out", base); g.Code != 0 {
		t.Fatalf("generate: %s", g.Stderr)
	}
	if l := bin.Run(t, []string{"DATABASE_URL=" + url}, "load", base); l.Code != 0 {
		t.Fatalf("load: %s %s", l.Stdout, l.Stderr)
	}
	serve, _ := startServe(t, url)
	rssBefore := serve.rss(t)
	start := time.Now()
	clients := dialAll(t, serve.addr, n, func(int) *api.Filter { return nil })
	connected := time.Since(start)
	time.Sleep(2 * time.Second)
	rssWith := serve.rss(t)
	commits := listen(t, url)
	var all []time.Duration
	lost := 0
	for r := range rounds {
		path := filepath.Join(dir, fmt.Sprintf("round%d.csv", r))
		day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r)
		if g := bin.Run(t, nil, "generate", "--rows", "1000", "--seed", fmt.Sprint(900+r), "--date", date(day), "--out", path); g.Code != 0 {
			t.Fatalf("generate: %s", g.Stderr)
		}
		var heardAt time.Time
		lat, lo := arrivals(t, clients, func() time.Time { return heardAt }, func() {
			if l := bin.Run(t, []string{"DATABASE_URL=" + url}, "load", path); l.Code != 0 {
				t.Fatalf("load: %s", l.Stderr)
			}
			_, heardAt = commits.next(t)
		})
		all, lost = append(all, lat...), lost+lo
		time.Sleep(time.Second)
	}
	slices.Sort(all)
	serve.Stop(time.Minute)
	admin(t, "DROP DATABASE IF EXISTS bench_fanout WITH (FORCE)")
	p99 := percentile(all, 0.99)
	perClient := float64(rssWith-rssBefore) / float64(n) / 1024
	proof.Record(t, proof.Result{
		Item:      fmt.Sprintf("Fan-out to %d WebSocket clients", n),
		Done:      fmt.Sprintf("`salespulse serve` on 30 days of sales; %d clients connected (in %s) from one process, all watching all sales; a 1,000-row file loaded %d times", n, secs(connected), rounds),
		Checked:   "every client receives every new snapshot; delay from the commit (its NOTIFY heard by the test) to the whole frame read",
		Figure:    fmt.Sprintf("p50 %s, p99 %s, max %s, lost %d of %d; %.1f KiB of server memory per client", millis(percentile(all, 0.5)), millis(p99), millis(percentile(all, 1)), lost, n*rounds, perClient),
		Reference: fmt.Sprintf("server RSS %s before the clients, %s with them", mib(rssBefore), mib(rssWith)),
		Target:    "p99 ≤ 500 ms, none lost", Met: p99 <= 500*time.Millisecond && lost == 0,
	})
}
