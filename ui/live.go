package ui

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// liveClient keeps one WebSocket to the server for the whole app, whatever page is shown.
// It subscribes with the current view's filter, publishes every snapshot to stateShown and
// the connection's health to stateConn, stores snapshots for offline use, and reconnects by
// itself with exponential backoff and jitter, resubscribing with the current filter.
//
// It uses the browser's own WebSocket through go-app's JS bridge (a Go WebSocket library
// would need raw sockets, which WebAssembly in a browser does not have). JavaScript calls
// its handlers on the browser's event loop, where Go must not block: each handler copies
// what it needs and continues on a goroutine.
type liveClient struct {
	mu sync.Mutex

	started bool

	view      view
	dataRange *api.Window // data_range of the newest snapshot seen, nil before any
	sub       api.Filter  // the filter last sent to the server

	shown shown // what stateShown holds

	ws       app.Value // the socket, nil between connections
	handlers []app.Func
	open     bool // the socket opened
	everOpen bool // a socket opened at least once since the page loaded
	fresh    bool // the socket just opened: the server is sending its unfiltered snapshot
	conn     connState
	retry    backoff
	timer    *time.Timer
}

// live is the app's one client. It is used only in the browser.
var live = &liveClient{retry: backoff{Base: 500 * time.Millisecond, Max: 30 * time.Second}}

// handleView is the actionView handler: show another view.
func handleView(ctx app.Context, a app.Action) {
	v, ok := a.Value.(view)
	if !ok {
		return
	}
	live.setView(v)
}

// handleWake is the actionWake handler: connect if not connected yet.
func handleWake(ctx app.Context, a app.Action) {
	live.mu.Lock()
	defer live.mu.Unlock()
	live.startLocked()
}

// setView shows the stored snapshot of the view at once, if any, and subscribes to it.
func (l *liveClient) setView(v view) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := !l.started || v != l.view
	l.view = v
	// Connect first: the handshake then runs while the stored figures are drawn.
	started := l.startLocked()
	// The server's figures of this view may be on screen already (adoptServed).
	if changed && (!l.shown.Has || l.shown.Cached || l.shown.View != v.key()) {
		if cached, ok := loadSnapshot(v.key()); ok {
			if l.dataRange == nil {
				r := cached.DataRange
				l.dataRange = &r
			}
			l.publishLocked(shown{View: v.key(), Snapshot: cached, Cached: true, Has: true})
		} else {
			// Nothing stored for this view: keep the figures on screen, marked as not
			// the view's, until the server answers, rather than blanking every chart.
			s := l.shown
			s.View, s.Pending, s.Err = v.key(), true, ""
			l.publishLocked(s)
		}
	}
	if changed && !started {
		l.subscribeLocked() // a new socket subscribes when it opens
	}
}

// startLocked connects the first time it is called; it reports whether it did.
func (l *liveClient) startLocked() bool {
	if l.started {
		return false
	}
	l.started = true
	l.setConnLocked(connState{Status: connConnecting})
	// The browser knows before the socket does when the network goes: say so at once,
	// and try again as soon as it is back.
	app.Window().Call("addEventListener", "offline", app.FuncOf(func(app.Value, []app.Value) any {
		go l.wentOffline()
		return nil
	}))
	app.Window().Call("addEventListener", "online", app.FuncOf(func(app.Value, []app.Value) any {
		go l.reconnectNow()
		return nil
	}))
	// A phone suspends background tabs and their sockets: back on screen, do not wait
	// for the backoff.
	doc := app.Window().Get("document")
	doc.Call("addEventListener", "visibilitychange", app.FuncOf(func(app.Value, []app.Value) any {
		if doc.Get("visibilityState").String() == "visible" {
			go l.reconnectNow()
		}
		return nil
	}))
	l.connectLocked()
	go l.useFirst()
	return true
}

