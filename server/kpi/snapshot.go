package kpi

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
	"time"

	"salespulse/server/api"
)

// TopN is the length of the top-products and top-reps lists.
const TopN = 10

// Query is a view: a filter as asked, with its dates parsed (an end not given is open).
type Query struct {
	Filter         api.Filter
	From, To       Day
	HasFrom, HasTo bool
}

// ParseQuery parses a filter's dates (YYYY-MM-DD; empty leaves that end open).
func ParseQuery(f api.Filter) (Query, error) {
	q := Query{Filter: f}
	for _, p := range []struct {
		s   string
		dst *Day
		has *bool
	}{{f.From, &q.From, &q.HasFrom}, {f.To, &q.To, &q.HasTo}} {
		if p.s == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, p.s)
		if err != nil {
			return q, err
		}
		*p.dst, *p.has = DayOf(d), true
	}
	return q, nil
}

// any is a filter dimension left open.
const anyValue = -1

// view is a query resolved against the state: ids of the filter's values, and the window.
type view struct {
	cat, reg, ch int64 // ids, or anyValue
	none         bool  // a value nobody sold: every figure is empty
	from, to     Day
	empty        bool // no sales loaded, or the window resolves to nothing
}

func (v *view) matches(c combo) bool {
	return (v.cat == anyValue || v.cat == int64(c.category)) &&
		(v.reg == anyValue || v.reg == int64(c.region)) &&
		(v.ch == anyValue || v.ch == int64(c.channel))
}

// member is the single-dimension member the filter is, if it is one.
func (v *view) member() (member, bool) {
	switch {
	case v.cat == anyValue && v.reg == anyValue && v.ch == anyValue:
		return member{dimAll, 0}, true
	case v.reg == anyValue && v.ch == anyValue:
		return member{dimCategory, uint32(v.cat)}, true
	case v.cat == anyValue && v.ch == anyValue:
		return member{dimRegion, uint32(v.reg)}, true
	case v.cat == anyValue && v.reg == anyValue:
		return member{dimChannel, uint32(v.ch)}, true
	}
	return member{}, false
}

// Snapshot computes the view of a query from the state as it is: every figure from the same
// deltas. Seq is left for the caller to number.
func (e *Engine) Snapshot(q Query) *api.Snapshot { return e.View(q).Snap }

// View computes the view of a query, with what a later change needs to update it (Refresh).
func (e *Engine) View(q Query) *View {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.view(q)
}

// view is View with the read lock held.
func (e *Engine) view(q Query) *View {
	snap := &api.Snapshot{Filter: q.Filter}
	e.stamp(snap)
	v := e.resolve(q)
	if !v.empty {
		snap.Window = api.Window{From: v.from.String(), To: v.to.String()}
		snap.SeriesGrain = seriesGrain(v.from, v.to)
	}
	f := &figures{e: e, v: v, snap: snap}
	f.compute()
	snap.Previous = e.previous(q, v)
	return &View{Snap: snap, query: q, version: e.ver, tops: f.tops}
}

// stamp sets what a snapshot says of the data as a whole: the newest file, the date range
// and the filter menus.
func (e *Engine) stamp(snap *api.Snapshot) {
	snap.AsOf, snap.LastFile, snap.LastFileID = nil, "", 0
	if e.latest.ID != 0 {
		at := e.latest.FinishedAt.UTC()
		snap.AsOf, snap.LastFile, snap.LastFileID = &at, e.latest.Key, e.latest.ID
	}
	snap.Options = e.options()
	snap.DataRange = api.Window{}
	if len(e.order) > 0 {
		snap.DataRange = api.Window{From: e.order[0].String(), To: e.order[len(e.order)-1].String()}
	}
}

func (e *Engine) resolve(q Query) view {
	v := view{cat: anyValue, reg: anyValue, ch: anyValue}
	for _, d := range []struct {
		value string
		t     *table[string]
		dst   *int64
	}{{q.Filter.Category, e.categories, &v.cat}, {q.Filter.Region, e.regions, &v.reg}, {q.Filter.Channel, e.channels, &v.ch}} {
		if d.value == "" {
			continue
		}
		id, ok := d.t.lookup(d.value)
		if !ok {
			v.none = true
		}
		*d.dst = int64(id)
	}
	if len(e.order) == 0 {
		v.empty = true
		return v
	}
	v.from, v.to = e.order[0], e.order[len(e.order)-1]
	if q.HasFrom {
		v.from = q.From
	}
	if q.HasTo {
		v.to = q.To
	}
	v.empty = v.from > v.to
	return v
}

