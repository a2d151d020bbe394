package kpi

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/server/api"
)

// feed adds the oracle's sales to an engine, in deltas of the size given, each a file.
func feed(t testing.TB, e *Engine, in *oracle.Inputs, per int) {
	t.Helper()
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
		e.Apply(d)
	}
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