// useFirst shows the snapshot the page asked for before the app ran (firstfetch.go), if it
// answers the view and nothing newer is on screen.
func (l *liveClient) useFirst() {
	text := firstSnapshot()
	if text == "" {
		return
	}
	var s api.Snapshot
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	key := l.view.key()
	if l.shown.Has && !l.shown.Cached && l.shown.View == key {
		return // the WebSocket was first
	}
	r := s.DataRange
	if f, _ := l.view.filter(&r); f.Key() != s.Filter.Key() {
		return // not this view's figures
	}
	if l.dataRange == nil {
		l.dataRange = &r
	}
	l.publishLocked(shown{View: key, Snapshot: s, Has: true})
	// Stored as the socket's message would be.
	saveSnapshot(key, `{"type":"snapshot","seq":`+strconv.FormatUint(s.Seq, 10)+`,"data":`+text+`}`)
}

// connectLocked opens a socket to /ws on the page's own host.
func (l *liveClient) connectLocked() {
	loc := app.Window().Get("location")
	u := url.URL{Scheme: "ws", Host: loc.Get("host").String(), Path: "/ws"}
	if loc.Get("protocol").String() == "https:" {
		u.Scheme = "wss"
	}
	// Browsers cannot set headers on a WebSocket: the token goes as the subprotocols
	// "bearer, <token>", which keeps it out of URLs and access logs, or, when it has
	// characters a subprotocol cannot carry, as ?token=.
	var protocols []any
	if t := apiToken(); t != "" && isToken(t) {
		protocols = []any{"bearer", t}
	} else if t != "" {
		u.RawQuery = url.Values{"token": {t}}.Encode()
	}
	ws := app.Window().Get("WebSocket").New(u.String(), protocols)
	l.ws, l.open = ws, false
	on := func(event string, f func(app.Value)) {
		fn := app.FuncOf(func(_ app.Value, args []app.Value) any {
			var ev app.Value
			if len(args) > 0 {
				ev = args[0]
			}
			f(ev)
			return nil
		})
		l.handlers = append(l.handlers, fn)
		ws.Set("on"+event, fn)
	}
	on("open", func(app.Value) { go l.opened(ws) })
	on("message", func(ev app.Value) {
		data := ev.Get("data").String() // copy out of JavaScript before leaving the event loop
		go l.received(ws, data)
	})
	on("close", func(app.Value) { go l.closed(ws) })
}

// opened subscribes on a fresh connection.
func (l *liveClient) opened(ws app.Value) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ws == nil || !l.ws.Equal(ws) {
		return
	}
	l.open, l.everOpen = true, true
	l.fresh = true
	l.retry.reset()
	l.setConnLocked(connState{Status: connLive})
	l.subscribeLocked()
}

// subscribeLocked sends the current view's filter. While the newest sale date is unknown,
// a date preset cannot be resolved: it subscribes to all dates first, to learn it.
func (l *liveClient) subscribeLocked() {
	l.sub, _ = l.view.filter(l.dataRange) // a stand-in until data_range is known: see snapshot
	if l.ws == nil || l.conn.Status != connLive {
		return
	}
	if l.fresh && l.sub.Key() == (api.Filter{}).Key() {
		// The server sends all sales on connect: asking again would only repeat it.
		l.fresh = false
		return
	}
	l.fresh = false
	b, _ := json.Marshal(api.Message{Type: api.TypeSubscribe, Filter: &l.sub})
	l.ws.Call("send", string(b))
}

// received handles a message from the server.
func (l *liveClient) received(ws app.Value, data string) {
	var m api.Message
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		app.Logf("salespulse: unreadable message from the server: %v", err)
		return
	}
	switch m.Type {
	case api.TypeSnapshot:
		if m.Data != nil {
			l.snapshot(ws, *m.Data, data)
		}
	case api.TypeAlerts:
		if m.Alerts != nil {
			l.alertsReceived(*m.Alerts)
		}
	case api.TypeError:
		if m.Error != nil {
			l.refused(ws, *m.Error)
		}
	}
}

// refused shows an error the server sent instead of a snapshot: its answer to the last
// subscription (a filter it does not accept) or a snapshot it could not compute. The view
// then no longer waits; its next snapshot clears the error.
func (l *liveClient) refused(ws app.Value, e api.Error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ws == nil || !l.ws.Equal(ws) {
		return
	}
	app.Logf("salespulse: server: %s: %s", e.Code, e.Message)
	s := l.shown
	s.View, s.Err = l.view.key(), e.Message
	if s.Err == "" {
		s.Err = e.Code
	}
	l.publishLocked(s)
}

