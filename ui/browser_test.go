//go:build !wasm

package ui_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"salespulse/etl"
	"salespulse/internal/poll"
	"salespulse/server/api"
)

// TestBrowser runs the dashboard in headless Chromium against a real server, over the 38
// fixture files, as one visitor's session: the steps share the browser profile (service
// worker, caches, localStorage) and build on each other; the last one stops the server.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and Chromium")
	}
	e := newEnv(t)
	fixtures := e.loadFixtures()

	t.Run("cards equal the API", func(t *testing.T) { e.t = t; testCards(e) })
	t.Run("a first visit paints the server's figures before the app runs", func(t *testing.T) { e.t = t; testServedFigures(e) })
	t.Run("service worker caches the app", func(t *testing.T) { e.t = t; testServiceWorker(e) })
	t.Run("filters come from and go to the URL", func(t *testing.T) { e.t = t; testFilters(e) })
	t.Run("charts and CSV export", func(t *testing.T) { e.t = t; testCharts(e) })
	t.Run("theme toggle is remembered", func(t *testing.T) { e.t = t; testTheme(e) })
	t.Run("a file loaded in the background updates the page", func(t *testing.T) { e.t = t; testLiveUpdate(e) })
	t.Run("files page and reject drill-down", func(t *testing.T) { e.t = t; testFiles(e, fixtures) })
	t.Run("upload reaches the bucket and loads", func(t *testing.T) { e.t = t; testUpload(e) })
	t.Run("screenshots", func(t *testing.T) { e.t = t; testScreenshots(e) })
	t.Run("time to first figures", func(t *testing.T) { e.t = t; testFirstFigures(e) })
	t.Run("offline reload shows the cached figures", func(t *testing.T) { e.t = t; testOffline(e) })

	e.t = t
	if ex := e.console.exceptions(); len(ex) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(ex, "\n"))
	}
}

// testCards: over the fixtures, the cards show /api/kpis exactly.
func testCards(e *env) {
	e.open("/")
	e.waitState("live")
	want := e.kpis(api.Filter{})
	got := e.cards()
	if got["sales"] != "3,627,905.75" || got["orders"] != "2,663" {
		e.t.Errorf("sales %q and orders %q, want 3,627,905.75 and 2,663 (the fixtures)", got["sales"], got["orders"])
	}
	checkCards(e, got, want.Totals)
	e.waitJS("the live badge", `document.querySelector("#freshness")?.dataset.status === "live"`, 10*time.Second)
	asOf := eval[string](e, `document.querySelector("#freshness-as-of").textContent`)
	if !strings.HasPrefix(asOf, "as of "+filepath.Base(want.LastFile)+", ") || !strings.HasSuffix(asOf, " ago") {
		e.t.Errorf("freshness says %q, want as of %s, N s ago", asOf, filepath.Base(want.LastFile))
	}
}

