package ui

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// Render draws the files page.
func (p *filesPage) Render() app.UI {
	return app.Div().Class("page").Body(
		&topBar{Page: "/files"},
		app.Main().Class("content", "files").ID("files").Body(
			p.renderUpload(),
			app.If(p.detail != nil, func() app.UI { return p.renderDetail(p.detail) }),
			p.renderLedger(),
		),
	)
}

// renderUpload is the drop zone, the file picker and the uploads of this visit.
func (p *filesPage) renderUpload() app.UI {
	zone := []string{"card", "dropzone"}
	if p.dragging {
		zone = append(zone, "dragging")
	}
	return app.Section().Class(zone...).ID("upload").
		On("dragover", func(ctx app.Context, e app.Event) {
			e.PreventDefault() // this is what makes the element a drop target
			if !p.dragging {
				p.dragging = true
			} else {
				ctx.PreventUpdate()
			}
		}).
		On("dragleave", func(ctx app.Context, e app.Event) { p.dragging = false }).
		On("drop", func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.dragging = false
			p.addFiles(ctx, e.Get("dataTransfer").Get("files"))
		}).
		Body(
			app.H2().Text("Upload sales files"),
			app.P().Body(
				app.Text("Drop CSV files here, or "),
				app.Label().Class("file-picker").For("upload-input").Text("choose files"),
				app.Text(". They go into the bucket and load like any file that lands there."),
			),
			app.Input().
				Type("file").
				ID("upload-input").
				Class("visually-hidden").
				Accept(".csv,text/csv").
				Multiple(true).
				OnChange(func(ctx app.Context, e app.Event) {
					input := ctx.JSSrc()
					p.addFiles(ctx, input.Get("files"))
					input.Set("value", "") // the same file can be picked again
				}),
			app.If(len(p.uploads) > 0, func() app.UI {
				return app.Ul().Class("uploads").Body(
					app.Range(p.uploads).Slice(func(i int) app.UI { return p.renderUploadRow(p.uploads[i]) }),
				)
			}),
		)
}

func (p *filesPage) renderUploadRow(u upload) app.UI {
	var status app.UI
	switch u.Phase {
	case uploadQueued:
		status = app.Span().Text("waiting to send")
	case uploadSending:
		status = app.Span().Text("sending… " + strconv.Itoa(u.percent()) + " %")
	case uploadStored:
		status = app.Span().Text("stored as " + u.Stored.Key + "; loading…")
	case uploadLoaded:
		f := u.File
		switch f.Status {
		case "skipped":
			status = app.Span().Body(
				statusBadge(f.Status),
				app.Text(" these bytes were loaded before, as "),
				fileLink(f.RepeatsFileID),
			)
		default:
			status = app.Span().Body(
				statusBadge(f.Status),
				app.Text(" "+formatCount(f.RowsLoaded)+" rows loaded, "+formatCount(f.RowsRejected)+" rejected, "+
					formatCount(f.RowsDuplicate)+" duplicates · "),
				app.A().Href("/files?file="+strconv.FormatInt(f.ID, 10)).Text("details"),
			)
		}
	case uploadRefused:
		status = app.Span().Class("error").Text("refused: " + u.Message)
	}
	return app.Li().Class("upload", "upload-"+u.Phase).Attr("data-phase", u.Phase).Body(
		app.Span().Class("upload-name").Text(u.Name),
		app.Span().Class("upload-size").Text(formatBytes(u.Size)),
		app.Progress().Max(100).Value(u.percent()).Aria("label", "Upload of "+u.Name),
		app.Span().Class("upload-status").Body(status),
	)
}

