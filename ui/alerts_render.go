package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// Render draws the alerts page.
func (p *alertsPage) Render() app.UI {
	return app.Div().Class("page").Body(
		&topBar{Page: "/alerts"},
		app.Main().Class("content", "alerts").ID("alerts").Body(
			p.renderNotifications(),
			app.If(p.err != "", func() app.UI { return app.P().Class("error").ID("alerts-error").Text(p.err) }),
			app.If(p.form != nil, func() app.UI { return p.renderForm() }),
			p.renderRules(),
			p.renderHistory(),
		),
	)
}

// renderNotifications says whether firings show as system notifications, and offers them.
func (p *alertsPage) renderNotifications() app.UI {
	var body app.UI
	switch p.permission {
	case "granted":
		body = app.Span().Text("System notifications are on: a firing or a recovery shows even while this tab is in the background.")
	case "denied":
		body = app.Span().Text("System notifications are blocked for this site; allow them in the browser's site settings to see firings outside this tab.")
	case "unsupported":
		body = app.Span().Text("This browser cannot show system notifications; the banner at the top shows firing alerts.")
	default:
		body = app.Span().Body(
			app.Text("Be told of firings and recoveries outside this tab: "),
			app.Button().Type("button").Class("link-button").ID("notify-on").Text("Turn on notifications").
				OnClick(func(ctx app.Context, e app.Event) { p.askPermission(ctx) }),
		)
	}
	return app.P().Class("notice", "notifications").ID("notifications").Attr("data-permission", p.permission).Body(body)
}

// renderRules is the table of rules with their state.
func (p *alertsPage) renderRules() app.UI {
	return app.Section().Class("card", "rules").Body(
		app.Header().Class("card-head").Body(
			app.H2().Text("Alert rules"),
			app.Button().Type("button").Class("link-button").ID("rule-new").Text("New rule").
				OnClick(func(ctx app.Context, e app.Event) { p.form = newRuleForm() }),
		),
		app.If(len(p.rules) == 0, func() app.UI {
			text := "Reading the rules…"
			if p.loaded || p.heard.Known {
				text = "No alert rules yet. A rule watches a measure over a window and fires when it crosses a threshold."
			}
			return app.P().Class("empty").Text(text)
		}).Else(func() app.UI {
			return app.Div().Class("table-scroll").Body(
				app.Table().Class("table").ID("rules").Body(
					app.THead().Body(app.Tr().Body(
						app.Th().Text("State"),
						app.Th().Text("Rule"),
						app.Th().Text("Fires when"),
						app.Th().Class("num").Text("Now"),
						app.Th().Text("Webhook"),
						app.Th(),
					)),
					app.TBody().Body(
						app.Range(p.rules).Slice(func(i int) app.UI { return p.renderRule(p.rules[i]) }),
					),
				),
			)
		}),
	)
}

func (p *alertsPage) renderRule(r api.AlertRule) app.UI {
	id := r.ID
	webhook := "—"
	if r.WebhookURL != "" {
		webhook = webhookHost(r.WebhookURL)
	}
	return app.Tr().Class("rule-row").Attr("data-rule", id).Attr("data-firing", r.State.Firing).Body(
		app.Td().Body(stateBadge(r.State)),
		app.Td().Body(app.Strong().Text(r.Name)),
		app.Td().Class("rule-condition").Text(describeRule(r)),
		app.Td().Class("num").Title(coveredLabel(r.State.Covered)).Text(ruleValue(r)),
		app.Td().Class("muted").Text(webhook),
		app.Td().Class("rule-buttons").Body(
			app.Button().Type("button").Class("link-button").Text("Change").
				OnClick(func(ctx app.Context, e app.Event) {
					for _, r := range p.rules {
						if r.ID == id {
							p.form = formOf(r)
						}
					}
				}, app.EventScope(strconv.FormatInt(id, 10))),
			app.Button().Type("button").Class("link-button", "danger").Text("Delete").
				OnClick(func(ctx app.Context, e app.Event) {
					if app.Window().Call("confirm", "Delete this alert rule? Its history stays.").Bool() {
						p.remove(ctx, id)
					}
				}, app.EventScope(strconv.FormatInt(id, 10))),
		),
	)
}

