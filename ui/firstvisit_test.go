//go:build !wasm

package ui_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/internal/testbin"
)

// firstVisitRuns is how many fresh browser profiles each binary is measured with.
const firstVisitRuns = 5

// TestFirstVisit measures how long the dashboard takes to show real figures, in headless
// Chromium against `salespulse serve` over the 38 fixture files: a cold load (a fresh
// browser profile: nothing cached, nothing stored), figures from the server; then a warm
// reload of the same profile (service worker and stored snapshot in place), figures from
// the stored snapshot or the server, whichever comes first. It prints the medians of
// firstVisitRuns profiles.
//
// It is a measurement, not a check, and takes about a minute: set FIRST_VISIT=1 to run it
// (go test -v -run TestFirstVisit ./ui). FIRST_VISIT_REF=/path/to/salespulse measures
// another build too, in the same run, as the reference (several: comma-separated).
func TestFirstVisit(t *testing.T) {
	if os.Getenv("FIRST_VISIT") != "1" {
		t.Skip("a measurement: set FIRST_VISIT=1 to run it")
	}
	testDB.Reset(t)
	loader := &etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5, Log: quietLog()}
	for _, p := range oracle.Fixtures(t) {
		src, err := etl.NewLocalFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := loader.Load(context.Background(), src, nil); err != nil {
			t.Fatal(err)
		}
	}
	type build struct{ name, path string }
	var builds []build
	for _, ref := range strings.Split(os.Getenv("FIRST_VISIT_REF"), ",") {
		if ref != "" {
			builds = append(builds, build{ref, ref})
		}
	}
	bin, err := testbin.Build()
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Remove()
	builds = append(builds, build{"this tree", bin.Path})

	// The builds take turns, run after run, so that what else the machine does weighs on
	// them alike.
	type figures struct{ cold, warm, wasm []float64 }
	got := make([]figures, len(builds))
	urls := make([]string, len(builds))
	for i, b := range builds {
		urls[i] = startServe(t, b.path)
	}
	for range firstVisitRuns {
		for i := range builds {
			c, w, fetched := firstVisit(t, urls[i])
			f := &got[i]
			f.cold, f.warm, f.wasm = append(f.cold, c), append(f.warm, w), append(f.wasm, fetched)
		}
	}
	for i, b := range builds {
		f := got[i]
		t.Logf("%s: cold load to server figures, median of %d: %.0f ms %v; app.wasm fetched at %.0f ms %v",
			b.name, firstVisitRuns, median(f.cold), rounded(f.cold), median(f.wasm), rounded(f.wasm))
		t.Logf("%s: warm reload to figures, median of %d: %.0f ms %v", b.name, firstVisitRuns, median(f.warm), rounded(f.warm))
	}
}

// startServe runs the binary's serve command on a free port of the test database, until the
// test ends.
func startServe(t *testing.T, path string) (url string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	(&testbin.Binary{Path: path}).Start(t, []string{"DATABASE_URL=" + testDB.URL, "LOG_LEVEL=warn"}, "serve", "--addr", addr)
	url = "http://" + addr
	poll.Until(t, "serve to answer with figures", 60*time.Second, func() bool {
		res, err := http.Get(url + "/api/kpis")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return url
}

// firstVisitScript records, from the start of each document, when the sales card first
// shows a figure (any source) and a figure from the server (the live state).
const firstVisitScript = `(() => {
	const t = window.__visit = {};
	const check = () => {
		const d = document.getElementById("dashboard");
		const v = document.querySelector('[data-kpi="sales"] .kpi-value');
		if (!d || !v || v.textContent === "—" || v.textContent === "") return;
		const now = performance.now();
		const state = d.dataset.state;
		if (t.figures === undefined && (state === "cached" || state === "live")) t.figures = now;
		if (t.live === undefined && state === "live") t.live = now;
	};
	new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})()`

// firstVisit measures one fresh browser profile: a cold load, then, once the service worker
// has cached the app and a snapshot is stored, a reload. Times are in ms from navigation
// start; fetched is when app.wasm had arrived on the cold load.
func firstVisit(t *testing.T, url string) (cold, warm, fetched float64) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first action starts the browser, which lives as long as the context it ran on.
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	value := func(js string) float64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 30*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	wait := func(what, js string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 40*time.Second)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	run("the measuring script", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstVisitScript})
		return err
	}))

	run("cold load", chromedp.Navigate(url+"/"))
	wait("server figures", `window.__visit.live !== undefined`)
	cold = value(`window.__visit.live`)
	fetched = value(`(performance.getEntriesByType("resource").find(e => e.name.endsWith("app.wasm")) || {responseEnd: -1}).responseEnd`)

	// A returning visitor: the worker controls the page and has cached the app, and the
	// snapshot of the view is stored.
	wait("the service worker's cache", `(async () => navigator.serviceWorker.controller !== null &&
		!!(await caches.match("/web/app.wasm")) && localStorage.getItem("salespulse.snapshot?") !== null)()`)
	run("warm reload", chromedp.Reload())
	wait("figures", `window.__visit.figures !== undefined`)
	warm = value(`window.__visit.figures`)
	return cold, warm, fetched
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}

func rounded(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
