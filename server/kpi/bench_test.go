package kpi

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"

	"salespulse/server/api"
)

// synthetic fills an engine with n sales over days from start, products and reps as given,
// in daily deltas, the way daily files would bring them.
func synthetic(e *Engine, n, days, products, reps int, start Day) {
	r := rand.New(rand.NewPCG(1, 2))
	cats := []string{"Technology", "Clothing", "Furniture", "Accessories", "Appliances"}
	regions := []string{"California", "Texas", "New York", "Florida", "Illinois"}
	channels := []string{"Online Store", "Physical Store", "Marketplace"}
	perDay := n / days
	for d := range days {
		delta := e.NewDelta(File{ID: int64(d + 1), Key: fmt.Sprintf("daily/%d.csv", d), FinishedAt: time.Unix(int64(d), 0)})
		for range perDay {
			p := r.IntN(products)
			reg := r.IntN(len(regions))
			q := int64(1 + r.IntN(10))
			sales := q * int64(1000+r.IntN(100000))
			e.Add(delta, Sale{Day: start + Day(d), Category: cats[p%len(cats)], Region: regions[reg],
				Channel: channels[r.IntN(3)], Product: "P" + strconv.Itoa(p), Rep: "R" + strconv.Itoa(reg+len(regions)*r.IntN(reps/len(regions))),
				Status: Status(r.IntN(3)), Quantity: q, Sales: sales, Profit: sales / 3})
		}
		e.Apply(delta)
	}
}