// options are the values of each dimension that have sales, in byte order.
func (e *Engine) options() api.Options {
	o := api.Options{Categories: []string{}, Regions: []string{}, Channels: []string{}}
	combos := e.combos.all()
	seen := [3]map[uint32]bool{{}, {}, {}}
	for id := range e.sold {
		c := combos[id]
		seen[0][c.category], seen[1][c.region], seen[2][c.channel] = true, true, true
	}
	for i, t := range []*table[string]{e.categories, e.regions, e.channels} {
		names := t.all()
		dst := []*[]string{&o.Categories, &o.Regions, &o.Channels}[i]
		for id := range seen[i] {
			*dst = append(*dst, names[id])
		}
		slices.Sort(*dst)
	}
	return o
}

// seriesGrain buckets the breakdown series by the window's length: days up to three months,
// weeks up to a year, months beyond (a two-year window is then 24 points per member, not 730).
func seriesGrain(from, to Day) string {
	switch days := to - from + 1; {
	case days <= 92:
		return "day"
	case days <= 366:
		return "week"
	}
	return "month"
}

// figures computes a snapshot's figures; the engine's read lock is held.
type figures struct {
	e    *Engine
	v    view
	snap *api.Snapshot

	combos              []combo
	totals              measures
	byCat, byReg, byCh  map[uint32]*measures
	catSeries, chSeries map[seriesKey]*measures
	trend               []api.TrendPoint
	tops                tops
}

type seriesKey struct {
	bucket Day
	id     uint32
}

func (f *figures) compute() {
	s := f.snap
	s.TopProducts = api.TopProducts{ByQuantity: []api.ProductStat{}, BySales: []api.ProductStat{}}
	s.ByCategory, s.ByRegion, s.ByChannel = []api.Slice{}, []api.Slice{}, []api.Slice{}
	s.TopReps, s.Trend = []api.RepStat{}, []api.TrendPoint{}
	s.CategoryTrend, s.ChannelDaily = []api.SeriesPoint{}, []api.SeriesPoint{}
	if !f.v.empty && !f.v.none {
		f.combos = f.e.combos.all()
		f.byCat, f.byReg, f.byCh = map[uint32]*measures{}, map[uint32]*measures{}, map[uint32]*measures{}
		f.catSeries, f.chSeries = map[seriesKey]*measures{}, map[seriesKey]*measures{}
		sp := split(f.e.cover(f.v.from, f.v.to))
		f.cube(sp)
		f.trendPoints()
		f.lists(sp)
	}
	t := &f.totals
	s.Totals = totalsOf(t)
	s.ByPaymentStatus = make([]api.StatusStat, 0, numStatuses)
	for st := range numStatuses {
		s.ByPaymentStatus = append(s.ByPaymentStatus, api.StatusStat{
			Status: statusNames[st], Sales: api.Money(t.statusSales[st]), Orders: t.statusOrders[st]})
	}
	if f.byCat != nil {
		s.ByCategory = slicesOf(f.byCat, f.e.categories.all())
		s.ByRegion = slicesOf(f.byReg, f.e.regions.all())
		s.ByChannel = slicesOf(f.byCh, f.e.channels.all())
		s.CategoryTrend = seriesOf(f.catSeries, f.e.categories.all())
		s.ChannelDaily = seriesOf(f.chSeries, f.e.channels.all())
		s.Trend = f.trend
	}
}

