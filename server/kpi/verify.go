package kpi

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// A Check is a filter whose snapshot verify holds against a recomputation from sales.
type Check struct {
	Name   string
	Filter api.Filter
}

// Checks are the filters verify checks for data between first and last: all time, the latest
// day, the last 30 days, a window with ragged ends, the first category, the first region
// with the first channel over the last 90 days and over all time (the lists of whole
// periods a filter of two dimensions reads), and the first category with the first region
// over the ragged window.
func Checks(first, last Day, o api.Options) []Check {
	day := func(d Day) string { return max(first, min(last, d)).String() }
	views := []Check{
		{"all time", api.Filter{}},
		{"latest day", api.Filter{From: day(last), To: day(last)}},
		{"last 30 days", api.Filter{From: day(last - 29), To: day(last)}},
		{"ragged window", api.Filter{From: day(first + 10), To: day(last - 10)}},
	}
	if len(o.Categories) > 0 {
		views = append(views, Check{"category " + o.Categories[0], api.Filter{Category: o.Categories[0]}})
	}
	if len(o.Regions) > 0 && len(o.Channels) > 0 {
		views = append(views, Check{"region and channel, last 90 days", api.Filter{
			From: day(last - 89), To: day(last), Region: o.Regions[0], Channel: o.Channels[0]}},
			Check{"region and channel, all time", api.Filter{Region: o.Regions[0], Channel: o.Channels[0]}})
	}
	if len(o.Categories) > 0 && len(o.Regions) > 0 {
		views = append(views, Check{"category and region, ragged window", api.Filter{
			From: day(first + 10), To: day(last - 10), Category: o.Categories[0], Region: o.Regions[0]}})
	}
	return views
}

