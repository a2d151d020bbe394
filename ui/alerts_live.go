package ui

import (
	"strconv"
	"sync"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"salespulse/server/api"
)

// stateAlerts holds the alert rules and their state, as the server last said over the
// WebSocket.
var stateAlerts shared[alertsState]

// alertsState is what the live client heard of the alerts.
type alertsState struct {
	Known bool // the server said something: before, nothing is known (not even "no rules")
	Rules []api.AlertRule
	Heard int // firings and recoveries heard since the page loaded: a change means news
}

// firing are the rules that fire.
func (s alertsState) firing() []api.AlertRule {
	var out []api.AlertRule
	for _, r := range s.Rules {
		if r.State.Firing {
			out = append(out, r)
		}
	}
	return out
}

// heard is what the live client last published to stateAlerts, for its count of news.
var heard struct {
	mu    sync.Mutex
	state alertsState
}

// alertsReceived publishes an "alerts" message and notifies of its events.
func (l *liveClient) alertsReceived(a api.Alerts) {
	heard.mu.Lock()
	heard.state = alertsState{Known: true, Rules: a.Rules, Heard: heard.state.Heard + len(a.Events)}
	s := heard.state
	heard.mu.Unlock()
	stateAlerts.set(s)
	for _, e := range a.Events {
		notify(e)
	}
}

// notificationPermission is the browser's answer for notifications: granted, denied,
// default (not asked yet) or unsupported.
func notificationPermission() string {
	n := app.Window().Get("Notification")
	if !n.Truthy() {
		return "unsupported"
	}
	return n.Get("permission").String()
}

// notify shows a system notification of a firing or a recovery through the service
// worker, which shows it also while the tab is in the background, when the person allowed
// notifications. One notification per rule (its tag): a recovery replaces the firing's, and
// the same event heard by several tabs shows once. It stays until dismissed; clicking it
// opens the alerts page.
func notify(e api.AlertEvent) {
	if notificationPermission() != "granted" {
		return
	}
	title := "Alert: " + e.RuleName
	if e.Kind == api.AlertResolved {
		title = "Recovered: " + e.RuleName
	}
	options := map[string]any{
		"body":     e.Message,
		"tag":      "salespulse-rule-" + strconv.FormatInt(e.RuleID, 10),
		"renotify": true,
		// An alert stays until someone sees it, rather than fading after a few seconds.
		"requireInteraction": true,
		"icon":               "/web/icon-192.png",
		// The service worker's click handler (go-app's) opens data.goapp.path.
		"data": map[string]any{"goapp": map[string]any{"path": "/alerts", "actions": []any{}}, "event": e.ID},
	}
	sw := app.Window().Get("navigator").Get("serviceWorker")
	if !sw.Truthy() {
		app.Window().Get("Notification").New(title, options)
		return
	}
	var show app.Func
	show = app.FuncOf(func(_ app.Value, args []app.Value) any {
		defer show.Release()
		args[0].Call("showNotification", title, options)
		return nil
	})
	sw.Get("ready").Call("then", show)
}
