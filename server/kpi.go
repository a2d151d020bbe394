package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// topN is the length of the top-products and top-reps lists.
const topN = 10

// computeSnapshot reads one KPI snapshot from the rollups, on two connections at once: the
// first opens a read-only REPEATABLE READ transaction, exports its view of the data and
// resolves the window and the filter lists; then both it and a second transaction, which
// imports the same view, take the remaining queries from a list, the longest first. Every
// figure therefore comes from the same data (a load committing meanwhile shows in all of
// them or in none), and the two longest reads overlap. Computations take turns for
// pool connections two at a time (s.computing), so that they never hold one connection each
// while waiting for a second.
func (s *Server) computeSnapshot(ctx context.Context, q query) (*api.Snapshot, error) {
	select {
	case s.computing <- struct{}{}:
		defer func() { <-s.computing }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start := time.Now()
	snap, err := s.assemble(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s.metrics.snapshotSeconds.Observe(time.Since(start).Seconds())
	return snap, nil
}

// beginSnapshot opens a snapshot's transaction in one round trip. Parallel query is off: the
// rollup reads are small, and starting workers cost more than they saved (over 100 ms for
// the per-day series of two years, against 5 ms serially).
const beginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL max_parallel_workers_per_gather = 0"

// plan is what the queries of a snapshot need: the filter, the window and the value lists.
type plan struct {
	filter  api.Filter
	periods grains // the window split into whole months and ragged days
	values  lists  // the dimension values the filter covers
}

// build is a snapshot being assembled: the fields of snap, and the reps' sums of the two
// halves of the window, ranked once both are read.
type build struct {
	snap *api.Snapshot
	reps [2][]db.KpiRepSumsRow
}

// part is one query of a snapshot and the fields it fills; no two parts fill the same.
type part func(context.Context, *db.Queries, plan, *build) error

// parts are a snapshot's queries after the head, the longest first (as measured with ten
// million sales: the reps' sums, even halved, and the per-day breakdowns dwarf the rest), so
// that two connections taking them in turn finish close together.
var parts = []part{repSums(0), repSums(1), dailyBreakdowns, topProducts, breakdowns, trend, totals, freshness}

func (s *Server) assemble(ctx context.Context, q query) (*api.Snapshot, error) {
	txA, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginSnapshot})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = txA.Rollback(context.WithoutCancel(ctx)) }()
	qa := db.New(txA)
	if s.cfg.SnapshotConns == 1 {
		b := &build{snap: &api.Snapshot{Filter: q.filter}}
		p, err := head(ctx, qa, q, b.snap)
		b.snap.Seq = s.seq.Add(1) // after the first query, which fixed the view of the data
		for _, pt := range parts {
			if err != nil {
				break
			}
			err = pt(ctx, qa, p, b)
		}
		if err != nil {
			return nil, err
		}
		b.rankReps()
		return b.snap, nil
	}
	id, err := qa.ExportSnapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	// The view of the data is fixed now: numbering after this point means a larger seq
	// never shows older data than a smaller one.
	b := &build{snap: &api.Snapshot{Seq: s.seq.Add(1), Filter: q.filter}}

	// The second connection joins while the first resolves the window.
	type joined struct {
		tx  pgx.Tx
		err error
	}
	joinc := make(chan joined, 1)
	go func() {
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginSnapshot + "; SET TRANSACTION SNAPSHOT '" + strings.ReplaceAll(id, "'", "''") + "'"})
		joinc <- joined{tx, err}
	}()
	p, headErr := head(ctx, qa, q, b.snap)
	j := <-joinc
	if j.err != nil {
		return nil, fmt.Errorf("begin the second connection: %w", j.err)
	}
	defer func() { _ = j.tx.Rollback(context.WithoutCancel(ctx)) }()
	if headErr != nil {
		return nil, headErr
	}

	next := make(chan part, len(parts))
	for _, pt := range parts {
		next <- pt
	}
	close(next)
	work := func(qs *db.Queries) error {
		for pt := range next {
			if err := pt(ctx, qs, p, b); err != nil {
				return err
			}
		}
		return nil
	}
	errB := make(chan error, 1)
	go func() { errB <- work(db.New(j.tx)) }()
	errA := work(qa)
	if err := cmp.Or(errA, <-errB); err != nil {
		return nil, err
	}
	b.rankReps()
	return b.snap, nil
}

