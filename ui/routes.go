// Package ui is salespulse's dashboard: a progressive web app written with go-app, compiled
// to WebAssembly (ui/wasm) and served, with its assets, by the
// salespulse binary (Handler).
//
// Pages are go-app components: the dashboard at / (headline figures and ECharts charts whose
// options are built in Go with go-echarts) and the files page at /files (the ingestion ledger,
// rejected rows, uploads). One live client holds the WebSocket to the server for the whole
// app and shares what it receives through go-app states (state.go); snapshots are kept in
// localStorage so that the last figures show at once, and offline.
//
// Only packages that compile to WebAssembly may be imported here, apart from the files built
// with !wasm (the HTTP handler): go-app, go-echarts' option types, server/api and the
// standard library.
package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// pages are the paths of the dashboard's pages; every other path is the not-found page.
var pages = map[string]func() app.Composer{
	"/":       newDashboard,
	"/files":  newFilesPage,
	"/alerts": newAlertsPage,
}

// Routes registers the pages and the live client's action handlers. The server and the
// browser both call it: the server to render each page's first HTML, the browser to run it.
func Routes() {
	for path, page := range pages {
		app.Route(path, page)
	}
	app.RouteWithRegexp("^/", newNotFoundPage) // go-app tries the exact paths first
	app.Handle(actionView, handleView)
	app.Handle(actionWake, handleWake)
	if app.IsClient {
		live.adoptServed()
	}
}