// testServedFigures: a navigation that reaches the server (a first visit: no service worker
// answers it) comes with the view's figures, and the page paints them by itself: with
// app.wasm never arriving, the cards show the API's figures of the view, live, with its
// window, and the loading screen is gone.
func testServedFigures(e *env) {
	call := func(f func(ctx context.Context, t *chromedp.Target) error) { e.do(chromedp.Func(f)) }
	block := func(patterns ...string) {
		call(func(ctx context.Context, t *chromedp.Target) error {
			var p []*network.BlockPattern
			for _, u := range patterns {
				p = append(p, &network.BlockPattern{URLPattern: u, Block: true})
			}
			_, err := cdp.Call(ctx, t, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: p})
			return err
		})
	}
	bypass := func(on bool) {
		call(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, network.SetBypassServiceWorker, network.SetBypassServiceWorkerParams{Bypass: on})
			return err
		})
	}
	bypass(true)
	block("*://*:*/web/app.wasm")
	defer func() { // the page as the next tests expect it: the app running, in the worker's control
		block()
		bypass(false)
		e.open("/")
		e.waitState("live")
		e.waitJS("the service worker in control", `navigator.serviceWorker.controller !== null`, 20*time.Second)
	}()
	e.open("/?range=30d&channel=Online+Store")
	e.waitJS("the served figures", `document.querySelector("#dashboard")?.dataset.state === "live"`, 10*time.Second)
	latest, _ := time.Parse(time.DateOnly, e.kpis(api.Filter{}).DataRange.To)
	f := api.Filter{From: latest.AddDate(0, 0, -29).Format(time.DateOnly), To: latest.Format(time.DateOnly), Channel: "Online Store"}
	want := e.kpis(f)
	checkCards(e, e.cards(), want.Totals)
	if got, label := eval[string](e, `document.querySelector("#window").textContent`), want.Window.From+" → "+want.Window.To+" · 30 days"; got != label {
		e.t.Errorf("window %q, want %q", got, label)
	}
	if loader := eval[string](e, `getComputedStyle(document.querySelector("#app-wasm-loader")).display`); loader != "none" {
		e.t.Errorf("the loading screen shows (display %q) over the figures", loader)
	}
	if n := eval[int](e, `document.querySelectorAll(".chart-card").length`); n != 0 {
		e.t.Errorf("%d charts: the app ran, app.wasm was not blocked", n)
	}
	e.screenshot("served-figures-before-the-app-desktop-light")
}

