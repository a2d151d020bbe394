package kpi

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
	"sync"

	"salespulse/server/api"
)

// keptLength is how much longer than shown a top list is kept: room for a change to move
// entries about without the list losing track of the true top.
const keptLength = 256

// View is a computed snapshot and what a change needs to bring it up to date without
// computing it again (Refresh).
type View struct {
	Snap    *api.Snapshot
	query   Query
	version uint64 // the state's, when computed
	tops    tops
	// How says how the view was made: computed, or by Refresh updated with a change's sums
	// or left untouched (only what the snapshot says of the data as a whole, the newest
	// file, date range and menus, may differ from the view it refreshed).
	How How
}

// How a view was made.
type How int

const (
	Computed How = iota
	Updated
	Untouched
)

// String is how the metrics name it.
func (h How) String() string { return [...]string{"computed", "updated", "restamped"}[h] }

// Version is the state's version the view shows.
func (v *View) Version() uint64 { return v.version }

// ranking is one of the top lists: products by quantity or by sales, reps by sales.
type ranking int

const (
	productsByQuantity ranking = iota
	productsBySales
	repsBySales
	numRankings
)

// tops are a view's top lists, each kept longer than shown.
type tops [numRankings]kept

// kept is a top list in ranking order, with a bound on the rest: every id not in it has a
// value in the view no larger than base, plus what changes have added to it since (outside,
// by id). complete: the list holds every id that has a value at all.
type kept struct {
	entries  []keptEntry
	ids      []uint32 // the entries' ids, sorted: a list that is not complete keeps the same ones
	base     int64
	outside  []outsideEntry // by id, none of them in entries
	complete bool
}

// outsideEntry is what changes have added to an id outside a kept list. A list sorted by id
// rather than a map: a change merges its own sums into it, a copy that costs a view far
// less than rehashing a map of thousands of ids.
type outsideEntry struct {
	id    uint32
	added int64
}

// maxOutside bounds the ids a kept list follows outside itself. Past it, the half with the
// least added are given up: base rises to cover them (see prune), and the list goes on.
const maxOutside = 2048

// bound is the largest value an id outside the list may have.
func (k *kept) bound() int64 {
	b := k.base
	for _, e := range k.outside {
		b = max(b, k.base+e.added)
	}
	return b
}

type keptEntry struct {
	id                   uint32
	orders, sales, extra int64 // extra: quantity for a product, gross profit for a rep
}

func (r ranking) value(e *keptEntry) int64 {
	if r == productsByQuantity {
		return e.extra
	}
	return e.sales
}

func (r ranking) names(products, reps []string) []string {
	if r == repsBySales {
		return reps
	}
	return products
}

// order is the ranking's order: largest value first, ties by name in byte order. The names
// are compared only on a tie (cmp.Or would compare them every time): a view of a large
// catalogue puts each of thousands of products through it.
func (r ranking) order(names []string) func(a, b keptEntry) int {
	return func(a, b keptEntry) int {
		if c := cmp.Compare(r.value(&b), r.value(&a)); c != 0 {
			return c
		}
		return strings.Compare(names[a.id], names[b.id])
	}
}

// keepTops takes the top lists out of an accumulator.
func keepTops(a *accumulator, products, reps []string) tops {
	var t tops
	for r := range numRankings {
		s := &a.products
		if r == repsBySales {
			s = &a.reps
		}
		names := r.names(products, reps)
		order := r.order(names)
		best := make([]keptEntry, 0, keptLength+2)
		for _, id := range s.touched {
			tot := &s.by[id]
			c := keptEntry{id, tot.orders, tot.sales, tot.extra}
			if len(best) == keptLength+1 { // most are below the last kept: compare values first
				if v, last := r.value(&c), r.value(&best[keptLength]); v < last || v == last && order(c, best[keptLength]) >= 0 {
					continue
				}
			}
			i, _ := slices.BinarySearchFunc(best, c, order)
			best = slices.Insert(best, i, c)
			best = best[:min(len(best), keptLength+1)]
		}
		k := kept{complete: len(best) <= keptLength}
		if !k.complete {
			k.base = r.value(&best[keptLength])
			best = best[:keptLength]
		}
		k.entries, k.ids = best, sortedIDs(best)
		t[r] = k
	}
	return t
}

// show writes the lists' first TopN into the snapshot.
func (t *tops) show(s *api.Snapshot, products, reps []string) {
	s.TopProducts = api.TopProducts{ByQuantity: []api.ProductStat{}, BySales: []api.ProductStat{}}
	s.TopReps = []api.RepStat{}
	for r, dst := range []*[]api.ProductStat{&s.TopProducts.ByQuantity, &s.TopProducts.BySales} {
		for _, e := range t[r].entries[:min(TopN, len(t[r].entries))] {
			*dst = append(*dst, api.ProductStat{Product: products[e.id], Quantity: e.extra, Sales: api.Money(e.sales), Orders: e.orders})
		}
	}
	k := &t[repsBySales]
	for _, e := range k.entries[:min(TopN, len(k.entries))] {
		s.TopReps = append(s.TopReps, api.RepStat{Rep: reps[e.id], Sales: api.Money(e.sales), Orders: e.orders, GrossProfit: api.Money(e.extra)})
	}
}

