package server

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"salespulse/server/api"
	"salespulse/server/kpi"
)

// snapshotCache keeps the latest snapshot of each filter asked for, so that N viewers of one
// filter (WebSocket clients, REST callers) cost one computation. An entry is current while
// the engine's version is the one it was computed at; concurrent requests for a filter being
// computed wait for that computation.
type snapshotCache struct {
	compute func(context.Context, query) (*kpi.View, error)
	version func() uint64 // the engine's
	timeout time.Duration // how long one computation may take
	// max is the entries kept: beyond it, an arbitrary one no client watches is evicted.
	// Watched filters are never evicted (their clients bound them), or every change to more
	// watched filters than max would compute again the ones evicted at random.
	max     int
	watched func(key string) bool

	mu      sync.Mutex
	entries map[string]*cached
}

// cached is one filter's snapshot, encoded once for every kind of reader.
type cached struct {
	ready   chan struct{} // closed when the fields below are set
	err     error
	version uint64 // the engine's when computed
	view    *kpi.View
	snap    *api.Snapshot // view.Snap
	// msg is the WebSocket message {"type":"snapshot","seq":N,"data":{...}}; within it, body
	// is the snapshot's JSON (GET /api/kpis) and figures its figures', which a restamped
	// copy keeps. One buffer for all three: a server may hold thousands of entries.
	msg     []byte
	body    []byte
	figures []byte
	marks   api.Marks // where figures' series points begin, for the next encoding of the view

	framing sync.Once
	frame   *websocket.PreparedMessage // msg, framed and compressed once for the clients that deflate
}

// framed is the message framed for the WebSocket clients that use permessage-deflate, made
// when the first one needs it.
func (e *cached) framed() *websocket.PreparedMessage {
	e.framing.Do(func() {
		// Framing into memory, uncompressed, cannot fail.
		e.frame, _ = websocket.NewPreparedMessage(websocket.TextMessage, e.msg)
	})
	return e.frame
}

func newSnapshotCache(compute func(context.Context, query) (*kpi.View, error), version func() uint64, watched func(string) bool,
	timeout time.Duration, max int) *snapshotCache {
	return &snapshotCache{compute: compute, version: version, watched: watched, timeout: timeout, max: max, entries: map[string]*cached{}}
}

// get returns the current snapshot of q's filter with a seq above minSeq (0: any), computing
// it when there is none. The computation is not tied to ctx (others may be waiting for it);
// ctx only bounds this caller's wait.
func (c *snapshotCache) get(ctx context.Context, q query, minSeq uint64) (*cached, error) {
	key := q.Filter.Key()
	for {
		version := c.version()
		c.mu.Lock()
		e, ok := c.entries[key]
		if !ok || (isDone(e) && (e.err != nil || e.version < version || e.snap.Seq <= minSeq)) {
			e = c.start(key, q)
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			return nil, e.err
		}
		if e.snap.Seq > minSeq && e.version >= version {
			return e, nil
		}
		// Computed before the caller's last snapshot (a client switching back to a filter
		// cached earlier), or before the data changed: go round again for a newer one.
	}
}

func isDone(e *cached) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// start registers a computation for key and runs it; c.mu is held.
func (c *snapshotCache) start(key string, q query) *cached {
	if len(c.entries) >= c.max {
		for k := range c.entries { // evict one at random: filters are cheap to recompute
			if !c.watched(k) {
				delete(c.entries, k)
				break
			}
		}
	}
	e := &cached{ready: make(chan struct{})}
	c.entries[key] = e
	go c.fill(key, q, e)
	return e
}

func (c *snapshotCache) fill(key string, q query, e *cached) {
	defer close(e.ready)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	e.view, e.err = c.compute(ctx, q)
	if e.err == nil {
		e.snap, e.version = e.view.Snap, e.view.Version()
		e.encode(func(b []byte) ([]byte, api.Marks) { return e.snap.AppendFigures(b, nil) })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil && c.entries[key] == e {
		delete(c.entries, key) // the next caller tries again
	}
}

// encode writes the message around the figures' JSON, which figures appends, into one
// buffer sized for the snapshot: growing it would copy it several times.
func (e *cached) encode(figures func([]byte) ([]byte, api.Marks)) {
	b := make([]byte, 0, encodedSize(e.snap))
	b = append(b, `{"type":"`+api.TypeSnapshot+`","seq":`...)
	b = strconv.AppendUint(b, e.snap.Seq, 10)
	b = append(b, `,"data":`...)
	bodyAt := len(b)
	b = e.snap.AppendHeadJSON(b)
	b = append(b, ',')
	figuresAt := len(b)
	b, e.marks = figures(b)
	figuresEnd := len(b)
	b = append(b, `,"options":`...)
	b = api.AppendOptionsJSON(b, &e.snap.Options)
	b = append(b, '}')
	bodyEnd := len(b)
	e.msg = append(b, '}')
	e.body, e.figures = e.msg[bodyAt:bodyEnd], e.msg[figuresAt:figuresEnd]
}

// encodedSize is about the length of a snapshot's message, from the bytes its parts take at
// most as a rule; a few more only cost one copy.
func encodedSize(s *api.Snapshot) int {
	n := 2048 + 96*len(s.Trend) + 80*(len(s.CategoryTrend)+len(s.ChannelDaily))
	n += 160 * (len(s.TopReps) + len(s.TopProducts.ByQuantity) + len(s.TopProducts.BySales))
	n += 96 * (len(s.ByCategory) + len(s.ByRegion) + len(s.ByChannel) + len(s.ByPaymentStatus))
	for _, o := range [][]string{s.Options.Categories, s.Options.Regions, s.Options.Channels} {
		for _, v := range o {
			n += len(v) + 3
		}
	}
	return n
}

// peek is the finished entry of a filter, if there is one.
func (c *snapshotCache) peek(key string) *cached {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || !isDone(e) || e.err != nil {
		return nil
	}
	return e
}

// adopt makes a refreshed view of an entry the filter's entry. A view whose figures the
// change left alone keeps old's encoding of them; an updated one copies from it the points
// of its series that did not change.
func (c *snapshotCache) adopt(key string, old *cached, v *kpi.View) (*cached, error) {
	e := &cached{ready: make(chan struct{}), version: v.Version(), view: v, snap: v.Snap}
	defer close(e.ready)
	figures := func(b []byte) ([]byte, api.Marks) {
		return v.Snap.AppendFigures(b, &api.Figures{Snap: old.snap, JSON: old.figures, Marks: old.marks})
	}
	if v.How == kpi.Untouched {
		figures = func(b []byte) ([]byte, api.Marks) { return append(b, old.figures...), old.marks }
	}
	e.encode(figures)
	c.mu.Lock()
	c.entries[key] = e
	c.mu.Unlock()
	return e, nil
}
