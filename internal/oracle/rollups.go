package oracle

import (
	"fmt"
	"strings"
)

// Rollups computes kpi_cube, kpi_product and kpi_rep as the loads must leave them: both
// grains; for kpi_cube every combination of category, region and channel (” = all); for
// kpi_product and kpi_rep the finest combination and "all". Keys and values are rendered
// as the proof renders the tables' rows.
func (in *Inputs) Rollups() map[string]string {
	type cube struct{ orders, qty, sales, cost, profit, po, ps, qo, qs, co, cs int64 }
	type prod struct{ orders, qty, sales int64 }
	type rep struct{ orders, sales, profit int64 }
	cubes, prods, reps := map[string]*cube{}, map[string]*prod{}, map[string]*rep{}
	for _, s := range in.sales {
		month := s.Date[:8] + "01"
		for _, period := range [][2]string{{"d", s.Date}, {"m", month}} {
			for mask := range 8 {
				cat, reg, ch := s.Category, s.Region, s.Channel
				if mask&1 != 0 {
					cat = ""
				}
				if mask&2 != 0 {
					reg = ""
				}
				if mask&4 != 0 {
					ch = ""
				}
				k := strings.Join([]string{"cube", period[0], period[1], cat, reg, ch}, "|")
				c := cubes[k]
				if c == nil {
					c = &cube{}
					cubes[k] = c
				}
				c.orders++
				c.qty += s.Quantity
				c.sales += s.Total
				c.cost += s.Cost
				c.profit += s.Profit
				switch s.Status {
				case "Paid":
					c.po, c.ps = c.po+1, c.ps+s.Total
				case "Pending":
					c.qo, c.qs = c.qo+1, c.qs+s.Total
				case "Canceled":
					c.co, c.cs = c.co+1, c.cs+s.Total
				}
			}
			for _, dims := range [][3]string{{s.Category, s.Region, s.Channel}, {"", "", ""}} {
				pk := strings.Join([]string{"product", period[0], period[1], dims[0], dims[1], dims[2], s.Product}, "|")
				p := prods[pk]
				if p == nil {
					p = &prod{}
					prods[pk] = p
				}
				p.orders, p.qty, p.sales = p.orders+1, p.qty+s.Quantity, p.sales+s.Total
				rk := strings.Join([]string{"rep", period[0], period[1], dims[0], dims[1], dims[2], s.Rep}, "|")
				r := reps[rk]
				if r == nil {
					r = &rep{}
					reps[rk] = r
				}
				r.orders, r.sales, r.profit = r.orders+1, r.sales+s.Total, r.profit+s.Profit
			}
		}
	}
	out := map[string]string{}
	for k, c := range cubes {
		out[k] = fmt.Sprint(c.orders, c.qty, c.sales, c.cost, c.profit, c.po, c.ps, c.qo, c.qs, c.co, c.cs)
	}
	for k, p := range prods {
		out[k] = fmt.Sprint(p.orders, p.qty, p.sales)
	}
	for k, r := range reps {
		out[k] = fmt.Sprint(r.orders, r.sales, r.profit)
	}
	return out
}