// head resolves the window and the lists, and fills what does not depend on the filter.
func head(ctx context.Context, qs *db.Queries, q query, snap *api.Snapshot) (plan, error) {
	dr, err := qs.KpiDateRange(ctx)
	if err != nil {
		return plan{}, fmt.Errorf("date range: %w", err)
	}
	w := q.resolve(dayOf(dr.FirstDay), dayOf(dr.LastDay))
	snap.Window = w.api()
	if dr.FirstDay.Valid {
		snap.DataRange = api.Window{From: dr.FirstDay.Time.Format(dateLayout), To: dr.LastDay.Time.Format(dateLayout)}
	}
	if snap.Options, err = options(ctx, qs); err != nil {
		return plan{}, err
	}
	return plan{filter: q.filter, periods: w.grains(), values: listsFor(q.filter, snap.Options)}, nil
}

// freshness fills as_of and last_file from the newest loaded file.
func freshness(ctx context.Context, qs *db.Queries, _ plan, b *build) error {
	snap := b.snap
	last, err := qs.LatestLoadedFile(ctx)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("latest file: %w", err)
	default:
		at := last.FinishedAt.Time.UTC()
		snap.AsOf, snap.LastFile, snap.LastFileID = &at, last.ObjectKey, last.ID
	}
	return nil
}

// totals fills the headline figures and the payment-status split.
func totals(ctx context.Context, qs *db.Queries, p plan, b *build) error {
	snap := b.snap
	f, g := p.filter, p.periods
	tot, err := qs.KpiTotals(ctx, db.KpiTotalsParams{
		Category: f.Category, Region: f.Region, Channel: f.Channel,
		HeadFrom: g.headFrom, HeadTo: g.headTo, TailFrom: g.tailFrom, TailTo: g.tailTo, MonthFrom: g.monthFrom, MonthTo: g.monthTo,
	})
	if err != nil {
		return fmt.Errorf("totals: %w", err)
	}
	snap.Totals = api.Totals{
		Sales: api.Money(tot.SalesCents), Orders: tot.Orders, AvgTicket: api.Money(divRound(tot.SalesCents, tot.Orders)),
		Quantity: tot.Quantity, GrossProfit: api.Money(tot.GrossProfitCents),
		MarginPct: marginPct(tot.GrossProfitCents, tot.SalesCents), CanceledSales: api.Money(tot.CanceledSalesCents),
	}
	snap.ByPaymentStatus = []api.StatusStat{
		{Status: "Paid", Sales: api.Money(tot.PaidSalesCents), Orders: tot.PaidOrders},
		{Status: "Pending", Sales: api.Money(tot.PendingSalesCents), Orders: tot.PendingOrders},
		{Status: "Canceled", Sales: api.Money(tot.CanceledSalesCents), Orders: tot.CanceledOrders},
	}
	return nil
}

// lists are the values of each dimension a filter covers: its own value when it sets the
// dimension, else every value that has sales. Queries over the finest rollup rows take
// them as arrays, which makes each combination one index range scan over the window.
type lists struct{ categories, regions, channels []string }

func listsFor(f api.Filter, o api.Options) lists {
	pick := func(v string, all []string) []string {
		if v != "" {
			return []string{v}
		}
		return all
	}
	return lists{pick(f.Category, o.Categories), pick(f.Region, o.Regions), pick(f.Channel, o.Channels)}
}

func dayOf(d pgtype.Date) time.Time {
	if !d.Valid {
		return time.Time{}
	}
	return d.Time
}

func filtered(f api.Filter) bool { return f.Category != "" || f.Region != "" || f.Channel != "" }

// topProducts reads the best sellers: from the "all" rows when unfiltered, else from the
// finest rows that match the filter.
func topProducts(ctx context.Context, qs *db.Queries, p plan, b *build) error {
	snap := b.snap
	g, l := p.periods, p.values.forTopLists(p.filter)
	rs, err := qs.KpiTopProducts(ctx, db.KpiTopProductsParams{
		HeadFrom: g.headFrom, HeadTo: g.headTo, TailFrom: g.tailFrom, TailTo: g.tailTo, MonthFrom: g.monthFrom, MonthTo: g.monthTo,
		Categories: l.categories, Regions: l.regions, Channels: l.channels, Top: topN,
	})
	if err != nil {
		return fmt.Errorf("top products: %w", err)
	}
	tp := api.TopProducts{ByQuantity: []api.ProductStat{}, BySales: []api.ProductStat{}}
	for _, r := range rs {
		ps := api.ProductStat{Product: r.Product, Quantity: r.Quantity, Sales: api.Money(r.SalesCents), Orders: r.Orders}
		if r.Ranking == "quantity" {
			tp.ByQuantity = append(tp.ByQuantity, ps)
		} else {
			tp.BySales = append(tp.BySales, ps)
		}
	}
	snap.TopProducts = tp
	return nil
}

