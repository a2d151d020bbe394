package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"salespulse/server/api"
)

// requestAs sends a request naming host in its Host header, as a browser whose DNS says
// that name is this server does.
func requestAs(t *testing.T, method, url, host string, header http.Header, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestDNSRebindingIsRefused(t *testing.T) {
	client, name := bucket(t)
	srv := startServer(t, Config{S3: client, Bucket: name})
	port := srv.Addr().String()[strings.LastIndex(srv.Addr().String(), ":"):]
	evil := "evil.example" + port
	forged := http.Header{"Origin": {"http://" + evil}}

	fixture, err := os.ReadFile(fixtureFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "rebound.csv")
	fw.Write(fixture)
	mw.Close()
	up := forged.Clone()
	up.Set("Content-Type", mw.FormDataContentType())
	if resp := requestAs(t, http.MethodPost, srv.URL()+"/api/uploads", evil, up, &body); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("an upload from a rebound name: %d", resp.StatusCode)
	}
	resp := requestAs(t, http.MethodGet, srv.URL()+"/api/files", evil, forged, nil)
	if resp.StatusCode != http.StatusMisdirectedRequest || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/api/files from a rebound name: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), api.CodeUnknownHost) {
		t.Errorf("the refusal does not say why: %s", b)
	}
	if resp := requestAs(t, http.MethodGet, srv.URL()+"/", evil, nil, nil); resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("the page from a rebound name: %d", resp.StatusCode)
	}
	ws := forged.Clone()
	ws.Set("Host", evil)
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr().String()+"/ws", ws); err == nil || resp == nil || resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("/ws from a rebound name: %v %+v", err, resp)
	}
	// Health and metrics answer whatever the name: probes and scrapers use names of their own.
	for _, path := range []string{"/healthz", "/metrics"} {
		if resp := requestAs(t, http.MethodGet, srv.URL()+path, evil, nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s by another name: %d", path, resp.StatusCode)
		}
	}
	// This server's own names: its address, loopback names.
	for _, host := range []string{srv.Addr().String(), "localhost" + port, "LocalHost", "app.localhost" + port, "[::1]" + port, "192.0.2.7"} {
		if resp := requestAs(t, http.MethodGet, srv.URL()+"/api/files", host, nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("Host %q: %d", host, resp.StatusCode)
		}
	}
}

func TestAllowedHostsNameTheServer(t *testing.T) {
	srv := startServer(t, Config{AllowedHosts: []string{"dash.example.com", ".corp.example"}})
	for host, want := range map[string]int{
		"dash.example.com": 200, "DASH.example.com:8443": 200, "corp.example": 200, "a.b.corp.example": 200,
		"example.com": 421, "dash.example.com.evil": 421, "notcorp.example": 421, "localhost": 200,
	} {
		if resp := requestAs(t, http.MethodGet, srv.URL()+"/api/files", host, nil, nil); resp.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, resp.StatusCode, want)
		}
	}
	anyHost := startServer(t, Config{AllowedHosts: []string{"*"}})
	if resp := requestAs(t, http.MethodGet, anyHost.URL()+"/api/files", "whatever.example", nil, nil); resp.StatusCode != 200 {
		t.Errorf("ALLOWED_HOSTS=*: %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	const theme = `document.documentElement.dataset.theme="dark"`
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><html><head><script defer src="/app.js"></script><script>`+theme+`</script></head></html>`)
	})
	srv := startServer(t, Config{UI: page})
	sum := sha256.Sum256([]byte(theme))
	for path, want := range map[string][]string{
		"/": {"script-src 'self' 'wasm-unsafe-eval' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
			"frame-ancestors 'none'", "object-src 'none'", "connect-src 'self' ws://" + srv.Addr().String()},
		"/files":    {"frame-ancestors 'none'"},
		"/api/kpis": {"default-src 'none'", "frame-ancestors 'none'"},
		"/healthz":  {"default-src 'none'"},
	} {
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, w := range want {
			if !strings.Contains(csp, w) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, w)
			}
		}
		if strings.Contains(csp, "'unsafe-inline'") && strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("%s: inline scripts allowed wholesale: %q", path, csp)
		}
		for h, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("%s: %s %q, want %q", path, h, got, v)
			}
		}
	}
}
