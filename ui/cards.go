package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// kpi is one headline figure. Name is the field of api.Totals it shows, and the card's
// data-kpi attribute, which tests and scrapers can rely on.
type kpi struct {
	Name, Label string
	value       func(api.Totals) figure
	note        func(api.Totals) string
}

// figure is a card's value: exact, and compact for when the exact one does not fit ("" when
// it would say the same).
type figure struct {
	Exact, Compact string
}

func moneyFigure(m api.Money) figure {
	return figure{formatMoney(m), formatCompact(float64(m) / 100)}
}

func countFigure(n int64) figure {
	f := figure{Exact: formatCount(n)}
	if n >= 1000 || n <= -1000 {
		f.Compact = formatCompact(float64(n))
	}
	return f
}

var kpis = []kpi{
	{"sales", "Sales", func(t api.Totals) figure { return moneyFigure(t.Sales) },
		func(api.Totals) string { return "total value, canceled included" }},
	{"orders", "Orders", func(t api.Totals) figure { return countFigure(t.Orders) }, nil},
	{"avg_ticket", "Average ticket", func(t api.Totals) figure { return moneyFigure(t.AvgTicket) },
		func(api.Totals) string { return "sales per order" }},
	{"quantity", "Quantity", func(t api.Totals) figure { return countFigure(t.Quantity) },
		func(api.Totals) string { return "units sold" }},
	{"gross_profit", "Gross profit", func(t api.Totals) figure { return moneyFigure(t.GrossProfit) }, nil},
	{"margin_pct", "Margin", func(t api.Totals) figure { return figure{Exact: formatPercent(t.MarginPct)} },
		func(api.Totals) string { return "gross profit / sales" }},
	{"canceled_sales", "Canceled sales", func(t api.Totals) figure { return moneyFigure(t.CanceledSales) },
		func(t api.Totals) string {
			if t.Sales == 0 {
				return ""
			}
			return formatPercent(float64(t.CanceledSales)*100/float64(t.Sales)) + " of sales"
		}},
}

// kpiCards draws the headline figures, each with its change against the previous window
// (prev); without data each shows a dash. A figure is exact,
// sized to fit its card (fluid type); where even the smallest size would overflow, CSS
// shows the compact form instead (data-compact, data-w: see salespulse.css), and the exact
// one stays in the text (what screen readers read), in the title (hover) and a tap away:
// tapping a card toggles the exact figure (exact[name]), shrunk to fit. toggle is nil
// where nothing can be tapped (the stored pre-rendering).
func kpiCards(t api.Totals, prev *api.Previous, has bool, exact map[string]bool, toggle func(ctx app.Context, name string)) app.UI {
	return app.Section().Class("kpis").Aria("label", "Key figures").Body(
		app.Range(kpis).Slice(func(i int) app.UI {
			k := kpis[i]
			f, note := figure{Exact: "—"}, ""
			if has {
				f = k.value(t)
				if k.note != nil {
					note = k.note(t)
				}
			}
			if f.Compact == f.Exact {
				f.Compact = ""
			}
			w := strconv.Itoa(textWidth(f.Exact))
			value := app.Span().Class("kpi-value").Attr("data-w", w).Style("--w", w).Text(f.Exact)
			if f.Compact != "" {
				value = value.Attr("data-compact", f.Compact)
			}
			if exact[k.Name] {
				value = value.Class("exact")
			}
			card := app.Div().Class("kpi").Attr("data-kpi", k.Name).Body(
				app.Span().Class("kpi-label").Text(k.Label),
				value,
				app.If(note != "", func() app.UI { return app.Span().Class("kpi-note").Text(note) }),
				app.If(has, func() app.UI { return cardChange(k.Name, t, prev) }),
			)
			if has {
				card = card.Title(k.Label + ": " + f.Exact)
			}
			if toggle != nil && f.Compact != "" {
				name := k.Name
				card = card.OnClick(func(ctx app.Context, e app.Event) { toggle(ctx, name) }, app.EventScope(name))
			}
			return card
		}),
	)
}
