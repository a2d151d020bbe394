//go:build !wasm

package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"salespulse/etl"
	"salespulse/server/api"
)

// TestAlertsInTheBrowser: the cards compare each figure with the previous window; a rule
// written in the alerts page fires, shows in the banner and as a system notification,
// through the service worker, also while the tab is in the background.
func TestAlertsInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and Chromium")
	}
	e := newEnv(t)
	e.loadFixtures()
	t.Run("cards compare with the previous window", func(t *testing.T) { e.t = t; testComparison(e) })
	t.Run("a rule written in the page fires, with a banner and a notification", func(t *testing.T) { e.t = t; testAlertRule(e) })
	t.Run("a notification while the tab is in the background", func(t *testing.T) { e.t = t; testBackgroundNotification(e) })
	e.t = t
	if ex := e.console.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}

// testComparison: over the last 7 days every card shows the change against the 7 days
// before, as the API's figures of both say, with an arrow; over all dates it says there is
// nothing to compare with.
func testComparison(e *env) {
	e.open("/?range=7d")
	e.waitState("live")
	latest, _ := time.Parse(time.DateOnly, e.kpis(api.Filter{}).DataRange.To)
	snap := e.kpis(api.Filter{From: latest.AddDate(0, 0, -6).Format(time.DateOnly), To: latest.Format(time.DateOnly)})
	if snap.Previous.Window.To != latest.AddDate(0, 0, -7).Format(time.DateOnly) {
		e.t.Fatalf("previous window %+v", snap.Previous)
	}
	cur, prev := snap.Totals, snap.Previous.Totals
	figures := map[string][2]float64{
		"sales": {float64(cur.Sales), float64(prev.Sales)}, "orders": {float64(cur.Orders), float64(prev.Orders)},
		"avg_ticket": {float64(cur.AvgTicket), float64(prev.AvgTicket)}, "quantity": {float64(cur.Quantity), float64(prev.Quantity)},
		"gross_profit": {float64(cur.GrossProfit), float64(prev.GrossProfit)}, "margin_pct": {cur.MarginPct, prev.MarginPct},
		"canceled_sales": {float64(cur.CanceledSales), float64(prev.CanceledSales)},
	}
	type change struct{ Dir, Pct, Text, Label string }
	e.waitJS("the comparisons", `document.querySelectorAll("[data-kpi] .kpi-change").length === 7`, 10*time.Second)
	got := eval[map[string]change](e, `Object.fromEntries([...document.querySelectorAll("[data-kpi]")].map(c => {
		const ch = c.querySelector(".kpi-change");
		return [c.dataset.kpi, {Dir: ch.dataset.change, Pct: ch.dataset.pct || "", Text: ch.textContent, Label: ch.getAttribute("aria-label") || ""}];
	}))`)
	for name, f := range figures {
		g := got[name]
		pct := math.Round((f[0]-f[1])/math.Abs(f[1])*10000) / 100
		dir, arrow := "flat", "="
		if pct > 0 {
			dir, arrow = "up", "▲"
		} else if pct < 0 {
			dir, arrow = "down", "▼"
		}
		if g.Dir != dir || g.Pct != strconv.FormatFloat(pct, 'f', 2, 64) || !strings.HasPrefix(g.Text, arrow+" ") ||
			!strings.HasSuffix(g.Text, " vs previous 7 days") || !strings.HasPrefix(g.Label, map[string]string{"up": "up", "down": "down", "flat": "unchanged"}[dir]) {
			e.t.Errorf("card %s: change %+v, want %s %.2f %% (%v against %v)", name, g, dir, pct, f[0], f[1])
		}
	}
	e.screenshot("alerts-cards-compared-7-days")
	e.open("/")
	e.waitState("live")
	e.waitJS("no comparison over all dates", `[...document.querySelectorAll("[data-kpi] .kpi-change")].every(c => c.dataset.change === "none") &&
		document.querySelectorAll("[data-kpi] .kpi-change").length === 7`, 10*time.Second)
}