// renderLedger is the ingestion ledger, newest first, with a button for older rows.
func (p *filesPage) renderLedger() app.UI {
	source := "server"
	if !p.savedAt.IsZero() {
		source = "saved"
	}
	return app.Section().Class("card", "ledger").ID("ledger-card").Attr("data-source", source).Body(
		app.Header().Class("card-head").Body(
			app.H2().Text("Ingestion ledger"),
			app.Span().Class("muted").Text(ledgerCount(len(p.files), p.nextBefore != 0)),
		),
		app.If(p.err != "", func() app.UI { return app.P().Class("error").Attr("role", "alert").Text(p.err) }),
		app.If(!p.savedAt.IsZero() && p.err != "", func() app.UI {
			return app.P().Class("notice", "offline").ID("ledger-saved").Text(
				"These are the rows this browser saved on " + dateTime(p.savedAt) + ". They are read again when the server answers.")
		}),
		app.Div().Class("table-scroll").Body(
			app.Table().Class("table").ID("ledger").Body(
				app.THead().Body(app.Tr().Body(
					app.Th().Text("Status"),
					app.Th().Text("File"),
					app.Th().Class("num").Text("Rows"),
					app.Th().Class("num").Text("Loaded"),
					app.Th().Class("num").Text("Rejected"),
					app.Th().Class("num").Text("Duplicates"),
					app.Th().Text("Unknown columns"),
					app.Th().Text("Finished"),
					app.Th().Text("Error"),
				)),
				app.TBody().Body(
					app.Range(p.files).Slice(func(i int) app.UI { return p.renderFileRow(p.files[i]) }),
				),
			),
		),
		app.If(len(p.files) == 0 && !p.refreshing && p.err == "", func() app.UI {
			return app.P().Class("empty").Text("No files loaded yet. Drop one above.")
		}),
		app.If(p.nextBefore != 0, func() app.UI {
			return app.Button().Class("button").ID("ledger-more").Disabled(p.olderBusy).Text("Older files").
				OnClick(func(ctx app.Context, e app.Event) { p.more(ctx) })
		}),
	)
}

func ledgerCount(n int, more bool) string {
	s := formatCount(int64(n)) + " files"
	if n == 1 {
		s = "1 file"
	}
	if more {
		s += " shown"
	}
	return s
}

func (p *filesPage) renderFileRow(f api.File) app.UI {
	id := f.ID
	open := func(ctx app.Context, e app.Event) {
		e.PreventDefault()
		p.open(ctx, id)
	}
	classes := []string{"file-row"}
	if p.detail != nil && p.detail.ID == id {
		classes = append(classes, "selected")
	}
	return app.Tr().Class(classes...).Attr("data-file-id", id).Body(
		app.Td().Body(statusBadge(f.Status)),
		app.Td().Class("file-key").Body(
			app.A().Href("/files?file="+strconv.FormatInt(id, 10)).Title(f.Key).Text(baseName(f.Key)).
				OnClick(open, app.EventScope(id)),
			app.Span().Class("muted", "file-source").Text(f.Source+" · "+formatBytes(f.SizeBytes)),
		),
		app.Td().Class("num").Attr("data-label", "Rows").Text(formatCount(f.RowsTotal)),
		app.Td().Class("num").Attr("data-label", "Loaded").Text(formatCount(f.RowsLoaded)),
		app.Td().Class("num").Attr("data-label", "Rejected").Body(
			app.If(f.RowsRejected > 0, func() app.UI {
				return app.A().Class("rejects-link").Href("/files?file="+strconv.FormatInt(id, 10)).
					Text(formatCount(f.RowsRejected)).OnClick(open, app.EventScope(id))
			}).Else(func() app.UI { return app.Text("0") }),
		),
		app.Td().Class("num").Attr("data-label", "Duplicates").Text(formatCount(f.RowsDuplicate)),
		app.Td().Class("unknown", "labelled", "wide-cell").Attr("data-label", "Unknown columns").Text(strings.Join(f.UnknownColumns, ", ")),
		app.Td().Class("nowrap", "labelled", "wide-cell").Attr("data-label", "Finished").Text(dateTime(f.FinishedAt)),
		app.Td().Class("error", "wide-cell").Body(
			app.If(f.RepeatsFileID != 0, func() app.UI {
				return app.Span().Class("repeats").Body(app.Text("repeats "), fileLink(f.RepeatsFileID))
			}).Else(func() app.UI { return app.Text(f.Error) }),
		),
	)
}

// fileLink links to a ledger row's drill-down.
func fileLink(id int64) app.UI {
	return app.A().Class("file-link").Href("/files?file=" + strconv.FormatInt(id, 10)).Text("file " + strconv.FormatInt(id, 10))
}

