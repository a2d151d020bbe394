//go:build !wasm

package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"salespulse/etl"
	"salespulse/etl/devstack"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/schema/schematest"
	"salespulse/server"
	"salespulse/server/api"
	"salespulse/ui"
)

const (
	// artifactDir receives the screenshots (git-ignored).
	artifactDir = "../test-artifacts"
)

var testDB *schematest.DB

func TestMain(m *testing.M) {
	ui.Routes()
	os.Exit(schematest.Run(m, "ui", &testDB))
}

// env is a real server (the dashboard embedded, uploads into an in-process S3) on a free
// port of the test database, and one headless Chromium, whose profile (service worker,
// caches, localStorage) lives as long as the env, as a returning visitor's would.
type env struct {
	t       *testing.T
	srv     *server.Server
	url     string
	s3      *s3.Client
	bucket  string
	loader  *etl.Loader
	browser context.Context
	console *consoleLog
	loaded  int64 // rows loaded by loadFile

	stopServer func() // stops the server for good (the offline test)
}

// newEnv starts everything; t.Cleanup stops it. configure may change the server's settings
// (an API token, say).
func newEnv(t *testing.T, configure ...func(*server.Config)) *env {
	t.Helper()
	testDB.Reset(t)
	stack, err := devstack.Start(context.Background(), devstack.Config{S3Addr: "127.0.0.1:0", DisableKafka: true})
	if err != nil {
		t.Fatalf("devstack: %v", err)
	}
	t.Cleanup(func() { stack.Close() })
	s3c, err := etl.NewS3Client(context.Background(), etl.S3Options{
		AccessKeyID: "test", SecretAccessKey: "test", Region: "us-east-1", Endpoint: stack.S3Endpoint(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, s3: s3c, bucket: devstack.DefaultBucket,
		loader: &etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5, Log: quietLog()}}
	figures := func(r *http.Request, f api.Filter) ([]byte, error) { return e.srv.PageFigures(r, f) }
	cfg := server.Config{
		Addr: "127.0.0.1:0", Pool: testDB.Pool, UI: ui.Handler("test", figures), Log: quietLog(),
		S3: s3c, Bucket: e.bucket,
	}
	for _, c := range configure {
		c(&cfg)
	}
	e.srv = server.New(cfg)
	if err := e.srv.Open(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			e.srv.Close()
		}
	})
	e.url = e.srv.URL()
	e.stopServer = func() { stopped = true; e.srv.Close() }
	e.waitReady()
	e.requireAssets()
	e.startBrowser()
	return e
}

// quietLog shows the server's log with -v only.
func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// waitReady waits until the server listens for commits, so no load goes unnoticed.
func (e *env) waitReady() {
	e.t.Helper()
	poll.Until(e.t, "the server's LISTEN connection", 10*time.Second, func() bool {
		var r struct{ Listening bool }
		return e.getJSON("/readyz", nil, &r) == nil && r.Listening
	})
}

// requireAssets stops with instructions when the binary has no app.wasm or ECharts: the
// test binary embeds ui/web as make web left it.
func (e *env) requireAssets() {
	e.t.Helper()
	for _, p := range []string{"/web/app.wasm", "/web/echarts.min.js"} {
		res, err := http.Head(e.url + p)
		if err != nil {
			e.t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			e.t.Fatalf("%s: %s: the dashboard is not built; run make web (make test does) before go test", p, res.Status)
		}
	}
}

// chromium finds the browser: $CHROME, else chromium or Chrome on the PATH.
func chromium(t *testing.T) string {
	if p := os.Getenv("CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: install Debian's chromium package (apt-get install chromium) or set CHROME")
	return ""
}

func (e *env) startBrowser() {
	e.t.Helper()
	var out bytes.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(e.t)),
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&out),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	e.t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if e.t.Failed() && testing.Verbose() {
			e.t.Logf("chromium output:\n%s", out.String())
		}
	})
	e.console = &consoleLog{}
	if err := chromedp.Listen(ctx, e.console.record); err != nil {
		e.t.Fatalf("starting chromium: %v", err)
	}
	e.browser = ctx
	e.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, runtime.Enable, cdp.Empty{})
		return err
	}))
	e.viewport(1280, 900, false)
	e.colorScheme("light")
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("browser console:\n%s", e.console.String())
		}
	})
}

