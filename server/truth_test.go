package server

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"salespulse/internal/fixtures"
	"salespulse/server/api"
)

// This file computes, from the fixture CSV files with encoding/csv and math/big alone (none
// of the loader's or the server's code), what the KPIs must be.

// truthSale is one valid sale of the fixtures.
type truthSale struct {
	date, category, region, channel, product, rep, status string
	quantity, total, profit                               int64 // cents for money
}

// fixtureSales reads every valid row of the files, the first occurrence of a sale id
// winning (the fixtures repeat sales across files).
func fixtureSales(t *testing.T, files []string) []truthSale {
	t.Helper()
	seen := map[string]bool{}
	var out []truthSale
	for _, path := range files {
		for _, row := range fixtures.Rows(t, path) {
			sale, ok := row.Sale(t)
			if !ok {
				continue
			}
			id := strings.ToLower(sale.ID)
			if seen[id] {
				continue
			}
			seen[id] = true
			profit := int64(0)
			if sale.Profit != nil {
				profit = cents(sale.Profit)
			}
			out = append(out, truthSale{
				date: sale.Date, category: sale.Category, region: sale.Region,
				channel: sale.Channel, product: sale.Product, rep: sale.Rep,
				status: sale.Status, quantity: sale.Quantity.Num().Int64(), total: cents(sale.Total), profit: profit,
			})
		}
	}
	return out
}

// cents rounds an amount to the cent, half away from zero.
func cents(r *big.Rat) int64 {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	n, d := new(big.Int).Set(x.Num()), x.Denom()
	neg := n.Sign() < 0
	n.Abs(n)
	q, m := new(big.Int).QuoRem(n, d, new(big.Int))
	if m.Lsh(m, 1).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// truth is what a snapshot of one filter must show.
type truth struct {
	sales, orders, quantity, profit, canceled int64
	byStatus                                  map[string][2]int64 // sales, orders
	products                                  map[string]*api.ProductStat
	reps                                      map[string]*api.RepStat
	byCategory, byRegion, byChannel           map[string]*api.Slice
	trend                                     map[string]*api.TrendPoint
	categoryTrend                             map[[2]string]int64 // (bucket, category) → sales
	seriesGrain                               string
}

func computeTruth(sales []truthSale, f api.Filter) truth {
	tr := truth{
		byStatus: map[string][2]int64{}, products: map[string]*api.ProductStat{}, reps: map[string]*api.RepStat{},
		byCategory: map[string]*api.Slice{}, byRegion: map[string]*api.Slice{}, byChannel: map[string]*api.Slice{},
		trend: map[string]*api.TrendPoint{}, categoryTrend: map[[2]string]int64{},
	}
	slice := func(m map[string]*api.Slice, name string, s truthSale) {
		sl := m[name]
		if sl == nil {
			sl = &api.Slice{Name: name}
			m[name] = sl
		}
		sl.Sales += api.Money(s.total)
		sl.Orders++
		sl.Quantity += s.quantity
		sl.GrossProfit += api.Money(s.profit)
	}
	// The window as the server resolves it: open ends at the first and last sale date
	// loaded. Its length picks the bucket of the breakdown series.
	first, last := "9999-12-31", "0000-01-01"
	for _, s := range sales {
		first, last = min(first, s.date), max(last, s.date)
	}
	from, to := cmp.Or(f.From, first), cmp.Or(f.To, last)
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	switch days := int(b.Sub(a).Hours()/24) + 1; {
	case days <= 92:
		tr.seriesGrain = "day"
	case days <= 366:
		tr.seriesGrain = "week"
	default:
		tr.seriesGrain = "month"
	}
	bucket := func(date string) string {
		d, _ := time.Parse(time.DateOnly, date)
		switch tr.seriesGrain {
		case "week":
			d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // back to Monday
		case "month":
			d = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		return d.Format(time.DateOnly)
	}
	for _, s := range sales {
		if (f.From != "" && s.date < f.From) || (f.To != "" && s.date > f.To) {
			continue
		}
		inCat := f.Category == "" || s.category == f.Category
		inReg := f.Region == "" || s.region == f.Region
		inCh := f.Channel == "" || s.channel == f.Channel
		// The breakdowns keep their own dimension free and match the other two.
		if inReg && inCh {
			slice(tr.byCategory, s.category, s)
		}
		if inCat && inCh {
			slice(tr.byRegion, s.region, s)
		}
		if inCat && inReg {
			slice(tr.byChannel, s.channel, s)
		}
		if !inCat || !inReg || !inCh {
			continue
		}
		tr.sales += s.total
		tr.orders++
		tr.quantity += s.quantity
		tr.profit += s.profit
		if s.status == "canceled" {
			tr.canceled += s.total
		}
		st := tr.byStatus[s.status]
		tr.byStatus[s.status] = [2]int64{st[0] + s.total, st[1] + 1}
		p := tr.products[s.product]
		if p == nil {
			p = &api.ProductStat{Product: s.product}
			tr.products[s.product] = p
		}
		p.Quantity += s.quantity
		p.Sales += api.Money(s.total)
		p.Orders++
		r := tr.reps[s.rep]
		if r == nil {
			r = &api.RepStat{Rep: s.rep}
			tr.reps[s.rep] = r
		}
		r.Sales += api.Money(s.total)
		r.Orders++
		r.GrossProfit += api.Money(s.profit)
		tp := tr.trend[s.date]
		if tp == nil {
			tp = &api.TrendPoint{Date: s.date}
			tr.trend[s.date] = tp
		}
		tp.Sales += api.Money(s.total)
		tp.Orders++
		tp.GrossProfit += api.Money(s.profit)
		tr.categoryTrend[[2]string{bucket(s.date), s.category}] += s.total
	}
	return tr
}

// topProducts ranks like the dashboard: most first, ties by name (byte order).
func (tr truth) topProducts(bySales bool) []api.ProductStat {
	var all []api.ProductStat
	for _, p := range tr.products {
		all = append(all, *p)
	}
	slices.SortFunc(all, func(a, b api.ProductStat) int {
		if bySales {
			return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Product, b.Product))
		}
		return cmp.Or(cmp.Compare(b.Quantity, a.Quantity), strings.Compare(a.Product, b.Product))
	})
	return all[:min(10, len(all))]
}

func (tr truth) topReps() []api.RepStat {
	var all []api.RepStat
	for _, r := range tr.reps {
		all = append(all, *r)
	}
	slices.SortFunc(all, func(a, b api.RepStat) int {
		return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Rep, b.Rep))
	})
	return all[:min(10, len(all))]
}

func (tr truth) slices(m map[string]*api.Slice) []api.Slice {
	out := []api.Slice{}
	for _, s := range m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b api.Slice) int {
		return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Name, b.Name))
	})
	return out
}
