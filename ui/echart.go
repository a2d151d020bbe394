package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// echart draws one chart with ECharts. The option comes from Go (go-echarts, see charts.go);
// this component only hands it to ECharts' JavaScript through go-app's JS bridge. New data
// goes through setOption on the same ECharts instance, which animates the change in place;
// only a theme change re-creates the instance, as ECharts themes are fixed at init.
//
// A chart is first drawn when it comes near the screen: drawing all ten at load holds the
// page's only thread for most of a second on a phone, delaying the live figures.
type echart struct {
	app.Compo

	Spec chartSpec
	Dark bool

	chart    app.Value // the ECharts instance, once drawn
	dark     bool      // the theme chart was created with
	drawn    string    // the option chart shows
	retries  int
	visible  bool // has come near the screen
	observer app.Value
	onSight  app.Func
}

// Render is the element ECharts draws into; its size comes from CSS.
func (c *echart) Render() app.UI {
	return app.Div().
		Class("chart-canvas").
		ID("chart-"+c.Spec.ID).
		Aria("label", c.Spec.Title).
		Attr("role", "img")
}

// OnMount draws once the element comes within a screen's height of the viewport.
func (c *echart) OnMount(ctx app.Context) {
	c.onSight = app.FuncOf(func(_ app.Value, args []app.Value) any {
		entries := args[0]
		for i := 0; i < entries.Length(); i++ {
			if entries.Index(i).Get("isIntersecting").Bool() {
				go ctx.Dispatch(func(ctx app.Context) { // not on the browser's event loop
					c.visible = true
					c.stopObserving()
					c.draw(ctx)
				})
				break
			}
		}
		return nil
	})
	c.observer = app.Window().Get("IntersectionObserver").New(c.onSight, map[string]any{"rootMargin": "100% 0px"})
	c.observer.Call("observe", c.JSValue())
}

func (c *echart) stopObserving() {
	if c.observer != nil {
		c.observer.Call("disconnect")
		c.observer = nil
		c.onSight.Release()
	}
}

// OnUpdate pushes new data or a new theme to the chart.
func (c *echart) OnUpdate(ctx app.Context) { c.draw(ctx) }

// OnResize follows the element's new size (window resize, rotation).
func (c *echart) OnResize(ctx app.Context) {
	if c.chart != nil {
		c.chart.Call("resize")
	}
}

// OnDismount frees the ECharts instance and its listeners.
func (c *echart) OnDismount() {
	c.stopObserving()
	if c.chart != nil {
		c.chart.Call("dispose")
		c.chart = nil
	}
}

func (c *echart) draw(ctx app.Context) {
	if !c.visible {
		return
	}
	echarts := app.Window().Get("echarts")
	if !echarts.Truthy() {
		// echarts.min.js is a deferred script; the WebAssembly can start before it ran.
		if c.retries < 50 {
			c.retries++
			ctx.After(100*time.Millisecond, c.draw)
		}
		return
	}
	if c.chart != nil && c.dark != c.Dark {
		c.chart.Call("dispose")
		c.chart = nil
	}
	if c.chart == nil {
		theme := app.Null()
		if c.Dark {
			theme = app.ValueOf("dark")
		}
		c.chart = echarts.Call("init", c.JSValue(), theme, map[string]any{"renderer": "canvas"})
		c.dark, c.drawn = c.Dark, ""
	}
	if c.Spec.Option == c.drawn {
		return
	}
	option := app.Window().Get("JSON").Call("parse", c.Spec.Option)
	decorate(option, c.Spec.Unit)
	// The first drawing appears at once: ten charts animating their entry would hold the
	// page's only thread for a second, while the live figures are arriving. Later data
	// animates, which shows what changed.
	option.Set("animation", c.drawn != "")
	// replaceMerge drops series that are gone (a category filtered out) instead of
	// keeping their old lines; everything else merges, so the change animates.
	c.chart.Call("setOption", option, map[string]any{"replaceMerge": []any{"series"}})
	c.drawn = c.Spec.Option
}

// decorate adds what JSON cannot carry: JavaScript formatter functions. They come from
// Intl.NumberFormat, whose format getter is a bound function, so no Go callback runs per
// label or tooltip.
func decorate(option app.Value, unit string) {
	option.Set("backgroundColor", "transparent")
	full := numberFormat(map[string]any{"minimumFractionDigits": 0, "maximumFractionDigits": 0})
	if unit == unitMoney {
		full = numberFormat(map[string]any{"minimumFractionDigits": 2, "maximumFractionDigits": 2})
	}
	compact := numberFormat(map[string]any{"notation": "compact", "maximumFractionDigits": 1})
	if tooltip := option.Get("tooltip"); tooltip.Truthy() {
		tooltip.Set("valueFormatter", full)
		tooltip.Set("confine", true) // keep tooltips on screen on phones
	}
	for _, name := range []string{"xAxis", "yAxis"} {
		axes := option.Get(name)
		if !axes.Truthy() {
			continue
		}
		for i := 0; i < axes.Length(); i++ {
			axis := axes.Index(i)
			label := axis.Get("axisLabel")
			if !label.Truthy() {
				label = app.Window().Get("Object").New()
				axis.Set("axisLabel", label)
			}
			if axis.Get("data").Truthy() {
				// Category labels (product and rep names) are cut rather than squeezing
				// the plot on a phone; the tooltip has the full name.
				label.Set("width", 110)
				label.Set("overflow", "truncate")
				label.Set("hideOverlap", true)
			} else {
				label.Set("formatter", compact)
			}
		}
	}
}

// numberFormat is Intl.NumberFormat("en-US", options).format, the grouping the cards use.
func numberFormat(options map[string]any) app.Value {
	return app.Window().Get("Intl").Get("NumberFormat").New("en-US", options).Get("format")
}
