//go:build wasm

// The dashboard, compiled to WebAssembly (make web): the same routes as the server, run in
// the browser.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