func stateBadge(s api.AlertState) app.UI {
	switch {
	case s.Firing:
		label := "Firing"
		if s.Since != nil {
			label += " since " + dateTime(*s.Since)
		}
		return app.Span().Class("badge", "badge-failed").Text(label)
	case s.EvaluatedAt == nil:
		return app.Span().Class("badge").Text("Waiting")
	case s.Value == nil:
		return app.Span().Class("badge").Title("The data cannot tell: no sales or files in the window, or nothing to compare with").Text("No data")
	}
	return app.Span().Class("badge", "badge-loaded").Text("OK")
}

// describeRule is a rule's condition for people: "Sales, last 7 days, Technology: below
// −20 % against the previous 7 days".
func describeRule(r api.AlertRule) string {
	parts := []string{measureLabels[r.Measure]}
	if w, err := api.ParseAlertWindow(r.Window); err == nil && w.Unit != "" {
		parts = append(parts, w.Describe())
	}
	for _, v := range []string{r.Filter.Category, r.Filter.Region, r.Filter.Channel} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	threshold := formatMeasure(r.Measure, r.Threshold)
	if r.Relative {
		threshold = formatSignedPercent(r.Threshold) + " against the previous window"
	}
	return strings.Join(parts, ", ") + ": " + r.Comparison + " " + threshold
}

// ruleValue is the value last compared with the threshold.
func ruleValue(r api.AlertRule) string {
	if r.State.Value == nil {
		return "—"
	}
	if r.Relative {
		return formatSignedPercent(*r.State.Value)
	}
	return formatMeasure(r.Measure, *r.State.Value)
}

// formatMeasure writes a value in its measure's unit.
func formatMeasure(measure string, v float64) string {
	switch measure {
	case api.MeasureSales, api.MeasureAvgTicket:
		return formatMoney(api.Money(math.Round(v * 100)))
	case api.MeasureOrders:
		return formatCount(int64(math.Round(v)))
	case api.MeasureHoursSinceFile:
		return strconv.FormatFloat(v, 'f', -1, 64) + " h"
	}
	return formatPercent(v)
}

func coveredLabel(w api.Window) string {
	if w.From == "" {
		return ""
	}
	return w.From + " to " + w.To
}

// webhookHost shows a webhook by its host: the rest of its URL is often its secret.
func webhookHost(u string) string {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		rest = strings.TrimPrefix(u, "http://")
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	return host
}

// renderHistory is the firings and recoveries, newest first, with their deliveries.
func (p *alertsPage) renderHistory() app.UI {
	return app.Section().Class("card", "history").Body(
		app.Header().Class("card-head").Body(app.H2().Text("History")),
		app.If(len(p.events) == 0, func() app.UI {
			return app.P().Class("empty").Text("No alert has fired yet.")
		}).Else(func() app.UI {
			return app.Div().Class("table-scroll").Body(
				app.Table().Class("table").ID("alert-events").Body(
					app.THead().Body(app.Tr().Body(
						app.Th().Text("When"),
						app.Th().Text("Event"),
						app.Th().Text("What"),
						app.Th().Text("Webhook"),
					)),
					app.TBody().Body(
						app.Range(p.events).Slice(func(i int) app.UI { return renderEvent(p.events[i]) }),
					),
				),
			)
		}),
		app.If(p.nextBefore != 0, func() app.UI {
			return app.Button().Type("button").Class("button").Text("Older events").
				OnClick(func(ctx app.Context, e app.Event) { p.olderEvents(ctx) })
		}),
	)
}

func renderEvent(e api.AlertEvent) app.UI {
	kind := app.Span().Class("badge", "badge-failed").Text("Fired")
	if e.Kind == api.AlertResolved {
		kind = app.Span().Class("badge", "badge-loaded").Text("Recovered")
	}
	delivery := "—"
	if d := e.Delivery; d != nil {
		delivery = d.Status
		switch {
		case d.Status == "delivered":
			delivery += " (" + strconv.Itoa(d.Attempts) + " attempt" + plural(d.Attempts) + ")"
		case d.Attempts > 0:
			delivery += " after " + strconv.Itoa(d.Attempts) + " attempt" + plural(d.Attempts) + ": " + d.LastError
		}
	}
	return app.Tr().Class("event-row").Attr("data-event", e.ID).Attr("data-kind", e.Kind).Body(
		app.Td().Class("nowrap").Text(dateTime(e.At)),
		app.Td().Body(kind),
		app.Td().Text(e.Message),
		app.Td().Class("muted").Text(delivery),
	)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
