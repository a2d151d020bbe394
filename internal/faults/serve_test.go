package faults

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"salespulse/internal/poll"
	"salespulse/internal/testbin"
	"salespulse/server/api"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `salespulse serve` on the test database and waits until it is ready.
func startServe(t *testing.T) (*testbin.Proc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := bin.Start(t, []string{"DATABASE_URL=" + testDB.URL, "LOG_LEVEL=info"}, "serve", "--addr", addr)
	poll.Until(t, "the server to be ready", 30*time.Second, func() bool {
		if !p.Alive() {
			t.Fatalf("serve exited: %v\n%s", p.Err(), p.Tail())
		}
		return httpStatus("http://"+addr+"/readyz") == http.StatusOK
	})
	return p, addr
}

func httpStatus(url string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metric reads one unlabelled value from the server's /metrics; -1 when it cannot.
func metric(addr, name string) float64 {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return -1
}

// rss is a process's resident set in KiB.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// arrival is one snapshot a watching client read.
type arrival struct {
	at       time.Time
	seq      uint64
	lastFile string
	fileID   int64
	orders   int64
}

// watcher is a well-behaved dashboard: it reads every snapshot, and reconnects when the
// connection ends, as the dashboard does.
type watcher struct {
	url        string
	mu         sync.Mutex
	got        []arrival
	reconnects int
	closed     atomic.Bool
	conn       *websocket.Conn
}

func watch(t *testing.T, addr string) *watcher {
	t.Helper()
	w := &watcher{url: "ws://" + addr + "/ws"}
	conn, _, err := websocket.DefaultDialer.Dial(w.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.conn = conn
	go w.run(conn)
	t.Cleanup(func() {
		w.closed.Store(true)
		w.mu.Lock()
		w.conn.Close()
		w.mu.Unlock()
	})
	return w
}

func (w *watcher) run(conn *websocket.Conn) {
	for {
		var m api.Message
		err := conn.ReadJSON(&m)
		if err != nil {
			conn.Close()
			for !w.closed.Load() {
				time.Sleep(250 * time.Millisecond)
				c, _, err := websocket.DefaultDialer.Dial(w.url, nil)
				if err == nil {
					w.mu.Lock()
					w.conn, conn = c, c
					w.reconnects++
					w.mu.Unlock()
					break
				}
			}
			if w.closed.Load() {
				return
			}
			continue
		}
		if m.Type == api.TypeSnapshot && m.Data != nil {
			w.mu.Lock()
			w.got = append(w.got, arrival{time.Now(), m.Data.Seq, m.Data.LastFile, m.Data.LastFileID, m.Data.Totals.Orders})
			w.mu.Unlock()
		}
	}
}

// await waits for a snapshot read after index from that satisfies ok.
func (w *watcher) await(from int, within time.Duration, ok func(arrival) bool) (arrival, bool) {
	deadline := time.Now().Add(within)
	for {
		w.mu.Lock()
		for _, a := range w.got[min(from, len(w.got)):] {
			if ok(a) {
				w.mu.Unlock()
				return a, true
			}
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			return arrival{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *watcher) last() arrival {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got[len(w.got)-1]
}

func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.got)
}