// atScale (KPI_SCALE=1, else the test is skipped) is an engine of KPI_SALES sales (10
// million) over two years from its first day, of KPI_PRODUCTS products and KPI_REPS reps.
func atScale(t *testing.T) (e *Engine, first Day, products, reps int) {
	if os.Getenv("KPI_SCALE") == "" {
		t.Skip("set KPI_SCALE=1 (and KPI_SALES, KPI_PRODUCTS, KPI_REPS) to run")
	}
	products, reps = envInt("KPI_PRODUCTS", 20000), envInt("KPI_REPS", 2000)
	e, first = New(), DayOf(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	synthetic(e, envInt("KPI_SALES", 10_000_000), 730, products, reps, first)
	return e, first, products, reps
}

// TestSnapshotLatencyAtScale (KPI_SCALE=1) builds 10 million sales in memory and times
// uncached snapshots of the five views (KPI_VIEW: one of them). It prints figures; it
// asserts none.
func TestSnapshotLatencyAtScale(t *testing.T) {
	t0 := time.Now()
	e, start, _, _ := atScale(t)
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	fmt.Printf("built %d sales in %v; heap %d MiB\n", e.Sales(), time.Since(t0).Round(time.Millisecond), mem.HeapAlloc>>20)
	defer profile(t)()
	last := start + 729
	views := []struct {
		name string
		q    func(i int) Query
	}{
		{"all time", func(i int) Query { return Query{Filter: api.Filter{Channel: []string{"", ""}[i%2]}} }},
		{"latest day", func(i int) Query {
			return Query{From: last - Day(i%5), To: last - Day(i%5), HasFrom: true, HasTo: true}
		}},
		{"last 30 days", func(i int) Query {
			return Query{From: last - 29 - Day(i), To: last - Day(i), HasFrom: true, HasTo: true}
		}},
		{"one category, all time", func(i int) Query {
			return Query{Filter: api.Filter{Category: []string{"Technology", "Clothing", "Furniture"}[i%3]}}
		}},
		{"region + channel + range", func(i int) Query {
			return Query{Filter: api.Filter{Region: "Texas", Channel: "Marketplace"}, From: start + 40 + Day(i), To: start + 400 + Day(i), HasFrom: true, HasTo: true}
		}},
		// Mixes the dashboard allows beyond those five.
		{"region + channel, all time", func(i int) Query {
			return Query{Filter: api.Filter{Region: []string{"Texas", "Florida"}[i%2], Channel: []string{"Marketplace", "Online Store", "Physical Store"}[i%3]}}
		}},
		{"category + region, all time", func(i int) Query {
			return Query{Filter: api.Filter{Category: []string{"Technology", "Clothing"}[i%2], Region: []string{"Texas", "Florida", "Illinois"}[i%3]}}
		}},
		{"category + region + channel", func(i int) Query {
			return Query{Filter: api.Filter{Category: "Furniture", Region: "Texas", Channel: "Marketplace"}, From: start + Day(i), HasFrom: true}
		}},
		{"region, last 30 days", func(i int) Query {
			return Query{Filter: api.Filter{Region: "Texas"}, From: last - 29 - Day(i), To: last - Day(i), HasFrom: true, HasTo: true}
		}},
	}
	for _, v := range views {
		if only := os.Getenv("KPI_VIEW"); only != "" && only != v.name {
			continue
		}
		var times []time.Duration
		for i := range envInt("KPI_ROUNDS", 50) {
			q := v.q(i)
			t1 := time.Now()
			e.Snapshot(q)
			times = append(times, time.Since(t1))
		}
		slices.Sort(times)
		fmt.Printf("%-26s p50 %6.2f ms  p95 %6.2f ms  max %6.2f ms\n", v.name,
			ms(times[len(times)/2]), ms(times[len(times)*95/100]), ms(times[len(times)-1]))
	}
}

// profile starts a CPU profile into KPI_CPUPROFILE, when set; the function returned stops it.
func profile(t *testing.T) func() {
	path := os.Getenv("KPI_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return pprof.StopCPUProfile
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestRefreshLatencyAtScale (KPI_SCALE=1) builds 10 million sales in memory, computes
// KPI_VIEWS distinct views that all show the latest day, applies a 1,000-sale delta of that
// day, and times bringing every view up to date and encoding it, one after the other. It
// prints figures; it asserts none.
func TestRefreshLatencyAtScale(t *testing.T) {
	e, start, products, reps := atScale(t)
	last := start + 729
	r := rand.New(rand.NewPCG(7, 8))
	all := e.Snapshot(Query{})
	pick := func(vals []string) string {
		if r.IntN(2) == 0 {
			return ""
		}
		return vals[r.IntN(len(vals))]
	}
	seen := map[Query]bool{}
	var views []*View
	for len(views) < envInt("KPI_VIEWS", 1000) {
		q := Query{Filter: api.Filter{Category: pick(all.Options.Categories), Region: pick(all.Options.Regions), Channel: pick(all.Options.Channels)},
			From: last - Day(r.IntN(760)), HasFrom: true}
		if r.IntN(2) == 0 {
			q.To, q.HasTo = last+Day(r.IntN(30)), true
		}
		q.Filter.From = q.From.String()
		if q.HasTo {
			q.Filter.To = q.To.String()
		}
		if !seen[q] {
			seen[q] = true
			views = append(views, e.View(q))
		}
	}
	defer profile(t)()
	delta := e.NewDelta(File{ID: 1 << 40, Key: "late.csv", FinishedAt: time.Unix(1<<31, 0)})
	for i := range 1000 {
		e.Add(delta, Sale{Day: last, Category: all.Options.Categories[i%len(all.Options.Categories)], Region: all.Options.Regions[i%5],
			Channel: all.Options.Channels[i%3], Product: "P" + strconv.Itoa(r.IntN(products)), Rep: "R" + strconv.Itoa(r.IntN(reps)),
			Quantity: 2, Sales: 12345, Profit: 2345})
	}
	t0 := time.Now()
	fp := e.Apply(delta)
	applied := time.Since(t0)
	var times []time.Duration
	hows := map[How]int{}
	var buf []byte
	t1 := time.Now()
	for _, v := range views {
		s := time.Now()
		nv := e.Refresh(v, fp)
		buf = nv.Snap.AppendJSON(buf[:0])
		times = append(times, time.Since(s))
		hows[nv.How]++
	}
	total := time.Since(t1)
	slices.Sort(times)
	fmt.Printf("apply %v; %d views refreshed and encoded in %v: p50 %.2f ms p99 %.2f ms max %.2f ms; %v\n", applied, len(views), total,
		ms(times[len(times)/2]), ms(times[len(times)*99/100]), ms(times[len(times)-1]), hows)
}
