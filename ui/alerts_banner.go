package ui

import (
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// alertBanner says, on every page, which alert rules fire, for as long as they do.
type alertBanner struct {
	app.Compo

	heard alertsState
}

// OnMount follows the alerts the live client hears.
func (b *alertBanner) OnMount(ctx app.Context) {
	stateAlerts.observe(ctx, &b.heard, nil)
}

// Render draws the banner, or nothing while no rule fires.
func (b *alertBanner) Render() app.UI {
	firing := b.heard.firing()
	if len(firing) == 0 {
		return app.Div().Class("alert-banner-slot")
	}
	names := make([]string, 0, len(firing))
	for _, r := range firing {
		names = append(names, r.Name)
	}
	head := "1 alert fires: "
	if len(firing) > 1 {
		head = strconv.Itoa(len(firing)) + " alerts fire: "
	}
	return app.Div().Class("alert-banner-slot").Body(
		app.Div().Class("alert-banner").ID("alert-banner").Attr("role", "alert").Body(
			app.Span().Class("alert-banner-icon").Aria("hidden", "true").Text("⚠"),
			app.Span().Text(head),
			app.Strong().Text(strings.Join(names, ", ")),
			app.Text(" · "),
			app.A().Href("/alerts").Text("see alerts"),
		),
	)
}
