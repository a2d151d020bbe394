// Package kpi is the KPI engine: an in-memory state of every loaded sale, summed at the
// grains the dashboard's views need, from which a snapshot of any window and filter is
// computed in a few milliseconds, whatever the number of sales, products or viewers.
//
// The state is fed once per committed file with that file's sales (a Delta), and built at
// start from PostgreSQL the same way; nothing is read from the database to answer a view.
// It keeps, per sale date and combination of category, region and channel (a cell), the
// cube's measures and the sums of each product and representative; per month and year,
// the measures of each combination and the product and representative lists of every
// single-dimension member (all sales, one category, one region, one channel) and of every
// combination. A view reads whole years and months from those lists and only its ragged
// days from the cells; a view filtered on two or three dimensions sums the lists of the
// combinations that match, which are few.
package kpi

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Status is a payment status.
type Status uint8

// The payment statuses, in the order snapshots list them.
const (
	Paid Status = iota
	Pending
	Canceled
	numStatuses
)

var statusNames = [numStatuses]string{"Paid", "Pending", "Canceled"}

// ParseStatus reads the canonical spelling of a status.
func ParseStatus(s string) (Status, bool) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), true
		}
	}
	return 0, false
}

// Sale is what the engine counts of one sale.
type Sale struct {
	Day                                     Day
	Category, Region, Channel, Product, Rep string
	Status                                  Status
	Quantity, Sales, Profit                 int64 // money in cents; Profit 0 when not given
}

// File is a committed file whose sales the engine holds.
type File struct {
	ID         int64
	Key        string // object key or path
	FinishedAt time.Time
}

// measures are the cube's sums over a set of sales.
type measures struct {
	orders, quantity, sales, profit int64
	statusOrders, statusSales       [numStatuses]int64
}

func (m *measures) add(o *measures) {
	m.orders += o.orders
	m.quantity += o.quantity
	m.sales += o.sales
	m.profit += o.profit
	for i := range numStatuses {
		m.statusOrders[i] += o.statusOrders[i]
		m.statusSales[i] += o.statusSales[i]
	}
}

// combo is a combination of category, region and channel ids.
type combo struct{ category, region, channel uint32 }

// item is the sums of one product sold by one representative within a cell. Counts are
// 32 bits to keep cells small; a key repeats in a cell rather than overflow them.
type item struct {
	product, rep     uint32
	orders, quantity uint32
	sales, profit    int64
}

// cell is one sale date and combination: its measures and its items by (product, rep).
type cell struct {
	combo uint32
	m     measures
	items []item
}

// dayState is one sale date: its cells by combo id, and the measures of each
// single-dimension member, for the trend.
type dayState struct {
	cells   []*cell // sorted by combo
	members map[member]*measures
}

// member is a single-dimension filter: all sales, or one category, region or channel; or,
// for the lists of a period only, one combination (a filter on two or three dimensions sums
// the lists of the combinations it matches).
type member struct {
	dim dimension
	id  uint32
}

type dimension uint8

const (
	dimAll dimension = iota
	dimCategory
	dimRegion
	dimChannel
	dimCombo // id: the combination's
)

func membersOf(c combo) [4]member {
	return [4]member{{dimAll, 0}, {dimCategory, c.category}, {dimRegion, c.region}, {dimChannel, c.channel}}
}

// lists are a member's product and representative sums over a period, sorted by id.
type lists struct {
	products, reps []entry
}

// entry is a product's or a representative's sums over a period.
type entry struct {
	id     uint32
	orders uint32
	sales  int64
	extra  int64 // quantity for a product, gross profit for a representative
}

// period is a month or a year: the measures of every combination that sold in it, and the
// lists of every single-dimension member and of every combination.
type period struct {
	combos  map[uint32]*measures
	members map[member]*lists
}

func newPeriod() *period {
	return &period{combos: map[uint32]*measures{}, members: map[member]*lists{}}
}

// Engine is the KPI state. Its methods are safe for concurrent use.
type Engine struct {
	categories, regions, channels, products, reps *table[string]
	combos                                        *table[combo]

	mu     sync.RWMutex
	days   map[Day]*dayState
	order  []Day // the days, sorted
	months map[month]*period
	years  map[year]*period
	sold   map[uint32]bool // combination ids with sales, for the filter menus
	files  map[int64]bool
	latest File   // the newest file by FinishedAt
	rows   int64  // sales held
	ver    uint64 // counts the deltas applied
}

