package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"salespulse/etl"
	"salespulse/server/api"
)

// apiError is an error with its HTTP status and stable code: what a handler returns for a
// request it refuses. Anything else a handler returns is a 500 "internal", logged once.
type apiError struct {
	status int
	body   api.Error
}

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

func badParam(param, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, api.Error{Code: api.CodeBadParameter, Message: fmt.Sprintf(format, args...), Param: param}}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf(format, args...)}}
}

func unauthorized() *apiError {
	return &apiError{http.StatusUnauthorized, api.Error{Code: api.CodeUnauthorized, Message: "a valid API token is required"}}
}

// handlerFunc is an HTTP handler that may fail; handle turns its error into the JSON body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h, writing its error as JSON and logging those that are the server's fault.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case r.Context().Err() != nil:
		return // the client went away; there is no one to answer
	case etl.ClassifyFailure(err) == etl.FailureTransient:
		// The database or the store is away: not the server's fault, and it passes.
		s.log.Warn("http: "+r.Method+" "+r.URL.Path+": a dependency is unavailable", "err", err)
		w.Header().Set("Retry-After", "5")
		ae = &apiError{http.StatusServiceUnavailable, api.Error{Code: api.CodeUnavailable, Message: "the database or the store cannot be reached; try again shortly"}}
	default:
		s.log.Error("http: "+r.Method+" "+r.URL.Path, "err", err)
		ae = &apiError{http.StatusInternalServerError, api.Error{Code: api.CodeInternal, Message: "internal error; see the server log"}}
	}
	writeJSON(w, ae.status, api.ErrorResponse{Error: ae.body})
}

// writeJSON writes v as the response body. The wire types always encode (no channels, no
// NaN: margin_pct is rounded from integers); a failed write means the client left, which is
// not worth a log line.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"the answer could not be encoded"}}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)+1)) // not chunked: one write
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}
