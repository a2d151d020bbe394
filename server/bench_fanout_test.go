package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/etl"
)

// TestFanout measures the push of one change to many WebSocket clients of one server: it
// connects FANOUT_CLIENTS clients to the server at FANOUT_BENCH_ADDR (a separate process, see
// scripts/bench-fanout.sh), loads a small file FANOUT_ROUNDS times into the server's
// database, and times, for every client, from the commit's NOTIFY (heard on a LISTEN
// connection of its own) until the client has read the whole new snapshot. It reports
// percentiles, clients that never got it, and the server's RSS per client. A benchmark: it
// asserts no timing.
func TestFanout(t *testing.T) {
	addr := os.Getenv("FANOUT_BENCH_ADDR")
	if addr == "" {
		t.Skip("set FANOUT_BENCH_ADDR (see scripts/bench-fanout.sh)")
	}
	n := envInt("FANOUT_CLIENTS", 10000)
	rounds := envInt("FANOUT_ROUNDS", 5)
	pid := envInt("FANOUT_SERVER_PID", 0)
	dbURL := os.Getenv("FANOUT_DATABASE_URL")
	compress := os.Getenv("FANOUT_COMPRESS") == "1"
	ctx := context.Background()

	rssBefore := rssKiB(t, pid)
	clients := make([]*fanClient, n)
	d := &websocket.Dialer{
		EnableCompression: compress, HandshakeTimeout: 30 * time.Second,
		NetDialContext: (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	}
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var failed atomic.Int64
	for i := range clients {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := dialFan(d, "ws://"+addr+"/ws")
			if err != nil {
				if failed.Add(1) == 1 {
					t.Logf("dial: %v", err)
				}
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d clients could not connect", failed.Load(), n)
	}
	fmt.Printf("fan-out: %d clients connected in %.1f s (compression %v); first snapshot %d KiB\n",
		n, time.Since(start).Seconds(), compress, clients[0].firstSize/1024)
	for _, c := range clients {
		go c.readLoop()
	}
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	rssAfter := rssKiB(t, pid)
	if pid != 0 {
		fmt.Printf("server RSS: %d MiB before, %d MiB with %d clients: %.1f KiB per client\n",
			rssBefore/1024, rssAfter/1024, n, float64(rssAfter-rssBefore)/float64(n))
	}

	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	listen, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(ctx)
	if _, err := listen.Exec(ctx, "LISTEN "+channel); err != nil {
		t.Fatal(err)
	}
	loader := &etl.Loader{Pool: pool, MaxRejectRatio: 0.5, Log: slog.New(slog.DiscardHandler)}
	dir := t.TempDir()
	var all []time.Duration
	lostTotal := 0
	fmt.Printf("%-6s %9s %9s %9s %9s %9s %6s\n", "round", "p50 ms", "p90 ms", "p99 ms", "max ms", "load→NOTIFY", "lost")
	for r := range rounds {
		path := filepath.Join(dir, fmt.Sprintf("round-%d.csv", r))
		f, _ := os.Create(path)
		day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r)
		if _, err := etl.Generate(f, etl.GenerateOptions{Rows: 1000, Seed: uint64(900 + r), From: day, To: day}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, c := range clients {
			c.arm()
		}
		// The notification reaches this process when it reaches the server's listener, give
		// or take scheduling: the origin of every client's time.
		heard := make(chan time.Time, 1)
		go func() {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err := listen.WaitForNotification(wctx)
			if err != nil {
				t.Errorf("notification: %v", err)
			}
			heard <- time.Now()
		}()
		src, _ := etl.NewLocalFile(path)
		loadStart := time.Now()
		res, err := loader.Load(ctx, src, nil)
		if err != nil || res.Status != etl.StatusLoaded {
			t.Fatalf("load: %v %+v", err, res)
		}
		noticed := <-heard
		deadline := time.Now().Add(10 * time.Second)
		var lat []time.Duration
		lost := 0
		for _, c := range clients {
			at, ok := c.wait(deadline)
			if !ok {
				lost++
				continue
			}
			lat = append(lat, max(at.Sub(noticed), 0))
		}
		slices.Sort(lat)
		all = append(all, lat...)
		lostTotal += lost
		fmt.Printf("%-6d %9.1f %9.1f %9.1f %9.1f %9.1f %6d\n", r+1, ms(pct(lat, 50)), ms(pct(lat, 90)), ms(pct(lat, 99)),
			ms(pct(lat, 100)), ms(noticed.Sub(loadStart)), lost)
		time.Sleep(time.Second)
	}
	slices.Sort(all)
	fmt.Printf("all rounds: %d deliveries, p50 %.1f ms, p99 %.1f ms, max %.1f ms, lost %d (target: p99 ≤ 500 ms, none lost)\n",
		len(all), ms(pct(all, 50)), ms(pct(all, 99)), ms(pct(all, 100)), lostTotal)
	fmt.Println(serverPushLatency(t, addr))
	for _, c := range clients {
		c.conn.Close()
	}
}

// serverPushLatency reads the server's own push-latency histogram (change noticed → frame
// written to the socket) and gives its p50 and p99 as bucket upper bounds: the server's
// share of the time, without the benchmark client's reading.
func serverPushLatency(t *testing.T, addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	type bucket struct {
		le    float64
		count float64
	}
	var buckets []bucket
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, `salespulse_push_latency_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		l, _ := strconv.ParseFloat(le, 64)
		c, _ := strconv.ParseFloat(count, 64)
		buckets = append(buckets, bucket{l, c})
	}
	if len(buckets) == 0 {
		return "server push latency: no histogram"
	}
	total := buckets[len(buckets)-1].count
	q := func(p float64) string {
		for _, b := range buckets {
			if b.count >= p*total {
				return fmt.Sprintf("≤ %.1f ms", b.le*1000)
			}
		}
		return "?"
	}
	return fmt.Sprintf("server push latency histogram (noticed → frame written), %d frames: p50 %s, p99 %s", int(total), q(0.5), q(0.99))
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(s []time.Duration, p int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*p/100)]
}

// rssKiB is a process's resident set, from /proc.
func rssKiB(t *testing.T, pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// fanClient is one benchmark connection. It reads each message's first bytes for its seq
// and discards the rest, so that ten thousand of them cost the machine (shared with the
// server) little.
type fanClient struct {
	conn      *websocket.Conn
	firstSize int
	mu        sync.Mutex
	armedSeq  uint64 // a snapshot with a larger seq is the one awaited
	lastSeq   uint64
	arrived   time.Time
	got       chan struct{}
}

func dialFan(d *websocket.Dialer, url string) (*fanClient, error) {
	conn, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	c := &fanClient{conn: conn}
	seq, size, err := c.readOne()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.lastSeq, c.firstSize = seq, size
	return c, nil
}

var seqPrefix = []byte(`{"type":"snapshot","seq":`)

func (c *fanClient) readOne() (uint64, int, error) {
	_, r, err := c.conn.NextReader()
	if err != nil {
		return 0, 0, err
	}
	head := make([]byte, 48)
	k, _ := io.ReadFull(r, head)
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return 0, 0, err
	}
	head = head[:k]
	if !bytes.HasPrefix(head, seqPrefix) {
		return 0, 0, fmt.Errorf("not a snapshot: %q", head)
	}
	num := head[len(seqPrefix):]
	if i := bytes.IndexByte(num, ','); i > 0 {
		num = num[:i]
	}
	seq, err := strconv.ParseUint(string(num), 10, 64)
	return seq, k + int(rest), err
}

func (c *fanClient) readLoop() {
	for {
		seq, _, err := c.readOne()
		now := time.Now()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.lastSeq = seq
		if c.got != nil && seq > c.armedSeq {
			c.arrived = now
			close(c.got)
			c.got = nil
		}
		c.mu.Unlock()
	}
}

// arm makes the client wait for a snapshot newer than the last it read.
func (c *fanClient) arm() {
	c.mu.Lock()
	c.armedSeq, c.got = c.lastSeq, make(chan struct{})
	c.mu.Unlock()
}

func (c *fanClient) wait(deadline time.Time) (time.Time, bool) {
	c.mu.Lock()
	got := c.got
	c.mu.Unlock()
	if got != nil {
		select {
		case <-got:
		case <-time.After(time.Until(deadline)):
			return time.Time{}, false
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arrived, true
}
