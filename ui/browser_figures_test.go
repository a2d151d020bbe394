//go:build !wasm

package ui_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"salespulse/etl"
	"salespulse/server/api"
)

// cardSizes are the widths the cards must fit at: the smallest phone, a common phone, and
// two desktop windows.
var cardSizes = []struct {
	name   string
	w, h   int64
	mobile bool
}{{"320", 320, 700, true}, {"390", 390, 844, true}, {"1280", 1280, 900, false}, {"1440", 1440, 900, false}}

// TestBrowserBigFigures: with sales in the billions, every figure fits its card at every
// width, in Chromium and Firefox: exact where it fits, compact where not, and then the
// exact figure in the card's text and title, and on screen after a tap.
func TestBrowserBigFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server, Chromium and Firefox")
	}
	e := newEnv(t)
	e.loadFile(e.bigSales("billions.csv", etl.GenerateOptions{Rows: 400, Seed: 9, From: day("2024-09-01"), To: day("2024-10-26")}, 2000))
	e.waitCounted()
	want := e.kpis(api.Filter{}).Totals
	if want.Sales < 1_000_000_000_00 || want.GrossProfit < 100_000_000_00 || want.CanceledSales < 100_000_000_00 {
		t.Fatalf("want sales in the billions and gross profit and canceled sales in the hundreds of millions: %+v", want)
	}

	t.Run("chromium", func(t *testing.T) {
		e.t = t
		defer e.viewport(1280, 900, false)
		for _, size := range cardSizes {
			e.viewport(size.w, size.h, size.mobile)
			e.open("/")
			e.waitState("live")
			checkCards(e, e.cards(), want) // the text stays exact, whatever is drawn
			checkFit(t, "chromium at "+size.name, eval[string](e, fitScript), size.w, want)
			e.screenshot("figures-billions-chromium-" + size.name + "-light")
		}
		e.colorScheme("dark")
		e.viewport(390, 844, true)
		e.open("/")
		e.waitState("live")
		checkFit(t, "chromium at 390, dark", eval[string](e, fitScript), 390, want)
		e.screenshot("figures-billions-chromium-390-dark")
		e.colorScheme("light")

		// A tap shows the exact figure of a compact card, still inside it; another, the
		// compact one again.
		e.viewport(320, 700, true)
		e.open("/")
		e.waitState("live")
		compact := eval[string](e, `[...document.querySelectorAll("[data-kpi]")].find(c => c.querySelector(".kpi-value[data-compact]") &&
			getComputedStyle(c.querySelector(".kpi-value"), "::after").display !== "none")?.dataset.kpi || ""`)
		if compact == "" {
			t.Fatal("no card is compact at 320 px with billions: the test shows nothing")
		}
		card := `[data-kpi="` + compact + `"]`
		e.do(chromedp.Click(card + ` .kpi-value`))
		e.waitJS("the exact figure", `document.querySelector('`+card+` .kpi-value').classList.contains("exact")`, 5*time.Second)
		checkFit(t, "chromium at 320 after a tap", eval[string](e, fitScript), 320, want)
		if shown := eval[string](e, `getComputedStyle(document.querySelector('`+card+` .kpi-value'), "::after").display`); shown != "none" {
			t.Errorf("after a tap %s still shows its compact form", compact)
		}
		e.screenshot("figures-billions-chromium-320-tapped")
		e.do(chromedp.Click(card + ` .kpi-value`))
		e.waitJS("the compact figure again", `!document.querySelector('`+card+` .kpi-value').classList.contains("exact")`, 5*time.Second)
	})

	t.Run("firefox", func(t *testing.T) {
		f := startFirefox(t)
		for _, size := range cardSizes {
			f.viewport(size.w, size.h)
			f.open(e.url + "/")
			f.waitJS("the live figures", `document.querySelector("#dashboard")?.dataset.state === "live"`, 30*time.Second)
			checkFit(t, "firefox at "+size.name, f.evalString(fitScript), size.w, want)
			f.screenshot("figures-billions-firefox-" + size.name + "-light")
		}
	})
}