// repSums reads the reps' sums over one half of the window (see halves).
func repSums(half int) part {
	return func(ctx context.Context, qs *db.Queries, p plan, b *build) error {
		g, l := p.periods.halves()[half], p.values.forTopLists(p.filter)
		rs, err := qs.KpiRepSums(ctx, db.KpiRepSumsParams{
			HeadFrom: g.headFrom, HeadTo: g.headTo, TailFrom: g.tailFrom, TailTo: g.tailTo, MonthFrom: g.monthFrom, MonthTo: g.monthTo,
			Categories: l.categories, Regions: l.regions, Channels: l.channels,
		})
		if err != nil {
			return fmt.Errorf("rep sums: %w", err)
		}
		b.reps[half] = rs
		return nil
	}
}

// rankReps merges the halves' sums and keeps the top reps by sales (ties by name, in byte
// order as the database's "C" collation sorts).
func (b *build) rankReps() {
	sums := make(map[string]*api.RepStat, len(b.reps[0]))
	for _, half := range b.reps {
		for _, r := range half {
			st := sums[r.Rep]
			if st == nil {
				st = &api.RepStat{Rep: r.Rep}
				sums[r.Rep] = st
			}
			st.Orders += r.Orders
			st.Sales += api.Money(r.SalesCents)
			st.GrossProfit += api.Money(r.GrossProfitCents)
		}
	}
	all := make([]api.RepStat, 0, len(sums))
	for _, st := range sums {
		all = append(all, *st)
	}
	slices.SortFunc(all, func(x, y api.RepStat) int {
		return cmp.Or(cmp.Compare(y.Sales, x.Sales), strings.Compare(x.Rep, y.Rep))
	})
	b.snap.TopReps = all[:min(topN, len(all))]
}

// forTopLists picks the rows of kpi_product and kpi_rep to sum: those keep only the finest
// member of the cube and "all", so an unfiltered list reads "all" (” everywhere) and a
// filtered one every finest combination that matches.
func (l lists) forTopLists(f api.Filter) lists {
	if !filtered(f) {
		return lists{[]string{""}, []string{""}, []string{""}}
	}
	return l
}

// breakdowns fills sales by category, region and channel, largest first.
func breakdowns(ctx context.Context, qs *db.Queries, p plan, b *build) error {
	snap := b.snap
	f, g, l := p.filter, p.periods, p.values
	rs, err := qs.KpiBreakdowns(ctx, db.KpiBreakdownsParams{
		Category: f.Category, Region: f.Region, Channel: f.Channel,
		Categories: l.categories, Regions: l.regions, Channels: l.channels,
		HeadFrom: g.headFrom, HeadTo: g.headTo, TailFrom: g.tailFrom, TailTo: g.tailTo, MonthFrom: g.monthFrom, MonthTo: g.monthTo,
	})
	if err != nil {
		return fmt.Errorf("breakdowns: %w", err)
	}
	snap.ByCategory, snap.ByRegion, snap.ByChannel = []api.Slice{}, []api.Slice{}, []api.Slice{}
	for _, r := range rs {
		sl := api.Slice{Name: r.Value, Sales: api.Money(r.SalesCents), Orders: r.Orders, Quantity: r.Quantity, GrossProfit: api.Money(r.GrossProfitCents)}
		switch r.Dimension {
		case "category":
			snap.ByCategory = append(snap.ByCategory, sl)
		case "region":
			snap.ByRegion = append(snap.ByRegion, sl)
		case "channel":
			snap.ByChannel = append(snap.ByChannel, sl)
		}
	}
	for _, list := range [][]api.Slice{snap.ByCategory, snap.ByRegion, snap.ByChannel} {
		slices.SortFunc(list, func(a, b api.Slice) int {
			return cmp.Or(cmp.Compare(b.Sales, a.Sales), cmp.Compare(a.Name, b.Name))
		})
	}
	return nil
}

