package server

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// hub keeps the WebSocket clients, grouped by the filter they watch, and hands each one the
// snapshots of its filter. Delivery never blocks: every client has a bounded queue drained by
// its own writer, and a client whose queue is full has fallen behind and is dropped, so a
// slow or dead client costs the others nothing (the subscription pattern of
// benbjohnson/wtf).
type hub struct {
	queue   int // frames a client may have waiting
	metrics *metrics
	log     *slog.Logger

	mu       sync.Mutex
	byFilter map[string]map[*client]struct{}
	n        int
	closed   bool
	running  sync.WaitGroup // client goroutines, for Close
}

func newHub(queue int, m *metrics, log *slog.Logger) *hub {
	return &hub{queue: queue, metrics: m, log: log, byFilter: map[string]map[*client]struct{}{}}
}

// frame is one message for a client.
type frame struct {
	snapshot *cached   // a snapshot, encoded once for all clients
	raw      []byte    // or a message of this client's own (an error)
	noticed  time.Time // when the change it carries was noticed; zero if none
}

// add registers a client watching q; false when the hub is closing.
func (h *hub) add(c *client, q query) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	c.q, c.key = q, q.Filter.Key()
	h.join(c)
	h.n++
	h.running.Add(1)
	return true
}

func (h *hub) join(c *client) {
	set := h.byFilter[c.key]
	if set == nil {
		set = map[*client]struct{}{}
		h.byFilter[c.key] = set
	}
	set[c] = struct{}{}
}

func (h *hub) leave(c *client) {
	if set := h.byFilter[c.key]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(h.byFilter, c.key)
		}
	}
}

// setFilter moves a client to another filter.
func (h *hub) setFilter(c *client, q query) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.gone {
		return
	}
	h.leave(c)
	c.q, c.key = q, q.Filter.Key()
	h.join(c)
}

// remove forgets a client whose connection ended; its goroutines are done.
func (h *hub) remove(c *client) {
	h.mu.Lock()
	if !c.gone {
		c.gone = true
		h.leave(c)
	}
	h.n--
	h.mu.Unlock()
	h.running.Done()
}

// count is the number of clients connected.
func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// watched tells whether a client watches the filter of key.
func (h *hub) watched(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byFilter[key]) > 0
}

// filters are the distinct filters watched, each once.
func (h *hub) filters() map[string]query {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]query, len(h.byFilter))
	for key, set := range h.byFilter {
		for c := range set {
			out[key] = c.q
			break
		}
	}
	return out
}

// broadcast hands a snapshot of filter key to every client watching it.
func (h *hub) broadcast(key string, e *cached, noticed time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.byFilter[key] {
		h.deliverLocked(c, key, e, noticed)
	}
}

// deliver hands a snapshot to one client (on connect, after a subscribe).
func (h *hub) deliver(c *client, e *cached) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliverLocked(c, e.snap.Filter.Key(), e, time.Time{})
}

// deliverLocked queues the snapshot unless the client watches another filter by now or has
// a newer one already (seq only grows on a connection).
func (h *hub) deliverLocked(c *client, key string, e *cached, noticed time.Time) {
	if c.gone || c.key != key || e.snap.Seq <= c.lastSeq {
		return
	}
	if !h.enqueueLocked(c, frame{snapshot: e, noticed: noticed}) {
		return
	}
	c.lastSeq = e.snap.Seq
}

// send queues a message of the client's own.
func (h *hub) send(c *client, raw []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !c.gone {
		h.enqueueLocked(c, frame{raw: raw})
	}
}

func (h *hub) enqueueLocked(c *client, f frame) bool {
	select {
	case c.send <- f:
		return true
	default:
		h.dropLocked(c, websocket.ClosePolicyViolation, "too slow: messages were waiting")
		return false
	}
}

// drop ends a client from outside its goroutines (a failed write, for one).
func (h *hub) drop(c *client, code int, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(c, code, reason)
}

func (h *hub) dropLocked(c *client, code int, reason string) {
	if c.gone {
		return
	}
	c.gone = true
	h.leave(c)
	h.metrics.dropped.Inc()
	h.log.Debug("ws: dropping client", "remote", c.remote, "reason", reason)
	c.stop(code, reason)
}

// close ends every client with "going away" and waits (up to wait) for their goroutines.
func (h *hub) close(wait time.Duration) {
	h.mu.Lock()
	h.closed = true
	for _, set := range h.byFilter {
		for c := range set {
			c.gone = true
			c.stop(websocket.CloseGoingAway, "server shutting down")
		}
	}
	clear(h.byFilter)
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		h.log.Warn("ws: clients still closing at shutdown")
	}
}

// lastSeq is the seq of the last snapshot queued for the client.
func (h *hub) lastSeq(c *client) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.lastSeq
}