// fold adds a change's sums (sorted by id, one entry per id) to a kept list; false when the
// list can no longer tell its top TopN for sure. A change touches few of the entries: those
// are taken out, put in order and merged back with the others, which keep theirs.
func (k *kept) fold(r ranking, add []keptEntry, names []string) bool {
	hits := make([]keptEntry, 0, min(len(add), len(k.ids)))   // the change's sums of ids in the list, by id
	var moved []keptEntry                                     // those entries with the sums added; ids new to a complete list
	fresh := make([]outsideEntry, 0, len(add)+len(k.entries)) // by id: what the change adds outside the list
	i := 0
	for _, d := range add {
		for i < len(k.ids) && k.ids[i] < d.id {
			i++
		}
		switch {
		case i < len(k.ids) && k.ids[i] == d.id:
			hits = append(hits, d)
		case k.complete:
			moved = append(moved, d)
		default:
			fresh = append(fresh, outsideEntry{d.id, r.value(&d)}) // it had at most base before
		}
	}
	grew := len(moved) > 0
	moved = slices.Grow(moved, len(hits))
	movedAt := make([]int, 0, len(hits)) // where the touched entries were in the list
	for p, e := range k.entries {
		if len(movedAt) == len(hits) {
			break
		}
		j, ok := slices.BinarySearchFunc(hits, e.id, func(d keptEntry, id uint32) int { return cmp.Compare(d.id, id) })
		if !ok {
			continue
		}
		d := &hits[j]
		e.orders, e.sales, e.extra = e.orders+d.orders, e.sales+d.sales, e.extra+d.extra
		moved, movedAt = append(moved, e), append(movedAt, p)
	}
	order := r.order(names)
	slices.SortFunc(moved, order)
	entries := mergeMoved(k.entries, movedAt, moved, order)
	complete := k.complete
	if len(entries) > keptLength {
		for _, e := range entries[keptLength:] { // known exactly, from now on bounded
			fresh = append(fresh, outsideEntry{e.id, r.value(&e) - k.base})
		}
		slices.SortFunc(fresh, func(a, b outsideEntry) int { return cmp.Compare(a.id, b.id) })
		entries, complete = entries[:keptLength], false
	}
	next := kept{entries: entries, ids: k.ids, base: k.base, outside: k.outside, complete: complete}
	if grew {
		next.ids = sortedIDs(entries)
	}
	if len(fresh) > 0 {
		next.outside = mergeOutside(k.outside, fresh)
	}
	if len(next.outside) > maxOutside {
		next.prune()
	}
	if !complete && (len(entries) < TopN || r.value(&entries[TopN-1]) <= next.bound()) {
		return false
	}
	*k = next
	return true
}

// sortedIDs are the entries' ids in order.
func sortedIDs(entries []keptEntry) []uint32 {
	ids := make([]uint32, len(entries))
	for i, e := range entries {
		ids[i] = e.id
	}
	slices.Sort(ids)
	return ids
}

// mergeMoved is entries with those at movedAt replaced by moved (in order), in order.
func mergeMoved(entries []keptEntry, movedAt []int, moved []keptEntry, order func(a, b keptEntry) int) []keptEntry {
	out := make([]keptEntry, 0, len(entries)-len(movedAt)+len(moved))
	m := 0
	for p, e := range entries {
		if len(movedAt) > 0 && movedAt[0] == p {
			movedAt = movedAt[1:]
			continue
		}
		for m < len(moved) && order(moved[m], e) < 0 {
			out = append(out, moved[m])
			m++
		}
		out = append(out, e)
	}
	return append(out, moved[m:]...)
}

// prune gives up following the half of the outside ids with the least added: base rises by
// what the largest of them has, which bounds them all. The bound stays as it was; it only
// grows faster with the changes to come.
func (k *kept) prune() {
	added := make([]int64, len(k.outside))
	for i, e := range k.outside {
		added[i] = e.added
	}
	slices.Sort(added)
	floor := max(added[len(added)-maxOutside/2-1], 0) // base never falls: it bounds the ids not followed
	kept := make([]outsideEntry, 0, maxOutside/2)
	for _, e := range k.outside {
		if e.added > floor {
			kept = append(kept, outsideEntry{e.id, e.added - floor})
		}
	}
	k.base += floor
	k.outside = kept
}

