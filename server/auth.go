package server

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"salespulse/server/api"
)

func forbiddenOrigin() *apiError {
	return &apiError{http.StatusForbidden, api.Error{Code: api.CodeForbiddenOrigin, Message: "requests from this page's origin are not allowed (see ALLOWED_ORIGINS)"}}
}

// hostAllowed reports whether the Host header names this server: an IP address, a loopback
// name (localhost, *.localhost), or one of AllowedHosts. A browser sends the name it
// resolved, so a foreign page that rebinds its own name to this server's address (DNS
// rebinding) is refused whatever Origin it claims; no such page can be at an IP address or a
// loopback name, which resolve without its DNS.
func (s *Server) hostAllowed(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" || net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, a := range s.cfg.AllowedHosts {
		a = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a)), ".")
		if a == "*" || a == host || (strings.HasPrefix(a, ".") && (strings.HasSuffix(host, a) || host == a[1:])) {
			return true
		}
	}
	return false
}

// knownHosts refuses requests whose Host is not this server's (421), but for the health and
// metrics endpoints, which orchestrators and scrapers reach by names of their own and which
// show nothing a page could misuse.
func (s *Server) knownHosts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
		default:
			if !s.hostAllowed(r) {
				s.writeError(w, r, &apiError{http.StatusMisdirectedRequest, api.Error{Code: api.CodeUnknownHost,
					Message: "this server does not answer to the name " + clipQuote(r.Host) + " (see ALLOWED_HOSTS)"}})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
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
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
