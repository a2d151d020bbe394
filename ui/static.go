//go:build !wasm

package ui

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// staticFiles serves /web/ from the embedded folder and resolves resource paths for
// go-app (an app.ResourceResolver that is also an http.Handler, as app.LocalDir is).
//
// Text assets and app.wasm go out gzip-compressed to clients that accept it (all browsers):
// app.wasm shrinks about fourfold. make web leaves a gzip -9 copy beside app.wasm
// (app.wasm.gz); without one, the handler compresses in memory, once, at first use.
type staticFiles struct {
	files    fs.FS
	start    time.Time        // Last-Modified of embedded files, which have none of their own
	notFound http.HandlerFunc // answers for a file that is not there

	mu   sync.Mutex
	gzip map[string]func() []byte // compressed bodies, by path, computed once

	iconsOnce sync.Once
	icons     map[string][]byte
}

func newStaticFiles(files fs.FS) *staticFiles {
	return &staticFiles{files: files, start: time.Now(), gzip: map[string]func() []byte{}}
}

// Resolve maps a resource path to its URL; they are served by this handler, so it is the
// path itself.
func (s *staticFiles) Resolve(location string) string {
	if location == "" {
		return "/"
	}
	return location
}

// wasmSize is the uncompressed size of app.wasm, for go-app's loading progress (the
// Content-Length of a compressed response would be the compressed size).
func (s *staticFiles) wasmSize() int64 {
	info, err := fs.Stat(s.files, "app.wasm")
	if err != nil {
		return 0
	}
	return info.Size()
}

// ServeHTTP serves one file of /web/.
func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/web/")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if body, ok := s.icon(name); ok {
		w.Header().Set("Content-Type", "image/png")
		http.ServeContent(w, r, name, s.start, bytes.NewReader(body))
		return
	}
	f, err := s.files.Open(name)
	if err != nil || strings.HasSuffix(name, ".gz") {
		if name == "app.wasm" || name == "echarts.min.js" {
			slog.Error("ui: "+name+" is not in the binary: build it with make web", "path", r.URL.Path)
		}
		s.notFound(w, r)
		return
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker) // embedded files are
	if info, err := f.Stat(); err != nil || info.IsDir() || !ok {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	// go-app has set Cache-Control: no-cache and an ETag of the app's version, which
	// changes with every asset: browsers revalidate cheaply (304) and the service worker
	// keeps its own copy for offline use.
	if compressible(ctype) {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			gz := s.gzipped(name)
			h.Set("Content-Encoding", "gzip")
			h.Set("Content-Length", strconv.Itoa(len(gz)))
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				_, _ = w.Write(gz)
			}
			return
		}
	}
	http.ServeContent(w, r, name, s.start, content)
}

// icon returns a generated icon.
func (s *staticFiles) icon(name string) ([]byte, bool) {
	s.iconsOnce.Do(func() {
		s.icons = map[string][]byte{
			"icon-192.png":          icon(192, false),
			"icon-512.png":          icon(512, false),
			"icon-maskable-512.png": icon(512, true),
		}
	})
	b, ok := s.icons[name]
	return b, ok
}

// gzipped is the compressed body of a file: the prebuilt name.gz, or compressed once.
func (s *staticFiles) gzipped(name string) []byte {
	s.mu.Lock()
	get, ok := s.gzip[name]
	if !ok {
		get = sync.OnceValue(func() []byte {
			if gz, err := fs.ReadFile(s.files, name+".gz"); err == nil {
				return gz
			}
			body, err := fs.ReadFile(s.files, name)
			if err != nil {
				return nil // ServeHTTP opened it: cannot happen with an embedded folder
			}
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression) // a valid level: no error
			_, _ = zw.Write(body)                                  // a bytes.Buffer does not fail
			_ = zw.Close()
			return b.Bytes()
		})
		s.gzip[name] = get
	}
	s.mu.Unlock()
	return get()
}

// compressible reports whether gzip is worth it for a content type (PNG is compressed).
func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "wasm") || strings.Contains(ctype, "svg") || strings.Contains(ctype, "json")
}

// acceptsGzip reports whether the request accepts gzip (q=0 refuses it).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
