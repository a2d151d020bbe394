//go:build !wasm

package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// web holds the static assets: styles and the SVG icon (committed), echarts.min.js and
// app.wasm (built by make web, git-ignored). Embedding the folder rather than listing the
// built files keeps the package compiling before make web ran; the handler then says what
// is missing.
//
//go:embed web
var web embed.FS

// themeScript applies a remembered choice before the first paint, so a dark-mode user never
// sees a white flash while the WebAssembly loads. CSS does the same for the system setting.
const themeScript = `<script>try{var t=localStorage.getItem("` + themeKey + `");if(t)document.documentElement.dataset.theme=t}catch(e){}</script>`

// Handler serves the dashboard: the pages (pre-rendered on the server, then run by app.wasm
// in the browser), the web app manifest, the service worker, and the static files under
// /web, all from inside the binary, through go-app's handler. Any other path, a missing
// file under /web included, gets the not-found page with status 404. Routes must have
// been called.
//
// version identifies the build (set by the command). The app's version, which the service worker
// uses to notice updates, adds a hash of the embedded assets: fixed for a given binary, so
// a restart does not make every browser download the app again, yet different whenever the
// assets change, even between two builds of the same commit.
//
// figures gives a first visit's page its figures (served.go); nil: pages come without.
func Handler(version string, figures Figures) http.Handler {
	files, err := fs.Sub(web, "web")
	if err != nil {
		panic("ui: " + err.Error()) // the embedded folder is always there
	}
	static := newStaticFiles(files)
	h := &handler{figures: figures}
	static.notFound = h.notFound
	h.app = &app.Handler{
		Name:        "salespulse",
		ShortName:   "salespulse",
		Title:       "salespulse — sales KPIs",
		Description: "Live sales KPIs: sales, orders, margin and trends, updated the moment a sales file loads.",
		Lang:        "en",
		Icon: app.Icon{
			Default:  "/web/icon-192.png",
			Large:    "/web/icon-512.png",
			Maskable: "/web/icon-maskable-512.png",
			SVG:      "/web/icon.svg",
		},
		ThemeColor:      themeColor,
		BackgroundColor: "#f5f7fb",
		LoadingLabel:    "Loading salespulse… {progress}%",
		Styles:          []string{"/web/salespulse.css", "/web/alerts.css"},
		// Deferred scripts run in order, before DOMContentLoaded; app.wasm takes longer
		// to arrive and compile, and the charts wait for ECharts if it has not.
		Scripts:            []string{"/web/echarts.min.js defer"},
		CacheableResources: []string{"/files", "/alerts", "/web/icon.svg"},
		RawHeaders:         []string{themeScript, paintScript, firstFetchScript},
		Version:            appVersion(version, files),
		WasmContentLength:  strconv.FormatInt(static.wasmSize(), 10),
		Resources:          static,

		ServiceWorkerTemplate: serviceWorker(),
	}
	return h
}

// handler is go-app's handler with the status of the not-found page set to 404 (go-app
// sends every page it renders with 200).
type handler struct {
	app     *app.Handler
	figures Figures
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, page := pages[r.URL.Path]; !page {
		w = &notFoundStatus{ResponseWriter: w}
	}
	if rec, ok := h.servedFigures(r); ok {
		h.serveWithFigures(w, r, rec)
		return
	}
	h.app.ServeHTTP(w, r)
}

// notFound renders the not-found page for a request go-app would not route to a page (a
// missing file under /web/): as the request of a path no page has.
func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/web"
	h.ServeHTTP(w, r2)
}

// notFoundStatus turns the 200 of an HTML page into a 404; other answers (scripts, the
// manifest, the service worker, files) keep theirs. The page has no ETag: a revalidation
// must not turn the 404 into a 304.
type notFoundStatus struct {
	http.ResponseWriter
	wrote bool
}

func (w *notFoundStatus) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		h := w.Header()
		if status == http.StatusOK && strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			status = http.StatusNotFound
			h.Del("ETag")
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *notFoundStatus) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// appVersion is version plus a short hash of every embedded file.
func appVersion(version string, files fs.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path + "\x00"))
		h.Write(b)
		return nil
	})
	if version == "" {
		version = "dev"
	}
	return strings.ReplaceAll(version, " ", "_") + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}
