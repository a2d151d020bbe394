package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"salespulse/server/api"
	"salespulse/server/kpi"
)

// computeSnapshot computes the snapshot of q from the KPI engine and numbers it. The view of
// the data is fixed for the whole computation: a file shows in every figure or in none.
func (s *Server) computeSnapshot(ctx context.Context, q query) (*kpi.View, error) {
	if !s.ready() {
		return nil, errNotReady
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	start := time.Now()
	v := s.engine.View(q)
	v.Snap.Seq = s.seq.Add(1)
	s.metrics.snapshots.WithLabelValues(v.How.String()).Inc()
	s.metrics.snapshotSeconds.Observe(time.Since(start).Seconds())
	return v, nil
}

// snapshotBody is the JSON of the snapshot of f, from the cache when it is there.
func (s *Server) snapshotBody(ctx context.Context, f api.Filter) ([]byte, error) {
	q, err := parseFilter(f)
	if err != nil {
		return nil, err
	}
	if !s.ready() {
		return nil, errNotReady
	}
	e, err := s.cache.get(ctx, q, 0)
	if err != nil {
		return nil, err
	}
	return e.body, nil
}

// PageFigures is what GET /api/kpis answers for f to the page request r. The dashboard
// writes it into the page of a first visit, so that the figures show before the app runs.
// The API's rules apply: its token, when one is set (a page carries it as ?token=).
func (s *Server) PageFigures(r *http.Request, f api.Filter) ([]byte, error) {
	if !s.authorized(r, false) {
		return nil, unauthorized()
	}
	return s.snapshotBody(r.Context(), f)
}

// errNotReady answers while the engine is still reading the sales at start.
var errNotReady = &apiError{http.StatusServiceUnavailable, api.Error{Code: api.CodeUnavailable,
	Message: "the server is still reading the sales; try again in a few seconds"}}

// ready reports whether the engine holds the sales read at start.
func (s *Server) ready() bool {
	select {
	case <-s.engineReady:
		return true
	default:
		return false
	}
}

// Ready is closed once the server holds the sales and serves snapshots.
func (s *Server) Ready() <-chan struct{} { return s.engineReady }

// loadEngine reads the sales at start, trying again while the database is away.
func (s *Server) loadEngine(ctx context.Context) {
	backoff := s.cfg.ListenBackoff
	for {
		start := time.Now()
		err := s.engine.Load(ctx, s.pool)
		if err == nil {
			s.log.Info("serve: KPIs ready", "sales", s.engine.Sales(), "files", len(s.engine.Files()),
				"seconds", fmt.Sprintf("%.2f", time.Since(start).Seconds()))
			close(s.engineReady)
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("serve: reading the sales failed; trying again", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
