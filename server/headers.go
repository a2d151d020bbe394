package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
)

// apiPolicy is the Content-Security-Policy of every answer that is not a page: JSON, metrics
// and the WebSocket handshake load nothing and are framed by no one.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'"

// pagePolicy is the Content-Security-Policy of the dashboard's pages. Scripts come from the
// server only, plus the page's own inline scripts by hash; 'wasm-unsafe-eval' lets the page
// compile app.wasm. go-app sets style attributes, hence 'unsafe-inline' for styles (which
// run no code). connect-src names the request's host for the WebSocket, which 'self' does
// not match in every browser.
type pagePolicy struct {
	scripts string // "'self' 'wasm-unsafe-eval' 'sha256-…' …"
}

// inlineScript finds the inline scripts of a page (those without a src).
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// newPagePolicy renders the dashboard's first page once to hash its inline scripts (the
// theme is set by one before the first paint), so the policy follows the page as it is.
func newPagePolicy(ui http.Handler) pagePolicy {
	p := pagePolicy{scripts: "'self' 'wasm-unsafe-eval'"}
	if ui == nil {
		return p
	}
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	for _, m := range inlineScript.FindAllStringSubmatch(rec.Body.String(), -1) {
		sum := sha256.Sum256([]byte(m[1]))
		p.scripts += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return p
}

func (p pagePolicy) header(host string) string {
	return "default-src 'self'; script-src " + p.scripts + "; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob:; connect-src 'self' ws://" + host + " wss://" + host + "; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// securityHeaders sets on every answer what keeps a browser from misusing it: no type
// sniffing, no framing, no referrer (a ?token= link must not travel), and a policy of what
// the page may load.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if isAPIPath(r.URL.Path) {
			h.Set("Content-Security-Policy", apiPolicy)
		} else {
			h.Set("Content-Security-Policy", s.pageCSP.header(r.Host))
		}
		next.ServeHTTP(w, r)
	})
}

func isAPIPath(path string) bool {
	switch path {
	case "/ws", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/api/")
}