// post sends v as JSON to the API and returns the status.
func (e *env) post(path string, v any) int {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := http.Post(e.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// grantNotifications allows the server's origin to show notifications, as a person
// answering the browser's prompt would.
func (e *env) grantNotifications() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.browser, 10*time.Second)
	defer cancel()
	_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: browser.PermissionSettingGranted, Origin: e.url})
	if err != nil {
		e.t.Fatalf("grant notifications: %v", err)
	}
}

// notificationRecorder records, in each page, the notifications the browser accepted to
// show through the service worker, with the page's visibility then. The test reads them
// there rather than from getNotifications(): headless Chromium sometimes leaves out of that
// list a notification it has just accepted (showNotification resolved).
const notificationRecorder = `(() => {
	const shown = window.__notifications = [];
	const show = ServiceWorkerRegistration.prototype.showNotification;
	ServiceWorkerRegistration.prototype.showNotification = function(title, options) {
		const hidden = document.visibilityState === "hidden";
		return show.call(this, title, options).then(r => {
			shown.push({title, body: options?.body ?? "", tag: options?.tag ?? "", sticky: !!options?.requireInteraction, hidden});
			return r;
		});
	};
})()`

// shownNotification is one the browser accepted to show.
type shownNotification struct {
	Title, Body, Tag string
	Sticky           bool // stays until dismissed
	Hidden           bool // shown while the page was hidden
}

// recordNotifications installs notificationRecorder in every page the tab opens from now on.
func (e *env) recordNotifications() {
	e.t.Helper()
	e.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: notificationRecorder})
		return err
	}))
}

// notifications are those this page had shown.
func (e *env) notifications() []shownNotification {
	e.t.Helper()
	return eval[[]shownNotification](e, `window.__notifications ?? []`)
}

// waitNotification waits for this page to have shown a notification with that title.
func (e *env) waitNotification(title string, d time.Duration) shownNotification {
	e.t.Helper()
	e.waitJS("the notification "+strconv.Quote(title), `(window.__notifications ?? []).some(n => n.title === `+strconv.Quote(title)+`)`, d)
	for _, n := range e.notifications() {
		if n.Title == title {
			return n
		}
	}
	return shownNotification{}
}

// windowState minimizes the browser's window (its page is then hidden, as a tab in the
// background is) or brings it back.
func (e *env) windowState(state browser.WindowState) {
	e.t.Helper()
	e.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		w, err := chromedp.CallBrowser(ctx, browser.GetWindowForTarget, browser.GetWindowForTargetParams{TargetID: t.TargetID})
		if err != nil {
			return err
		}
		_, err = chromedp.CallBrowser(ctx, browser.SetWindowBounds, browser.SetWindowBoundsParams{WindowID: w.WindowID, Bounds: &browser.Bounds{WindowState: state}})
		return err
	}))
}