// New is an empty engine.
func New() *Engine {
	return &Engine{
		categories: newTable[string](), regions: newTable[string](), channels: newTable[string](),
		products: newTable[string](), reps: newTable[string](), combos: newTable[combo](),
		days: map[Day]*dayState{}, months: map[month]*period{}, years: map[year]*period{},
		sold: map[uint32]bool{}, files: map[int64]bool{},
	}
}

// clear empties the state (the names numbered are kept: ids stay valid).
func (e *Engine) clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.days, e.order, e.months, e.years = map[Day]*dayState{}, nil, map[month]*period{}, map[year]*period{}
	e.sold, e.files, e.latest, e.rows = map[uint32]bool{}, map[int64]bool{}, File{}, 0
	e.ver++
}

// Has reports whether the engine holds the sales of a file.
func (e *Engine) Has(fileID int64) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.files[fileID]
}

// Files are the ids of the files held.
func (e *Engine) Files() map[int64]bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make(map[int64]bool, len(e.files))
	for id := range e.files {
		out[id] = true
	}
	return out
}

// Version counts the deltas applied; it changes whenever any figure may have.
func (e *Engine) Version() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.ver
}

// Sales is the number of sales held.
func (e *Engine) Sales() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rows
}

// Footprint is what deltas did: the versions of the state before and after them, and their
// sums per cell (sale date and combination). A view is brought up to date with it (Refresh):
// untouched, incrementally, or computed again.
type Footprint struct {
	from, to uint64
	cells    map[Day]map[uint32]*cell // the deltas' own cells
	sums     *changeSums              // the change's product and rep sums, by the cells a view reads
}

// Merge adds the footprint of the deltas applied right after f's.
func (f *Footprint) Merge(o Footprint) {
	switch {
	case o.cells == nil && o.from == o.to:
		return // nothing applied
	case f.cells == nil && f.from == f.to:
		*f = o
		return
	case f.to != o.from:
		f.cells = nil // not contiguous: views are computed again
		f.to = max(f.to, o.to)
		return
	}
	f.to = o.to
	if f.cells == nil {
		return
	}
	f.sums = newChangeSums() // the cells change
	for d, cs := range o.cells {
		if f.cells[d] == nil {
			f.cells[d] = map[uint32]*cell{}
		}
		for id, c := range cs {
			if have := f.cells[d][id]; have != nil {
				have.m.add(&c.m)
				have.items = mergeItems(have.items, c.items)
			} else {
				f.cells[d][id] = c
			}
		}
	}
}

// Empty reports whether no delta was applied.
func (f Footprint) Empty() bool { return f.from == f.to }

// Apply adds a delta to the state, all at once: a snapshot computed meanwhile sees all of it
// or none. Files already held are not counted again. It returns the cells it changed. The
// delta's sums are prepared before the lock is taken.
func (e *Engine) Apply(d *Delta) Footprint {
	d.prepare(e)
	combos := e.combos.all()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range d.files {
		if e.files[f.ID] {
			return Footprint{from: e.ver, to: e.ver} // a file is applied whole or not at all; this delta repeats one
		}
	}
	fp := Footprint{from: e.ver, to: e.ver + 1, cells: map[Day]map[uint32]*cell{}, sums: newChangeSums()}
	for i := range d.cells {
		c := &d.cells[i]
		e.addCell(c, combos[c.combo])
		if fp.cells[c.day] == nil {
			fp.cells[c.day] = map[uint32]*cell{}
		}
		fp.cells[c.day][c.combo] = &c.cell
	}
	for i := range d.lists {
		e.addLists(&d.lists[i])
	}
	for _, f := range d.files {
		e.files[f.ID] = true
		if f.FinishedAt.After(e.latest.FinishedAt) {
			e.latest = f
		}
	}
	e.rows += int64(len(d.rows))
	e.ver++
	return fp
}

// addCell adds a delta's sums of one day and combination to the state.
func (e *Engine) addCell(dc *dayCell, c combo) {
	ds := e.days[dc.day]
	if ds == nil {
		ds = &dayState{members: map[member]*measures{}}
		e.days[dc.day] = ds
		i, _ := slices.BinarySearch(e.order, dc.day)
		e.order = slices.Insert(e.order, i, dc.day)
	}
	id := dc.combo
	i, found := slices.BinarySearchFunc(ds.cells, id, func(c *cell, id uint32) int { return cmp.Compare(c.combo, id) })
	if !found {
		ds.cells = slices.Insert(ds.cells, i, &cell{combo: id})
	}
	ce := ds.cells[i]
	e.sold[id] = true
	ce.items = mergeItems(ce.items, dc.items)
	ce.m.add(&dc.m)
	for _, mb := range membersOf(c) {
		t := ds.members[mb]
		if t == nil {
			t = &measures{}
			ds.members[mb] = t
		}
		t.add(&dc.m)
	}
	for _, p := range []*period{e.period(dc.day.month()), e.yearPeriod(dc.day.year())} {
		t := p.combos[id]
		if t == nil {
			t = &measures{}
			p.combos[id] = t
		}
		t.add(&dc.m)
	}
}

