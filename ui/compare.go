package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// cardFigure is the figure a card compares, as a number, and how to write it.
func cardFigure(name string, t api.Totals) (float64, func(float64) string) {
	money := func(v float64) string { return formatMoney(api.Money(v)) }
	count := func(v float64) string { return formatCount(int64(v)) }
	switch name {
	case "sales":
		return float64(t.Sales), money
	case "orders":
		return float64(t.Orders), count
	case "avg_ticket":
		return float64(t.AvgTicket), money
	case "quantity":
		return float64(t.Quantity), count
	case "gross_profit":
		return float64(t.GrossProfit), money
	case "margin_pct":
		return t.MarginPct, formatPercent
	}
	return float64(t.CanceledSales), money
}

// cardChange is a card's change against the previous window of the same length, the server's
// figures of both: "▲ +12.3 % vs previous 7 days". The arrow and the sign say the direction
// without colour; colour says whether it is good news (less canceled is).
func cardChange(name string, t api.Totals, prev *api.Previous) app.UI {
	if prev.Reason != "" {
		why := "The window starts with the first sale loaded: nothing of its length comes before it."
		if prev.Reason == api.PreviousNoWindow {
			why = "There is no window of the same length before this one."
		}
		return app.Span().Class("kpi-change", "none").Attr("data-change", "none").Title(why).Text("no earlier period to compare")
	}
	cur, write := cardFigure(name, t)
	was, _ := cardFigure(name, prev.Totals)
	period := "previous " + periodLength(prev.Window)
	detail := write(was) + " in the " + period + " (" + prev.Window.From + " to " + prev.Window.To + ")"
	pct, ok := api.ChangePct(cur, was)
	if !ok {
		text, classes := "▲ from none in the "+period, []string{"kpi-change", "up", "good"}
		if name == "canceled_sales" {
			classes[2] = "bad"
		}
		if cur == 0 {
			text, classes = "= none in the "+period+" either", []string{"kpi-change", "flat"}
		}
		return app.Span().Class(classes...).Attr("data-change", classes[1]).Title("Against " + detail).Text(text)
	}
	arrow, dir, words := "=", "flat", "unchanged"
	switch {
	case pct > 0:
		arrow, dir, words = "▲", "up", "up"
	case pct < 0:
		arrow, dir, words = "▼", "down", "down"
	}
	good := dir == "up"
	if name == "canceled_sales" {
		good = dir == "down"
	}
	classes := []string{"kpi-change", dir}
	if dir != "flat" {
		classes = append(classes, map[bool]string{true: "good", false: "bad"}[good])
	}
	signed := formatSignedPercent(pct)
	return app.Span().Class(classes...).Attr("data-change", dir).Attr("data-pct", strconv.FormatFloat(pct, 'f', 2, 64)).
		Title("Against "+detail).Aria("label", words+" "+signed+" against "+detail).
		Body(
			app.Span().Aria("hidden", "true").Text(arrow+" "+signed),
			app.Span().Class("kpi-change-period").Aria("hidden", "true").Text(" vs "+period),
		)
}

// formatSignedPercent writes a change with its sign and one decimal: +12.3 %, −4.0 %, 0.0 %.
func formatSignedPercent(p float64) string {
	s := strconv.FormatFloat(p, 'f', 1, 64)
	switch {
	case s == "0.0" || s == "-0.0":
		return "0.0 %"
	case p > 0:
		return "+" + s + " %"
	}
	return "−" + s[1:] + " %"
}

// periodLength is a window's length for people: "day", "7 days".
func periodLength(w api.Window) string {
	from, err1 := time.Parse(time.DateOnly, w.From)
	to, err2 := time.Parse(time.DateOnly, w.To)
	if err1 != nil || err2 != nil {
		return "period"
	}
	days := int64(to.Sub(from).Hours()/24) + 1
	if days == 1 {
		return "day"
	}
	return formatCount(days) + " days"
}
