package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// topBar is the header of every page: the name, the pages, the freshness badge and the
// theme toggle.
type topBar struct {
	app.Compo

	Page string // path of the page it heads, to mark its link

	dark      bool
	updatable bool // a new version of the app is downloaded and waits for a reload
}

// OnMount starts following the theme.
func (b *topBar) OnMount(ctx app.Context) {
	stateDark.observe(ctx, &b.dark, nil)
	initTheme(ctx)
	b.updatable = ctx.AppUpdateAvailable()
}

// OnAppUpdate offers the new version the service worker has just installed.
func (b *topBar) OnAppUpdate(ctx app.Context) { b.updatable = ctx.AppUpdateAvailable() }

// Render draws the bar.
func (b *topBar) Render() app.UI {
	link := func(path, label string) app.UI {
		a := app.A().Href(path).Class("nav-link").Text(label)
		if path == b.Page {
			a = a.Class("active").Aria("current", "page")
		}
		return a
	}
	label := "Switch to dark theme"
	icon := "☾"
	if b.dark {
		label, icon = "Switch to light theme", "☀"
	}
	return app.Header().Class("topbar").Body(
		app.A().Href("/").Class("brand").Body(
			app.Img().Src("/web/icon.svg").Alt("").Width(28).Height(28),
			app.Span().Text("salespulse"),
		),
		app.Nav().Class("nav").Aria("label", "Pages").Body(
			link("/", "Dashboard"),
			link("/files", "Files"),
			link("/alerts", "Alerts"),
		),
		&freshness{},
		app.If(b.updatable, func() app.UI {
			return app.Button().Class("link-button", "update").ID("update").
				Title("A new version of the dashboard is ready").Text("Update ready: reload").
				OnClick(func(ctx app.Context, e app.Event) { ctx.Reload() })
		}),
		app.Button().
			Class("icon-button", "theme-toggle").
			ID("theme-toggle").
			Title(label).
			Aria("label", label).
			Text(icon).
			OnClick(func(ctx app.Context, e app.Event) { toggleTheme(ctx, b.dark) }),
		&alertBanner{},
	)
}