// trend fills one point per sale date.
func trend(ctx context.Context, qs *db.Queries, p plan, b *build) error {
	snap := b.snap
	f, g := p.filter, p.periods
	rows, err := qs.KpiTrend(ctx, db.KpiTrendParams{
		Category: f.Category, Region: f.Region, Channel: f.Channel, DateFrom: g.dayFrom, DateTo: g.dayTo,
	})
	if err != nil {
		return fmt.Errorf("trend: %w", err)
	}
	snap.Trend = make([]api.TrendPoint, 0, len(rows))
	for _, r := range rows {
		snap.Trend = append(snap.Trend, api.TrendPoint{
			Date: r.Period.Time.Format(dateLayout), Sales: api.Money(r.SalesCents), Orders: r.Orders, GrossProfit: api.Money(r.GrossProfitCents),
		})
	}
	return nil
}

// seriesGrain buckets the breakdown series by the window's length: days up to three months,
// weeks up to a year, months beyond (a two-year window is then 24 points per member, not 730).
func seriesGrain(g grains) string {
	days := g.dayTo.Time.Sub(g.dayFrom.Time).Hours()/24 + 1
	switch {
	case days <= 92:
		return "day"
	case days <= 366:
		return "week"
	}
	return "month"
}

// dailyBreakdowns fills the per-category trend and the channels over time.
func dailyBreakdowns(ctx context.Context, qs *db.Queries, p plan, b *build) error {
	snap := b.snap
	f, g, l := p.filter, p.periods, p.values
	snap.SeriesGrain = seriesGrain(g)
	args := db.KpiDailyBreakdownsParams{
		Category: f.Category, Region: f.Region, Channel: f.Channel,
		Categories: l.categories, Channels: l.channels, Bucket: snap.SeriesGrain,
		HeadFrom: g.headFrom, HeadTo: g.headTo, TailFrom: g.tailFrom, TailTo: g.tailTo,
		MonthFrom: g.monthFrom, MonthTo: g.monthTo,
	}
	if snap.SeriesGrain != "month" { // days and weeks are summed from day rows only
		args.HeadFrom, args.HeadTo = g.dayFrom, g.dayTo
		args.TailFrom, args.TailTo, args.MonthFrom, args.MonthTo = noneFrom, noneTo, noneFrom, noneTo
	}
	daily, err := qs.KpiDailyBreakdowns(ctx, args)
	if err != nil {
		return fmt.Errorf("daily breakdowns: %w", err)
	}
	type point struct {
		day           int64 // days since 1970, for sorting by date
		member, pos   int32
		orders, sales int64
		profit        int64
		date          time.Time
	}
	var points []point
	for _, r := range daily {
		if len(r.Periods) != len(r.Orders) || len(r.Periods) != len(r.SalesCents) || len(r.Periods) != len(r.GrossProfitCents) {
			return errors.New("daily breakdowns: arrays of different lengths")
		}
		for i, d := range r.Periods {
			points = append(points, point{d.Time.Unix() / 86400, r.Member, r.Position, r.Orders[i], r.SalesCents[i], r.GrossProfitCents[i], d.Time})
		}
	}
	// By date, then by name (the lists are in name order).
	slices.SortFunc(points, func(a, b point) int { return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.pos, b.pos)) })
	snap.CategoryTrend, snap.ChannelDaily = []api.SeriesPoint{}, []api.SeriesPoint{}
	days := dayNames{}
	for _, pt := range points {
		names, out := l.categories, &snap.CategoryTrend
		if pt.member == 2 {
			names, out = l.channels, &snap.ChannelDaily
		}
		if pt.pos < 1 || int(pt.pos) > len(names) {
			return fmt.Errorf("daily breakdowns: position %d outside the list", pt.pos)
		}
		*out = append(*out, api.SeriesPoint{
			Date: days.name(pt.date), Name: names[pt.pos-1], Sales: api.Money(pt.sales),
			GrossProfit: api.Money(pt.profit), Orders: pt.orders,
		})
	}
	return nil
}

// dayNames formats each sale date once: a long window repeats every date per category and
// per channel.
type dayNames map[time.Time]string

func (d dayNames) name(t time.Time) string {
	s, ok := d[t]
	if !ok {
		s = t.Format(dateLayout)
		d[t] = s
	}
	return s
}

func options(ctx context.Context, qs *db.Queries) (api.Options, error) {
	rs, err := qs.KpiFilterValues(ctx)
	if err != nil {
		return api.Options{}, fmt.Errorf("filter values: %w", err)
	}
	o := api.Options{Categories: []string{}, Regions: []string{}, Channels: []string{}}
	for _, r := range rs {
		switch r.Dimension {
		case "category":
			o.Categories = append(o.Categories, r.Value)
		case "region":
			o.Regions = append(o.Regions, r.Value)
		case "channel":
			o.Channels = append(o.Channels, r.Value)
		}
	}
	return o, nil
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
