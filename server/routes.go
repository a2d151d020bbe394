package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"salespulse/server/api"
)

// routes maps method and path patterns to handlers. Every API path also answers other
// methods with a JSON 405, /api and unknown /api/ paths with a JSON 404, and everything
// else goes to the dashboard (which has its own not-found page).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(method, path string, h handlerFunc) {
		mux.Handle(method+" "+path, s.handle(h))
		mux.Handle(path, s.handle(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", method)
			return &apiError{http.StatusMethodNotAllowed, api.Error{Code: api.CodeMethodNotAllowed, Message: path + " answers " + method + " only"}}
		}))
	}
	route("GET", "/api/kpis", s.protect(s.handleKPIs))
	route("GET", "/api/files", s.protect(s.handleFiles))
	route("GET", "/api/files/{id}", s.protect(s.handleFile))
	route("GET", "/api/files/{id}/rejects", s.protect(s.handleRejects))
	route("POST", "/api/uploads", s.protect(s.handleUpload))
	s.alertRoutes(mux)
	route("GET", "/ws", s.handleWS) // checks origin and token itself, before the upgrade
	route("GET", "/healthz", s.handleHealthz)
	route("GET", "/readyz", s.handleReadyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.log}}))

	notFoundJSON := s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return notFound("no such route: %s %s", r.Method, clip(r.URL.Path))
	})
	mux.Handle("/api/", notFoundJSON)
	mux.Handle("/api", notFoundJSON)
	if s.cfg.UI != nil {
		mux.Handle("/", s.cfg.UI)
	} else {
		mux.Handle("/", notFoundJSON)
	}
	return s.securityHeaders(s.knownHosts(s.cors(mux)))
}

// protect requires the API token, when one is set.
func (s *Server) protect(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !s.authorized(r, false) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="salespulse"`)
			return unauthorized()
		}
		return h(w, r)
	}
}

// handleKPIs is GET /api/kpis: the snapshot of a filter, from the cache when it is there.
func (s *Server) handleKPIs(w http.ResponseWriter, r *http.Request) error {
	f, err := filterFromURL(r.URL.Query())
	if err != nil {
		return err
	}
	body, err := s.snapshotBody(r.Context(), f)
	if err == errNotReady {
		w.Header().Set("Retry-After", "2")
	}
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, body)
	return nil
}

// slogPrinter lets promhttp log through slog.
type slogPrinter struct {
	log interface{ Error(string, ...any) }
}

func (p slogPrinter) Println(v ...any) { p.log.Error("metrics: scrape", "err", v) }
