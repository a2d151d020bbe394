package server

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"salespulse/server/api"
)

func forbiddenOrigin() *apiError {
	return &apiError{http.StatusForbidden, api.Error{Code: api.CodeForbiddenOrigin, Message: "requests from this page's origin are not allowed (see ALLOWED_ORIGINS)"}}
}

// authorized reports whether the request carries the API token, when one is set: as
// "Authorization: Bearer <token>", as the query parameter token, or, on the WebSocket
// (browsers cannot set its headers), as the subprotocols "bearer, <token>".
func (s *Server) authorized(r *http.Request, ws bool) bool {
	want := s.cfg.APIToken
	if want == "" {
		return true
	}
	var candidates []string
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		candidates = append(candidates, strings.TrimSpace(h))
	}
	if t := r.URL.Query().Get("token"); t != "" {
		candidates = append(candidates, t)
	}
	if ws {
		protos := websocketProtocols(r)
		for i, p := range protos {
			if strings.EqualFold(p, "bearer") && i+1 < len(protos) {
				candidates = append(candidates, protos[i+1])
			}
		}
	}
	for _, c := range candidates {
		if subtle.ConstantTimeCompare([]byte(c), []byte(want)) == 1 {
			return true
		}
	}
	return false
}

func websocketProtocols(r *http.Request) []string {
	var out []string
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// originAllowed reports whether a browser page may use the API: no Origin (not a browser),
// the server's own origin, or one of ALLOWED_ORIGINS ("*" for any).
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.crossOriginAllowed(origin)
}

func (s *Server) crossOriginAllowed(origin string) bool {
	origin = normalizeOrigin(origin)
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || normalizeOrigin(o) == origin {
			return true
		}
	}
	return false
}

func normalizeOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// cors lets pages of the allowed origins call the API from the browser, answers their
// preflight requests, and refuses requests that change something from any other origin
// (a form on a foreign page could otherwise post an upload).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		if !s.originAllowed(r) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				s.writeError(w, r, forbiddenOrigin())
				return
			}
			next.ServeHTTP(w, r) // the browser keeps the answer from the page
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
