package ui

import (
	"encoding/json"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// On a first visit nothing is stored, and the figures wait for the WebAssembly: its
// download, compilation and start, then a WebSocket handshake and the server's answer.
// The page of a navigation usually comes with its figures (served.go): the app starts from
// them (adoptServed). Otherwise two things in the page's head shorten the wait:
//   - app.wasm is preloaded, so its download starts with the page rather than once the
//     scripts that ask for it have run (paintScript, when it has nothing to paint);
//   - the view's snapshot is asked for at once over the REST API (firstFetchScript), so
//     that it is there when the app starts, which then shows it as the server's figures
//     (liveClient.useFirst) while its WebSocket connects.
//
// Presets other than "all" need the newest sale date to make a filter: the script leaves
// them to the app. The app also checks that the answer is for the view it shows.

// firstSnapshot waits for the text of the snapshot the page asked for, "" when there is
// none. It must not run on the browser's event loop.
func firstSnapshot() string {
	p := app.Window().Get("salespulseFirst")
	if !p.Truthy() {
		return ""
	}
	app.Window().Set("salespulseFirst", app.Undefined()) // for this page load only
	text := make(chan string, 1)
	got := app.FuncOf(func(_ app.Value, args []app.Value) any {
		text <- args[0].String()
		return nil
	})
	defer got.Release()
	p.Call("then", got)
	return <-text
}

// adoptServed puts on screen, before any page is drawn, the snapshot the page was served
// with, if any: the cards the page's first script painted from it then stay, and the
// app's first drawing shows the same figures. It is stored as the socket's message would be.
func (l *liveClient) adoptServed() {
	rec := app.Window().Get("salespulseServed")
	if !rec.Truthy() {
		return
	}
	app.Window().Set("salespulseServed", app.Undefined()) // for this page load only
	text := app.Window().Get("JSON").Call("stringify", rec.Get("snapshot")).String()
	var s api.Snapshot
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return
	}
	key := rec.Get("key").String()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := s.DataRange
	l.dataRange = &r
	l.publishLocked(shown{View: key, Snapshot: s, Has: true})
	saveSnapshot(key, `{"type":"snapshot","seq":`+strconv.FormatUint(s.Seq, 10)+`,"data":`+text+`}`)
}
