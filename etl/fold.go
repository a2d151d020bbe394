package etl

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
)

// fold sums a file's new sales by day, filter dimensions (category, region, channel) and
// product or rep, then expands the sums into rows of the rollup tables: both grains (day and
// month) and, for kpi_cube, every filter combination (” = all); for kpi_product and kpi_rep,
// the finest combination and "all". The database then only adds those rows in.
//
// On the COPY path it sums rows as they stream (every row read is a row inserted); on the
// merge path it takes the sums MergeStaged computed. It drains whenever it holds foldLimit
// groups, so memory stays flat however large or varied the file.
type fold struct {
	products map[fineKey]*productSums
	reps     map[fineKey]*repSums
	ids      map[string]uint32 // dimension values and names as small integers; 0 is ""
	values   []string
	months   map[int32]int32 // day → first day of its month, as days since 1970-01-01
}

// foldLimit bounds the groups held (about 100 bytes each) before the sums are expanded and
// handed over; a daily file never reaches it, a file spanning a year of sales rarely does.
const foldLimit = 400_000

// fineKey is a day, the three filter dimensions and a product or rep, as interned ids.
type fineKey struct {
	day                             int32
	category, region, channel, name uint32
}

type productSums struct {
	orders, quantity, sales, cost, profit                              int64
	paidOrders, paidSales, pendingOrders, pendingSales, canceledOrders int64
	canceledSales                                                      int64
}

func (p *productSums) addSums(o *productSums) {
	p.orders += o.orders
	p.quantity += o.quantity
	p.sales += o.sales
	p.cost += o.cost
	p.profit += o.profit
	p.paidOrders += o.paidOrders
	p.paidSales += o.paidSales
	p.pendingOrders += o.pendingOrders
	p.pendingSales += o.pendingSales
	p.canceledOrders += o.canceledOrders
	p.canceledSales += o.canceledSales
}

type repSums struct{ orders, sales, profit int64 }

func newFold() *fold {
	f := &fold{
		products: make(map[fineKey]*productSums),
		reps:     make(map[fineKey]*repSums),
		months:   make(map[int32]int32),
	}
	f.resetIDs()
	return f
}

func (f *fold) resetIDs() {
	f.ids = map[string]uint32{"": 0}
	f.values = append(f.values[:0], "")
}

func (f *fold) id(s string) uint32 {
	if id, ok := f.ids[s]; ok {
		return id
	}
	id := uint32(len(f.values))
	f.ids[s] = id
	f.values = append(f.values, s)
	return id
}

func (f *fold) key(day pgtype.Date, category, region, channel, name string) fineKey {
	return fineKey{
		day:      int32(day.Time.Unix() / 86400),
		category: f.id(category), region: f.id(region), channel: f.id(channel), name: f.id(name),
	}
}

func (f *fold) add(s *db.CopySalesParams) {
	k := f.key(s.SaleDate, s.ProductCategory, s.SalesRegion, s.SalesChannel, s.ProductName)
	p := f.product(k)
	p.orders++
	p.quantity += int64(s.Quantity)
	p.sales += s.TotalValueCents
	p.cost += s.TotalCostCents.Int64
	p.profit += s.GrossProfitCents.Int64
	switch s.PaymentStatus {
	case "Paid":
		p.paidOrders++
		p.paidSales += s.TotalValueCents
	case "Pending":
		p.pendingOrders++
		p.pendingSales += s.TotalValueCents
	case "Canceled":
		p.canceledOrders++
		p.canceledSales += s.TotalValueCents
	}
	k.name = f.id(s.SalesRep)
	r := f.rep(k)
	r.orders++
	r.sales += s.TotalValueCents
	r.profit += s.GrossProfitCents.Int64
}

func (f *fold) product(k fineKey) *productSums {
	p := f.products[k]
	if p == nil {
		p = &productSums{}
		f.products[k] = p
	}
	return p
}

func (f *fold) rep(k fineKey) *repSums {
	r := f.reps[k]
	if r == nil {
		r = &repSums{}
		f.reps[k] = r
	}
	return r
}

// addFoldProduct and addFoldRep take the merge path's sums.
func (f *fold) addFoldProduct(r db.FoldProduct) {
	f.product(f.key(r.SaleDate, r.Category, r.Region, r.Channel, r.Product)).addSums(&productSums{
		orders: r.Orders, quantity: r.Quantity, sales: r.SalesCents, cost: r.CostCents,
		profit: r.GrossProfitCents, paidOrders: r.PaidOrders, paidSales: r.PaidSalesCents,
		pendingOrders: r.PendingOrders, pendingSales: r.PendingSalesCents,
		canceledOrders: r.CanceledOrders, canceledSales: r.CanceledSalesCents,
	})
}

func (f *fold) addFoldRep(r db.FoldRep) {
	s := f.rep(f.key(r.SaleDate, r.Category, r.Region, r.Channel, r.Rep))
	s.orders += r.Orders
	s.sales += r.SalesCents
	s.profit += r.GrossProfitCents
}

func (f *fold) full() bool { return len(f.products)+len(f.reps) >= foldLimit }

