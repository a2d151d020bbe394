package oracle

import (
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"time"

	"salespulse/server/api"
)

// Check compares a snapshot of filter f with what the inputs say it must show, and
// describes every difference (none: the snapshot is right). Freshness fields (seq, as_of,
// last_file) are the caller's to check.
func (in *Inputs) Check(snap *api.Snapshot, f api.Filter) []string {
	want := in.KPIs(f)
	var diffs []string
	diff := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if snap.Filter != f {
		diff("filter %+v, want %+v", snap.Filter, f)
	}
	if snap.Window != want.Window || snap.DataRange != want.DataRange {
		diff("window %+v data_range %+v, want %+v and %+v", snap.Window, snap.DataRange, want.Window, want.DataRange)
	}
	if !reflect.DeepEqual(snap.Options, want.Options) {
		diff("options %+v, want %+v", snap.Options, want.Options)
	}
	tot := snap.Totals
	if int64(tot.Sales) != want.Sales || tot.Orders != want.Orders || tot.Quantity != want.Quantity ||
		int64(tot.GrossProfit) != want.Profit || int64(tot.CanceledSales) != want.Canceled {
		diff("totals %+v, want sales %d orders %d quantity %d profit %d canceled %d",
			tot, want.Sales, want.Orders, want.Quantity, want.Profit, want.Canceled)
	}
	if wantAvg, wantMargin := derived(want); int64(tot.AvgTicket) != wantAvg || tot.MarginPct != wantMargin {
		diff("avg_ticket %v margin_pct %v, want %d cents and %v", tot.AvgTicket, tot.MarginPct, wantAvg, wantMargin)
	}
	if d := in.checkPrevious(snap.Previous, f, want.Window); d != "" {
		diff("%s", d)
	}
	var statuses []string
	for _, st := range snap.ByPaymentStatus {
		statuses = append(statuses, st.Status)
		if w := want.ByStatus[st.Status]; int64(st.Sales) != w[0] || st.Orders != w[1] {
			diff("payment status %s: %+v, want %v", st.Status, st, w)
		}
	}
	if !slices.Equal(statuses, []string{"Paid", "Pending", "Canceled"}) {
		diff("by_payment_status lists %v", statuses)
	}
	if got, exp := snap.TopProducts.ByQuantity, want.TopProducts(false); !reflect.DeepEqual(nonNil(got), nonNil(exp)) {
		diff("top products by quantity\n got %+v\nwant %+v", got, exp)
	}
	if got, exp := snap.TopProducts.BySales, want.TopProducts(true); !reflect.DeepEqual(nonNil(got), nonNil(exp)) {
		diff("top products by sales\n got %+v\nwant %+v", got, exp)
	}
	if got, exp := snap.TopReps, want.TopReps(); !reflect.DeepEqual(nonNil(got), nonNil(exp)) {
		diff("top reps\n got %+v\nwant %+v", got, exp)
	}
	// A breakdown keeps its own dimension free; when the filter sets that dimension, only its
	// value is shown.
	for _, c := range []struct {
		name, value string
		got         []api.Slice
		want        map[string]*api.Slice
	}{{"category", f.Category, snap.ByCategory, want.ByCategory}, {"region", f.Region, snap.ByRegion, want.ByRegion},
		{"channel", f.Channel, snap.ByChannel, want.ByChannel}} {
		exp := Slices(c.want)
		if c.value != "" {
			exp = slices.DeleteFunc(exp, func(s api.Slice) bool { return s.Name != c.value })
		}
		if !reflect.DeepEqual(nonNil(c.got), nonNil(exp)) {
			diff("by %s\n got %+v\nwant %+v", c.name, c.got, exp)
		}
	}
	var trend []api.TrendPoint
	for _, p := range want.Trend {
		trend = append(trend, *p)
	}
	slices.SortFunc(trend, func(a, b api.TrendPoint) int { return cmpString(a.Date, b.Date) })
	if !reflect.DeepEqual(nonNil(snap.Trend), nonNil(trend)) {
		diff("trend: %d points, want %d (one per sale date), or they differ", len(snap.Trend), len(trend))
	}
	for _, c := range []struct {
		name string
		got  []api.SeriesPoint
		want map[[2]string]*api.SeriesPoint
	}{{"category_trend", snap.CategoryTrend, want.CategoryTrend}, {"channel_daily", snap.ChannelDaily, want.ChannelTrend}} {
		var exp []api.SeriesPoint
		for _, p := range c.want {
			exp = append(exp, *p)
		}
		slices.SortFunc(exp, func(a, b api.SeriesPoint) int {
			if a.Date != b.Date {
				return cmpString(a.Date, b.Date)
			}
			return cmpString(a.Name, b.Name)
		})
		if !reflect.DeepEqual(nonNil(c.got), nonNil(exp)) {
			diff("%s: %d points, want %d, or they differ", c.name, len(c.got), len(exp))
		}
	}
	if snap.Window != (api.Window{}) && snap.SeriesGrain != want.SeriesGrain {
		diff("series grain %q, want %q", snap.SeriesGrain, want.SeriesGrain)
	}
	return diffs
}

// derived are the average ticket (cents) and the margin (%, two decimals) of figures, with
// exact rationals rather than the server's integers.
func derived(k KPIs) (avg int64, margin float64) {
	if k.Orders > 0 {
		avg = Cents(new(big.Rat).SetFrac64(k.Sales, k.Orders*100))
	}
	if k.Sales != 0 {
		m := new(big.Rat).SetFrac64(k.Profit, k.Sales) // × 100 %, to 2 places = cents of it
		margin = float64(Cents(new(big.Rat).Mul(m, big.NewRat(100, 1)))) / 100
	}
	return avg, margin
}

// checkPrevious compares a snapshot's previous window with the one of the same length just
// before the window (none when the window is empty or its start open), and its totals with
// the inputs'; "" when they agree.
func (in *Inputs) checkPrevious(got api.Previous, f api.Filter, window api.Window) string {
	var want api.Previous
	switch {
	case window == (api.Window{}):
		want.Reason = "no_window"
	case f.From == "":
		want.Reason = "open_start"
	default:
		from, _ := time.Parse(time.DateOnly, window.From)
		to, _ := time.Parse(time.DateOnly, window.To)
		days := int(to.Sub(from).Hours()/24) + 1
		start := from.AddDate(0, 0, -days)
		if start.Year() < 1 {
			want.Reason = "no_window"
			break
		}
		want.Window = api.Window{From: start.Format(time.DateOnly), To: from.AddDate(0, 0, -1).Format(time.DateOnly)}
		k := in.KPIs(api.Filter{From: want.Window.From, To: want.Window.To, Category: f.Category, Region: f.Region, Channel: f.Channel})
		avg, margin := derived(k)
		want.Totals = api.Totals{Sales: api.Money(k.Sales), Orders: k.Orders, AvgTicket: api.Money(avg), Quantity: k.Quantity,
			GrossProfit: api.Money(k.Profit), MarginPct: margin, CanceledSales: api.Money(k.Canceled)}
	}
	if got != want {
		return fmt.Sprintf("previous %+v, want %+v", got, want)
	}
	return ""
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
