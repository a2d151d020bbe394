package kpi

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
)

// Merged lists sum equal ids, keep every other, stay sorted, and hold no spare room: a
// period's lists are kept for as long as the server runs.
func TestMergeEntriesSumsIntoAnExactList(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	list := func() []entry {
		var out []entry
		for id := range uint32(200) {
			if r.IntN(3) == 0 {
				out = append(out, entry{id: id, orders: 1 + r.Uint32N(5), sales: r.Int64N(1e6), extra: r.Int64N(100)})
			}
		}
		return out
	}
	for range 50 {
		a, b := list(), list()
		want := map[uint32]entry{}
		for _, e := range slices.Concat(a, b) {
			w := want[e.id]
			want[e.id] = entry{id: e.id, orders: w.orders + e.orders, sales: w.sales + e.sales, extra: w.extra + e.extra}
		}
		got := mergeEntries(a, b)
		if len(got) != len(want) || cap(got) != len(got) {
			t.Fatalf("merged %d and %d entries into len %d cap %d, want %d distinct ids, no spare room", len(a), len(b), len(got), cap(got), len(want))
		}
		for i, e := range got {
			if e != want[e.id] || i > 0 && got[i-1].id >= e.id {
				t.Fatalf("entry %d: %+v, want %+v, ids ascending", i, e, want[e.id])
			}
		}
	}
}

// Each month's and year's list of a combination is the sum of that combination's cells over
// the period, after files of many days, products and representatives were added in deltas
// of every size.
func TestCombinationListsAreTheirCellsSummed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	e := New()
	from := time.Date(2023, 10, 20, 0, 0, 0, 0, time.UTC)
	for range 4 {
		var b bytes.Buffer
		if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: 3000, Seed: r.Uint64(), From: from.AddDate(0, 0, r.IntN(100)),
			To: from.AddDate(0, 0, 100+r.IntN(400)), Products: 2000, Reps: 200}); err != nil {
			t.Fatal(err)
		}
		in := oracle.New()
		if err := in.Add(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		feed(t, e, in, 1+r.IntN(2000))
	}
	a := getAccumulator(e.products.len(), e.reps.len())
	defer putAccumulator(a)
	sum := func(p *period, id uint32, first, last Day) {
		t.Helper()
		for _, d := range e.daysIn(first, last) {
			for _, c := range e.days[d].cells {
				if c.combo == id {
					a.addItems(c.items)
				}
			}
		}
		want, got := a.lists(), p.members[member{dimCombo, id}]
		if got == nil || !reflect.DeepEqual(got.products, want.products) || !reflect.DeepEqual(got.reps, want.reps) {
			t.Fatalf("combination %d, %s to %s: its lists differ from its cells summed", id, first, last)
		}
	}
	checked := 0
	for m, p := range e.months {
		for id := range p.combos {
			sum(p, id, m.first(), m.last())
			checked++
		}
	}
	for y, p := range e.years {
		for id := range p.combos {
			sum(p, id, y.first(), y.last())
			checked++
		}
	}
	if len(e.years) < 2 || checked < 100 {
		t.Fatalf("%d lists over %d years checked: the files should span more", checked, len(e.years))
	}
}
