package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"salespulse/etl"
	"salespulse/internal/proof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
)

// TestProofWebSocketAbuse runs a real `salespulse serve` and, while files keep loading,
// subjects it to ABUSE_IDLE idle dashboards, ABUSE_BIG clients sending 1 MB frames and
// ABUSE_STALLED clients that never read. One well-behaved dashboard must get every push
// throughout (its latencies are reported, phase by phase), the 1 MB senders and the
// non-readers must be disconnected, and the server's memory must stay bounded.
func TestProofWebSocketAbuse(t *testing.T) {
	proofEnabled(t)
	testDB.Reset(t)
	idle := proof.Int("ABUSE_IDLE", 300, 10000)
	stalled := proof.Int("ABUSE_STALLED", 20, 200)
	bigSenders := proof.Int("ABUSE_BIG", 10, 100)
	pushes := proof.Int("ABUSE_PUSHES", 10, 10)
	margin := int64(proof.Int("ABUSE_RSS_MARGIN_MB", 256, 256)) << 10
	interval := time.Duration(proof.Int("ABUSE_PUSH_INTERVAL_MS", 1000, 1000)) * time.Millisecond
	ctx := context.Background()

	base := filepath.Join(t.TempDir(), "base.csv")
	os.WriteFile(base, gen(t, etl.GenerateOptions{Rows: 30000, Seed: 5, From: day("2024-06-01"), To: day("2024-06-30")}), 0o644)
	if r := bin.Run(t, dbEnv(), "load", base); r.Code != 0 {
		t.Fatalf("load: %s %s", r.Stdout, r.Stderr)
	}
	serve, addr := startServe(t)
	pid := serve.Pid()
	dash := watch(t, addr)
	if _, ok := dash.await(0, 10*time.Second, func(arrival) bool { return true }); !ok {
		t.Fatal("no first snapshot")
	}

	// Memory, sampled throughout; the peak of each phase.
	var memMu sync.Mutex
	peak := map[string]int64{}
	phase := "baseline"
	stopMem := make(chan struct{})
	defer close(stopMem)
	go func() {
		for {
			r := rss(pid)
			memMu.Lock()
			peak[phase] = max(peak[phase], r)
			memMu.Unlock()
			select {
			case <-stopMem:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	setPhase := func(p string) {
		memMu.Lock()
		phase = p
		memMu.Unlock()
	}

	// Commits, timed when heard on a LISTEN connection of the test's own.
	listen, err := pgx.Connect(ctx, testDB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(ctx)
	if _, err := listen.Exec(ctx, "LISTEN salespulse_files"); err != nil {
		t.Fatal(err)
	}
	loader := &etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5, Log: quietLog()}
	dir := t.TempDir()
	lat := map[string][]time.Duration{}
	missed := 0
	nfile := 0
	push := func(ph string) {
		nfile++
		d := day("2024-07-01").AddDate(0, 0, nfile)
		path := filepath.Join(dir, fmt.Sprintf("push-%03d.csv", nfile))
		os.WriteFile(path, gen(t, etl.GenerateOptions{Rows: 200, Seed: uint64(5000 + nfile), From: d, To: d}), 0o644)
		src, _ := etl.NewLocalFile(path)
		from := dash.count()
		res, err := loader.Load(ctx, src, nil)
		if err != nil || res.Status != etl.StatusLoaded {
			t.Fatalf("load: %v %+v", err, res)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = listen.WaitForNotification(wctx)
		cancel()
		heard := time.Now()
		if err != nil {
			t.Fatalf("notification: %v", err)
		}
		a, ok := dash.await(from, 10*time.Second, func(a arrival) bool { return a.fileID >= res.FileID })
		if !ok {
			missed++
			t.Errorf("phase %s: the well-behaved client was not pushed file %d within 10 s", ph, res.FileID)
			return
		}
		lat[ph] = append(lat[ph], max(a.at.Sub(heard), 0))
	}
	pushFor := func(ph string, n int, until func() bool) {
		for i := 0; i < n || (until != nil && !until()); i++ {
			push(ph)
			time.Sleep(interval)
			if i > 300 {
				break
			}
		}
	}

	// A: no abuse, the reference.
	pushFor("baseline", pushes, nil)
	rssBase := rss(pid)

	// B: idle dashboards: connected, reading what is pushed, never sending.
	setPhase("idle")
	var idleSeq sync.Map
	idleConns := make([]*websocket.Conn, idle)
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var dialFailed atomic.Int64
	connectStart := time.Now()
	for i := range idleConns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, _, err := dialer.Dial("ws://"+addr+"/ws", nil)
			if err != nil {
				dialFailed.Add(1)
				return
			}
			idleConns[i] = c
			go func() {
				for {
					_, r, err := c.NextReader()
					if err != nil {
						return
					}
					head := make([]byte, 48)
					k, _ := io.ReadFull(r, head)
					io.Copy(io.Discard, r)
					if s, ok := bytes.CutPrefix(head[:k], []byte(`{"type":"snapshot","seq":`)); ok {
						if j := bytes.IndexByte(s, ','); j > 0 {
							seq, _ := strconv.ParseUint(string(s[:j]), 10, 64)
							idleSeq.Store(i, seq)
						}
					}
				}
			}()
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range idleConns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if dialFailed.Load() > 0 {
		t.Errorf("%d of %d idle clients could not connect", dialFailed.Load(), idle)
	}
	connectTook := time.Since(connectStart)
	time.Sleep(2 * time.Second)
	rssIdle := rss(pid)
	pushFor("idle", pushes, nil)
	lastSeq := dash.last().seq
	time.Sleep(3 * time.Second)
	idleCurrent := 0
	idleSeq.Range(func(_, v any) bool {
		if v.(uint64) >= lastSeq {
			idleCurrent++
		}
		return true
	})

	// C: clients sending 1 MB frames, while files keep loading.
	setPhase("big-frames")
	droppedBefore := metric(addr, "salespulse_ws_dropped_total")
	var closedByServer, stillOpen atomic.Int64
	var closeCodes sync.Map
	abuse := make(chan struct{})
	go func() {
		defer close(abuse)
		var wg sync.WaitGroup
		payload := bytes.Repeat([]byte("x"), 1<<20)
		sem := make(chan struct{}, 16)
		for range bigSenders {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
				if err != nil {
					t.Errorf("big-frame client: %v", err)
					return
				}
				defer c.Close()
				_ = c.WriteMessage(websocket.TextMessage, payload) // may fail: the server stops reading
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						var ce *websocket.CloseError
						var ne net.Error
						switch {
						case errors.As(err, &ne) && ne.Timeout():
							stillOpen.Add(1)
						case errors.As(err, &ce):
							closedByServer.Add(1)
							v, _ := closeCodes.LoadOrStore(ce.Code, new(atomic.Int64))
							v.(*atomic.Int64).Add(1)
						default:
							closedByServer.Add(1) // reset or EOF: the server hung up
						}
						return
					}
				}
			})
		}
		wg.Wait()
	}()
	bigDone := func() bool {
		select {
		case <-abuse:
			return true
		default:
			return false
		}
	}
	pushFor("big-frames", 3, bigDone)
	healthy := httpStatus("http://"+addr+"/healthz") == http.StatusOK
	if !healthy || !serve.Alive() {
		t.Errorf("after the 1 MB frames: /healthz OK %v, server running %v", healthy, serve.Alive())
	}
	if stillOpen.Load() > 0 {
		t.Errorf("%d of %d clients sending 1 MB frames were still connected 10 s later", stillOpen.Load(), bigSenders)
	}
	var codes []string
	closeCodes.Range(func(k, v any) bool {
		codes = append(codes, fmt.Sprintf("%v×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(codes)

	// D: clients that never read, with a small receive buffer, while files keep loading.
	setPhase("stalled")
	droppedBefore = metric(addr, "salespulse_ws_dropped_total")
	stalledDialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, NetDialContext: (&net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}).DialContext}
	var stalledConns []*websocket.Conn
	for range stalled {
		c, _, err := stalledDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Errorf("stalled client: %v", err)
			continue
		}
		stalledConns = append(stalledConns, c)
	}
	defer func() {
		for _, c := range stalledConns {
			c.Close()
		}
	}()
	stalledStart := time.Now()
	var allDroppedAfter atomic.Int64 // nanoseconds from the connections to the last drop
	pollStop := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for {
			if metric(addr, "salespulse_ws_dropped_total")-droppedBefore >= float64(len(stalledConns)) {
				allDroppedAfter.Store(int64(time.Since(stalledStart)))
				return
			}
			select {
			case <-pollStop:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	pushFor("stalled", pushes, func() bool {
		return allDroppedAfter.Load() != 0 || time.Since(stalledStart) > 3*time.Minute
	})
	close(pollStop)
	<-pollDone
	droppedStalled := metric(addr, "salespulse_ws_dropped_total") - droppedBefore
	if droppedStalled < float64(len(stalledConns)) {
		t.Errorf("%v of %d clients that never read were dropped after %v", droppedStalled, len(stalledConns), time.Since(stalledStart).Round(time.Second))
	}
	clients := metric(addr, "salespulse_ws_clients")

	// E: the idle dashboards leave; files keep loading.
	setPhase("after")
	for i, c := range idleConns {
		if c != nil {
			c.Close()
			idleConns[i] = nil
		}
	}
	time.Sleep(2 * time.Second)
	pushFor("after", max(3, pushes/2), nil)
	rssEnd := rss(pid)

	memMu.Lock()
	peaks := maps.Clone(peak)
	memMu.Unlock()
	abusePeak := max(peaks["big-frames"], peaks["stalled"])
	if abusePeak > rssIdle+margin {
		t.Errorf("server RSS peaked at %d MiB during the abuse, over %d MiB with the idle clients + %d MiB", abusePeak>>10, rssIdle>>10, margin>>10)
	}
	if !serve.Alive() {
		t.Errorf("the server exited: %v\n%s", serve.Err(), serve.Tail())
	}
	if err := serve.Stop(time.Minute); err != nil {
		t.Errorf("serve: %v", err)
	}
	pcts := func(ph string) string {
		s := slices.Clone(lat[ph])
		slices.Sort(s)
		if len(s) == 0 {
			return "none"
		}
		at := func(p float64) float64 {
			return float64(s[min(len(s)-1, int(p*float64(len(s))+0.5)-1)].Microseconds()) / 1000
		}
		return fmt.Sprintf("n%d/p50:%.1fms/p99:%.1fms/max:%.1fms", len(s), at(0.5), at(0.99), at(1))
	}
	var during []time.Duration
	for _, ph := range []string{"idle", "big-frames", "stalled"} {
		during = append(during, lat[ph]...)
	}
	lat["abuse"] = during
	proof.Record(t, proof.Result{
		Item: "Fault: WebSocket abuse",
		Done: fmt.Sprintf("a real `salespulse serve` while a file loads every %v: %d idle connections (connected in %v), %d clients sending 1 MB frames, %d clients that never read; a well-behaved client watching throughout",
			interval, idle, connectTook.Round(time.Millisecond), bigSenders, len(stalledConns)),
		Checked: "the well-behaved client gets every push promptly; abusers are closed or dropped; the server's memory stays bounded",
		Figure: fmt.Sprintf("well-behaved client during the abuse: %s, missed %d; 1 MB senders closed by the server %d/%d (codes %s); non-readers dropped %v/%d after %v (%v clients left); %d of %d idle clients got the push during the abuse; RSS %d MiB → %d MiB with the idle clients (%.1f KiB each), peak %d MiB, %d MiB at the end",
			pcts("abuse"), missed, closedByServer.Load(), bigSenders, strings.Join(codes, ","), droppedStalled, len(stalledConns),
			time.Duration(allDroppedAfter.Load()).Round(time.Millisecond), clients, idleCurrent, idle, rssBase>>10, rssIdle>>10, float64(rssIdle-rssBase)/float64(max(idle, 1)),
			abusePeak>>10, rssEnd>>10),
		Reference: "the same client before any abuse: " + pcts("baseline"),
		Target:    "others unaffected (p99 ≤ 500 ms, none missed), memory bounded, abusers disconnected",
		Met:       !t.Failed(),
	})
}
