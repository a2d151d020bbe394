package ui

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// measureLabels name the measures in the form and the rules table.
var measureLabels = map[string]string{
	api.MeasureSales: "Sales", api.MeasureOrders: "Orders", api.MeasureAvgTicket: "Average ticket",
	api.MeasureMarginPct: "Margin", api.MeasureCanceledShare: "Canceled share of sales",
	api.MeasureRejectedShare: "Rejected share of rows (files)", api.MeasureHoursSinceFile: "Hours since the last loaded file",
}

// ruleForm is a rule being written, as the form's fields hold it.
type ruleForm struct {
	ID                        int64 // 0 for a new rule
	Name, Measure             string
	Unit, Size                string // latest_day, days or hours; how many
	Category, Region, Channel string
	Comparison, Threshold     string
	Relative                  bool
	Webhook                   string
	Err                       string
	Saving                    bool
}

func newRuleForm() *ruleForm {
	return &ruleForm{Measure: api.MeasureSales, Unit: api.WindowDays, Size: "7", Comparison: api.Below}
}

// formOf fills the form with a rule to change.
func formOf(r api.AlertRule) *ruleForm {
	w, _ := api.ParseAlertWindow(r.Window)
	f := &ruleForm{ID: r.ID, Name: r.Name, Measure: r.Measure, Unit: w.Unit, Size: strconv.Itoa(w.Size),
		Category: r.Filter.Category, Region: r.Filter.Region, Channel: r.Filter.Channel, Comparison: r.Comparison,
		Threshold: strconv.FormatFloat(r.Threshold, 'f', -1, 64), Relative: r.Relative, Webhook: r.WebhookURL}
	if f.Unit == "" {
		f.Unit, f.Size = api.WindowDays, "7"
	}
	return f
}

// rule is the rule the form describes; the server checks the rest.
func (f *ruleForm) rule() (api.AlertRule, error) {
	threshold, err := strconv.ParseFloat(strings.TrimSpace(f.Threshold), 64)
	if err != nil {
		return api.AlertRule{}, errors.New("the threshold must be a number, such as 1500 or -20")
	}
	r := api.AlertRule{Name: f.Name, Measure: f.Measure, Comparison: f.Comparison, Threshold: threshold,
		Relative: f.Relative, WebhookURL: strings.TrimSpace(f.Webhook)}
	if f.Measure != api.MeasureHoursSinceFile {
		size, _ := strconv.Atoi(f.Size)
		r.Window = api.AlertWindow{Unit: f.Unit, Size: max(size, 1)}.String()
		if f.Unit != api.WindowLatestDay && size < 1 {
			return r, errors.New("the window must be a whole number of days or hours, at least 1")
		}
	} else {
		r.Relative = false
	}
	if !api.FileMeasure(f.Measure) {
		r.Filter = api.Filter{Category: f.Category, Region: f.Region, Channel: f.Channel}
	}
	return r, nil
}

// thresholdUnit is what the threshold counts.
func (f *ruleForm) thresholdUnit() string {
	switch {
	case f.Relative && f.Measure != api.MeasureHoursSinceFile:
		return "% change against the previous window of the same length"
	case f.Measure == api.MeasureMarginPct || f.Measure == api.MeasureCanceledShare || f.Measure == api.MeasureRejectedShare:
		return "%"
	case f.Measure == api.MeasureHoursSinceFile:
		return "hours"
	case f.Measure == api.MeasureOrders:
		return "orders"
	}
	return "money"
}