// setField sets a form field as typing or choosing would.
func (e *env) setField(selector, value string) {
	e.t.Helper()
	eval[chromedp.Void](e, `(() => { const f = document.querySelector(`+strconv.Quote(selector)+`);
		f.value = `+strconv.Quote(value)+`;
		f.dispatchEvent(new Event("input", {bubbles: true})); f.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

// testAlertRule: with notifications allowed, a rule written in the form fires at once on the
// data loaded: the rules table says so, the banner shows on every page, the history lists
// it, and the service worker shows a notification.
func testAlertRule(e *env) {
	e.grantNotifications()
	e.recordNotifications()
	e.open("/alerts")
	e.waitJS("the service worker in control", `navigator.serviceWorker.controller !== null`, 20*time.Second)
	e.waitJS("the notifications allowed", `document.querySelector("#notifications")?.dataset.permission === "granted"`, 10*time.Second)
	e.waitJS("the empty rules", `document.querySelector(".rules .empty")?.textContent.startsWith("No alert rules yet")`, 10*time.Second)
	e.do(chromedp.Click(`#rule-new`))
	e.waitJS("the form", `document.querySelector("#rule-form") !== null`, 5*time.Second)
	e.setField("#rule-name", "Latest day under 20,000")
	e.setField("#rule-measure", "sales")
	e.setField("#rule-window-unit", "latest_day")
	e.waitJS("the window without a size", `document.querySelector("#rule-window-size") === null`, 5*time.Second)
	e.setField("#rule-comparison", "below")
	e.setField("#rule-threshold", "20000")
	e.screenshot("alerts-form")
	e.do(chromedp.Click(`#rule-save`))
	e.waitJS("the rule firing in the table", `document.querySelector('#rules tr[data-firing="true"]') !== null`, 15*time.Second)
	var page struct{ Rules []api.AlertRule }
	if err := e.getJSON("/api/alerts", nil, &page); err != nil || len(page.Rules) != 1 {
		e.t.Fatalf("GET /api/alerts: %v %+v", err, page)
	}
	r := page.Rules[0]
	latest := e.kpis(api.Filter{}).DataRange.To
	day := e.kpis(api.Filter{From: latest, To: latest})
	if r.Measure != "sales" || r.Window != "latest_day" || r.Comparison != "below" || r.Threshold != 20000 ||
		!r.State.Firing || r.State.Measured == nil || *r.State.Measured != float64(day.Totals.Sales)/100 {
		e.t.Errorf("rule %+v with state %+v, want the form's, firing on %v", r, r.State, day.Totals.Sales)
	}
	e.waitJS("the banner", `document.querySelector("#alert-banner")?.textContent.includes("Latest day under 20,000")`, 10*time.Second)
	e.waitJS("the firing in the history", `document.querySelector('#alert-events tr[data-kind="firing"]') !== null`, 10*time.Second)
	n := e.waitNotification("Alert: Latest day under 20,000", 10*time.Second)
	if all := e.notifications(); len(all) != 1 || !strings.Contains(n.Body, "below 20000") || !n.Sticky || n.Tag != "salespulse-rule-"+strconv.FormatInt(r.ID, 10) {
		e.t.Errorf("notifications %+v", all)
	}
	e.screenshot("alerts-page-firing")
	e.open("/?range=latest")
	e.waitState("live")
	e.waitJS("the banner on the dashboard", `document.querySelector("#alert-banner") !== null`, 10*time.Second)
	e.screenshot("alerts-banner-dashboard")
}

// testBackgroundNotification: with the window minimized, the dashboard's page is hidden; a
// file that makes a rule fire shows a notification all the same.
func testBackgroundNotification(e *env) {
	e.open("/")
	e.waitState("live")
	// A second rule, made through the API, that the next file makes fire: the latest
	// day's orders over 25 (the fixtures' has 7; the file is a new latest day of 30 sales).
	if code := e.post("/api/alerts", api.AlertRule{Name: "Busy day", Measure: "orders", Window: "latest_day", Comparison: "above", Threshold: 25}); code != 201 {
		e.t.Fatalf("POST /api/alerts: %d", code)
	}
	e.windowState(browser.WindowStateMinimized)
	defer e.windowState(browser.WindowStateNormal)
	e.waitJS("the dashboard's tab hidden", `document.visibilityState === "hidden"`, 10*time.Second)
	for _, n := range e.notifications() {
		if n.Title == "Alert: Busy day" {
			e.t.Fatalf("the rule fired before the file: %+v", n)
		}
	}
	latest, _ := time.Parse(time.DateOnly, e.kpis(api.Filter{}).DataRange.To)
	next := latest.AddDate(0, 0, 1)
	e.loadFile(e.generate("busy-day.csv", etl.GenerateOptions{Rows: 30, Seed: 31, From: next, To: next}))
	n := e.waitNotification("Alert: Busy day", 15*time.Second)
	if !n.Hidden || !eval[bool](e, `document.visibilityState === "hidden"`) {
		e.t.Error("the tab came to the front before the notification showed")
	}
	if !strings.Contains(n.Body, "is 30, above 25") {
		e.t.Errorf("notification %+v", n)
	}
}
