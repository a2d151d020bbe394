package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// downloadCSV saves text as a CSV file, built in the browser: a Blob, an object URL and a
// temporary link with the download attribute. Nothing goes back to the server, so the
// export works offline from the cached figures too.
func downloadCSV(name, text string) {
	// The byte-order mark makes spreadsheet programs read the file as UTF-8 (João, not JoÃ£o).
	blob := app.Window().Get("Blob").New([]any{"\ufeff" + text}, map[string]any{"type": "text/csv;charset=utf-8"})
	url := app.Window().Get("URL").Call("createObjectURL", blob)
	doc := app.Window().Get("document")
	a := doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	a.Get("style").Set("display", "none")
	doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	// The download has started by now; keep the URL a little longer for slow browsers.
	time.AfterFunc(time.Minute, func() { app.Window().Get("URL").Call("revokeObjectURL", url) })
}
