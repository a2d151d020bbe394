package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// dashboard is the page at /: headline figures and charts for the view in the URL, live.
type dashboard struct {
	app.Compo

	view   view
	shown  shown
	conn   connState
	dark   bool
	charts []chartSpec // built from shown when it changes, not at every render
	built  string      // identity of the snapshot charts were built from

	rangeErr string          // why the custom dates typed in were not applied
	exact    map[string]bool // cards tapped to show their exact figure
	running  bool            // mounted in the browser: the page is the app's, not the server's render
}

func newDashboard() app.Composer { return &dashboard{view: view{Range: rangeAll}} }

// chartsAfter is how long after new figures the charts are built: a frame, so that the
// cards are drawn first. Building ten charts' options takes longer than drawing the cards.
const chartsAfter = 16 * time.Millisecond

// OnMount follows the snapshot on screen and the theme. It runs in the browser only.
func (d *dashboard) OnMount(ctx app.Context) {
	d.running = true
	stateShown.observe(ctx, &d.shown, func() {
		ctx.After(chartsAfter, func(app.Context) { d.build() })
		if d.state() == "live" {
			key := d.shown.View
			ctx.Defer(func(app.Context) { savePaint(key) }) // once drawn
		}
	})
	stateDark.observe(ctx, &d.dark, nil)
	stateConn.observe(ctx, &d.conn, nil)
	ctx.After(chartsAfter, func(app.Context) { d.build() })
}

// OnNav applies the view in the URL: on load, and when history brings another one back.
func (d *dashboard) OnNav(ctx app.Context) {
	u := ctx.Page().URL()
	rememberToken(u)
	d.setView(ctx, parseView(u.Query()))
}

// setView shows another view: in the URL (so it can be bookmarked) and on the socket.
func (d *dashboard) setView(ctx app.Context, v view) {
	d.view, d.rangeErr = v, ""
	u := *ctx.Page().URL()
	u.RawQuery = v.query().Encode()
	ctx.Page().ReplaceURL(&u)
	ctx.NewActionWithValue(actionView, v)
}

// build turns the snapshot into chart options, once per snapshot: the server's answer to
// a reload usually is the snapshot already shown from the browser's storage.
func (d *dashboard) build() {
	if !d.shown.Has {
		d.charts, d.built = nil, ""
		return
	}
	s := &d.shown.Snapshot
	id := d.shown.View + "|" + strconv.FormatUint(s.Seq, 10) + "|" + strconv.FormatInt(s.LastFileID, 10)
	if s.AsOf != nil {
		id += "|" + s.AsOf.String()
	}
	if id == d.built {
		return
	}
	d.charts, d.built = dashboardCharts(s), id
}

// state is what the page shows, for styles and tests: "error" when the server answered the
// view with an error, "empty" before any figures, "pending" while the figures of a new view
// are on their way, "cached" for figures from the browser's storage, "live" for figures
// from the server.
func (d *dashboard) state() string {
	switch {
	case d.shown.Err != "" && d.shown.View == d.view.key():
		return "error"
	case !d.shown.Has:
		return "empty"
	case d.shown.Pending || d.shown.View != d.view.key():
		return "pending"
	case d.shown.Cached:
		return "cached"
	}
	return "live"
}

// Render draws the page.
func (d *dashboard) Render() app.UI {
	snap := &d.shown.Snapshot
	state := d.state()
	classes := []string{"content", "dashboard", "state-" + state}
	if d.shown.Pending {
		classes = append(classes, "stale") // the figures on screen are another view's
	}
	return app.Div().Class("page").Body(
		&topBar{Page: "/"},
		app.Main().Class(classes...).ID("dashboard").Attr("data-state", state).Attr("data-running", d.running).Body(
			d.filterBar(),
			d.notice(state),
			kpiCards(snap.Totals, &snap.Previous, d.shown.Has, d.exact, d.toggleExact),
			app.Div().Class("charts").Body(
				app.Range(d.charts).Slice(func(i int) app.UI { return d.chartCard(d.charts[i]) }),
			),
		),
	)
}

// toggleExact switches a card between its compact and its exact figure.
func (d *dashboard) toggleExact(ctx app.Context, name string) {
	if d.exact == nil {
		d.exact = map[string]bool{}
	}
	d.exact[name] = !d.exact[name]
}

// exportCSV downloads the data of the chart on screen with that id.
func (d *dashboard) exportCSV(id string) {
	for _, c := range d.charts {
		if c.ID != id {
			continue
		}
		name := "salespulse-" + id
		if w := d.shown.Snapshot.Window; w.From != "" {
			name += "-" + w.From + "_" + w.To
		}
		downloadCSV(name+".csv", c.Table.csv())
	}
}

// notice explains figures that are not live, or their absence, and every error the
// server gave instead of figures.
func (d *dashboard) notice(state string) app.UI {
	if text := d.errorText(state); text != "" {
		return app.P().Class("notice", "error").ID("notice").Attr("role", "alert").Text(text)
	}
	offline := d.conn.Status == connOffline
	var text string
	switch {
	case state == "empty" && offline:
		text = "The server cannot be reached, and this browser has no figures saved yet. They appear as soon as the connection is back."
	case state == "empty":
		text = "Waiting for the first figures from the server…"
	case state == "pending" && offline:
		text = "Offline: this view has not been saved in this browser, so the figures below (dimmed) are those of the previous view."
	case state == "cached" && offline:
		text = "Offline: these are the last figures this browser saved. They update by themselves when the server is back."
	default:
		return nil
	}
	classes := []string{"notice"}
	if offline {
		classes = append(classes, "offline")
	}
	return app.P().Class(classes...).ID("notice").Attr("role", "status").Text(text)
}

// errorText says what went wrong, when the server refused the connection or the view.
func (d *dashboard) errorText(state string) string {
	var text string
	switch {
	case d.conn.Refused != "":
		text = "The server refuses the connection: " + d.conn.Refused + "."
	case state == "error":
		text = "The server could not show this view: " + d.shown.Err + "."
	default:
		return ""
	}
	switch {
	case !d.shown.Has:
	case d.shown.Pending:
		text += " The figures below (dimmed) are those of the previous view."
	case d.shown.Cached:
		text += " The figures below are the last this browser saved."
	}
	return text
}