// fits reports whether adding to an item's counts keeps them within 32 bits.
func fits(it *item, orders, quantity uint32) bool {
	return uint64(it.orders)+uint64(orders) <= 1<<32-1 && uint64(it.quantity)+uint64(quantity) <= 1<<32-1
}

// mergeItems merges two item lists sorted by (product, rep), summing equal keys that fit.
func mergeItems(a, b []item) []item {
	if len(a) == 0 {
		return b
	}
	out := make([]item, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b):
			out = append(out, a[i])
			i++
		case i == len(a):
			out = append(out, b[j])
			j++
		default:
			x, y := &a[i], &b[j]
			switch c := cmp.Or(cmp.Compare(x.product, y.product), cmp.Compare(x.rep, y.rep)); {
			case c < 0:
				out = append(out, *x)
				i++
			case c > 0:
				out = append(out, *y)
				j++
			case fits(x, y.orders, y.quantity):
				s := *x
				s.orders += y.orders
				s.quantity += y.quantity
				s.sales += y.sales
				s.profit += y.profit
				out = append(out, s)
				i++
				j++
			default:
				out = append(out, *x, *y)
				i++
				j++
			}
		}
	}
	return out
}

func (e *Engine) period(m month) *period {
	p := e.months[m]
	if p == nil {
		p = newPeriod()
		e.months[m] = p
	}
	return p
}

func (e *Engine) yearPeriod(y year) *period {
	p := e.years[y]
	if p == nil {
		p = newPeriod()
		e.years[y] = p
	}
	return p
}

// daysIn are the days held within [from, to], in order.
func (e *Engine) daysIn(from, to Day) []Day {
	i, _ := slices.BinarySearch(e.order, from)
	j, _ := slices.BinarySearch(e.order, to+1)
	return e.order[i:j]
}

// addLists adds a delta's product and representative sums of one member and month to the
// lists of the month and of its year.
func (e *Engine) addLists(ml *memberLists) {
	add := &ml.lists
	for k, p := range []*period{e.period(ml.month), e.yearPeriod(ml.month.year())} {
		switch l := p.members[ml.member]; {
		case l != nil:
			l.products, l.reps = addEntries(l.products, add.products), addEntries(l.reps, add.reps)
		case k == 0:
			p.members[ml.member] = &lists{products: add.products, reps: add.reps}
		default: // a list of its own: lists are updated in place
			p.members[ml.member] = &lists{products: slices.Clone(add.products), reps: slices.Clone(add.reps)}
		}
	}
}

// addEntries adds b to a (both sorted by id). When every id of b is in a, and b is small,
// a is updated in place; otherwise a merged list is made.
func addEntries(a, b []entry) []entry {
	if len(b)*bits.Len(uint(len(a))) > 2*len(a) { // searching would cost more than merging
		return mergeEntries(a, b)
	}
	at := make([]int, len(b))
	for k, x := range b {
		i, found := slices.BinarySearchFunc(a, x.id, func(e entry, id uint32) int { return cmp.Compare(e.id, id) })
		if !found {
			return mergeEntries(a, b)
		}
		at[k] = i
	}
	for k, x := range b {
		e := &a[at[k]]
		e.orders += x.orders
		e.sales += x.sales
		e.extra += x.extra
	}
	return a
}

// mergeEntries merges two entry lists sorted by id, summing equal ids, into a new list of
// exactly the merged length: the lists of periods are kept for good, and most ids of a
// period's new sales are in its list already.
func mergeEntries(a, b []entry) []entry {
	out := make([]entry, 0, mergedLength(a, b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id < b[j].id:
			out = append(out, a[i])
			i++
		case a[i].id > b[j].id:
			out = append(out, b[j])
			j++
		default:
			s := a[i]
			s.orders += b[j].orders
			s.sales += b[j].sales
			s.extra += b[j].extra
			out = append(out, s)
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// mergedLength is the number of distinct ids in two entry lists sorted by id.
func mergedLength(a, b []entry) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id < b[j].id:
			i++
		case a[i].id > b[j].id:
			j++
		default:
			i++
			j++
		}
		n++
	}
	return n + len(a) - i + len(b) - j
}