// Recompute is what a view must show, computed with plain SQL over sales: totals, the
// payment-status split, the breakdowns, the top lists and the trend (the figures of the
// snapshot the engine derives them from). Window and series are left out.
func Recompute(ctx context.Context, q *db.Queries, f api.Filter, window api.Window) (*api.Snapshot, error) {
	want := &api.Snapshot{Filter: f}
	if window == (api.Window{}) { // nothing to show: a window no sale date falls in
		window = api.Window{From: "0001-01-02", To: "0001-01-01"}
	}
	from, to, err := dates(window)
	if err != nil {
		return nil, err
	}
	tot, err := q.VerifyTotals(ctx, db.VerifyTotalsParams{DateFrom: from, DateTo: to, Category: f.Category, Region: f.Region, Channel: f.Channel})
	if err != nil {
		return nil, fmt.Errorf("totals: %w", err)
	}
	want.Totals = api.Totals{Sales: api.Money(tot.SalesCents), Orders: tot.Orders, AvgTicket: api.Money(divRound(tot.SalesCents, tot.Orders)),
		Quantity: tot.Quantity, GrossProfit: api.Money(tot.GrossProfitCents), MarginPct: marginPct(tot.GrossProfitCents, tot.SalesCents),
		CanceledSales: api.Money(tot.CanceledSalesCents)}
	want.ByPaymentStatus = []api.StatusStat{
		{Status: "Paid", Sales: api.Money(tot.PaidSalesCents), Orders: tot.PaidOrders},
		{Status: "Pending", Sales: api.Money(tot.PendingSalesCents), Orders: tot.PendingOrders},
		{Status: "Canceled", Sales: api.Money(tot.CanceledSalesCents), Orders: tot.CanceledOrders},
	}
	bd, err := q.VerifyBreakdowns(ctx, db.VerifyBreakdownsParams{DateFrom: from, DateTo: to, Category: f.Category, Region: f.Region, Channel: f.Channel})
	if err != nil {
		return nil, fmt.Errorf("breakdowns: %w", err)
	}
	want.ByCategory, want.ByRegion, want.ByChannel = []api.Slice{}, []api.Slice{}, []api.Slice{}
	for _, r := range bd {
		sl := api.Slice{Name: r.Value, Sales: api.Money(r.SalesCents), Orders: r.Orders, Quantity: r.Quantity, GrossProfit: api.Money(r.GrossProfitCents)}
		dst := map[string]*[]api.Slice{"category": &want.ByCategory, "region": &want.ByRegion, "channel": &want.ByChannel}[r.Dimension]
		*dst = append(*dst, sl)
	}
	for _, l := range [][]api.Slice{want.ByCategory, want.ByRegion, want.ByChannel} {
		slices.SortFunc(l, func(a, b api.Slice) int {
			return cmp.Or(cmp.Compare(b.Sales, a.Sales), strings.Compare(a.Name, b.Name))
		})
	}
	tp, err := q.VerifyTopProducts(ctx, db.VerifyTopProductsParams{DateFrom: from, DateTo: to, Category: f.Category, Region: f.Region, Channel: f.Channel})
	if err != nil {
		return nil, fmt.Errorf("top products: %w", err)
	}
	want.TopProducts = api.TopProducts{ByQuantity: []api.ProductStat{}, BySales: []api.ProductStat{}}
	for _, r := range tp {
		ps := api.ProductStat{Product: r.Product, Quantity: r.Quantity, Sales: api.Money(r.SalesCents), Orders: r.Orders}
		if r.Ranking == "quantity" {
			want.TopProducts.ByQuantity = append(want.TopProducts.ByQuantity, ps)
		} else {
			want.TopProducts.BySales = append(want.TopProducts.BySales, ps)
		}
	}
	reps, err := q.VerifyTopReps(ctx, db.VerifyTopRepsParams{DateFrom: from, DateTo: to, Category: f.Category, Region: f.Region, Channel: f.Channel})
	if err != nil {
		return nil, fmt.Errorf("top reps: %w", err)
	}
	want.TopReps = []api.RepStat{}
	for _, r := range reps {
		want.TopReps = append(want.TopReps, api.RepStat{Rep: r.Rep, Sales: api.Money(r.SalesCents), Orders: r.Orders, GrossProfit: api.Money(r.GrossProfitCents)})
	}
	trend, err := q.VerifyTrend(ctx, db.VerifyTrendParams{DateFrom: from, DateTo: to, Category: f.Category, Region: f.Region, Channel: f.Channel})
	if err != nil {
		return nil, fmt.Errorf("trend: %w", err)
	}
	want.Trend = []api.TrendPoint{}
	for _, r := range trend {
		want.Trend = append(want.Trend, api.TrendPoint{Date: r.SaleDate.Time.Format("2006-01-02"), Sales: api.Money(r.SalesCents),
			Orders: r.Orders, GrossProfit: api.Money(r.GrossProfitCents)})
	}
	return want, nil
}

func dates(w api.Window) (pgtype.Date, pgtype.Date, error) {
	var out [2]pgtype.Date
	for i, s := range []string{w.From, w.To} {
		if err := out[i].Scan(s); err != nil {
			return out[0], out[1], fmt.Errorf("window %+v: %w", w, err)
		}
	}
	return out[0], out[1], nil
}

// Differences lists the figures in which a snapshot differs from a recomputation.
func Differences(got, want *api.Snapshot) []string {
	var out []string
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"totals", got.Totals, want.Totals},
		{"by_payment_status", nonNil(got.ByPaymentStatus), nonNil(want.ByPaymentStatus)},
		{"by_category", nonNil(got.ByCategory), nonNil(want.ByCategory)},
		{"by_region", nonNil(got.ByRegion), nonNil(want.ByRegion)},
		{"by_channel", nonNil(got.ByChannel), nonNil(want.ByChannel)},
		{"top_products.by_quantity", nonNil(got.TopProducts.ByQuantity), nonNil(want.TopProducts.ByQuantity)},
		{"top_products.by_sales", nonNil(got.TopProducts.BySales), nonNil(want.TopProducts.BySales)},
		{"top_reps", nonNil(got.TopReps), nonNil(want.TopReps)},
		{"trend", nonNil(got.Trend), nonNil(want.Trend)},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			out = append(out, c.name)
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
