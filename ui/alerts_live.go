package ui

import (
	"strconv"
	"sync"
	"time"

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

// notifying makes notifications show one at a time, in the order heard: Chromium may lose
// one of two shown at once (a recovery and another rule's firing, from the same file).
var notifying sync.Mutex

// notifyWait bounds the wait for the browser to show a notification.
const notifyWait = 10 * time.Second

// notify shows a system notification of a firing or a recovery through the service
// worker, which shows it also while the tab is in the background, when the person allowed
// notifications. One notification per rule (its tag): a recovery replaces the firing's, and
// the same event heard by several tabs shows once. It stays until dismissed; clicking it
// opens the alerts page. It returns once the browser has shown it (or failed to); it must
// not run on the browser's event loop.
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
	notifying.Lock()
	defer notifying.Unlock()
	sw := app.Window().Get("navigator").Get("serviceWorker")
	if !sw.Truthy() {
		app.Window().Get("Notification").New(title, options)
		return
	}
	done := make(chan struct{})
	show := app.FuncOf(func(_ app.Value, args []app.Value) any {
		return args[0].Call("showNotification", title, options) // the promise the chain waits for
	})
	var settled app.Func // released by itself: after a timeout, the browser may still call it
	settled = app.FuncOf(func(_ app.Value, args []app.Value) any {
		if len(args) > 0 && args[0].Truthy() && args[0].Get("message").Truthy() {
			app.Logf("salespulse: showing the notification %q failed: %s", title, args[0].Get("message").String())
		}
		close(done)
		show.Release()
		settled.Release()
		return nil
	})
	sw.Get("ready").Call("then", show).Call("then", settled, settled)
	select {
	case <-done:
	case <-time.After(notifyWait):
	}
}