// renderDetail is the drill-down: the file's facts and its rejected rows.
func (p *filesPage) renderDetail(d *fileDetail) app.UI {
	title := "File " + strconv.FormatInt(d.ID, 10)
	if d.File != nil {
		title = baseName(d.File.Key)
	}
	return app.Section().Class("card", "detail").ID("file-detail").Attr("data-file-id", d.ID).Body(
		app.Header().Class("card-head").Body(
			app.H2().Text(title),
			app.Button().Class("icon-button").Title("Close").Aria("label", "Close").Text("✕").
				OnClick(func(ctx app.Context, e app.Event) { p.closeDetail(ctx) }),
		),
		app.If(d.File != nil, func() app.UI { return fileFacts(d.File) }),
		app.If(d.Err != "", func() app.UI { return app.P().Class("error").Text(d.Err) }),
		app.H3().Text("Rejected rows"),
		app.If(len(d.Rejects) == 0 && !d.Loading && d.Err == "", func() app.UI {
			return app.P().Class("empty").Text("No rejected rows.")
		}),
		app.If(len(d.Rejects) > 0, func() app.UI {
			return app.Div().Class("table-scroll").Body(
				app.Table().Class("table", "rejects").ID("rejects").Body(
					app.THead().Body(app.Tr().Body(
						app.Th().Class("num").Text("Line"),
						app.Th().Text("Column"),
						app.Th().Text("Reason"),
						app.Th().Text("Raw"),
					)),
					app.TBody().Body(
						app.Range(d.Rejects).Slice(func(i int) app.UI {
							r := d.Rejects[i]
							return app.Tr().Attr("data-line", r.Line).Body(
								app.Td().Class("num").Text(formatCount(r.Line)),
								app.Td().Text(r.Column),
								app.Td().Text(r.Reason),
								app.Td().Body(app.Code().Class("raw").Title(r.Raw).Text(r.Raw)),
							)
						}),
					),
				),
			)
		}),
		app.If(d.NextAfter != 0, func() app.UI {
			return app.Button().Class("button").ID("rejects-more").Disabled(d.Loading).Text("More rejected rows").
				OnClick(func(ctx app.Context, e app.Event) {
					if p.detail != nil {
						p.moreRejects(ctx, p.detail)
					}
				})
		}),
	)
}

// fileFacts is the ledger row of one file, in full.
func fileFacts(f *api.File) app.UI {
	type fact struct{ name, value string }
	facts := []fact{
		{"Status", f.Status},
		{"Key", f.Key},
		{"Source", f.Source},
		{"Bucket", f.Bucket},
		{"Size", formatBytes(f.SizeBytes)},
		{"Rows", formatCount(f.RowsTotal) + " = " + formatCount(f.RowsLoaded) + " loaded + " +
			formatCount(f.RowsRejected) + " rejected + " + formatCount(f.RowsDuplicate) + " duplicates"},
		{"Header", f.HeaderShape},
		{"Encoding", f.Encoding},
		{"Delimiter", delimiterName(f.Delimiter)},
		{"Unknown columns", strings.Join(f.UnknownColumns, ", ")},
		{"Load path", f.LoadPath},
		{"Started", dateTime(f.StartedAt)},
		{"Finished", dateTime(f.FinishedAt)},
		{"SHA-256", f.SHA256},
		{"Error", f.Error},
	}
	if f.RepeatsFileID != 0 {
		facts = append(facts, fact{"Repeats", "file " + strconv.FormatInt(f.RepeatsFileID, 10)})
	}
	return app.Dl().Class("facts").Body(
		app.Range(facts).Slice(func(i int) app.UI {
			if facts[i].value == "" {
				return nil
			}
			return app.Div().Body(app.Dt().Text(facts[i].name), app.Dd().Text(facts[i].value))
		}),
	)
}

func delimiterName(d string) string {
	switch d {
	case "\t":
		return "tab"
	case ",":
		return "comma"
	case ";":
		return "semicolon"
	}
	return d
}

// statusBadge shows a ledger status: loaded, failed or skipped.
func statusBadge(status string) app.UI {
	return app.Span().Class("badge", "badge-"+status).Text(status)
}