// checkCards compares every card with the API's totals, formatted independently here.
func checkCards(e *env, got map[string]string, t api.Totals) {
	e.t.Helper()
	want := map[string]string{
		"sales":          money(t.Sales),
		"orders":         count(t.Orders),
		"avg_ticket":     money(t.AvgTicket),
		"quantity":       count(t.Quantity),
		"gross_profit":   money(t.GrossProfit),
		"margin_pct":     strconv.FormatFloat(t.MarginPct, 'f', 2, 64) + " %",
		"canceled_sales": money(t.CanceledSales),
	}
	for k, v := range want {
		if got[k] != v {
			e.t.Errorf("card %s shows %q, the API says %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		e.t.Errorf("cards %v, want exactly %d", got, len(want))
	}
}

// money and count format like the cards, written again here so the test checks the UI's
// formatting rather than sharing it.
func money(m api.Money) string {
	s := m.String()
	whole, frac, _ := strings.Cut(s, ".")
	return count64(whole) + "." + frac
}

func count(n int64) string { return count64(strconv.FormatInt(n, 10)) }

func count64(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var parts []string
	for len(digits) > 3 {
		parts = append([]string{digits[len(digits)-3:]}, parts...)
		digits = digits[:len(digits)-3]
	}
	out := strings.Join(append([]string{digits}, parts...), ",")
	if neg {
		out = "-" + out
	}
	return out
}

// testServiceWorker: the manifest and the worker are served, the worker takes control and
// caches the shell and every asset (the offline test relies on it).
func testServiceWorker(e *env) {
	var manifest struct {
		Name       string `json:"name"`
		ShortName  string `json:"short_name"`
		ThemeColor string `json:"theme_color"`
		Icons      []struct{ Src, Purpose, Sizes string }
	}
	if err := e.getJSON("/manifest.webmanifest", nil, &manifest); err != nil {
		e.t.Fatal(err)
	}
	if manifest.Name != "salespulse" || manifest.ThemeColor == "" || len(manifest.Icons) < 3 ||
		!slices.ContainsFunc(manifest.Icons, func(i struct{ Src, Purpose, Sizes string }) bool { return i.Purpose == "maskable" }) {
		e.t.Errorf("manifest: %+v", manifest)
	}
	res, err := http.Get(e.url + "/app-worker.js")
	if err != nil {
		e.t.Fatal(err)
	}
	worker, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"/web/echarts.min.js", "/web/salespulse.css", "/web/app.wasm", `"/files"`, "ignoreSearch"} {
		if !strings.Contains(string(worker), want) {
			e.t.Errorf("app-worker.js lacks %s", want)
		}
	}
	e.waitJS("the service worker in control", `navigator.serviceWorker.controller !== null`, 20*time.Second)
	e.waitJS("the shell and assets in the cache", `(async () => {
		for (const p of ["/", "/files", "/web/app.wasm", "/web/echarts.min.js", "/web/salespulse.css", "/app.js", "/wasm_exec.js"]) {
			if (!(await caches.match(p))) return false;
		}
		return true;
	})()`, 30*time.Second)
}

// testFilters: a filter in the URL applies on load; the filter bar writes the URL.
func testFilters(e *env) {
	all := e.kpis(api.Filter{})
	latest := all.DataRange.To
	cat := all.Options.Categories[0]

	e.open("/?range=latest&category=" + url.QueryEscape(cat))
	e.waitState("live")
	checkCards(e, e.cards(), e.kpis(api.Filter{From: latest, To: latest, Category: cat}).Totals)
	if w := eval[string](e, `document.querySelector("#window").textContent`); !strings.HasPrefix(w, latest) {
		e.t.Errorf("window label %q, want the latest day %s", w, latest)
	}

	e.open("/?from=2024-10-01&to=2024-10-15&channel=" + url.QueryEscape(all.Options.Channels[0]))
	e.waitState("live")
	checkCards(e, e.cards(), e.kpis(api.Filter{From: "2024-10-01", To: "2024-10-15", Channel: all.Options.Channels[0]}).Totals)

	// The bar: a preset and a region, then the URL says so and the cards follow.
	e.open("/")
	e.waitState("live")
	e.do(chromedp.Click(`button[data-range="7d"]`))
	region := all.Options.Regions[1]
	e.waitJS("the 7-day preset in the URL", `location.search === "?range=7d"`, 5*time.Second)
	eval[chromedp.Void](e, `(() => { const s = document.querySelector("#filter-region");
		s.value = `+strconv.Quote(region)+`; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	e.waitJS("the region in the URL", `new URLSearchParams(location.search).get("region") === `+strconv.Quote(region), 5*time.Second)
	end, _ := time.Parse(time.DateOnly, latest)
	from := end.AddDate(0, 0, -6).Format(time.DateOnly)
	want := e.kpis(api.Filter{From: from, To: latest, Region: region}).Totals
	e.waitJS("the cards of the new view", `document.querySelector('[data-kpi="sales"] .kpi-value').textContent === `+
		strconv.Quote(money(want.Sales))+` && document.querySelector("#dashboard").dataset.state === "live"`, 10*time.Second)
	checkCards(e, e.cards(), want)

	// Custom starts from the window on screen; a date typed in goes to the URL.
	e.do(chromedp.Click(`button[data-range="custom"]`))
	e.waitJS("the custom range in the URL", `(p => p.get("from") === "`+from+`" && p.get("to") === "`+latest+`" && !p.has("range"))(new URLSearchParams(location.search))`, 5*time.Second)
	// The URL changes before the date inputs render: wait for them.
	e.waitJS("the date inputs", `document.querySelector("#filter-from") !== null`, 5*time.Second)
	eval[chromedp.Void](e, `(() => { const i = document.querySelector("#filter-from");
		i.value = "2024-10-24"; i.dispatchEvent(new Event("change", {bubbles: true})); })()`)
	e.waitJS("the new start in the URL", `new URLSearchParams(location.search).get("from") === "2024-10-24"`, 5*time.Second)
	want = e.kpis(api.Filter{From: "2024-10-24", To: latest, Region: region}).Totals
	e.waitJS("the cards of the custom range", `document.querySelector('[data-kpi="sales"] .kpi-value').textContent === `+
		strconv.Quote(money(want.Sales))+` && document.querySelector("#dashboard").dataset.state === "live"`, 10*time.Second)

	e.do(chromedp.Click(`#filter-reset`))
	e.waitJS("the default view", `location.search === ""`, 5*time.Second)
	e.waitState("live")
	checkCards(e, e.cards(), all.Totals)
}

// chartIDs are the dashboard's charts, in page order.
var chartIDs = []string{"sales-trend", "by-category", "payment-status", "top-products-quantity",
	"top-products-sales", "top-reps", "by-region", "by-channel", "channel-value-profit", "category-trend"}

// testCharts: every chart is drawn by ECharts; the scatter has one point per channel per
// day; the CSV export holds the chart's data.
func testCharts(e *env) {
	e.open("/")
	e.waitState("live")
	snap := e.kpis(api.Filter{})
	// The charts are built a frame after the figures.
	e.waitJS("the chart cards", `document.querySelectorAll("[data-chart]").length > 0`, 10*time.Second)
	ids := eval[[]string](e, `[...document.querySelectorAll("[data-chart]")].map(c => c.dataset.chart)`)
	if !slices.Equal(ids, chartIDs) {
		e.t.Errorf("charts %v, want %v", ids, chartIDs)
	}
	// Charts draw as they come near the screen.
	e.waitJS("the first charts drawn", trendDrawn, 30*time.Second)
	if n := eval[int](e, `[...document.querySelectorAll(".chart-canvas")].filter(el => echarts.getInstanceByDom(el)).length`); n == 10 {
		e.t.Error("every chart drawn before it was scrolled to")
	}
	e.do(chromedp.ScrollIntoView(`#card-category-trend`))
	e.waitJS("every chart drawn", `[...document.querySelectorAll(".chart-canvas")].length === 10 &&
		[...document.querySelectorAll(".chart-canvas")].every(el => echarts.getInstanceByDom(el) && el.querySelector("canvas"))`, 15*time.Second)
	points := eval[int](e, `echarts.getInstanceByDom(document.querySelector("#chart-channel-value-profit"))
		.getOption().series.reduce((n, s) => n + s.data.length, 0)`)
	if points != len(snap.ChannelDaily) {
		e.t.Errorf("scatter has %d points, want one per channel per day: %d", points, len(snap.ChannelDaily))
	}
	bars := eval[[]string](e, `echarts.getInstanceByDom(document.querySelector("#chart-top-reps")).getOption().yAxis[0].data`)
	if len(bars) != min(10, len(snap.TopReps)) || bars[0] != snap.TopReps[0].Rep {
		e.t.Errorf("top reps chart %v, want the API's top 10 starting with %s", bars, snap.TopReps[0].Rep)
	}

	// The export builds a Blob in the page: catch it on its way to a download link.
	eval[chromedp.Void](e, `(() => { window.__blobs = []; const create = URL.createObjectURL;
		URL.createObjectURL = b => { window.__blobs.push(b); return create.call(URL, b); }; })()`)
	e.do(chromedp.Click(`button[data-csv="by-region"]`))
	e.waitJS("the CSV blob", `window.__blobs.length === 1`, 5*time.Second)
	csv := eval[string](e, `window.__blobs[0].text()`)
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(csv, "\ufeff"), "\r\n"), "\r\n")
	if lines[0] != "region,sales,orders,quantity,gross_profit" || len(lines) != len(snap.ByRegion)+1 {
		e.t.Fatalf("CSV of by-region:\n%s", csv)
	}
	r := snap.ByRegion[0]
	if want := fmt.Sprintf("%s,%s,%d,%d,%s", r.Name, r.Sales, r.Orders, r.Quantity, r.GrossProfit); lines[1] != want {
		e.t.Errorf("CSV row %q, want %q", lines[1], want)
	}
}

