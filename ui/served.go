//go:build !wasm

package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// A first visit has nothing stored, and its figures would wait for the WebAssembly: seconds
// of download, compilation and start. So the page of a first visit comes with its figures:
// the server writes the view's snapshot into it, with the cards drawn by the same Go code as
// the app's, and the page's first script puts them in place as soon as the page is parsed
// (paintScript). The app then starts from that snapshot (liveClient.adoptServed) while its
// WebSocket connects.
//
// Only a navigation gets figures: the copy of the page the service worker keeps for later
// visits and offline use must not hold figures that then go stale (later visits paint the
// stored snapshot instead, which knows its age).

// Figures answers the JSON of a filter's snapshot, as GET /api/kpis does, for the page
// request r, with the API's rules (its token). nil: pages come without figures.
type Figures func(r *http.Request, f api.Filter) ([]byte, error)

// figuresWait bounds how long a page waits for its figures: without them it is still the
// whole dashboard, whose app then asks for them itself.
const figuresWait = time.Second

// servedID is the element that holds the record in the page: data, not a script, which the
// page's Content-Security-Policy would refuse, as it allows only the scripts it knows.
const servedID = "salespulse-served"

// servedRecord is what the page is served with: the view's key, its snapshot as the API
// gives it, the cards and the window's label drawn.
type servedRecord struct {
	Key      string          `json:"key"`
	Snapshot json.RawMessage `json:"snapshot"`
	Cards    string          `json:"cards"`
	Window   string          `json:"window"`
}

// servedFigures is the record for a navigation to the dashboard; false when there is none
// to give (another request, or the server did not answer in time: the figures then come as
// on any visit, through the app, which reports the errors).
func (h *handler) servedFigures(r *http.Request) (servedRecord, bool) {
	if h.figures == nil || r.Method != http.MethodGet || r.URL.Path != "/" || r.Header.Get("Sec-Fetch-Mode") != "navigate" {
		return servedRecord{}, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), figuresWait)
	defer cancel()
	r = r.WithContext(ctx)
	snapshot := func(f api.Filter) (api.Snapshot, []byte, bool) {
		body, err := h.figures(r, f)
		var s api.Snapshot
		if err != nil || json.Unmarshal(body, &s) != nil || s.Filter.Key() != f.Key() {
			return s, nil, false
		}
		return s, body, true
	}
	v := parseView(r.URL.Query())
	f, resolved := v.filter(nil)
	s, body, ok := snapshot(f)
	if ok && !resolved { // a preset: that snapshot told the newest sale date
		if f, resolved = v.filter(&s.DataRange); resolved {
			s, body, ok = snapshot(f)
		}
	}
	if !ok || !resolved {
		return servedRecord{}, false
	}
	return servedRecord{
		Key:      v.key(),
		Snapshot: body,
		Cards:    app.HTMLString(kpiCards(s.Totals, &s.Previous, true, nil, nil)),
		Window:   windowLabel(s.Window, true),
	}, true
}

// serveWithFigures serves go-app's page with the record in its head, before the scripts that
// use it. The page is then this visitor's, of this moment: no cache keeps it.
func (h *handler) serveWithFigures(w http.ResponseWriter, r *http.Request, rec servedRecord) {
	page := &pageBuffer{header: w.Header()}
	h.app.ServeHTTP(page, r)
	body := page.body.Bytes()
	at := bytes.Index(body, []byte(paintScript))
	if page.status != 0 && page.status != http.StatusOK || at < 0 {
		w.WriteHeader(max(page.status, http.StatusOK))
		_, _ = w.Write(body)
		return
	}
	record, _ := json.Marshal(rec) // escapes <, > and &: safe inside a script element
	var b bytes.Buffer
	b.Grow(len(body) + len(record) + 64)
	b.Write(body[:at])
	b.WriteString(`<script type="application/json" id="` + servedID + `">`)
	b.Write(record)
	b.WriteString("</script>")
	b.Write(body[at:])
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Del("ETag")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// pageBuffer keeps a page go-app rendered, to be completed before it is sent.
type pageBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *pageBuffer) Header() http.Header { return p.header }

func (p *pageBuffer) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *pageBuffer) Write(b []byte) (int, error) { return p.body.Write(b) }
