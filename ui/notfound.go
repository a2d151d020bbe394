package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// notFoundPage is what every path that is no page of the dashboard shows: the app's own
// "no such page", with its top bar and the way back, rather than a bare 404. The server
// sends it with status 404 (Handler); in the browser the WebAssembly shows it for links to
// such paths too.
type notFoundPage struct {
	app.Compo
}

func newNotFoundPage() app.Composer { return &notFoundPage{} }

// OnMount starts the live connection, for the top bar's badge.
func (p *notFoundPage) OnMount(ctx app.Context) { ctx.NewAction(actionWake) }

// Render draws the page.
func (p *notFoundPage) Render() app.UI {
	return app.Div().Class("page").Body(
		&topBar{},
		app.Main().Class("content", "not-found").ID("not-found").Body(
			app.Section().Class("card").Body(
				app.H1().Text("No such page"),
				app.P().Text("The dashboard has no page at this address: the link may be mistyped or out of date."),
				app.P().Body(
					app.A().Href("/").Text("Open the dashboard"),
					app.Text(" or "),
					app.A().Href("/files").Text("the files"),
					app.Text("."),
				),
			),
		),
	)
}
