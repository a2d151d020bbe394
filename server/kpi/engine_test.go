package kpi

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/server/api"
)

// feed adds the oracle's sales to an engine, in deltas of the size given, each a file, and
// returns what they did.
func feed(t testing.TB, e *Engine, in *oracle.Inputs, per int) Footprint {
	t.Helper()
	var fp Footprint
	sales := in.Sales()
	for i := 0; i < len(sales); i += per {
		id := int64(len(e.Files()) + 1)
		d := e.NewDelta(File{ID: id, Key: fmt.Sprintf("f%d.csv", id), FinishedAt: time.Unix(id, 0)})
		for _, s := range sales[i:min(i+per, len(sales))] {
			day, err := time.Parse(time.DateOnly, s.Date)
			if err != nil {
				t.Fatal(err)
			}
			st, ok := ParseStatus(s.Status)
			if !ok {
				t.Fatalf("status %q", s.Status)
			}
			e.Add(d, Sale{Day: DayOf(day), Category: s.Category, Region: s.Region, Channel: s.Channel,
				Product: s.Product, Rep: s.Rep, Status: st, Quantity: s.Quantity, Sales: s.Total, Profit: s.Profit})
		}
		fp.Merge(e.Apply(d))
	}
	return fp
}

func query(t testing.TB, f api.Filter) Query {
	t.Helper()
	q, err := ParseQuery(f)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func check(t *testing.T, e *Engine, in *oracle.Inputs, f api.Filter) {
	t.Helper()
	snap := e.Snapshot(query(t, f))
	if diffs := in.Check(snap, f); len(diffs) > 0 {
		t.Errorf("filter %+v:\n  %s", f, strings.Join(diffs, "\n  "))
	}
}

func TestSnapshotsOfTheFixturesMatchTheOracle(t *testing.T) {
	in := oracle.FixtureInputs(t)
	e := New()
	feed(t, e, in, 500)
	for _, f := range []api.Filter{
		{},
		{From: "2024-02-10", To: "2024-05-20"},
		{From: "2024-03-01", To: "2024-03-31"},
		{From: "2024-01-01", To: "2024-12-31"},
		{From: "2023-01-01", To: "2024-12-31"},
		{From: "2024-10-26"},
		{To: "2023-11-15"},
		{From: "2030-01-01"},
		{Category: "Technology"},
		{Region: "Texas"},
		{Channel: "Marketplace", From: "2024-06-01"},
		{Region: "California", Channel: "Online Store", From: "2023-12-05", To: "2024-08-12"},
		{Category: "Clothing", Region: "Florida", Channel: "Physical Store"},
		{Category: "Nope"},
	} {
		check(t, e, in, f)
	}
}

// Random filters over random interleaved deltas of generated files with a large catalogue
// spanning many days: every view equals the oracle's recomputation.
func TestRandomViewsOfLargeCataloguesMatchTheOracle(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	in := oracle.New()
	e := New()
	from := time.Date(2023, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := range 6 {
		var b bytes.Buffer
		span := r.IntN(500)
		if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: 2000 + r.IntN(3000), Seed: r.Uint64(),
			From: from.AddDate(0, 0, r.IntN(200)), To: from.AddDate(0, 0, 200+span), Products: 3000, Reps: 300,
			Comments: i%2 == 0}); err != nil {
			t.Fatal(err)
		}
		fileIn := oracle.New()
		if err := fileIn.Add(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		if err := in.Add(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		feed(t, e, fileIn, 1+r.IntN(3000))
	}
	k := in.KPIs(api.Filter{})
	day := func() string {
		d, _ := time.Parse(time.DateOnly, k.DataRange.From)
		to, _ := time.Parse(time.DateOnly, k.DataRange.To)
		n := int(to.Sub(d).Hours()/24) + 30
		return d.AddDate(0, 0, r.IntN(n)-15).Format(time.DateOnly)
	}
	pick := func(vals []string) string {
		if r.IntN(3) == 0 {
			return ""
		}
		return vals[r.IntN(len(vals))]
	}
	for range 150 {
		f := api.Filter{Category: pick(k.Options.Categories), Region: pick(k.Options.Regions), Channel: pick(k.Options.Channels)}
		switch r.IntN(4) {
		case 0:
		case 1:
			f.From = day()
		case 2:
			f.To = day()
		default:
			f.From, f.To = day(), day()
			if f.From > f.To {
				f.From, f.To = f.To, f.From
			}
		}
		check(t, e, in, f)
	}
}

// Views refreshed after each delta (or burst of deltas) equal views computed afresh, and
// most refreshes do not compute again.
func TestRefreshedViewsEqualFreshOnes(t *testing.T) {
	t.Run("catalogue of 2,000", func(t *testing.T) { testRefreshes(t, 2000, 100, 20000, 800) })
	// Changes of thousands of products: the kept lists follow more ids outside than they
	// keep track of, and give some up (prune).
	t.Run("catalogue of 12,000", func(t *testing.T) { testRefreshes(t, 12000, 3000, 60000, 4000) })
}

func testRefreshes(t *testing.T, products, reps, rows, changeRows int) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 13))
	t.Logf("seed %d", seed)
	e := New()
	base := oracle.New()
	var b bytes.Buffer
	if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: rows, Seed: 5, From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2024, 9, 30, 0, 0, 0, 0, time.UTC), Products: products, Reps: reps}); err != nil {
		t.Fatal(err)
	}
	if err := base.Add(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	feed(t, e, base, 5000)
	k := base.KPIs(api.Filter{})
	pick := func(vals []string) string {
		if r.IntN(2) == 0 {
			return ""
		}
		return vals[r.IntN(len(vals))]
	}
	day := func(from string, span int) string {
		d, _ := time.Parse(time.DateOnly, from)
		return d.AddDate(0, 0, r.IntN(span)).Format(time.DateOnly)
	}
	var views []*View
	for i := range 80 {
		f := api.Filter{Category: pick(k.Options.Categories), Region: pick(k.Options.Regions), Channel: pick(k.Options.Channels)}
		switch i % 4 {
		case 1:
			f.From = day("2024-01-01", 330)
		case 2:
			f.From, f.To = day("2024-01-01", 150), day("2024-06-01", 150)
		case 3:
			f.To = day("2024-06-01", 200)
		}
		views = append(views, e.View(query(t, f)))
	}
	counts := map[How]int{}
	pruned := 0
	for round := range 25 {
		var fp Footprint
		for range 1 + r.IntN(3) { // a burst of one to three files
			var b bytes.Buffer
			start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(330))
			opt := etl.GenerateOptions{Rows: 1 + r.IntN(changeRows), Seed: r.Uint64(), From: start, To: start.AddDate(0, 0, r.IntN(3)),
				Products: products, Reps: reps}
			if r.IntN(5) == 0 { // now and then a big one over many days, or a new latest day
				opt.Rows, opt.To = 6000, start.AddDate(0, 0, 60+r.IntN(60))
			}
			if _, err := etl.Generate(&b, opt); err != nil {
				t.Fatal(err)
			}
			in := oracle.New()
			if err := in.Add(b.Bytes()); err != nil {
				t.Fatal(err)
			}
			fp.Merge(feed(t, e, in, 1<<30))
		}
		for i, v := range views {
			got := e.Refresh(v, fp)
			counts[got.How]++
			for k := range numRankings {
				if n := len(got.tops[k].outside); n > maxOutside {
					t.Fatalf("a kept list follows %d ids outside it, more than %d", n, maxOutside)
				}
				if got.How == Updated && got.tops[k].base > v.tops[k].base {
					pruned++
				}
			}
			want := e.View(v.query)
			if !reflect.DeepEqual(got.Snap, want.Snap) {
				t.Fatalf("round %d, view %+v refreshed (%v) differs from a fresh one:\n got %+v\nwant %+v", round, v.query.Filter, got.How, got.Snap, want.Snap)
			}
			views[i] = got
		}
	}
	t.Logf("refreshes: %d computed, %d updated, %d untouched; %d kept lists pruned", counts[Computed], counts[Updated], counts[Untouched], pruned)
	if counts[Updated] == 0 || counts[Untouched] == 0 {
		t.Errorf("refreshes never took a shortcut: %v", counts)
	}
	if products > 2*maxOutside && pruned == 0 {
		t.Errorf("changes to %d products never made a kept list give up ids", products)
	}
}
