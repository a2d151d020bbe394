package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// A returning visitor should see figures before the WebAssembly has even been compiled,
// which takes most of a second. So once the live figures of a view are on screen, the page
// also stores its paint record: the filter bar and the cards as drawn, HTML. The page's
// first script (paintScript) puts the record of the view in the URL in place of the
// pre-rendered placeholders as soon as the page is parsed; the app, once running, draws the
// same figures from the stored snapshot, then the live ones. Only the drawing is stored:
// the figures are formatted by the Go code alone.

// savePaint stores the paint record of the view on screen (viewKey), from the page (its
// head script defines salespulseSavePaint).
func savePaint(viewKey string) {
	if save := app.Window().Get("salespulseSavePaint"); save.Truthy() {
		save.Invoke(viewKey)
	}
}
