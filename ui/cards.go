package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// kpi is one headline figure. Name is the field of api.Totals it shows, and the card's
// data-kpi attribute, which tests and scrapers can rely on.
type kpi struct {
	Name, Label string
	value       func(api.Totals) string
	note        func(api.Totals) string
}

var kpis = []kpi{
	{"sales", "Sales", func(t api.Totals) string { return formatMoney(t.Sales) },
		func(api.Totals) string { return "total value, canceled included" }},
	{"orders", "Orders", func(t api.Totals) string { return formatCount(t.Orders) }, nil},
	{"avg_ticket", "Average ticket", func(t api.Totals) string { return formatMoney(t.AvgTicket) },
		func(api.Totals) string { return "sales per order" }},
	{"quantity", "Quantity", func(t api.Totals) string { return formatCount(t.Quantity) },
		func(api.Totals) string { return "units sold" }},
	{"gross_profit", "Gross profit", func(t api.Totals) string { return formatMoney(t.GrossProfit) }, nil},
	{"margin_pct", "Margin", func(t api.Totals) string { return formatPercent(t.MarginPct) },
		func(api.Totals) string { return "gross profit / sales" }},
	{"canceled_sales", "Canceled sales", func(t api.Totals) string { return formatMoney(t.CanceledSales) },
		func(t api.Totals) string {
			if t.Sales == 0 {
				return ""
			}
			return formatPercent(float64(t.CanceledSales)*100/float64(t.Sales)) + " of sales"
		}},
}

// kpiCards draws the headline figures; without data each shows a dash.
func kpiCards(t api.Totals, has bool) app.UI {
	return app.Section().Class("kpis").Aria("label", "Key figures").Body(
		app.Range(kpis).Slice(func(i int) app.UI {
			k := kpis[i]
			value, note := "—", ""
			if has {
				value = k.value(t)
				if k.note != nil {
					note = k.note(t)
				}
			}
			return app.Div().Class("kpi").Attr("data-kpi", k.Name).Body(
				app.Span().Class("kpi-label").Text(k.Label),
				app.Span().Class("kpi-value").Text(value),
				app.If(note != "", func() app.UI { return app.Span().Class("kpi-note").Text(note) }),
			)
		}),
	)
}