// testTheme: the toggle switches to dark, is remembered across a reload, and switching
// back to the system's theme forgets the choice.
func testTheme(e *env) {
	e.colorScheme("light")
	e.open("/")
	e.waitState("live")
	theme := `document.documentElement.dataset.theme`
	if got := eval[string](e, theme); got != "light" {
		e.t.Errorf("theme %q with a light system, want light", got)
	}
	e.do(chromedp.Click(`#theme-toggle`))
	e.waitJS("the dark theme", theme+` === "dark"`, 5*time.Second)
	e.open("/")
	e.waitState("live")
	if got := eval[string](e, theme+` + "," + localStorage.getItem("salespulse.theme")`); got != "dark,dark" {
		e.t.Errorf("after a reload theme and stored choice %q, want dark,dark", got)
	}
	e.do(chromedp.Click(`#theme-toggle`))
	e.waitJS("the light theme, choice forgotten", theme+` === "light" && localStorage.getItem("salespulse.theme") === null`, 5*time.Second)
	e.colorScheme("dark")
	e.waitJS("the system's dark theme followed", theme+` === "dark"`, 5*time.Second)
	e.colorScheme("light")
	e.waitJS("the system's light theme followed", theme+` === "light"`, 5*time.Second)
}

// testLiveUpdate: a file loaded while the page is open changes the cards and charts in
// place, without a reload.
func testLiveUpdate(e *env) {
	e.open("/")
	e.waitState("live")
	before := e.kpis(api.Filter{})
	e.waitJS("the charts drawn", trendDrawn, 30*time.Second)
	eval[chromedp.Void](e, `window.__samePage = true; window.__chart = echarts.getInstanceByDom(document.querySelector("#chart-sales-trend")).id`)
	path := e.generate("live.csv", etl.GenerateOptions{Rows: 50, Seed: 7, From: day("2024-10-20"), To: day("2024-10-26")})
	res := e.loadFile(path)
	if res.RowsLoaded == 0 {
		e.t.Fatalf("load: %+v", res)
	}
	var after api.Snapshot
	poll.Until(e.t, "the API to count the new file", 10*time.Second, func() bool {
		after = e.kpis(api.Filter{}) // the server recomputes on the load's NOTIFY
		return after.Totals.Sales != before.Totals.Sales
	})
	e.waitJS("the new sales figure", `document.querySelector('[data-kpi="sales"] .kpi-value').textContent === `+
		strconv.Quote(money(after.Totals.Sales)), 10*time.Second)
	checkCards(e, e.cards(), after.Totals)
	if !eval[bool](e, `window.__samePage === true && echarts.getInstanceByDom(document.querySelector("#chart-sales-trend")).id === window.__chart`) {
		e.t.Error("the page reloaded or the chart was re-created instead of updated")
	}
	e.waitJS("the freshness badge naming the new file", `document.querySelector("#freshness-as-of").textContent.startsWith("as of live.csv")`, 5*time.Second)
}