// mergeOutside merges two lists sorted by id into a new one, summing what an id has in both.
func mergeOutside(a, b []outsideEntry) []outsideEntry {
	out := make([]outsideEntry, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].id < b[j].id):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].id < a[i].id:
			out = append(out, b[j])
			j++
		default:
			out = append(out, outsideEntry{a[i].id, a[i].added + b[j].added})
			i, j = i+1, j+1
		}
	}
	return out
}

// changeSums are a change's sums per product and per representative over the cells a view
// reads, computed once for all the views that read the same cells (thousands of watched
// views share a few filters' worth of them).
type changeSums struct {
	mu   sync.Mutex
	byIn map[string]*idSums
}

// idSums are sums by id, sorted by id.
type idSums struct{ products, reps []keptEntry }

func newChangeSums() *changeSums { return &changeSums{byIn: map[string]*idSums{}} }

func (s *idSums) of(r ranking) []keptEntry {
	if r == repsBySales {
		return s.reps
	}
	return s.products
}

// readCell is a cell of a change that a view reads.
type readCell struct {
	day Day
	c   *cell
}

// of is the sums of the cells given (in any order).
func (cs *changeSums) of(in []readCell) *idSums {
	slices.SortFunc(in, func(a, b readCell) int { return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.c.combo, b.c.combo)) })
	key := make([]byte, 0, 8*len(in))
	for _, x := range in {
		key = binary.LittleEndian.AppendUint32(key, uint32(x.day))
		key = binary.LittleEndian.AppendUint32(key, x.c.combo)
	}
	if cs != nil {
		cs.mu.Lock()
		s := cs.byIn[string(key)]
		cs.mu.Unlock()
		if s != nil {
			return s
		}
	}
	s := &idSums{}
	for _, x := range in {
		for _, it := range x.c.items {
			s.products = append(s.products, keptEntry{it.product, int64(it.orders), it.sales, int64(it.quantity)})
			s.reps = append(s.reps, keptEntry{it.rep, int64(it.orders), it.sales, it.profit})
		}
	}
	s.products, s.reps = sumByID(s.products), sumByID(s.reps)
	if cs != nil {
		cs.mu.Lock()
		cs.byIn[string(key)] = s
		cs.mu.Unlock()
	}
	return s
}

// sumByID sorts entries by id and sums those of one id, in place.
func sumByID(l []keptEntry) []keptEntry {
	slices.SortFunc(l, func(a, b keptEntry) int { return cmp.Compare(a.id, b.id) })
	out := l[:0]
	for _, e := range l {
		if n := len(out) - 1; n >= 0 && out[n].id == e.id {
			out[n].orders, out[n].sales, out[n].extra = out[n].orders+e.orders, out[n].sales+e.sales, out[n].extra+e.extra
			continue
		}
		out = append(out, e)
	}
	return out
}

// Refresh brings a view up to date with the deltas fp describes, applied since it was
// computed: left as it is (restamped with the newest file) when none of their cells lies in
// it or in its previous window, updated with their sums when its window is the same or only
// grew by their days, computed again otherwise.
func (e *Engine) Refresh(old *View, fp Footprint) *View {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if fp.from != old.version || fp.to != e.ver || fp.cells == nil {
		return e.view(old.query)
	}
	v := e.resolve(old.query)
	was, window := old.Snap.Window, api.Window{}
	if !v.empty {
		window = api.Window{From: v.from.String(), To: v.to.String()}
	}
	if was == (api.Window{}) || window == (api.Window{}) || window.From > was.From || window.To < was.To ||
		seriesGrain(v.from, v.to) != old.Snap.SeriesGrain {
		return e.view(old.query)
	}
	combos := e.combos.all()
	var in []readCell
	if !v.none {
		for d, cs := range fp.cells {
			if d < v.from || d > v.to {
				continue
			}
			for id, c := range cs {
				if v.matches(combos[id]) {
					in = append(in, readCell{d, c})
				}
			}
		}
	}
	snap := *old.Snap
	e.stamp(&snap)
	snap.Window = window
	// A change in the previous window, or a window that moved, changes the figures too.
	var previousChanged bool
	snap.Previous, previousChanged = e.refreshPrevious(old, v, fp, combos)
	if len(in) == 0 {
		how := Untouched
		if previousChanged {
			how = Updated
		}
		return &View{Snap: &snap, query: old.query, version: e.ver, tops: old.tops, How: how}
	}
	products, reps := e.products.all(), e.reps.all()
	nv := &View{Snap: &snap, query: old.query, version: e.ver, tops: old.tops, How: Updated}
	u := newUpdate(&snap)
	for _, x := range in {
		u.add(x.day, combos[x.c.combo], &x.c.m, e)
	}
	add := fp.sums.of(in)
	for r := range numRankings {
		if !nv.tops[r].fold(r, add.of(r), r.names(products, reps)) {
			return e.view(old.query)
		}
	}
	u.finish()
	nv.tops.show(&snap, products, reps)
	return nv
}

