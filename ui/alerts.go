package ui

import (
	"net/url"
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// alertsPage is the page at /alerts: the alert rules with their state, a form to add or
// change one, the history of firings and recoveries with their webhook deliveries, and the
// choice of system notifications.
type alertsPage struct {
	app.Compo

	rules      []api.AlertRule
	loaded     bool // the rules were read once
	events     []api.AlertEvent
	nextBefore int64
	err        string
	heard      alertsState
	shown      shown // for the filter menus' values

	form       *ruleForm // the rule being added or changed; nil when none
	permission string    // the browser's answer for notifications
}

func newAlertsPage() app.Composer { return &alertsPage{} }

// OnMount follows the alerts the live client hears: new state replaces the rules, news
// reads the history again.
func (p *alertsPage) OnMount(ctx app.Context) {
	stateAlerts.observe(ctx, &p.heard, func() {
		if p.heard.Known {
			p.rules = p.heard.Rules
		}
		p.readEvents(ctx)
	})
	if p.heard.Known {
		p.rules = p.heard.Rules
	}
	stateShown.observe(ctx, &p.shown, nil)
	ctx.NewAction(actionWake)
	p.permission = notificationPermission()
}

// OnNav reads the rules and the history.
func (p *alertsPage) OnNav(ctx app.Context) {
	rememberToken(ctx.Page().URL())
	p.readRules(ctx)
	p.readEvents(ctx)
}

func (p *alertsPage) readRules(ctx app.Context) {
	ctx.Async(func() {
		var page struct {
			Rules []api.AlertRule `json:"rules"`
		}
		err := getJSON(ctx, "/api/alerts", nil, &page)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.err = err.Error()
				return
			}
			p.err, p.rules, p.loaded = "", page.Rules, true
		})
	})
}

// readEvents reads the newest page of the history again.
func (p *alertsPage) readEvents(ctx app.Context) {
	ctx.Async(func() {
		var page api.AlertEventsPage
		err := getJSON(ctx, "/api/alerts/events", url.Values{"limit": {"50"}}, &page)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.err = err.Error()
				return
			}
			p.events, p.nextBefore = page.Events, page.NextBefore
		})
	})
}

// olderEvents reads the next page of the history.
func (p *alertsPage) olderEvents(ctx app.Context) {
	before := p.nextBefore
	ctx.Async(func() {
		var page api.AlertEventsPage
		err := getJSON(ctx, "/api/alerts/events", url.Values{"limit": {"50"}, "before": {strconv.FormatInt(before, 10)}}, &page)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.err = err.Error()
				return
			}
			p.events, p.nextBefore = append(p.events, page.Events...), page.NextBefore
		})
	})
}

// save sends the form: a new rule, or the changed one.
func (p *alertsPage) save(ctx app.Context) {
	f := p.form
	rule, err := f.rule()
	if err != nil {
		f.Err = err.Error()
		return
	}
	f.Saving, f.Err = true, ""
	method, path := "POST", "/api/alerts"
	if f.ID != 0 {
		method, path = "PUT", "/api/alerts/"+strconv.FormatInt(f.ID, 10)
	}
	ctx.Async(func() {
		var saved api.AlertRule
		err := sendJSON(ctx, method, path, rule, &saved)
		ctx.Dispatch(func(ctx app.Context) {
			if p.form != f {
				return // the form was closed meanwhile
			}
			f.Saving = false
			if err != nil {
				f.Err = err.Error()
				return
			}
			p.form = nil
			p.readRules(ctx)
		})
	})
}

// remove deletes a rule; its history stays.
func (p *alertsPage) remove(ctx app.Context, id int64) {
	ctx.Async(func() {
		err := sendJSON(ctx, "DELETE", "/api/alerts/"+strconv.FormatInt(id, 10), nil, nil)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.err = err.Error()
				return
			}
			if p.form != nil && p.form.ID == id {
				p.form = nil
			}
			p.readRules(ctx)
		})
	})
}

// askPermission asks the browser for notifications (it must follow a click).
func (p *alertsPage) askPermission(ctx app.Context) {
	n := app.Window().Get("Notification")
	if !n.Truthy() {
		return
	}
	var answered app.Func
	answered = app.FuncOf(func(_ app.Value, args []app.Value) any {
		defer answered.Release()
		ctx.Dispatch(func(app.Context) { p.permission = notificationPermission() })
		return nil
	})
	n.Call("requestPermission").Call("then", answered)
}