// cube sums the measures: totals, the breakdowns (each keeps its own dimension free and
// matches the other two) and the breakdown series. Whole months come from the months'
// combination measures, unless the series are bucketed finer than months; the rest from
// the cells.
func (f *figures) cube(sp span) {
	grain := f.snap.SeriesGrain
	if grain == "month" {
		for _, m := range sp.wholeMonths() {
			p := f.e.months[m]
			if p == nil {
				continue
			}
			for id, ms := range p.combos {
				f.add(f.combos[id], ms, m.first(), true)
			}
		}
		for _, r := range sp.days {
			f.addDays(r[0], r[1], true)
		}
		return
	}
	// Totals and breakdowns from whole months and ragged days; series from every day.
	for _, m := range sp.wholeMonths() {
		if p := f.e.months[m]; p != nil {
			for id, ms := range p.combos {
				f.add(f.combos[id], ms, 0, false)
			}
		}
	}
	for _, r := range sp.days {
		f.addDays(r[0], r[1], false)
	}
	for _, d := range f.e.daysIn(f.v.from, f.v.to) {
		b := bucket(d, grain)
		for _, c := range f.e.days[d].cells {
			f.addSeries(f.combos[c.combo], &c.m, b)
		}
	}
}

func (f *figures) addDays(from, to Day, series bool) {
	grain := f.snap.SeriesGrain
	for _, d := range f.e.daysIn(from, to) {
		b := bucket(d, grain)
		for _, c := range f.e.days[d].cells {
			f.add(f.combos[c.combo], &c.m, b, series)
		}
	}
}

// add counts one combination's measures, when it matches the filter, into the totals and
// the breakdowns by category, region and channel (a dimension the filter sets has its one
// value there); with series, into the bucket given too.
func (f *figures) add(c combo, m *measures, b Day, series bool) {
	if !f.v.matches(c) {
		return
	}
	f.totals.add(m)
	addTo(f.byCat, c.category, m)
	addTo(f.byReg, c.region, m)
	addTo(f.byCh, c.channel, m)
	if series {
		f.addSeries(c, m, b)
	}
}

// addSeries counts one combination's measures, when it matches the filter, into the
// per-category and per-channel series.
func (f *figures) addSeries(c combo, m *measures, b Day) {
	if !f.v.matches(c) {
		return
	}
	addToSeries(f.catSeries, seriesKey{b, c.category}, m)
	addToSeries(f.chSeries, seriesKey{b, c.channel}, m)
}

func addTo(m map[uint32]*measures, id uint32, ms *measures) {
	t := m[id]
	if t == nil {
		t = &measures{}
		m[id] = t
	}
	t.add(ms)
}

func addToSeries(m map[seriesKey]*measures, k seriesKey, ms *measures) {
	t := m[k]
	if t == nil {
		t = &measures{}
		m[k] = t
	}
	t.add(ms)
}

// bucket is the first day of d's bucket: itself, its week's Monday, or its month's first.
func bucket(d Day, grain string) Day {
	switch grain {
	case "week":
		wd := (int(d.Time().Weekday()) + 6) % 7 // days since Monday
		return d - Day(wd)
	case "month":
		return d.month().first()
	}
	return d
}

// trendPoints are one point per sale date of the window that has matching sales.
func (f *figures) trendPoints() {
	mb, single := f.v.member()
	days := f.e.daysIn(f.v.from, f.v.to)
	f.trend = slices.Grow(f.trend, len(days))
	for _, d := range days {
		ds := f.e.days[d]
		var m measures
		if single {
			if t := ds.members[mb]; t != nil {
				m = *t
			}
		} else {
			for _, c := range ds.cells {
				if f.v.matches(f.combos[c.combo]) {
					m.add(&c.m)
				}
			}
		}
		if m.orders > 0 {
			f.trend = append(f.trend, api.TrendPoint{
				Date: d.String(), Sales: api.Money(m.sales), Orders: m.orders, GrossProfit: api.Money(m.profit)})
		}
	}
}

