package oracle

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"salespulse/server/api"
)

// KPIs are the figures a snapshot of one filter must show.
type KPIs struct {
	Sales, Orders, Quantity, Profit, Canceled int64               // cents for money
	ByStatus                                  map[string][2]int64 // Paid, Pending, Canceled: sales, orders
	Products                                  map[string]*api.ProductStat
	Reps                                      map[string]*api.RepStat
	ByCategory, ByRegion, ByChannel           map[string]*api.Slice
	Trend                                     map[string]*api.TrendPoint
	CategoryTrend, ChannelTrend               map[[2]string]*api.SeriesPoint // by (bucket, name)
	SeriesGrain                               string
	Window, DataRange                         api.Window
	Options                                   api.Options
}

// KPIs computes the figures of a filter over the distinct sales read. The window's open ends
// are the first and last sale dates, as the server resolves them; the breakdowns by category,
// region and channel keep their own dimension free and match the other two.
func (in *Inputs) KPIs(f api.Filter) KPIs {
	k := KPIs{
		ByStatus: map[string][2]int64{}, Products: map[string]*api.ProductStat{}, Reps: map[string]*api.RepStat{},
		ByCategory: map[string]*api.Slice{}, ByRegion: map[string]*api.Slice{}, ByChannel: map[string]*api.Slice{},
		Trend: map[string]*api.TrendPoint{}, CategoryTrend: map[[2]string]*api.SeriesPoint{},
		ChannelTrend: map[[2]string]*api.SeriesPoint{},
		Options:      api.Options{Categories: []string{}, Regions: []string{}, Channels: []string{}},
	}
	slice := func(m map[string]*api.Slice, name string, s Sale) {
		sl := m[name]
		if sl == nil {
			sl = &api.Slice{Name: name}
			m[name] = sl
		}
		sl.Sales += api.Money(s.Total)
		sl.Orders++
		sl.Quantity += s.Quantity
		sl.GrossProfit += api.Money(s.Profit)
	}
	first, last := "9999-12-31", "0000-01-01"
	values := [3]map[string]bool{{}, {}, {}}
	for _, s := range in.sales {
		first, last = min(first, s.Date), max(last, s.Date)
		values[0][s.Category], values[1][s.Region], values[2][s.Channel] = true, true, true
	}
	for i, dst := range []*[]string{&k.Options.Categories, &k.Options.Regions, &k.Options.Channels} {
		for v := range values[i] {
			*dst = append(*dst, v)
		}
		slices.Sort(*dst)
	}
	if len(in.sales) == 0 {
		return k
	}
	k.DataRange = api.Window{From: first, To: last}
	from, to := cmp.Or(f.From, first), cmp.Or(f.To, last)
	if from > to {
		return k
	}
	k.Window = api.Window{From: from, To: to}
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	switch days := int(b.Sub(a).Hours()/24) + 1; {
	case days <= 92:
		k.SeriesGrain = "day"
	case days <= 366:
		k.SeriesGrain = "week"
	default:
		k.SeriesGrain = "month"
	}
	bucket := func(date string) string {
		d, _ := time.Parse(time.DateOnly, date)
		switch k.SeriesGrain {
		case "week":
			d = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // back to Monday
		case "month":
			d = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		return d.Format(time.DateOnly)
	}
	for _, s := range in.Sales() {
		if (f.From != "" && s.Date < f.From) || (f.To != "" && s.Date > f.To) {
			continue
		}
		inCat := f.Category == "" || s.Category == f.Category
		inReg := f.Region == "" || s.Region == f.Region
		inCh := f.Channel == "" || s.Channel == f.Channel
		if inReg && inCh {
			slice(k.ByCategory, s.Category, s)
		}
		if inCat && inCh {
			slice(k.ByRegion, s.Region, s)
		}
		if inCat && inReg {
			slice(k.ByChannel, s.Channel, s)
		}
		if !inCat || !inReg || !inCh {
			continue
		}
		k.Sales += s.Total
		k.Orders++
		k.Quantity += s.Quantity
		k.Profit += s.Profit
		if s.Status == "Canceled" {
			k.Canceled += s.Total
		}
		st := k.ByStatus[s.Status]
		k.ByStatus[s.Status] = [2]int64{st[0] + s.Total, st[1] + 1}
		p := k.Products[s.Product]
		if p == nil {
			p = &api.ProductStat{Product: s.Product}
			k.Products[s.Product] = p
		}
		p.Quantity += s.Quantity
		p.Sales += api.Money(s.Total)
		p.Orders++
		r := k.Reps[s.Rep]
		if r == nil {
			r = &api.RepStat{Rep: s.Rep}
			k.Reps[s.Rep] = r
		}
		r.Sales += api.Money(s.Total)
		r.Orders++
		r.GrossProfit += api.Money(s.Profit)
		tp := k.Trend[s.Date]
		if tp == nil {
			tp = &api.TrendPoint{Date: s.Date}
			k.Trend[s.Date] = tp
		}
		tp.Sales += api.Money(s.Total)
		tp.Orders++
		tp.GrossProfit += api.Money(s.Profit)
		for _, series := range []struct {
			m    map[[2]string]*api.SeriesPoint
			name string
		}{{k.CategoryTrend, s.Category}, {k.ChannelTrend, s.Channel}} {
			key := [2]string{bucket(s.Date), series.name}
			sp := series.m[key]
			if sp == nil {
				sp = &api.SeriesPoint{Date: key[0], Name: key[1]}
				series.m[key] = sp
			}
			sp.Sales += api.Money(s.Total)
			sp.GrossProfit += api.Money(s.Profit)
			sp.Orders++
		}
	}
	return k
}

// TopProducts ranks like the dashboard: the ten with most quantity (or sales) first, ties by
// name in byte order.
func (k KPIs) TopProducts(bySales bool) []api.ProductStat {
	var all []api.ProductStat
	for _, p := range k.Products {
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

// TopReps are the ten reps with most sales, ties by name.
func (k KPIs) TopReps() []api.RepStat {
	var all []api.RepStat
	for _, r := range k.Reps {
		all = append(all, *r)
	}
	slices.SortFunc(all, func(a, b api.RepStat) int {
		return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Rep, b.Rep))
	})
	return all[:min(10, len(all))]
}

// Slices orders a breakdown like the dashboard: most sales first, ties by name.
func Slices(m map[string]*api.Slice) []api.Slice {
	out := []api.Slice{}
	for _, s := range m {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b api.Slice) int {
		return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Name, b.Name))
	})
	return out
}
