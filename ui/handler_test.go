//go:build !wasm

package ui_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"salespulse/ui"
)

// get requests path from the dashboard handler.
func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestManifest(t *testing.T) {
	h := ui.Handler("test", nil)
	var m struct {
		Name        string `json:"name"`
		ShortName   string `json:"short_name"`
		Description string `json:"description"`
		StartURL    string `json:"start_url"`
		ThemeColor  string `json:"theme_color"`
		Display     string `json:"display"`
		Icons       []struct{ Src, Type, Purpose, Sizes string }
	}
	b := body(t, get(t, h, "/manifest.webmanifest"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, b)
	}
	if m.Name != "salespulse" || m.ShortName != "salespulse" || m.Description == "" || m.StartURL != "/" ||
		m.ThemeColor != "#2563eb" || m.Display != "standalone" {
		t.Errorf("manifest: %s", b)
	}
	want := map[string]string{"/web/icon-maskable-512.png": "maskable", "/web/icon-512.png": "", "/web/icon-192.png": "", "/web/icon.svg": ""}
	for _, i := range m.Icons {
		purpose, ok := want[i.Src]
		if !ok || purpose != i.Purpose {
			t.Errorf("icon %+v", i)
		}
		delete(want, i.Src)
	}
	if len(want) > 0 {
		t.Errorf("icons missing from the manifest: %v", want)
	}
}

func TestIcons(t *testing.T) {
	h := ui.Handler("test", nil)
	for path, size := range map[string]int{"/web/icon-192.png": 192, "/web/icon-512.png": 512, "/web/icon-maskable-512.png": 512} {
		res := get(t, h, path)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %s %s", path, res.Status, res.Header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(body(t, res)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %v", path, b)
		}
		// A maskable icon fills its square (the platform cuts the shape); the others
		// have rounded, transparent corners.
		_, _, _, a := img.At(0, 0).RGBA()
		if maskable := strings.Contains(path, "maskable"); maskable != (a == 0xffff) {
			t.Errorf("%s: corner alpha %d", path, a)
		}
	}
	if res := get(t, h, "/web/icon.svg"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("icon.svg: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
}

func TestWasmCompressed(t *testing.T) {
	h := ui.Handler("test", nil)
	raw := get(t, h, "/web/app.wasm")
	if raw.StatusCode != http.StatusOK {
		t.Fatalf("app.wasm: %s: run make web (make test does) before go test", raw.Status)
	}
	plain := body(t, raw)
	if raw.Header.Get("Content-Type") != "application/wasm" || raw.Header.Get("Content-Encoding") != "" {
		t.Errorf("plain app.wasm: %v", raw.Header)
	}
	gz := get(t, h, "/web/app.wasm", "Accept-Encoding", "gzip, deflate, br")
	h2 := gz.Header
	if h2.Get("Content-Encoding") != "gzip" || h2.Get("Content-Type") != "application/wasm" ||
		!strings.Contains(h2.Get("Vary"), "Accept-Encoding") || h2.Get("Cache-Control") != "no-cache" || h2.Get("ETag") == "" {
		t.Errorf("gzipped app.wasm headers: %v", h2)
	}
	compressed := body(t, gz)
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(inflated, plain) {
		t.Fatalf("gzipped app.wasm does not inflate to app.wasm (%v)", err)
	}
	t.Logf("app.wasm: %d bytes, %d gzipped (%.1f MB)", len(plain), len(compressed), float64(len(compressed))/1e6)
	if len(compressed) > 3_500_000 {
		t.Errorf("app.wasm is %d bytes gzipped, over the 3.5 MB budget", len(compressed))
	}
	if res := get(t, h, "/web/app.wasm", "Accept-Encoding", "gzip;q=0"); res.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refuses it")
	}
	for path, ctype := range map[string]string{"/web/echarts.min.js": "text/javascript", "/web/salespulse.css": "text/css"} {
		res := get(t, h, path, "Accept-Encoding", "gzip")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %s %v", path, res.Status, res.Header)
		}
	}
	for _, path := range []string{"/web/app.wasm.gz", "/web/nothing.js", "/web/"} {
		if res := get(t, h, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", path, res.Status)
		}
	}
}

func TestPageAndWorker(t *testing.T) {
	h := ui.Handler("v1.2.3", nil)
	page := get(t, h, "/")
	html := string(body(t, page))
	etag := page.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"v1.2.3-`) {
		t.Errorf("ETag %q: want the version with the assets' hash", etag)
	}
	for _, want := range []string{`href="/web/salespulse.css"`, `src="/web/echarts.min.js"`, `href="/manifest.webmanifest"`,
		`localStorage.getItem("salespulse.theme")`, `content="#2563eb"`, `data-kpi="sales"`,
		`l.rel="preload";l.href="/web/app.wasm";l.as="fetch"`, `window.salespulseFirst=fetch("/api/kpis?"`,
		`window.salespulseSavePaint=`, `localStorage.getItem(prefix+location.search.slice(1))`} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if res := get(t, h, "/files"); res.StatusCode != http.StatusOK {
		t.Errorf("/files: %s", res.Status)
	}
	if res := get(t, h, "/", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %s, want 304", res.Status)
	}

	worker := string(body(t, get(t, h, "/app-worker.js")))
	for _, want := range []string{`"/web/echarts.min.js"`, `"/web/salespulse.css"`, `"/web/app.wasm"`, `"/files"`,
		`"/web/icon-maskable-512.png"`, "ignoreSearch: navigate", `url.pathname.startsWith("/api/")`, `request.method !== "GET"`} {
		if !strings.Contains(worker, want) {
			t.Errorf("app-worker.js lacks %s", want)
		}
	}
	if strings.Count(worker, `addEventListener("fetch"`) != 1 {
		t.Error("app-worker.js should have exactly one fetch handler")
	}

	// The version is fixed by the binary, not by the start.
	if again := get(t, ui.Handler("v1.2.3", nil), "/").Header.Get("ETag"); again != etag {
		t.Errorf("a second handler has version %s, the first %s", again, etag)
	}
}

// TestNotFoundPage: a path that is no page, a missing file under /web/ included, gets the
// dashboard's own not-found page with status 404; the pages and assets keep their 200.
func TestNotFoundPage(t *testing.T) {
	h := ui.Handler("test", nil)
	for _, path := range []string{"/nope", "/files/12", "/files/", "/dashboard?range=7d", "/web/nothing.js", "/web/"} {
		res := get(t, h, path)
		html := string(body(t, res))
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %s %s, want 404 text/html", path, res.Status, res.Header.Get("Content-Type"))
		}
		if !strings.Contains(html, `id="not-found"`) || !strings.Contains(html, "No such page") || !strings.Contains(html, `href="/web/salespulse.css"`) {
			t.Errorf("%s: not the dashboard's not-found page:\n%.400s", path, html)
		}
		if res.Header.Get("ETag") != "" {
			t.Errorf("%s: a 404 with an ETag (%s) could be revalidated into a 304", path, res.Header.Get("ETag"))
		}
	}
	for _, path := range []string{"/", "/files", "/?range=7d", "/app.js", "/app-worker.js", "/manifest.webmanifest", "/web/salespulse.css"} {
		res := get(t, h, path)
		html := string(body(t, res))
		if res.StatusCode != http.StatusOK || strings.Contains(html, `id="not-found"`) {
			t.Errorf("%s: %s", path, res.Status)
		}
	}
}
