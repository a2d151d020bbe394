package server

import (
	"context"
	"sync"
	"time"

	"salespulse/queries/db"
)

// changes collects the notifications of a burst: every commit heard since the last push.
type changes struct {
	mu      sync.Mutex
	ids     []int64
	noticed time.Time     // when the first change of the burst was heard; zero when none
	signal  chan struct{} // one pending wake-up at most
}

// changed is the listener's callback: the data changed (file fileID committed, or 0 when
// unknown). Cached snapshots are stale from here on; the push follows after the
// coalescing delay.
func (s *Server) changed(fileID int64) {
	if fileID > 0 {
		s.metrics.notifications.Inc()
	}
	s.cache.invalidate()
	s.changes.mu.Lock()
	if s.changes.noticed.IsZero() {
		s.changes.noticed = time.Now()
	}
	if fileID > 0 {
		s.changes.ids = append(s.changes.ids, fileID)
	}
	s.changes.mu.Unlock()
	select {
	case s.changes.signal <- struct{}{}:
	default:
	}
}

// pushLoop pushes fresh snapshots after changes. A burst of commits (a backfill, several
// workers) is coalesced: after the first, it waits a few milliseconds for more, then
// recomputes each distinct filter in use once. Commits during a push make the next one.
func (s *Server) pushLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changes.signal:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.Coalesce):
		}
		s.changes.mu.Lock()
		ids, noticed := s.changes.ids, s.changes.noticed
		s.changes.ids, s.changes.noticed = nil, time.Time{}
		s.changes.mu.Unlock()
		if noticed.IsZero() {
			continue
		}
		s.push(ctx, noticed)
		s.observeFiles(ctx, ids)
	}
}

// push recomputes the snapshot of every filter watched, each once, a few at a time, and
// hands each to its watchers as soon as it is ready.
func (s *Server) push(ctx context.Context, noticed time.Time) {
	filters := s.hub.filters()
	sem := make(chan struct{}, s.cfg.PushParallel)
	var wg sync.WaitGroup
	for key, q := range filters {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			e, err := s.cache.get(ctx, q, 0)
			if err != nil {
				if ctx.Err() == nil {
					// The clients keep their last snapshot; the next change (or the listener's
					// reconnect after a database outage) pushes again.
					s.log.Error("push: snapshot", "filter", q.filter, "err", err)
				}
				return
			}
			s.hub.broadcast(key, e, noticed)
		})
	}
	wg.Wait()
}

// observeFiles feeds the load histograms from the ledger rows of the files just committed.
func (s *Server) observeFiles(ctx context.Context, ids []int64) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := db.New(s.pool).FileTimings(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("metrics: read the timings of committed files", "err", err)
		}
		return
	}
	s.metrics.observeFiles(rows)
}