// renderForm draws the form of p.form. Its handlers change p.form as they run (go-app keeps
// a handler while its code is the same, so it must not capture a render's values).
func (p *alertsPage) renderForm() app.UI {
	f := p.form
	set := func(field func(*ruleForm) *string) func(app.Context, app.Event) {
		return func(ctx app.Context, e app.Event) {
			if p.form != nil {
				*field(p.form) = ctx.JSSrc().Get("value").String()
			}
		}
	}
	title := "New alert rule"
	if f.ID != 0 {
		title = "Change alert rule " + strconv.Quote(f.Name)
	}
	o := p.shown.Snapshot.Options
	return app.Form().Class("card", "rule-form").ID("rule-form").
		OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			if p.form != nil && !p.form.Saving {
				p.save(ctx)
			}
		}).
		Body(
			app.H2().Text(title),
			app.Div().Class("rule-fields").Body(
				textField("rule-name", "Name", f.Name, "Sales drop", set(func(f *ruleForm) *string { return &f.Name })),
				choiceField("rule-measure", "Measure", f.Measure, api.Measures, measureLabels, set(func(f *ruleForm) *string { return &f.Measure })),
				app.If(f.Measure != api.MeasureHoursSinceFile, func() app.UI {
					return app.Div().Class("rule-window").Body(
						choiceField("rule-window-unit", "Window", f.Unit, []string{api.WindowLatestDay, api.WindowDays, api.WindowHours},
							map[string]string{api.WindowLatestDay: "Latest day", api.WindowDays: "Last days", api.WindowHours: "Last hours"},
							set(func(f *ruleForm) *string { return &f.Unit })),
						app.If(f.Unit != api.WindowLatestDay, func() app.UI {
							return numberField("rule-window-size", "How many", f.Size, "1", set(func(f *ruleForm) *string { return &f.Size }))
						}),
					)
				}),
				app.If(!api.FileMeasure(f.Measure), func() app.UI {
					return app.Div().Class("rule-filter").Body(
						menuField("rule-category", "Category", "All categories", f.Category, o.Categories, set(func(f *ruleForm) *string { return &f.Category })),
						menuField("rule-region", "Region", "All regions", f.Region, o.Regions, set(func(f *ruleForm) *string { return &f.Region })),
						menuField("rule-channel", "Channel", "All channels", f.Channel, o.Channels, set(func(f *ruleForm) *string { return &f.Channel })),
					)
				}),
				choiceField("rule-comparison", "Fires when it is", f.Comparison, []string{api.Above, api.Below},
					map[string]string{api.Above: "above", api.Below: "below"}, set(func(f *ruleForm) *string { return &f.Comparison })),
				app.Div().Class("rule-threshold").Body(
					numberField("rule-threshold", "Threshold", f.Threshold, "any", set(func(f *ruleForm) *string { return &f.Threshold })),
					app.Span().Class("muted", "unit").ID("rule-unit").Text(f.thresholdUnit()),
				),
				app.If(f.Measure != api.MeasureHoursSinceFile, func() app.UI {
					return app.Label().Class("check").Body(
						app.Input().Type("checkbox").ID("rule-relative").Checked(f.Relative).
							OnChange(func(ctx app.Context, e app.Event) {
								if p.form != nil {
									p.form.Relative = ctx.JSSrc().Get("checked").Bool()
								}
							}),
						app.Span().Text(" compare the change against the previous window"),
					)
				}),
				textField("rule-webhook", "Webhook URL (optional)", f.Webhook, "https://chat.example.com/hooks/…",
					set(func(f *ruleForm) *string { return &f.Webhook })),
			),
			app.If(f.Err != "", func() app.UI { return app.P().Class("error").ID("rule-error").Attr("role", "alert").Text(f.Err) }),
			app.Div().Class("rule-actions").Body(
				app.Button().Type("submit").Class("button", "primary").ID("rule-save").Disabled(f.Saving).Text("Save"),
				app.Button().Type("button").Class("button").ID("rule-cancel").Text("Cancel").
					OnClick(func(ctx app.Context, e app.Event) { p.form = nil }),
			),
		)
}

func textField(id, label, value, placeholder string, onInput app.EventHandler) app.UI {
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Input().Type("text").ID(id).Value(value).Placeholder(placeholder).OnInput(onInput),
	)
}

func numberField(id, label, value, step string, onInput app.EventHandler) app.UI {
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Input().Type("number").ID(id).Value(value).Attr("step", step).OnInput(onInput),
	)
}

func choiceField(id, label, value string, choices []string, labels map[string]string, onChange app.EventHandler) app.UI {
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Select().ID(id).OnChange(onChange).Body(
			app.Range(choices).Slice(func(i int) app.UI {
				return app.Option().Value(choices[i]).Selected(choices[i] == value).Text(labels[choices[i]])
			}),
		),
	)
}

func menuField(id, label, all, value string, values []string, onChange app.EventHandler) app.UI {
	if value != "" && !slices.Contains(values, value) { // a value without sales now
		values = append([]string{value}, values...)
	}
	return app.Label().Class("field").Body(
		app.Span().Text(label),
		app.Select().ID(id).OnChange(onChange).Body(
			app.Option().Value("").Selected(value == "").Text(all),
			app.Range(values).Slice(func(i int) app.UI {
				return app.Option().Value(values[i]).Selected(values[i] == value).Text(values[i])
			}),
		),
	)
}