// testFiles: the ledger lists the fixtures; a file with bad rows shows up by itself, and
// its rejected rows can be read, page after page.
func testFiles(e *env, fixtures []string) {
	e.open("/files")
	e.waitJS("the ledger", `document.querySelectorAll("#ledger tbody tr").length >= 39`, 10*time.Second)
	text := eval[string](e, `document.querySelector("#ledger").textContent`)
	for _, f := range fixtures {
		if !strings.Contains(text, filepath.Base(f)) {
			e.t.Errorf("the ledger does not list %s", filepath.Base(f))
		}
	}

	bad := e.generate("bad-rows.csv", etl.GenerateOptions{Rows: 300, Seed: 11, From: day("2024-10-01"), To: day("2024-10-26"), Invalid: 0.4})
	res := e.loadFile(bad)
	if res.RowsRejected <= 100 || res.Status != etl.StatusLoaded {
		e.t.Fatalf("want a loaded file with over a page of rejects: %+v", res)
	}
	row := `#ledger tr[data-file-id="` + strconv.FormatInt(res.FileID, 10) + `"]`
	e.waitJS("the new file in the ledger, without a reload", `document.querySelector('`+row+`') !== null`, 10*time.Second)
	e.do(chromedp.Click(row + ` .rejects-link`))
	e.waitJS("the first page of rejects", `document.querySelectorAll("#rejects tbody tr").length === 100`, 10*time.Second)
	if got := eval[string](e, `location.search`); got != "?file="+strconv.FormatInt(res.FileID, 10) {
		e.t.Errorf("URL query %q, want ?file=%d", got, res.FileID)
	}
	var page api.RejectsPage
	if err := e.getJSON(fmt.Sprintf("/api/files/%d/rejects", res.FileID), url.Values{"limit": {"1"}}, &page); err != nil {
		e.t.Fatal(err)
	}
	first := eval[[]string](e, `[...document.querySelectorAll("#rejects tbody tr:first-child td")].map(td => td.textContent)`)
	r := page.Rejects[0]
	if len(first) != 4 || first[0] != count(r.Line) || first[1] != r.Column || first[2] != r.Reason || first[3] != r.Raw {
		e.t.Errorf("first reject %q, the API says %+v", first, r)
	}
	e.do(chromedp.Click(`#rejects-more`))
	e.waitJS("every reject", `document.querySelectorAll("#rejects tbody tr").length === `+strconv.FormatInt(res.RowsRejected, 10), 10*time.Second)
	if n := eval[int](e, `document.querySelectorAll("#rejects-more").length`); n != 0 {
		e.t.Error("a More button after the last page")
	}
	// Older files come a page at a time (next_before): past 50 files, a button.
	for i := range 12 {
		e.loadFile(e.generate(fmt.Sprintf("small-%02d.csv", i), etl.GenerateOptions{Rows: 3, Seed: uint64(100 + i), From: day("2024-10-26"), To: day("2024-10-26")}))
	}
	e.open("/files")
	e.waitJS("a full first page", `document.querySelectorAll("#ledger tbody tr").length === 50`, 10*time.Second)
	e.do(chromedp.Click(`#ledger-more`))
	e.waitJS("the older files", `document.querySelectorAll("#ledger tbody tr").length === 52`, 10*time.Second)
	if n := eval[int](e, `document.querySelectorAll("#ledger-more").length`); n != 0 {
		e.t.Error("an Older files button after the last page")
	}

	// A deep link opens the same drill-down.
	e.open("/files?file=" + strconv.FormatInt(res.FileID, 10))
	e.waitJS("the drill-down from a link", `document.querySelectorAll("#rejects tbody tr").length === 100`, 10*time.Second)
}

