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
	products map[productKey]*productSums
	reps     map[repKey]*repSums
	months   map[int64]int64 // day → first day of its month, as days since 1970-01-01
}

const foldLimit = 50_000

type dimKey struct {
	day                       int64 // days since 1970-01-01
	category, region, channel string
}

type productKey struct {
	dimKey
	product string
}

type repKey struct {
	dimKey
	rep string
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
	return &fold{
		products: make(map[productKey]*productSums),
		reps:     make(map[repKey]*repSums),
		months:   make(map[int64]int64),
	}
}

func (f *fold) add(s *db.CopySalesParams) {
	d := dimKey{
		day:      s.SaleDate.Time.Unix() / 86400,
		category: s.ProductCategory,
		region:   s.SalesRegion,
		channel:  s.SalesChannel,
	}
	p := f.product(productKey{d, s.ProductName})
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
	r := f.rep(repKey{d, s.SalesRep})
	r.orders++
	r.sales += s.TotalValueCents
	r.profit += s.GrossProfitCents.Int64
}

func (f *fold) product(k productKey) *productSums {
	p := f.products[k]
	if p == nil {
		p = &productSums{}
		f.products[k] = p
	}
	return p
}

func (f *fold) rep(k repKey) *repSums {
	r := f.reps[k]
	if r == nil {
		r = &repSums{}
		f.reps[k] = r
	}
	return r
}

// addFoldProduct and addFoldRep take the merge path's sums.
func (f *fold) addFoldProduct(r db.FoldProduct) {
	f.product(productKey{dimKey{r.SaleDate.Time.Unix() / 86400, r.Category, r.Region, r.Channel}, r.Product}).addSums(&productSums{
		orders: r.Orders, quantity: r.Quantity, sales: r.SalesCents, cost: r.CostCents,
		profit: r.GrossProfitCents, paidOrders: r.PaidOrders, paidSales: r.PaidSalesCents,
		pendingOrders: r.PendingOrders, pendingSales: r.PendingSalesCents,
		canceledOrders: r.CanceledOrders, canceledSales: r.CanceledSalesCents,
	})
}

func (f *fold) addFoldRep(r db.FoldRep) {
	s := f.rep(repKey{dimKey{r.SaleDate.Time.Unix() / 86400, r.Category, r.Region, r.Channel}, r.Rep})
	s.orders += r.Orders
	s.sales += r.SalesCents
	s.profit += r.GrossProfitCents
}

func (f *fold) full() bool { return len(f.products)+len(f.reps) >= foldLimit }

func (f *fold) empty() bool { return len(f.products)+len(f.reps) == 0 }

// deltas are rollup rows ready for the delta tables.
type deltas struct {
	cube     []db.CopyDeltaCubeParams
	products []db.CopyDeltaProductParams
	reps     []db.CopyDeltaRepParams
}

type periodKey struct {
	grain  byte
	period int64
}

type rollupKey struct {
	periodKey
	category, region, channel, name string
}

// drain expands the sums into rollup rows and starts afresh.
func (f *fold) drain() deltas {
	// kpi_cube: sum over products per (day, dims), then every grain and filter combination.
	fine := make(map[dimKey]*productSums)
	for k, p := range f.products {
		s := fine[k.dimKey]
		if s == nil {
			s = &productSums{}
			fine[k.dimKey] = s
		}
		s.addSums(p)
	}
	cube := make(map[rollupKey]*productSums)
	for k, p := range fine {
		for _, pk := range f.periods(k.day) {
			for mask := 0; mask < 8; mask++ {
				rk := rollupKey{periodKey: pk, category: k.category, region: k.region, channel: k.channel}
				if mask&1 != 0 {
					rk.category = ""
				}
				if mask&2 != 0 {
					rk.region = ""
				}
				if mask&4 != 0 {
					rk.channel = ""
				}
				s := cube[rk]
				if s == nil {
					s = &productSums{}
					cube[rk] = s
				}
				s.addSums(p)
			}
		}
	}
	var out deltas
	out.cube = make([]db.CopyDeltaCubeParams, 0, len(cube))
	for k, s := range cube {
		out.cube = append(out.cube, db.CopyDeltaCubeParams{
			Grain: string(k.grain), Period: dayDate(k.period), Category: k.category, Region: k.region,
			Channel: k.channel, Orders: s.orders, Quantity: s.quantity, SalesCents: s.sales,
			CostCents: s.cost, GrossProfitCents: s.profit, PaidOrders: s.paidOrders,
			PaidSalesCents: s.paidSales, PendingOrders: s.pendingOrders,
			PendingSalesCents: s.pendingSales, CanceledOrders: s.canceledOrders,
			CanceledSalesCents: s.canceledSales,
		})
	}

	// kpi_product and kpi_rep: the finest combination and "all", at both grains.
	products := make(map[rollupKey]*productSums)
	for k, p := range f.products {
		for _, rk := range f.finestAndAll(k.dimKey, k.product) {
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
			Grain: string(k.grain), Period: dayDate(k.period), Category: k.category, Region: k.region,
			Channel: k.channel, Product: k.name, Orders: s.orders, Quantity: s.quantity, SalesCents: s.sales,
		})
	}
	reps := make(map[rollupKey]*repSums)
	for k, r := range f.reps {
		for _, rk := range f.finestAndAll(k.dimKey, k.rep) {
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
			Grain: string(k.grain), Period: dayDate(k.period), Category: k.category, Region: k.region,
			Channel: k.channel, Rep: k.name, Orders: s.orders, SalesCents: s.sales, GrossProfitCents: s.profit,
		})
	}
	clear(f.products)
	clear(f.reps)
	return out
}

// periods are the day's rollup periods: the day itself and its month.
func (f *fold) periods(day int64) [2]periodKey {
	month, ok := f.months[day]
	if !ok {
		t := time.Unix(day*86400, 0).UTC()
		month = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).Unix() / 86400
		f.months[day] = month
	}
	return [2]periodKey{{'d', day}, {'m', month}}
}

func (f *fold) finestAndAll(d dimKey, name string) [4]rollupKey {
	ps := f.periods(d.day)
	return [4]rollupKey{
		{ps[0], d.category, d.region, d.channel, name},
		{ps[0], "", "", "", name},
		{ps[1], d.category, d.region, d.channel, name},
		{ps[1], "", "", "", name},
	}
}

func dayDate(day int64) pgtype.Date {
	return pgtype.Date{Time: time.Unix(day*86400, 0).UTC(), Valid: true}
}
