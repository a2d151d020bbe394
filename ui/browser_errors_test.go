//go:build !wasm

package ui_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"salespulse/etl"
	"salespulse/server"
	"salespulse/server/api"
)

// TestBrowserErrors: what people see when something is refused: dates in the wrong order
// (the form says so and applies nothing), a view the server refuses (its message, not a
// page dimmed and waiting), a connection the server refuses (its reason), and a path that
// is no page (the dashboard's own not-found page, status 404).
func TestBrowserErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and Chromium")
	}
	e := newEnv(t)
	e.loadFile(e.generate("october.csv", etl.GenerateOptions{Rows: 400, Seed: 3, From: day("2024-09-01"), To: day("2024-10-26")}))
	e.waitCounted()

	t.Run("custom range with the end before the start", func(t *testing.T) { e.t = t; testRangeOrder(e) })
	t.Run("a view the server refuses", func(t *testing.T) { e.t = t; testRefusedView(e) })
	t.Run("a path that is no page", func(t *testing.T) { e.t = t; testNotFound(e) })
	e.t = t
	if ex := e.console.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}

// dimmed reports whether the sales figure is drawn faded (the pending look).
const dimmed = `getComputedStyle(document.querySelector('[data-kpi="sales"] .kpi-value')).opacity !== "1"`

// testRangeOrder: a To before From is refused by the form itself: a message by the fields,
// the URL and the figures stay those of the dates applied, nothing dims; fixing the other
// field applies both.
func testRangeOrder(e *env) {
	e.open("/?from=2024-10-01&to=2024-10-20")
	e.waitState("live")
	e.waitJS("the date inputs", `document.querySelector("#filter-to") !== null`, 5*time.Second)
	before := e.cards()
	setInput := func(id, value string) {
		eval[chromedp.Void](e, `(() => { const i = document.querySelector("#`+id+`");
			i.value = "`+value+`"; i.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	}
	setInput("filter-to", "2024-09-15")
	e.waitJS("the form's message", `document.querySelector("#range-error")?.textContent.includes("after the end date")`, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // what a refused subscription would have taken
	e.screenshot("range-order-refused-desktop-light")
	if got := eval[string](e, `location.search`); got != "?from=2024-10-01&to=2024-10-20" {
		e.t.Errorf("URL %q after a refused range, want the applied one", got)
	}
	if state := eval[string](e, `document.querySelector("#dashboard").dataset.state`); state != "live" || eval[bool](e, dimmed) {
		e.t.Errorf("state %q (dimmed: %v) after a refused range, want the live figures of the applied range", state, eval[bool](e, dimmed))
	}
	if got := e.cards(); got["sales"] != before["sales"] {
		e.t.Errorf("sales %q after a refused range, want %q", got["sales"], before["sales"])
	}
	if !eval[bool](e, `document.querySelector("#filter-to").getAttribute("aria-invalid") === "true" && document.querySelector("#range-error").getAttribute("role") === "alert"`) {
		e.t.Error("the refused field is not marked invalid, or the message is not announced")
	}

	// An earlier start makes the pair valid: both dates apply.
	setInput("filter-from", "2024-09-05")
	e.waitJS("the new range in the URL", `location.search === "?from=2024-09-05&to=2024-09-15"`, 5*time.Second)
	want := e.kpis(api.Filter{From: "2024-09-05", To: "2024-09-15"}).Totals
	e.waitJS("its figures", `document.querySelector('[data-kpi="sales"] .kpi-value').textContent === `+
		strconv.Quote(money(want.Sales))+` && document.querySelector("#dashboard").dataset.state === "live"`, 10*time.Second)
	if n := eval[int](e, `document.querySelectorAll("#range-error").length`); n != 0 {
		e.t.Error("the message stays after the range was fixed")
	}
}

// testRefusedView: the server refuses a filter (a category longer than the CSV contract
// allows) on the WebSocket: the page shows the server's message at once and stops
// waiting, whether it came from a link or from a change on screen.
func testRefusedView(e *env) {
	long := strings.Repeat("x", 201)
	e.open("/?category=" + long)
	e.waitJS("the server's message", `document.querySelector("#notice")?.textContent.includes("at most 200 characters")`, 10*time.Second)
	if state := eval[string](e, `document.querySelector("#dashboard").dataset.state`); state != "error" {
		e.t.Errorf("state %q for a refused view, want error", state)
	}
	if role := eval[string](e, `document.querySelector("#notice").getAttribute("role")`); role != "alert" {
		e.t.Errorf("the error notice has role %q, want alert", role)
	}
	e.screenshot("refused-view-desktop-light")

	// From a live view: the figures on screen are the previous view's, and the notice says so.
	e.open("/")
	e.waitState("live")
	eval[chromedp.Void](e, `(() => { const s = document.querySelector("#filter-region");
		const o = document.createElement("option"); o.value = "`+long+`"; s.appendChild(o);
		s.value = o.value; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	e.waitJS("the server's message", `document.querySelector("#dashboard").dataset.state === "error"`, 10*time.Second)
	notice := eval[string](e, `document.querySelector("#notice").textContent`)
	if !strings.Contains(notice, "region must be valid UTF-8 of at most 200 characters") || !strings.Contains(notice, "previous view") {
		e.t.Errorf("notice %q, want the server's message and that the figures are the previous view's", notice)
	}
	e.screenshot("refused-view-from-live-desktop-light")
	e.do(chromedp.Click(`#filter-reset`))
	e.waitState("live")
	if n := eval[int](e, `document.querySelectorAll("#notice").length`); n != 0 {
		e.t.Error("the error notice stays on a view the server accepts")
	}
}

// testNotFound: a path that is no page is the dashboard's not-found page, with status 404,
// before and after the WebAssembly takes over; its link leads back.
func testNotFound(e *env) {
	ctx, cancel := context.WithTimeout(e.browser, 60*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(e.url+"/no/such/page"))
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Status != http.StatusNotFound || !strings.HasPrefix(res.MimeType, "text/html") {
		e.t.Errorf("navigation to /no/such/page: %d %s, want 404 text/html", res.Status, res.MimeType)
	}
	e.waitJS("the app running the not-found page", `document.querySelector("#app-wasm-loader") === null && document.querySelector("#not-found h1")?.textContent === "No such page"`, 20*time.Second)
	if n := eval[int](e, `document.querySelectorAll(".goapp-notfound-title").length`); n != 0 {
		e.t.Error("go-app's own Not Found shows instead of the dashboard's page")
	}
	e.screenshot("not-found-desktop-light")
	e.do(chromedp.Click(`#not-found a[href="/"]`))
	e.waitState("live")
}

// TestBrowserRefusedConnection: with the API token wrong in the browser, the WebSocket
// cannot open and the browser does not say why; the page asks the API and shows the
// server's reason instead of "offline".
func TestBrowserRefusedConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and Chromium")
	}
	e := newEnv(t, func(c *server.Config) { c.APIToken = "right-token" })
	e.open("/?token=wrong-token")
	// The notice and the badge follow the same state, each as its own update: both are
	// waited for, not one then the other read at once.
	e.waitJS("the server's reason in the notice and the badge", `document.querySelector("#notice")?.textContent.includes("a valid API token is required") &&
		document.querySelector("#freshness")?.dataset.status === "refused"`, 15*time.Second)
	e.screenshot("refused-connection-desktop-light")
	e.open("/?token=right-token")
	e.waitState("live")
	if n := eval[int](e, `document.querySelectorAll("#notice").length`); n != 0 {
		e.t.Error("the notice stays once the token is right")
	}
}
