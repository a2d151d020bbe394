package ui

import (
	"sync"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The theme follows the system (prefers-color-scheme) until someone picks the other one
// with the toggle; that choice is remembered in localStorage under themeKey. Picking what
// the system says forgets the choice, so the page follows the system again.
const themeKey = "salespulse.theme"

var themeOnce sync.Once

// initTheme publishes the theme in stateDark and keeps following the system.
func initTheme(ctx app.Context) {
	themeOnce.Do(func() {
		query := app.Window().Call("matchMedia", "(prefers-color-scheme: dark)")
		apply := func() { setDark(ctx, currentDark(query)) }
		query.Call("addEventListener", "change", app.FuncOf(func(app.Value, []app.Value) any {
			go apply() // SetState takes locks: not on the browser's event loop
			return nil
		}))
		apply()
	})
}

// currentDark is the remembered choice, or the system's.
func currentDark(query app.Value) bool {
	switch storedTheme() {
	case "dark":
		return true
	case "light":
		return false
	}
	return query.Get("matches").Bool()
}

// toggleTheme switches to the other theme and remembers it, unless it is the system's.
func toggleTheme(ctx app.Context, dark bool) {
	dark = !dark
	system := app.Window().Call("matchMedia", "(prefers-color-scheme: dark)").Get("matches").Bool()
	storage := app.Window().Get("localStorage")
	if dark == system {
		storage.Call("removeItem", themeKey)
	} else {
		storage.Call("setItem", themeKey, themeName(dark))
	}
	setDark(ctx, dark)
}

func setDark(ctx app.Context, dark bool) {
	app.Window().Get("document").Get("documentElement").Get("dataset").Set("theme", themeName(dark))
	stateDark.set(dark)
}

func storedTheme() string {
	v := app.Window().Get("localStorage").Call("getItem", themeKey)
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}

func themeName(dark bool) string {
	if dark {
		return "dark"
	}
	return "light"
}
