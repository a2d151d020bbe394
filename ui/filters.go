package ui

import (
	"slices"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// go-app keeps an element's event handler while the handler's code stays the same, so a
// closure made at render time would keep the values of that render. The filter bar's
// handlers therefore read the dashboard's current view when they run, and capture only
// what never changes for their element (which preset, which field).

// filterBar draws the filters: date presets or a custom range, and category, region and
// channel, with the values the data has.
func (d *dashboard) filterBar() app.UI {
	v, s := d.view, &d.shown.Snapshot
	filtered := v != view{Range: rangeAll}
	return app.Form().Class("filters").Attr("role", "search").Aria("label", "Filters").
		OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault() }).
		Body(
			app.Div().Class("presets").Attr("role", "group").Aria("label", "Dates").Body(
				app.Range(presets).Slice(func(i int) app.UI {
					id := presets[i].ID
					return app.Button().
						Type("button").
						Class("chip").
						Attr("data-range", id).
						Aria("pressed", v.Range == id).
						Text(presets[i].Label).
						OnClick(func(ctx app.Context, e app.Event) { d.choosePreset(ctx, id) }, app.EventScope(id))
				}),
			),
			app.If(v.Range == rangeCustom, func() app.UI {
				return app.Div().Class("custom-range").Body(
					d.dateField("filter-from", "From", "from", v.From, "", v.To),
					d.dateField("filter-to", "To", "to", v.To, v.From, ""),
					app.If(d.rangeErr != "", func() app.UI {
						return app.P().Class("field-error").ID("range-error").Attr("role", "alert").Text(d.rangeErr)
					}),
				)
			}),
			d.selectField("filter-category", "Category", "All categories", "category", v.Category, s.Options.Categories),
			d.selectField("filter-region", "Region", "All regions", "region", v.Region, s.Options.Regions),
			d.selectField("filter-channel", "Channel", "All channels", "channel", v.Channel, s.Options.Channels),
			app.Div().Class("window").ID("window").Text(windowLabel(s.Window, d.shown.Has)),
			app.If(filtered, func() app.UI {
				return app.Button().Type("button").Class("link-button").ID("filter-reset").Text("Reset").
					OnClick(func(ctx app.Context, e app.Event) { d.setView(ctx, view{Range: rangeAll}) })
			}),
		)
}

// choosePreset switches to a date preset; Custom starts from the window on screen, which
// people then adjust.
func (d *dashboard) choosePreset(ctx app.Context, id string) {
	v := d.view
	v.Range, v.From, v.To = id, "", ""
	if id == rangeCustom {
		s := &d.shown.Snapshot
		v.From, v.To = s.Window.From, s.Window.To
		if v.From == "" {
			v.From, v.To = s.DataRange.From, s.DataRange.To
		}
	}
	d.setView(ctx, v)
}

// setField changes one filter of the current view. A custom range whose start is after
// its end is not applied (the server would refuse it): the form says so, and the figures
// stay those of the dates on screen.
func (d *dashboard) setField(ctx app.Context, field, value string) {
	v := d.view
	switch field {
	case "from", "to":
		// Both dates as typed: after a refused pair, the other field may show a date
		// the view never took.
		v.From, v.To = validDate(inputValue("filter-from")), validDate(inputValue("filter-to"))
		if v.From != "" && v.To != "" && v.From > v.To {
			d.rangeErr = "The start date (" + v.From + ") is after the end date (" + v.To + "): pick a start on or before the end."
			return
		}
	case "category":
		v.Category = value
	case "region":
		v.Region = value
	case "channel":
		v.Channel = value
	}
	d.setView(ctx, v)
}

// dateField is one end of the custom range, bounded by the data's dates and by the other
// end (low, high: "" for none).
func (d *dashboard) dateField(id, label, field, value, low, high string) app.UI {
	r := d.shown.Snapshot.DataRange
	if low == "" || low < r.From {
		low = r.From
	}
	if high == "" || (r.To != "" && high > r.To) {
		high = r.To
	}
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Input().
			Type("date").
			ID(id).
			Value(value).
			Min(low).
			Max(high).
			Aria("invalid", d.rangeErr != "").
			OnChange(func(ctx app.Context, e app.Event) {
				d.setField(ctx, field, ctx.JSSrc().Get("value").String())
			}, app.EventScope(field)),
	)
}

func (d *dashboard) selectField(id, label, all, field, current string, values []string) app.UI {
	if current != "" && !slices.Contains(values, current) {
		values = append([]string{current}, values...) // a bookmarked value without sales now
	}
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Select().
			ID(id).
			OnChange(func(ctx app.Context, e app.Event) {
				d.setField(ctx, field, ctx.JSSrc().Get("value").String())
			}, app.EventScope(field)).
			Body(
				app.Option().Value("").Selected(current == "").Text(all),
				app.Range(values).Slice(func(i int) app.UI {
					return app.Option().Value(values[i]).Selected(values[i] == current).Text(values[i])
				}),
			),
	)
}

// windowLabel describes the dates a snapshot covers: "2024-10-20 → 2024-10-27 · 8 days".
func windowLabel(w api.Window, has bool) string {
	switch {
	case !has:
		return ""
	case w.From == "" && w.To == "":
		return "No sales in this window"
	case w.From == w.To:
		return w.From + " · 1 day"
	}
	label := w.From + " → " + w.To
	from, err1 := time.Parse(time.DateOnly, w.From)
	to, err2 := time.Parse(time.DateOnly, w.To)
	if err1 == nil && err2 == nil {
		label += " · " + formatCount(int64(to.Sub(from).Hours()/24)+1) + " days"
	}
	return label
}

// inputValue is the value of the input element with that id, "" when there is none.
func inputValue(id string) string {
	el := app.Window().GetElementByID(id)
	if !el.Truthy() {
		return ""
	}
	return el.Get("value").String()
}