// testUpload: a CSV dropped on the page (here: given to its file input) is put into the
// bucket; once loaded (by the worker, here the test) the page says so.
func testUpload(e *env) {
	e.open("/files")
	e.waitJS("the ledger", `document.querySelectorAll("#ledger tbody tr").length > 0`, 10*time.Second)
	path := e.generate("upload me.csv", etl.GenerateOptions{Rows: 120, Seed: 21, From: day("2024-10-25"), To: day("2024-10-26")})
	e.do(chromedp.SetUploadFiles(`#upload-input`, []string{path}))
	e.waitJS("the upload stored", `document.querySelector("li.upload")?.dataset.phase === "stored"`, 20*time.Second)

	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String("uploads/")})
	if err != nil || len(out.Contents) != 1 {
		e.t.Fatalf("want one object under uploads/: %v %v", out, err)
	}
	key := aws.ToString(out.Contents[0].Key)
	if !strings.HasSuffix(key, "upload_me.csv") {
		e.t.Errorf("object key %q", key)
	}
	obj, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		e.t.Fatal(err)
	}
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	want, _ := os.ReadFile(path)
	if string(got) != string(want) {
		e.t.Fatalf("the bucket holds %d bytes, the file has %d", len(got), len(want))
	}

	// What the worker does when the bucket's event arrives.
	src, err := etl.StatS3Object(context.Background(), e.s3, e.bucket, key)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.loader.Load(context.Background(), src, nil)
	if err != nil || res.RowsLoaded == 0 {
		e.t.Fatalf("load of the upload: %+v %v", res, err)
	}
	e.waitJS("the upload loaded", `document.querySelector("li.upload")?.dataset.phase === "loaded"`, 15*time.Second)
	status := eval[string](e, `document.querySelector("li.upload .upload-status").textContent`)
	if !strings.Contains(status, count(res.RowsLoaded)+" rows loaded") {
		e.t.Errorf("upload status %q, want %d rows loaded", status, res.RowsLoaded)
	}

	// The same bytes again: stored under a new key, skipped by the loader, and the panel and
	// the ledger say which file they repeat instead of waiting for ever.
	e.do(chromedp.SetUploadFiles(`#upload-input`, []string{path}))
	e.waitJS("the second upload stored", `document.querySelector("li.upload")?.dataset.phase === "stored"`, 20*time.Second)
	out, err = e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String("uploads/")})
	if err != nil || len(out.Contents) != 2 {
		e.t.Fatalf("want two objects under uploads/: %v %v", out, err)
	}
	var second string
	for _, o := range out.Contents {
		if aws.ToString(o.Key) != key {
			second = aws.ToString(o.Key)
		}
	}
	if src, err = etl.StatS3Object(context.Background(), e.s3, e.bucket, second); err != nil {
		e.t.Fatal(err)
	}
	again, err := e.loader.Load(context.Background(), src, nil)
	if err != nil || again.Status != etl.StatusSkipped || again.Repeats != res.FileID {
		e.t.Fatalf("load of the same bytes again: %+v %v", again, err)
	}
	e.waitJS("the second upload settled", `document.querySelector("li.upload")?.dataset.phase === "loaded"`, 15*time.Second)
	status = eval[string](e, `document.querySelector("li.upload .upload-status").textContent`)
	if want := "skipped these bytes were loaded before, as file " + strconv.FormatInt(res.FileID, 10); !strings.Contains(status, want) {
		e.t.Errorf("upload status %q, want %q", status, want)
	}
	e.waitJS("the skipped row in the ledger", fmt.Sprintf(
		`document.querySelector('#ledger tr[data-file-id="%d"] .badge-skipped') !== null`, again.FileID), 15*time.Second)
	repeats := eval[string](e, fmt.Sprintf(`document.querySelector('#ledger tr[data-file-id="%d"] .repeats').textContent`, again.FileID))
	if repeats != "repeats file "+strconv.FormatInt(res.FileID, 10) {
		e.t.Errorf("the skipped row says %q", repeats)
	}
}

