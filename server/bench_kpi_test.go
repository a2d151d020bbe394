package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/server/api"
)

// TestKPILatency measures whole snapshot computations (every query of one snapshot, in its
// transaction, without the cache) on a large database, and writes EXPLAIN (ANALYZE, BUFFERS)
// of each query as the server sends it. It is a benchmark, run by scripts/bench-kpi.sh,
// which builds the database; it only reports timings, it asserts none.
//
//	KPI_BENCH_DATABASE_URL=postgres://…/salespulse_bench_kpi KPI_BENCH_ROUNDS=200 \
//	KPI_BENCH_EXPLAIN_DIR=/tmp/explain go test ./server -run '^TestKPILatency$' -v
func TestKPILatency(t *testing.T) {
	url := os.Getenv("KPI_BENCH_DATABASE_URL")
	if url == "" {
		t.Skip("set KPI_BENCH_DATABASE_URL (see scripts/bench-kpi.sh)")
	}
	rounds, _ := strconv.Atoi(os.Getenv("KPI_BENCH_ROUNDS"))
	if rounds <= 0 {
		rounds = 200
	}
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	tracer := &queryRecorder{}
	cfg.ConnConfig.Tracer = tracer
	if mode := os.Getenv("KPI_BENCH_PLAN_CACHE_MODE"); mode != "" { // auto, force_custom_plan, force_generic_plan
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = mode
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	servers := map[int]*Server{
		1: New(Config{Pool: pool, Log: testLog(), SnapshotConns: 1}),
		2: New(Config{Pool: pool, Log: testLog(), SnapshotConns: 2}),
	}
	var first, last time.Time
	if err := pool.QueryRow(ctx, "SELECT min(period), max(period) FROM kpi_cube WHERE grain = 'd' AND category = '' AND region = '' AND channel = ''").Scan(&first, &last); err != nil {
		t.Fatalf("no sales in the benchmark database: %v", err)
	}
	var sales int64
	_ = pool.QueryRow(ctx, "SELECT coalesce(sum(rows_loaded), 0) FROM ingested_files").Scan(&sales)
	day := func(t time.Time) string { return t.Format(dateLayout) }
	views := []struct {
		name string
		f    api.Filter
	}{
		{"all-time", api.Filter{}},
		{"latest-day", api.Filter{From: day(last), To: day(last)}},
		{"last-30-days", api.Filter{From: day(last.AddDate(0, 0, -29)), To: day(last)}},
		{"category", api.Filter{Category: "Technology"}},
		{"region-channel-range", api.Filter{Region: "Texas", Channel: "Online Store", From: day(first.AddDate(0, 2, 16)), To: day(last.AddDate(0, -4, -9))}},
	}
	fmt.Printf("KPI snapshot latency: %d sales, sale dates %s..%s, %d rounds per view (whole snapshot: %s); load average %s\n",
		sales, day(first), day(last), rounds, "every query of one snapshot, in its transaction(s), uncached", loadavg())
	defer func() {
		fmt.Printf("load average at the end: %s (2 cores; this benchmark keeps about 2 busy: more means other work shared the machine)\n", loadavg())
	}()
	fmt.Printf("%-22s %5s %9s %9s %9s %9s %8s\n", "view", "conns", "p50 ms", "p95 ms", "max ms", "KiB JSON", "points")
	dir := os.Getenv("KPI_BENCH_EXPLAIN_DIR")
	for _, v := range views {
		q, err := parseFilter(v.f)
		if err != nil {
			t.Fatal(err)
		}
		// One connection and two, in alternation: the machine may be busy with other work,
		// and the comparison should see the same conditions.
		times := map[int][]time.Duration{}
		var snap *api.Snapshot
		for i := range rounds + 5 {
			for _, conns := range []int{1, 2} {
				start := time.Now()
				if snap, err = servers[conns].computeSnapshot(ctx, q); err != nil {
					t.Fatal(err)
				}
				if i >= 5 { // the first rounds warm the caches and prepared statements
					times[conns] = append(times[conns], time.Since(start))
				}
			}
			if i == 4 {
				tracer.perQuery()
			}
		}
		body, _ := json.Marshal(snap)
		for _, conns := range []int{1, 2} {
			ts := times[conns]
			slices.Sort(ts)
			fmt.Printf("%-22s %5d %9.2f %9.2f %9.2f %9d %8d\n", v.name, conns, ms(ts[len(ts)/2]), ms(ts[len(ts)*95/100]),
				ms(ts[len(ts)-1]), len(body)/1024, len(snap.Trend)+len(snap.CategoryTrend)+len(snap.ChannelDaily))
		}
		fmt.Printf("    median ms per query, both modes (sent to last row decoded): %s\n", tracer.perQuery())
		if dir != "" {
			dbTime := explain(t, ctx, pool, tracer, servers[1], q, filepath.Join(dir, v.name))
			fmt.Printf("    database time of the whole snapshot (sum of EXPLAIN ANALYZE execution times): %.2f ms\n", dbTime)
		}
	}
}

// queryRecorder remembers the statements and arguments of the queries it sees, and times
// each (from sending it to the last row decoded) by name.
type queryRecorder struct {
	mu      sync.Mutex
	on      bool
	queries []pgx.TraceQueryStartData
	times   map[string][]time.Duration
}

type traceStart struct {
	name string
	at   time.Time
}

type traceKey struct{}

func (r *queryRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	if r.on {
		r.queries = append(r.queries, d)
	}
	r.mu.Unlock()
	name := "BEGIN/COMMIT"
	if m := queryName.FindStringSubmatch(d.SQL); m != nil {
		name = m[1]
	}
	return context.WithValue(ctx, traceKey{}, traceStart{name, time.Now()})
}

func (r *queryRecorder) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	st, ok := ctx.Value(traceKey{}).(traceStart)
	if !ok {
		return
	}
	r.mu.Lock()
	if r.times != nil {
		r.times[st.name] = append(r.times[st.name], time.Since(st.at))
	}
	r.mu.Unlock()
}