// snapshot publishes a snapshot from the socket that answers the current subscription, and
// stores the message that carried it.
func (l *liveClient) snapshot(ws app.Value, s api.Snapshot, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ws == nil || !l.ws.Equal(ws) || s.Filter.Key() != l.sub.Key() {
		return // an answer to a filter we no longer show
	}
	r := s.DataRange
	l.dataRange = &r
	if f, _ := l.view.filter(l.dataRange); f.Key() != l.sub.Key() {
		// Either a stand-in subscription taught us the date range, or new data moved it
		// ("latest day" is now a later day): ask for the view's own window, and show
		// this answer to the old one no longer.
		l.subscribeLocked()
		return
	}
	key := l.view.key()
	l.publishLocked(shown{View: key, Snapshot: s, Has: true})
	saveSnapshot(key, message)
}

// publishLocked puts a snapshot on screen.
func (l *liveClient) publishLocked(s shown) {
	l.shown = s
	stateShown.set(s)
}

// closed schedules the next attempt after a connection ends or fails to open.
func (l *liveClient) closed(ws app.Value) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ws == nil || !l.ws.Equal(ws) {
		return
	}
	if !l.open {
		go l.probe() // why did it not open?
	}
	l.dropLocked()
	switch {
	case l.conn.Status == connLive:
		l.setConnLocked(connState{Status: connReconnecting, Since: time.Now(), Refused: l.conn.Refused})
	case l.conn.Status == connConnecting || l.retry.attempts() >= 3 || !l.everOpen:
		// Never connected since the page loaded, or several attempts failed: the figures
		// on screen come from the cache, and the badge must say so.
		since := l.conn.Since
		if since.IsZero() {
			since = time.Now()
		}
		l.setConnLocked(connState{Status: connOffline, Since: since, Refused: l.conn.Refused})
	}
	wait := l.retry.next()
	l.timer = time.AfterFunc(wait, l.reconnect)
}

// dropLocked forgets the current socket and releases its handlers.
func (l *liveClient) dropLocked() {
	if l.ws != nil {
		for _, e := range []string{"onopen", "onmessage", "onclose"} {
			l.ws.Set(e, app.Null())
		}
		l.ws.Call("close")
		l.ws = nil
	}
	for _, f := range l.handlers {
		f.Release()
	}
	l.handlers = nil
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// probe asks the API why a socket failed to open: a browser only tells that it closed. A
// server that answers with an error (a token missing or wrong) refuses the connection, and
// the page must say why rather than wait; no answer at all means offline, as the socket
// said.
func (l *liveClient) probe() {
	var page api.FilesPage
	err := getJSON(context.Background(), "/api/files", url.Values{"limit": {"1"}}, &page)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open || errors.Is(err, errUnreachable) || errors.Is(err, errTimeout) {
		return
	}
	c := l.conn
	c.Refused = ""
	if err != nil {
		c.Refused = err.Error()
	}
	l.setConnLocked(c)
}

func (l *liveClient) reconnect() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ws == nil {
		l.connectLocked()
	}
}

// reconnectNow skips the backoff: the browser says the network is back.
func (l *liveClient) reconnectNow() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started || l.conn.Status == connLive {
		return
	}
	l.dropLocked()
	l.retry.reset()
	l.connectLocked()
}

// wentOffline marks the connection offline when the browser loses the network; the socket
// may take a long time to notice.
func (l *liveClient) wentOffline() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		return
	}
	l.setConnLocked(connState{Status: connOffline, Since: time.Now()})
	l.dropLocked()
	l.timer = time.AfterFunc(l.retry.next(), l.reconnect)
}

func (l *liveClient) setConnLocked(c connState) {
	if c == l.conn {
		return
	}
	l.conn = c
	stateConn.set(c)
}

// isToken reports whether s can be a WebSocket subprotocol (an RFC 7230 token).
func isToken(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\\"/[]?={}`, r) {
			return false
		}
	}
	return s != ""
}
