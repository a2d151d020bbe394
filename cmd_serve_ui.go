//go:build !wasm

package main

import (
	"net/http"

	"salespulse/ui"
)

// uiHandler serves the dashboard: every path the API does not. The pages, the service
// worker, the manifest and the assets (app.wasm and echarts.min.js included, built by
// make web) all come from inside the binary.
func uiHandler(version string) http.Handler {
	ui.Routes()
	return ui.Handler(version)
}
