package ui

import (
	"encoding/json"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// Phases of an upload.
const (
	uploadQueued  = "queued"
	uploadSending = "sending"
	uploadStored  = "stored"  // in the bucket, waiting for the loader
	uploadLoaded  = "loaded"  // its ledger row is there: loaded, failed or skipped
	uploadRefused = "refused" // the server did not take it
)

// upload is one file sent from the files page.
type upload struct {
	ID          int
	Name        string
	Size        int64
	Sent, Total float64 // bytes, from XMLHttpRequest's upload progress
	Phase       string
	Message     string     // why it was refused
	Stored      api.Upload // where it went
	File        *api.File  // its ledger row, once loaded
}

// percent is how much of the file has been sent, 0 to 100.
func (u upload) percent() int {
	if u.Total <= 0 {
		return 0
	}
	return int(u.Sent * 100 / u.Total)
}

// sendFile posts a browser File to /api/uploads as multipart/form-data. It uses
// XMLHttpRequest rather than fetch because only XMLHttpRequest reports upload progress.
// progress and done run on goroutines of their own, not on the browser's event loop.
func sendFile(file app.Value, progress func(sent, total float64), done func(api.Upload, error)) {
	xhr := app.Window().Get("XMLHttpRequest").New()
	xhr.Call("open", "POST", apiURL("/api/uploads", nil))
	if t := apiToken(); t != "" {
		xhr.Call("setRequestHeader", "Authorization", "Bearer "+t)
	}
	var funcs []app.Func
	release := func() {
		for _, f := range funcs {
			f.Release()
		}
	}
	on := func(target app.Value, event string, f func(ev app.Value)) {
		fn := app.FuncOf(func(_ app.Value, args []app.Value) any {
			f(args[0])
			return nil
		})
		funcs = append(funcs, fn)
		target.Call("addEventListener", event, fn)
	}
	on(xhr.Get("upload"), "progress", func(ev app.Value) {
		if ev.Get("lengthComputable").Bool() {
			sent, total := ev.Get("loaded").Float(), ev.Get("total").Float()
			go progress(sent, total)
		}
	})
	on(xhr, "load", func(app.Value) {
		status, body := xhr.Get("status").Int(), xhr.Get("responseText").String()
		release()
		go func() {
			var up api.Upload
			if status != 201 && status != 200 {
				done(up, apiError(status, []byte(body)))
				return
			}
			if err := json.Unmarshal([]byte(body), &up); err != nil {
				done(up, err)
				return
			}
			done(up, nil)
		}()
	})
	on(xhr, "error", func(app.Value) {
		release()
		go done(api.Upload{}, errUnreachable)
	})
	form := app.Window().Get("FormData").New()
	form.Call("append", "file", file, file.Get("name").String())
	xhr.Call("send", form)
}