// lists fills the top products and representatives from the lists of whole years and
// months (a single-dimension filter's member's, or those of every combination a filter of
// two or three dimensions matches) and the matching cells of the ragged days. Cells holding
// many items are summed by two goroutines, each into an accumulator of its own.
func (f *figures) lists(sp span) {
	a := getAccumulator(f.e.products.len(), f.e.reps.len())
	defer putAccumulator(a)
	mb, single := f.v.member()
	addPeriod := func(p *period) {
		switch {
		case p == nil:
		case single:
			if l := p.members[mb]; l != nil {
				a.addLists(l)
			}
		default:
			for id := range p.combos {
				if f.v.matches(f.combos[id]) {
					if l := p.members[member{dimCombo, id}]; l != nil {
						a.addLists(l)
					}
				}
			}
		}
	}
	for _, y := range sp.years {
		addPeriod(f.e.years[y])
	}
	for _, m := range sp.months {
		addPeriod(f.e.months[m])
	}
	var cells []*cell
	items := 0
	for _, r := range sp.days {
		for _, d := range f.e.daysIn(r[0], r[1]) {
			for _, c := range f.e.days[d].cells {
				if f.v.matches(f.combos[c.combo]) {
					cells = append(cells, c)
					items += len(c.items)
				}
			}
		}
	}
	if items < parallelItems {
		for _, c := range cells {
			a.addItems(c.items)
		}
	} else {
		half, n := 0, 0 // the first cells that hold half the items
		for half < len(cells) && 2*n < items {
			n += len(cells[half].items)
			half++
		}
		b := getAccumulator(f.e.products.len(), f.e.reps.len())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, c := range cells[half:] {
				b.addItems(c.items)
			}
		}()
		for _, c := range cells[:half] {
			a.addItems(c.items)
		}
		<-done
		a.addSums(b)
		putAccumulator(b)
	}
	f.tops = keepTops(a, f.e.products.all(), f.e.reps.all())
	f.tops.show(f.snap, f.e.products.all(), f.e.reps.all())
}

// parallelItems is the number of cell items from which a view sums them on two goroutines:
// below it, starting one and merging its sums cost more than they save.
const parallelItems = 1 << 15

// slicesOf are the breakdown's entries, most sales first, ties by name.
func slicesOf(m map[uint32]*measures, names []string) []api.Slice {
	out := make([]api.Slice, 0, len(m))
	for id, ms := range m {
		if ms.orders == 0 {
			continue
		}
		out = append(out, api.Slice{Name: names[id], Sales: api.Money(ms.sales), Orders: ms.orders,
			Quantity: ms.quantity, GrossProfit: api.Money(ms.profit)})
	}
	slices.SortFunc(out, func(a, b api.Slice) int {
		return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Name, b.Name))
	})
	return out
}

// seriesOf are the series' points by date, then by name.
func seriesOf(m map[seriesKey]*measures, names []string) []api.SeriesPoint {
	type point struct {
		k  seriesKey
		ms *measures
	}
	pts := make([]point, 0, len(m))
	for k, ms := range m {
		if ms.orders > 0 {
			pts = append(pts, point{k, ms})
		}
	}
	slices.SortFunc(pts, func(a, b point) int {
		return cmp.Or(cmp.Compare(a.k.bucket, b.k.bucket), strings.Compare(names[a.k.id], names[b.k.id]))
	})
	out := make([]api.SeriesPoint, 0, len(pts))
	var last Day = -1 << 30
	var date string
	for _, p := range pts {
		if p.k.bucket != last {
			last, date = p.k.bucket, p.k.bucket.String()
		}
		out = append(out, api.SeriesPoint{Date: date, Name: names[p.k.id], Sales: api.Money(p.ms.sales),
			GrossProfit: api.Money(p.ms.profit), Orders: p.ms.orders})
	}
	return out
}

// divRound is a / b rounded half away from zero; 0 when b is 0.
func divRound(a, b int64) int64 {
	if b == 0 {
		return 0
	}
	q, r := a/b, a%b
	if r < 0 {
		r = -r
	}
	if 2*r >= abs(b) {
		if (a < 0) != (b < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// marginPct is profit / sales × 100 with two decimals, rounded half away from zero, in
// exact arithmetic (profit × 10,000 may not fit in 64 bits for very large sums).
func marginPct(profit, sales int64) float64 {
	if sales == 0 {
		return 0
	}
	num := new(big.Int).Mul(big.NewInt(profit), big.NewInt(10000))
	den := big.NewInt(sales)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(new(big.Int).Abs(den)) >= 0 {
		if num.Sign()*den.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return float64(q.Int64()) / 100
}