// do runs browser actions, each step bounded so a hung page fails the test rather than CI.
func (e *env) do(steps ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.browser, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		e.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates JavaScript (promises awaited) into T.
func eval[T any](e *env, js string) T {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.browser, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		e.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is truthy.
func (e *env) waitJS(what, js string, d time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.browser, d+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil {
		e.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, js, err, e.describe())
	}
}

// describe is the state of the page, for failure messages.
func (e *env) describe() string {
	ctx, cancel := context.WithTimeout(e.browser, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.href,
		state: document.querySelector("#dashboard")?.dataset.state,
		badge: document.querySelector("#freshness")?.textContent,
		cards: Object.fromEntries([...document.querySelectorAll("[data-kpi]")].map(c => [c.dataset.kpi, c.querySelector(".kpi-value").textContent])),
	})`))
	if err != nil {
		return err.Error()
	}
	return s
}

// open navigates to a path of the server and waits for the page's load event.
func (e *env) open(path string) {
	e.t.Helper()
	e.do(chromedp.Navigate(e.url + path))
}

// trendDrawn holds once the app has drawn the sales trend. The dashboard's state already
// comes with the server's first render, which has the cards but no chart.
const trendDrawn = `(el => el !== null && typeof echarts !== "undefined" && !!echarts.getInstanceByDom(el))(document.querySelector("#chart-sales-trend"))`

// waitState waits for the dashboard to show figures of the given kind (live, cached), drawn
// by the app: the server's first render already has the state, and the loading screen goes
// as soon as the WebAssembly starts, before the app has mounted anything.
func (e *env) waitState(state string) {
	e.t.Helper()
	e.waitJS("the dashboard in state "+state+", the app running",
		`(d => d?.dataset.state === "`+state+`" && d.dataset.running === "true")(document.querySelector("#dashboard"))`, 30*time.Second)
}

// cards reads the KPI cards: data-kpi → displayed value.
func (e *env) cards() map[string]string {
	e.t.Helper()
	return eval[map[string]string](e, `Object.fromEntries([...document.querySelectorAll("[data-kpi]")]
		.map(c => [c.dataset.kpi, c.querySelector(".kpi-value").textContent]))`)
}

// viewport sets the window size; mobile also emulates a touch phone.
func (e *env) viewport(w, h int64, mobile bool) {
	e.t.Helper()
	if mobile {
		e.do(chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
		return
	}
	e.do(chromedp.EmulateViewport(w, h))
}

// colorScheme emulates the system's light or dark preference.
func (e *env) colorScheme(scheme string) {
	e.t.Helper()
	e.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// screenshot saves the viewport as test-artifacts/<name>.png.
func (e *env) screenshot(name string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.browser, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		e.t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(artifactDir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(artifactDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// getJSON reads the server's API as any client would.
func (e *env) getJSON(path string, q url.Values, v any) error {
	u := e.url + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	res, err := http.Get(u)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %s: %s", u, res.Status, b)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// kpis is GET /api/kpis for a filter.
func (e *env) kpis(f api.Filter) api.Snapshot {
	e.t.Helper()
	q := url.Values{}
	for k, v := range map[string]string{"from": f.From, "to": f.To, "category": f.Category, "region": f.Region, "channel": f.Channel} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var s api.Snapshot
	if err := e.getJSON("/api/kpis", q, &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// loadFile loads a local CSV file as the worker would.
func (e *env) loadFile(path string) etl.Result {
	e.t.Helper()
	src, err := etl.NewLocalFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.loader.Load(context.Background(), src, nil)
	if err != nil {
		e.t.Fatalf("load %s: %v", path, err)
	}
	e.loaded += res.RowsLoaded
	return res
}

// waitCounted waits until the server's figures count every row loadFile loaded: the server
// folds each commit into its figures a moment after it is announced.
func (e *env) waitCounted() {
	e.t.Helper()
	poll.Until(e.t, "the server to count every loaded row", 20*time.Second, func() bool {
		var s api.Snapshot
		return e.getJSON("/api/kpis", nil, &s) == nil && s.Totals.Orders == e.loaded
	})
}

// loadFixtures loads the 38 fixture files.
func (e *env) loadFixtures() []string {
	e.t.Helper()
	paths := oracle.Fixtures(e.t)
	for _, p := range paths {
		e.loadFile(p)
	}
	e.waitCounted()
	return paths
}

// generate writes a CSV of fake sales to a temporary file.
func (e *env) generate(name string, opt etl.GenerateOptions) string {
	e.t.Helper()
	var b bytes.Buffer
	if _, err := etl.Generate(&b, opt); err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// consoleLog keeps what the page logged and threw, for failure reports.
type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *consoleLog) record(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		line = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			line += " " + ev.ExceptionDetails.Exception.Description
		}
	default:
		return
	}
	c.mu.Lock()
	c.lines = append(c.lines, line)
	c.mu.Unlock()
}

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// exceptions are the uncaught errors the page threw.
func (c *consoleLog) exceptions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.lines {
		if strings.HasPrefix(l, "exception: ") {
			out = append(out, l)
		}
	}
	return out
}