// testScreenshots saves the pages at desktop and phone sizes, light and dark, for people to
// look at; at phone width the cards must wrap and the charts fit the screen.
func testScreenshots(e *env) {
	defer e.viewport(1280, 900, false)
	defer e.colorScheme("light")
	for _, scheme := range []string{"light", "dark"} {
		e.colorScheme(scheme)
		for _, size := range []struct {
			name   string
			w, h   int64
			mobile bool
		}{{"desktop", 1280, 900, false}, {"phone", 375, 812, true}} {
			e.viewport(size.w, size.h, size.mobile)
			e.open("/")
			e.waitState("live")
			e.waitJS("the charts on screen drawn", trendDrawn, 30*time.Second)
			time.Sleep(1200 * time.Millisecond) // ECharts' entry animation
			e.screenshot(fmt.Sprintf("dashboard-%s-%s", size.name, scheme))
			if size.mobile {
				// Cards two abreast, nothing wider than the screen.
				wide := eval[int](e, `document.documentElement.scrollWidth`)
				if wide > int(size.w) {
					e.t.Errorf("the phone page is %d px wide, the screen %d", wide, size.w)
				}
				cols := eval[int](e, `new Set([...document.querySelectorAll("[data-kpi]")].map(c => c.getBoundingClientRect().left)).size`)
				if cols != 2 {
					e.t.Errorf("cards in %d columns at phone width, want 2", cols)
				}
				e.do(chromedp.ScrollIntoView(`#card-by-category`))
				time.Sleep(300 * time.Millisecond)
				e.screenshot(fmt.Sprintf("dashboard-%s-%s-charts", size.name, scheme))
			}
			e.open("/files")
			e.waitJS("the ledger", `document.querySelectorAll("#ledger tbody tr").length > 0`, 10*time.Second)
			e.screenshot(fmt.Sprintf("files-%s-%s", size.name, scheme))
		}
	}
	// The drill-down, once.
	e.viewport(1280, 900, false)
	var files api.FilesPage
	if err := e.getJSON("/api/files", nil, &files); err != nil {
		e.t.Fatal(err)
	}
	for _, f := range files.Files {
		if f.RowsRejected > 0 {
			e.open("/files?file=" + strconv.FormatInt(f.ID, 10))
			e.waitJS("rejects", `document.querySelectorAll("#rejects tbody tr").length > 0`, 10*time.Second)
			e.screenshot("files-rejects-desktop-light")
			break
		}
	}
}