// perQuery prints the median time of each query recorded since the last call.
func (r *queryRecorder) perQuery() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for name, ts := range r.times {
		slices.Sort(ts)
		parts = append(parts, fmt.Sprintf("%s %.2f", name, float64(ts[len(ts)/2].Microseconds())/1000))
	}
	slices.Sort(parts)
	r.times = map[string][]time.Duration{}
	return strings.Join(parts, ", ")
}

var queryName = regexp.MustCompile(`-- name: (\w+)`)

var executionTime = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)

// loadavg is the machine's load over the last minute and five minutes.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return "?"
	}
	return f[0] + " " + f[1]
}

// explain records one snapshot's queries and writes the plan of each, run with its
// arguments; it returns the sum of their execution times in milliseconds.
func explain(t *testing.T, ctx context.Context, pool *pgxpool.Pool, rec *queryRecorder, s *Server, q query, prefix string) float64 {
	rec.mu.Lock()
	rec.on, rec.queries = true, nil
	rec.mu.Unlock()
	if _, err := s.computeSnapshot(ctx, q); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	rec.on = false
	queries := rec.queries
	rec.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		t.Fatal(err)
	}
	n, total := 0, 0.0
	for _, qd := range queries {
		m := queryName.FindStringSubmatch(qd.SQL)
		if m == nil {
			continue // BEGIN, COMMIT
		}
		n++
		rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+qd.SQL, qd.Args...)
		if err != nil {
			t.Fatalf("explain %s: %v", m[1], err)
		}
		var plan strings.Builder
		fmt.Fprintf(&plan, "-- %s, filter %+v\n-- args %v\n", m[1], q.filter, qd.Args)
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		if strings.Contains(plan.String(), " on sales ") || strings.Contains(plan.String(), " on sales\n") {
			t.Errorf("%s reads the sales table:\n%s", m[1], plan.String())
		}
		if m := executionTime.FindStringSubmatch(plan.String()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			total += v
		}
		name := fmt.Sprintf("%s-%02d-%s.txt", prefix, n, m[1])
		if err := os.WriteFile(name, []byte(plan.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return total
}
