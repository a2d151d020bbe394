package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// chartCard frames a chart: its title, a CSV export of its data, and the chart itself, or a
// note when the window has no data for it.
func (d *dashboard) chartCard(c chartSpec) app.UI {
	id := c.ID
	classes := []string{"card", "chart-card"}
	if c.Wide {
		classes = append(classes, "wide")
	}
	return app.Section().
		Class(classes...).
		ID("card-"+c.ID).
		Attr("data-chart", c.ID).
		Body(
			app.Header().Class("card-head").Body(
				app.H2().Text(c.Title),
				app.Button().
					Class("link-button", "csv").
					Title("Download the data of this chart as CSV").
					Attr("data-csv", c.ID).
					Disabled(c.Empty).
					Text("CSV").
					// The data is looked up when clicked: a handler keeps what it captured.
					OnClick(func(ctx app.Context, e app.Event) { d.exportCSV(id) }, app.EventScope(id)),
			),
			app.If(c.Empty, func() app.UI {
				return app.P().Class("empty").Text("No sales in this view.")
			}).Else(func() app.UI {
				return &echart{Spec: c, Dark: d.dark}
			}),
		)
}