// testFirstFigures measures, on a warm cache (service worker and stored snapshot), how
// long after navigation the cards show figures from the browser's storage and from the
// server, over several reloads.
func testFirstFigures(e *env) {
	e.open("/")
	e.waitState("live")
	script := `(() => {
		const t = window.__ttff = {};
		const check = () => {
			const d = document.getElementById("dashboard");
			const v = document.querySelector('[data-kpi="sales"] .kpi-value');
			if (!d || !v) return;
			const now = performance.now();
			if (t.figures === undefined && v.textContent !== "—" && v.textContent !== "") { t.figures = now; t.from = d.dataset.state; }
			if (t.live === undefined && d.dataset.state === "live") t.live = now;
		};
		new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
	})()`
	var id page.ScriptIdentifier
	e.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		r, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		id = r.Identifier
		return err
	}))
	defer e.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: id})
		return err
	}))
	var cached, live []float64
	for range 5 {
		e.do(chromedp.Reload())
		e.waitJS("figures and the live state", `window.__ttff.figures !== undefined && window.__ttff.live !== undefined`, 20*time.Second)
		m := eval[struct {
			Figures, Live float64
			From          string
		}](e, `window.__ttff`)
		if m.From != "cached" {
			e.t.Errorf("the first figures came from %q, want the stored snapshot (cached)", m.From)
		}
		cached, live = append(cached, m.Figures), append(live, m.Live)
	}
	sort.Float64s(cached)
	sort.Float64s(live)
	e.t.Logf("time to first figures, warm cache, median of 5 reloads: %.0f ms from localStorage, %.0f ms from the socket (min %.0f / %.0f, max %.0f / %.0f)",
		cached[2], live[2], cached[0], live[0], cached[4], live[4])
	if cached[2] > 5000 {
		e.t.Errorf("figures from the cache after %.0f ms", cached[2])
	}
}

// testOffline: with the server gone, a reload still shows the last figures, from the
// service worker's cache and the stored snapshot, and the badge says offline; the files
// page shows the ledger as last read.
func testOffline(e *env) {
	ledgerRows := `[...document.querySelectorAll("#ledger tbody tr")].map(r => r.dataset.fileId).join(",")`
	e.open("/files")
	e.waitJS("the ledger from the server", `document.querySelector("#ledger-card")?.dataset.source === "server" && document.querySelectorAll("#ledger tbody tr").length > 0`, 10*time.Second)
	seen := eval[string](e, ledgerRows)
	e.open("/")
	e.waitState("live")
	last := e.cards()
	e.stopServer()
	e.waitJS("the badge to notice", `document.querySelector("#freshness").dataset.status !== "live"`, 10*time.Second)
	e.do(chromedp.Reload())
	e.waitState("cached")
	e.waitJS("the offline badge", `document.querySelector("#freshness").dataset.status === "offline"`, 15*time.Second)
	if got := e.cards(); !maps.Equal(got, last) {
		e.t.Errorf("offline cards %v, want the last figures %v", got, last)
	}
	badge := eval[string](e, `document.querySelector("#freshness-conn").textContent`)
	if !strings.HasPrefix(badge, "offline since ") || len(badge) != len("offline since 14:05") {
		e.t.Errorf("badge %q, want offline since HH:MM", badge)
	}
	e.waitJS("charts from the cache", trendDrawn, 30*time.Second)
	time.Sleep(1200 * time.Millisecond)
	e.screenshot("dashboard-desktop-light-offline")
	// A deep link works offline too: the worker answers with the cached shell, and the
	// page shows the saved ledger, saying so.
	e.open("/files")
	e.waitJS("the files page offline", `document.querySelector("#upload") !== null`, 15*time.Second)
	e.waitJS("the saved ledger, marked as such", `document.querySelector("#ledger-saved") !== null`, 15*time.Second)
	if got := eval[string](e, ledgerRows); got != seen {
		e.t.Errorf("offline ledger rows %s, want the ones last seen %s", got, seen)
	}
	e.screenshot("files-desktop-light-offline")
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}
