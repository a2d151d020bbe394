package kpi

import (
	"slices"
	"sync"
)

// accumulator sums products and representatives into slices indexed by id: adding is a few
// array writes, whatever the size of the catalogue. It remembers which ids it touched, so
// that reading and resetting cost what was added, not the catalogue's size.
type accumulator struct {
	products, reps sums
}

// sums are per-id totals: orders, sales, and quantity (products) or profit (reps), kept
// together so that adding to one id touches one cache line.
type sums struct {
	by      []total
	epoch   uint32 // an id is touched when its total's epoch is this one
	touched []uint32
}

type total struct {
	orders, sales, extra int64
	epoch                uint32
}

func (s *sums) grow(n int) {
	if len(s.by) < n {
		by := make([]total, max(n, 2*len(s.by)))
		copy(by, s.by)
		s.by = by
	}
}

func (s *sums) add(id uint32, orders, sales, extra int64) {
	t := &s.by[id]
	if t.epoch != s.epoch {
		*t = total{epoch: s.epoch}
		s.touched = append(s.touched, id)
	}
	t.orders += orders
	t.sales += sales
	t.extra += extra
}

// reset forgets every total in constant time: a new epoch.
func (s *sums) reset() {
	s.epoch++
	if s.epoch == 0 { // wrapped: clear the old epochs for good
		clear(s.by)
		s.epoch = 1
	}
	s.touched = s.touched[:0]
}

// entries are the sums touched, sorted by id; the sums are reset.
func (s *sums) entries() []entry {
	slices.Sort(s.touched)
	out := make([]entry, 0, len(s.touched))
	for _, id := range s.touched {
		t := &s.by[id]
		out = append(out, entry{id: id, orders: uint32(t.orders), sales: t.sales, extra: t.extra})
	}
	s.reset()
	return out
}

var accumulators sync.Pool

// getAccumulator is an empty accumulator for ids below the counts given.
func getAccumulator(products, reps int) *accumulator {
	a, _ := accumulators.Get().(*accumulator)
	if a == nil {
		a = &accumulator{products: sums{epoch: 1}, reps: sums{epoch: 1}}
	}
	a.products.grow(products)
	a.reps.grow(reps)
	return a
}

func putAccumulator(a *accumulator) {
	a.products.reset()
	a.reps.reset()
	accumulators.Put(a)
}

func (a *accumulator) addItems(items []item) {
	for i := range items {
		it := &items[i]
		a.products.add(it.product, int64(it.orders), it.sales, int64(it.quantity))
		a.reps.add(it.rep, int64(it.orders), it.sales, it.profit)
	}
}

func (a *accumulator) addLists(l *lists) {
	for _, e := range l.products {
		a.products.add(e.id, int64(e.orders), e.sales, e.extra)
	}
	for _, e := range l.reps {
		a.reps.add(e.id, int64(e.orders), e.sales, e.extra)
	}
}

// addSums adds what another accumulator holds.
func (a *accumulator) addSums(o *accumulator) {
	for _, id := range o.products.touched {
		t := &o.products.by[id]
		a.products.add(id, t.orders, t.sales, t.extra)
	}
	for _, id := range o.reps.touched {
		t := &o.reps.by[id]
		a.reps.add(id, t.orders, t.sales, t.extra)
	}
}

// lists are the sums touched, as period lists; the accumulator is reset.
func (a *accumulator) lists() *lists {
	return &lists{products: a.products.entries(), reps: a.reps.entries()}
}