// fitScript describes every card as JSON: its exact text, whether it shows the compact
// form, its title, whether what it draws overflows it, and the page's width.
const fitScript = `JSON.stringify({
	page: document.documentElement.scrollWidth,
	cards: [...document.querySelectorAll("[data-kpi]")].map(c => {
		const v = c.querySelector(".kpi-value");
		const box = c.getBoundingClientRect(), style = getComputedStyle(c);
		const right = box.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
		const range = document.createRange();
		range.selectNodeContents(v);
		const compact = !!v.dataset.compact && getComputedStyle(v, "::after").display !== "none";
		return {
			name: c.dataset.kpi, text: v.textContent, title: c.title, compact,
			fontPx: parseFloat(getComputedStyle(v, compact ? "::after" : null).fontSize),
			overflow: v.scrollWidth > v.clientWidth + 1 || v.getBoundingClientRect().right > right + 1 ||
				(!compact && range.getBoundingClientRect().right > right + 1),
		};
	}),
})`

// checkFit fails for a card whose figure overflows, a page wider than the screen, or an
// exact figure out of reach; it logs which cards are compact.
func checkFit(t *testing.T, where, report string, width int64, want api.Totals) {
	t.Helper()
	var r struct {
		Page  int64
		Cards []struct {
			Name, Text, Title string
			Compact, Overflow bool
			FontPx            float64
		}
	}
	if err := json.Unmarshal([]byte(report), &r); err != nil {
		t.Fatalf("%s: %v: %s", where, err, report)
	}
	if r.Page > width {
		t.Errorf("%s: the page is %d px wide", where, r.Page)
	}
	exact := map[string]string{"sales": money(want.Sales), "gross_profit": money(want.GrossProfit), "canceled_sales": money(want.CanceledSales)}
	var compact []string
	for _, c := range r.Cards {
		if c.Overflow {
			t.Errorf("%s: the %s figure (%s, compact %v) overflows its card", where, c.Name, c.Text, c.Compact)
		}
		if x, ok := exact[c.Name]; ok && (c.Text != x || !strings.HasSuffix(c.Title, ": "+x)) {
			t.Errorf("%s: %s has text %q and title %q, want the exact %s in both", where, c.Name, c.Text, c.Title, x)
		}
		if c.FontPx < 10 {
			t.Errorf("%s: the %s figure is drawn at %.1f px", where, c.Name, c.FontPx)
		}
		if c.Compact {
			compact = append(compact, c.Name)
		}
	}
	t.Logf("%s: compact: %v", where, compact)
}

// bigSales writes generated sales with every price and cost multiplied by scale (and no
// discount, so that the totals stay exact products), for figures in the billions.
func (e *env) bigSales(name string, opt etl.GenerateOptions, scale int64) string {
	e.t.Helper()
	var b bytes.Buffer
	if _, err := etl.Generate(&b, opt); err != nil {
		e.t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	cents := func(s string) int64 {
		whole, frac, _ := strings.Cut(s, ".")
		w, err1 := strconv.ParseInt(whole, 10, 64)
		f, err2 := strconv.ParseInt((frac + "00")[:2], 10, 64)
		if err1 != nil || err2 != nil {
			e.t.Fatalf("amount %q", s)
		}
		return w*100 + f
	}
	amount := func(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
	for _, r := range rows[1:] {
		q, err := strconv.ParseInt(r[col["Quantity Sold"]], 10, 64)
		if err != nil {
			e.t.Fatal(err)
		}
		price, cost := cents(r[col["Unit Price"]])*scale, cents(r[col["Unit Cost"]])*scale
		r[col["Unit Price"]], r[col["Unit Cost"]], r[col["Discount (%)"]] = amount(price), amount(cost), "0"
		r[col["Total Value (with Discount)"]], r[col["Total Cost"]] = amount(q*price), amount(q*cost)
		r[col["Gross Profit"]] = amount(q*price - q*cost)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	if err := w.WriteAll(rows); err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}