// deltas are rollup rows ready for the delta tables.
type deltas struct {
	cube     []db.CopyDeltaCubeParams
	products []db.CopyDeltaProductParams
	reps     []db.CopyDeltaRepParams
}

// rollupKey is a row of a rollup table: grain, period and fineKey's ids (0 = "" = all).
type rollupKey struct {
	grain                           byte
	period                          int32
	category, region, channel, name uint32
}

// drain expands the sums into rollup rows and starts afresh.
func (f *fold) drain() deltas {
	// kpi_cube: sum over products per day and dimensions, then every grain and combination.
	fine := make(map[fineKey]*productSums)
	for k, p := range f.products {
		k.name = 0
		s := fine[k]
		if s == nil {
			s = &productSums{}
			fine[k] = s
		}
		s.addSums(p)
	}
	cube := make(map[rollupKey]*productSums)
	for k, p := range fine {
		for _, rk := range f.cubeKeys(k) {
			s := cube[rk]
			if s == nil {
				s = &productSums{}
				cube[rk] = s
			}
			s.addSums(p)
		}
	}
	var out deltas
	out.cube = make([]db.CopyDeltaCubeParams, 0, len(cube))
	for k, s := range cube {
		out.cube = append(out.cube, db.CopyDeltaCubeParams{
			Grain: string(k.grain), Period: dayDate(k.period), Category: f.values[k.category],
			Region: f.values[k.region], Channel: f.values[k.channel], Orders: s.orders,
			Quantity: s.quantity, SalesCents: s.sales, CostCents: s.cost, GrossProfitCents: s.profit,
			PaidOrders: s.paidOrders, PaidSalesCents: s.paidSales, PendingOrders: s.pendingOrders,
			PendingSalesCents: s.pendingSales, CanceledOrders: s.canceledOrders,
			CanceledSalesCents: s.canceledSales,
		})
	}

	// kpi_product and kpi_rep: the finest combination and "all", at both grains.
	products := make(map[rollupKey]*productSums)
	for k, p := range f.products {
		for _, rk := range f.finestAndAll(k) {
			s := products[rk]
			if s == nil {
				s = &productSums{}
				products[rk] = s
			}
			s.orders += p.orders
			s.quantity += p.quantity
			s.sales += p.sales
		}
	}
	out.products = make([]db.CopyDeltaProductParams, 0, len(products))
	for k, s := range products {
		out.products = append(out.products, db.CopyDeltaProductParams{
			Grain: string(k.grain), Period: dayDate(k.period), Category: f.values[k.category],
			Region: f.values[k.region], Channel: f.values[k.channel], Product: f.values[k.name],
			Orders: s.orders, Quantity: s.quantity, SalesCents: s.sales,
		})
	}
	reps := make(map[rollupKey]*repSums)
	for k, r := range f.reps {
		for _, rk := range f.finestAndAll(k) {
			s := reps[rk]
			if s == nil {
				s = &repSums{}
				reps[rk] = s
			}
			s.orders += r.orders
			s.sales += r.sales
			s.profit += r.profit
		}
	}
	out.reps = make([]db.CopyDeltaRepParams, 0, len(reps))
	for k, s := range reps {
		out.reps = append(out.reps, db.CopyDeltaRepParams{
			Grain: string(k.grain), Period: dayDate(k.period), Category: f.values[k.category],
			Region: f.values[k.region], Channel: f.values[k.channel], Rep: f.values[k.name],
			Orders: s.orders, SalesCents: s.sales, GrossProfitCents: s.profit,
		})
	}
	clear(f.products)
	clear(f.reps)
	f.resetIDs()
	return out
}

// periods are the day's rollup periods: the day itself and its month.
func (f *fold) periods(day int32) [2]rollupKey {
	month, ok := f.months[day]
	if !ok {
		t := time.Unix(int64(day)*86400, 0).UTC()
		month = int32(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		f.months[day] = month
	}
	return [2]rollupKey{{grain: 'd', period: day}, {grain: 'm', period: month}}
}

// cubeKeys are the 16 kpi_cube rows a day's sums go to: two grains × the 8 members of the
// CUBE of (category, region, channel), where a dimension left out is "all".
func (f *fold) cubeKeys(k fineKey) [16]rollupKey {
	var out [16]rollupKey
	for i, p := range f.periods(k.day) {
		for mask := range 8 {
			rk := p
			if mask&1 == 0 {
				rk.category = k.category
			}
			if mask&2 == 0 {
				rk.region = k.region
			}
			if mask&4 == 0 {
				rk.channel = k.channel
			}
			out[i*8+mask] = rk
		}
	}
	return out
}

// finestAndAll are the four kpi_product or kpi_rep rows a group goes to.
func (f *fold) finestAndAll(k fineKey) [4]rollupKey {
	var out [4]rollupKey
	for i, p := range f.periods(k.day) {
		finest := p
		finest.category, finest.region, finest.channel, finest.name = k.category, k.region, k.channel, k.name
		all := p
		all.name = k.name
		out[2*i], out[2*i+1] = finest, all
	}
	return out
}

func dayDate(day int32) pgtype.Date {
	return pgtype.Date{Time: time.Unix(int64(day)*86400, 0).UTC(), Valid: true}
}
