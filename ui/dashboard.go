package ui

import (
	"strconv"

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
}

func newDashboard() app.Composer { return &dashboard{view: view{Range: rangeAll}} }

// OnMount follows the snapshot on screen and the theme.
func (d *dashboard) OnMount(ctx app.Context) {
	ctx.ObserveState(stateShown, &d.shown).OnChange(d.build)
	ctx.ObserveState(stateDark, &d.dark)
	ctx.ObserveState(stateConn, &d.conn)
	d.build()
}

// OnNav applies the view in the URL: on load, and when history brings another one back.
func (d *dashboard) OnNav(ctx app.Context) {
	u := ctx.Page().URL()
	rememberToken(u)
	d.setView(ctx, parseView(u.Query()))
}

// setView shows another view: in the URL (so it can be bookmarked) and on the socket.
func (d *dashboard) setView(ctx app.Context, v view) {
	d.view = v
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

// state is what the page shows, for styles and tests: "empty" before any figures,
// "pending" while the figures of a new view are on their way, "cached" for figures from
// the browser's storage, "live" for figures from the server.
func (d *dashboard) state() string {
	switch {
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
	return app.Div().Class("page").Body(
		&topBar{Page: "/"},
		app.Main().Class("content", "dashboard", "state-"+state).ID("dashboard").Attr("data-state", state).Body(
			d.filterBar(),
			d.notice(state),
			kpiCards(snap.Totals, d.shown.Has),
			app.Div().Class("charts").Body(
				app.Range(d.charts).Slice(func(i int) app.UI { return d.chartCard(d.charts[i]) }),
			),
		),
	)
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

// notice explains figures that are not live, or their absence.
func (d *dashboard) notice(state string) app.UI {
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
