package server

import (
	"context"
	"sync"
	"time"

	"salespulse/queries/db"
	"salespulse/server/kpi"
)

// changes collects the notifications of a burst: every commit heard since the last push.
type changes struct {
	mu      sync.Mutex
	ids     []int64
	resync  bool          // look for every loaded file the engine lacks
	noticed time.Time     // when the first change of the burst was heard; zero when none
	signal  chan struct{} // one pending wake-up at most
}

// changed is the listener's callback: file fileID committed (0: something may have
// committed unheard, after a reconnect). The push loop adds the file's sales to the engine
// and pushes, after the coalescing delay.
func (s *Server) changed(fileID int64) {
	if fileID > 0 {
		s.metrics.notifications.Inc()
	}
	s.changes.mu.Lock()
	if s.changes.noticed.IsZero() {
		s.changes.noticed = time.Now()
	}
	if fileID > 0 {
		s.changes.ids = append(s.changes.ids, fileID)
	} else {
		s.changes.resync = true
	}
	s.changes.mu.Unlock()
	select {
	case s.changes.signal <- struct{}{}:
	default:
	}
}

// pushLoop adds committed files to the engine and pushes fresh snapshots. A burst of
// commits (a backfill, several workers) is coalesced: after the first, it waits a few
// milliseconds for more, then adds them all and recomputes each distinct filter in use once.
// Commits during a push make the next one. Nothing is added before the engine has read the
// sales at start (those files are then known to it already).
func (s *Server) pushLoop(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-s.engineReady:
	}
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
		ids, resync, noticed := s.changes.ids, s.changes.resync, s.changes.noticed
		s.changes.ids, s.changes.resync, s.changes.noticed = nil, false, time.Time{}
		s.changes.mu.Unlock()
		if noticed.IsZero() {
			continue
		}
		fp, ok := s.addFiles(ctx, ids, resync)
		if !ok {
			continue
		}
		if !fp.Empty() {
			s.push(ctx, noticed, fp)
		}
		s.observeFiles(ctx, ids)
		s.alerts.changed() // the files are in the engine (or failed): rules may have crossed
	}
}

// addFiles adds the sales of committed files to the engine (with resync, of every loaded
// file it lacks) and returns the cells they changed. When the database fails meanwhile, a
// resync is tried again shortly; false when the server is stopping.
func (s *Server) addFiles(ctx context.Context, ids []int64, resync bool) (kpi.Footprint, bool) {
	var fp kpi.Footprint
	var err error
	for _, id := range ids {
		var added kpi.Footprint
		if added, err = s.engine.LoadFile(ctx, s.pool, id); err != nil {
			break
		}
		fp.Merge(added)
	}
	if err == nil && resync {
		var added kpi.Footprint
		added, err = s.engine.Sync(ctx, s.pool)
		fp.Merge(added)
	}
	if ctx.Err() != nil {
		return fp, false
	}
	if err != nil {
		s.log.Warn("push: reading committed files failed; trying again", "err", err)
		time.AfterFunc(s.cfg.ListenBackoff, func() { s.changed(0) })
	}
	return fp, true
}

// push brings the snapshot of every filter watched up to date with the change fp, each once,
// a few at a time, and hands each to its watchers as soon as it is ready.
func (s *Server) push(ctx context.Context, noticed time.Time, fp kpi.Footprint) {
	filters := s.hub.filters()
	sem := make(chan struct{}, s.cfg.PushParallel)
	var wg sync.WaitGroup
	for key, q := range filters {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			e, err := s.renew(ctx, key, q, fp)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("push: snapshot", "filter", q.Filter, "err", err)
				}
				return
			}
			s.hub.broadcast(key, e, noticed)
		})
	}
	wg.Wait()
}

// renew is the filter's snapshot after the change fp: its last view refreshed (restamped
// when the change left it alone, updated with the change's sums, or computed again), or a
// computation when there is none.
func (s *Server) renew(ctx context.Context, key string, q query, fp kpi.Footprint) (*cached, error) {
	old := s.cache.peek(key)
	if old == nil {
		return s.cache.get(ctx, q, 0)
	}
	start := time.Now()
	v := s.engine.Refresh(old.view, fp)
	v.Snap.Seq = s.seq.Add(1)
	s.metrics.snapshots.WithLabelValues(v.How.String()).Inc()
	if v.How != kpi.Untouched {
		s.metrics.snapshotSeconds.Observe(time.Since(start).Seconds())
	}
	return s.cache.adopt(key, old, v)
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
