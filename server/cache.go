package server

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"salespulse/server/api"
)

// snapshotCache keeps the latest snapshot of each filter asked for, so that N viewers of one
// filter (WebSocket clients, REST callers) cost one computation. An entry is current while
// the engine's version is the one it was computed at; concurrent requests for a filter being
// computed wait for that computation.
type snapshotCache struct {
	compute func(context.Context, query) (*api.Snapshot, uint64, error)
	version func() uint64 // the engine's
	timeout time.Duration // how long one computation may take
	max     int           // entries kept; beyond it an arbitrary one is evicted

	mu      sync.Mutex
	entries map[string]*cached
}

// cached is one filter's snapshot, encoded once for every kind of reader.
type cached struct {
	ready   chan struct{} // closed when the fields below are set
	err     error
	version uint64 // the engine's when computed
	snap    *api.Snapshot
	figures []byte                     // the figures' JSON, kept by a restamped copy
	body    []byte                     // the snapshot as JSON: GET /api/kpis
	frame   *websocket.PreparedMessage // {"type":"snapshot",...}: framed (and compressed) once per kind of connection
}

func newSnapshotCache(compute func(context.Context, query) (*api.Snapshot, uint64, error), version func() uint64, timeout time.Duration, max int) *snapshotCache {
	return &snapshotCache{compute: compute, version: version, timeout: timeout, max: max, entries: map[string]*cached{}}
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
			delete(c.entries, k)
			break
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
	e.snap, e.version, e.err = c.compute(ctx, q)
	if e.err == nil {
		e.err = e.encode(e.snap.AppendFiguresJSON(nil))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.err != nil && c.entries[key] == e {
		delete(c.entries, key) // the next caller tries again
	}
}

// encode writes the body and the frame around the figures' JSON.
func (e *cached) encode(figures []byte) error {
	e.figures = figures
	b := make([]byte, 0, len(figures)+1024)
	b = e.snap.AppendHeadJSON(b)
	b = append(b, ',')
	b = append(b, figures...)
	b = append(b, `,"options":`...)
	b = api.AppendOptionsJSON(b, &e.snap.Options)
	e.body = append(b, '}')
	var err error
	e.frame, err = snapshotFrame(e.snap.Seq, e.body)
	return err
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

// adopt makes a restamped copy of an entry's snapshot the filter's entry at version: its
// figures are old's, only what the snapshot says of the data as a whole is new.
func (c *snapshotCache) adopt(key string, old *cached, snap *api.Snapshot, version uint64) (*cached, error) {
	e := &cached{ready: make(chan struct{}), version: version, snap: snap}
	defer close(e.ready)
	if err := e.encode(old.figures); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[key] = e
	c.mu.Unlock()
	return e, nil
}

// snapshotFrame is the WebSocket message {"type":"snapshot","seq":N,"data":{...}}, built
// around the snapshot's JSON instead of encoding it a second time.
func snapshotFrame(seq uint64, body []byte) (*websocket.PreparedMessage, error) {
	msg := make([]byte, 0, len(body)+48)
	msg = append(msg, `{"type":"`+api.TypeSnapshot+`","seq":`...)
	msg = strconv.AppendUint(msg, seq, 10)
	msg = append(msg, `,"data":`...)
	msg = append(msg, body...)
	msg = append(msg, '}')
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, msg)
	if err != nil {
		return nil, fmt.Errorf("snapshot frame: %w", err)
	}
	return pm, nil
}
