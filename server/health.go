package server

import (
	"context"
	"net/http"
	"time"

	"salespulse/schema"
	"salespulse/server/api"
)

// handleHealthz is GET /healthz: the process is alive and serving.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readiness is the body of GET /readyz.
type readiness struct {
	Status    string     `json:"status"` // ok or unavailable
	Database  string     `json:"database"`
	Schema    string     `json:"schema"`    // current, or pending when migrations remain
	Listening bool       `json:"listening"` // the LISTEN connection is up (informative: pushes resume when it is)
	KPIs      string     `json:"kpis"`      // ready, or loading while the sales are read at start
	Error     *api.Error `json:"error,omitempty"`
}

// handleReadyz is GET /readyz: the database answers, its schema is current and the KPIs are
// read. A load balancer takes a replica out of rotation while it is not.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	res := readiness{Status: "ok", Database: "ok", Schema: "current", Listening: s.listener.connected.Load(), KPIs: "ready"}
	fail := func(msg string) {
		res.Status = "unavailable"
		res.Error = &api.Error{Code: api.CodeUnavailable, Message: msg}
	}
	if err := s.pool.Ping(ctx); err != nil {
		res.Database, res.Schema = "unreachable", "unknown"
		fail("the database does not answer")
		s.log.Warn("readyz: database", "err", err)
	} else if pending, err := schema.Pending(ctx, s.pool); err != nil {
		res.Schema = "unknown"
		fail("the schema version could not be read")
		s.log.Warn("readyz: schema", "err", err)
	} else if pending {
		res.Schema = "pending"
		fail("migrations are pending; run salespulse migrate")
	}
	if !s.ready() {
		res.KPIs = "loading"
		if res.Error == nil {
			fail("the sales are still being read")
		}
	}
	status := http.StatusOK
	if res.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, res)
	return nil
}