// update adds cells' measures to a copy of a snapshot's figures. A change touches a few
// days and members of a view that may show hundreds: the figures are copied once and found
// by binary search in their order, not indexed anew.
type update struct {
	s                             *api.Snapshot
	totals                        measures
	byCat, byReg, byCh            []api.Slice       // by sales, put in order again by finish
	trend                         []api.TrendPoint  // by date
	catSeries, chSeries           []api.SeriesPoint // by date, then name
	categories, regions, channels []string
}

func newUpdate(s *api.Snapshot) *update {
	u := &update{s: s}
	t := &s.Totals
	u.totals.sales, u.totals.orders, u.totals.quantity, u.totals.profit = int64(t.Sales), t.Orders, t.Quantity, int64(t.GrossProfit)
	for _, st := range s.ByPaymentStatus {
		if i, ok := ParseStatus(st.Status); ok {
			u.totals.statusOrders[i], u.totals.statusSales[i] = st.Orders, int64(st.Sales)
		}
	}
	u.byCat, u.byReg, u.byCh = slices.Clone(s.ByCategory), slices.Clone(s.ByRegion), slices.Clone(s.ByChannel)
	u.trend = slices.Clone(s.Trend)
	u.catSeries, u.chSeries = slices.Clone(s.CategoryTrend), slices.Clone(s.ChannelDaily)
	return u
}

func (u *update) add(d Day, c combo, m *measures, e *Engine) {
	if u.categories == nil {
		u.categories, u.regions, u.channels = e.categories.all(), e.regions.all(), e.channels.all()
	}
	u.totals.add(m)
	for _, b := range []struct {
		l    *[]api.Slice
		name string
	}{{&u.byCat, u.categories[c.category]}, {&u.byReg, u.regions[c.region]}, {&u.byCh, u.channels[c.channel]}} {
		i := slices.IndexFunc(*b.l, func(sl api.Slice) bool { return sl.Name == b.name })
		if i < 0 {
			*b.l, i = append(*b.l, api.Slice{Name: b.name}), len(*b.l)
		}
		sl := &(*b.l)[i]
		sl.Sales += api.Money(m.sales)
		sl.Orders += m.orders
		sl.Quantity += m.quantity
		sl.GrossProfit += api.Money(m.profit)
	}
	date := d.String()
	i, found := slices.BinarySearchFunc(u.trend, date, func(p api.TrendPoint, d string) int { return strings.Compare(p.Date, d) })
	if !found {
		u.trend = slices.Insert(u.trend, i, api.TrendPoint{Date: date})
	}
	p := &u.trend[i]
	p.Sales += api.Money(m.sales)
	p.Orders += m.orders
	p.GrossProfit += api.Money(m.profit)
	bucketDate := bucket(d, u.s.SeriesGrain).String()
	for _, sr := range []struct {
		l    *[]api.SeriesPoint
		name string
	}{{&u.catSeries, u.categories[c.category]}, {&u.chSeries, u.channels[c.channel]}} {
		i, found := slices.BinarySearchFunc(*sr.l, [2]string{bucketDate, sr.name}, func(p api.SeriesPoint, k [2]string) int {
			return cmp.Or(strings.Compare(p.Date, k[0]), strings.Compare(p.Name, k[1]))
		})
		if !found {
			*sr.l = slices.Insert(*sr.l, i, api.SeriesPoint{Date: bucketDate, Name: sr.name})
		}
		sp := &(*sr.l)[i]
		sp.Sales += api.Money(m.sales)
		sp.GrossProfit += api.Money(m.profit)
		sp.Orders += m.orders
	}
}

// finish writes the updated figures back, in the orders a computation gives them.
func (u *update) finish() {
	s, t := u.s, &u.totals
	s.Totals = totalsOf(t)
	s.ByPaymentStatus = make([]api.StatusStat, 0, numStatuses)
	for st := range numStatuses {
		s.ByPaymentStatus = append(s.ByPaymentStatus, api.StatusStat{Status: statusNames[st], Sales: api.Money(t.statusSales[st]), Orders: t.statusOrders[st]})
	}
	for _, l := range [][]api.Slice{u.byCat, u.byReg, u.byCh} {
		slices.SortFunc(l, func(a, b api.Slice) int {
			return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Name, b.Name))
		})
	}
	s.ByCategory, s.ByRegion, s.ByChannel = u.byCat, u.byReg, u.byCh
	s.Trend, s.CategoryTrend, s.ChannelDaily = u.trend, u.catSeries, u.chSeries
}
