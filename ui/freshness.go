package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// freshness is the badge that says how fresh the figures are: whether the live connection
// works ("live", "reconnecting", "offline since 14:05") and when the newest file loaded
// ("as of sales_2024-10-27.csv, 12 s ago"), ticking every second.
type freshness struct {
	app.Compo

	conn  connState
	shown shown
	now   time.Time
}

// OnMount observes the connection and the snapshot, and starts the clock.
func (f *freshness) OnMount(ctx app.Context) {
	stateConn.observe(ctx, &f.conn, nil)
	stateShown.observe(ctx, &f.shown, nil)
	f.tick(ctx)
}

// tick updates the age every second while the badge is on screen (ctx.After stops calling
// once it is dismounted).
func (f *freshness) tick(ctx app.Context) {
	f.now = time.Now()
	ctx.After(time.Second, f.tick)
}

// Render draws the badge.
func (f *freshness) Render() app.UI {
	status := f.conn.Status
	if status == "" {
		status = connConnecting
	}
	var text string
	switch {
	case f.conn.Refused != "":
		status, text = "refused", "refused by the server"
	case status == connLive:
		text = "live"
	case status == connReconnecting:
		text = "reconnecting…"
	case status == connOffline:
		text = "offline since " + clock(f.conn.Since)
	default:
		text = "connecting…"
	}
	snap := f.shown.Snapshot
	var asOf app.UI
	switch {
	case !f.shown.Has:
	case snap.AsOf == nil:
		asOf = app.Span().Class("as-of").ID("freshness-as-of").Text("no files loaded yet")
	default:
		name := baseName(snap.LastFile)
		if name == "" {
			name = "the last file"
		}
		// On a narrow screen the file name gives way, never the age.
		asOf = app.Span().Class("as-of").ID("freshness-as-of").Title(snap.LastFile).Body(
			app.Text("as of "),
			app.Span().Class("as-of-file").Text(name),
			app.Text(", "),
			app.Span().Class("as-of-age").Text(formatAge(f.now.Sub(*snap.AsOf))),
		)
	}
	return app.Div().
		Class("freshness", "status-"+status).
		ID("freshness").
		Attr("data-status", status).
		Attr("role", "status").
		Body(
			app.Span().Class("dot").Aria("hidden", "true"),
			app.Span().Class("conn").ID("freshness-conn").Text(text),
			asOf,
		)
}

// baseName is the last element of an object key or path: the file's name.
func baseName(key string) string {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '/' || key[i] == '\\' {
			return key[i+1:]
		}
	}
	return key
}
