package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"salespulse/internal/proof"
)

// referenceTable is the original project's table: the 24 columns as FLOAT and VARCHAR, the
// sale id its primary key, as pandas' to_sql would have made it with an index.
const referenceTable = `CREATE TABLE sales_reference (sale_date varchar, sale_id varchar PRIMARY KEY,
 product_id varchar, product_name varchar, product_category varchar, quantity_sold float,
 unit_price float, discount float, total_value float, unit_cost float, total_cost float,
 gross_profit float, payment_method varchar, payment_status varchar, payment_date varchar,
 customer_id varchar, customer_name varchar, sales_channel varchar, sales_region varchar,
 sales_rep varchar, customer_rating varchar, shipping_cost float, delivery_status varchar,
 delivery_date varchar)`

// shape is one file of the matrix.
type shape struct {
	span           string // sale dates, as generate takes them
	spanName       string
	products, reps int
	target         float64
}

// TestLoadMatrix loads 1,000,000-row files of every shape (one day, a year, three years of
// sales in one file; small, large and very large catalogues) with `salespulse load` and,
// alternating, with `psql \copy` into the original project's table, each into a fresh
// database after a checkpoint, and compares the medians.
func TestLoadMatrix(t *testing.T) {
	proof.Enabled(t)
	rows := proof.Int("LOAD_ROWS", 20_000, 1_000_000)
	rounds := proof.Int("LOAD_ROUNDS", 1, 3)
	var shapes []shape
	for _, span := range []struct{ dates, name string }{
		{"2024-06-03", "one day"}, {"2024-01-01..2024-12-31", "a year"}, {"2022-01-01..2024-12-31", "three years"},
	} {
		for _, cat := range [][2]int{{20, 30}, {20000, 2000}, {50000, 5000}} {
			target := 1.0
			if span.name == "one day" && cat[0] == 20 {
				target = 1.4 // the speed of a two-way parallel COPY
			}
			shapes = append(shapes, shape{span.dates, span.name, cat[0], cat[1], target})
		}
	}
	if only := os.Getenv("LOAD_SHAPES"); only != "" { // e.g. "0,3" to rerun some
		var picked []shape
		for _, i := range strings.Split(only, ",") {
			var n int
			fmt.Sscan(i, &n)
			picked = append(picked, shapes[n])
		}
		shapes = picked
	}
	dir := t.TempDir()
	table := [][]string{{"file", "load (median)", "psql \\copy (median)", "ratio", "target", "load max RSS", "rows/s"}}
	met := true
	worst, worstName := 1e9, ""
	for i, sh := range shapes {
		name := fmt.Sprintf("%s, %d products, %d reps", sh.spanName, sh.products, sh.reps)
		csv := filepath.Join(dir, fmt.Sprintf("shape%d.csv", i))
		gen := bin.Run(t, nil, "generate", "--rows", fmt.Sprint(rows), "--seed", "42", "--date", sh.span,
			"--products", fmt.Sprint(sh.products), "--reps", fmt.Sprint(sh.reps), "--out", csv)
		if gen.Code != 0 {
			t.Fatalf("generate: %s", gen.Stderr)
		}
		var loads, copies []time.Duration
		var rss int64
		for r := range rounds {
			took, maxrss, _ := timedLoad(t, "bench_load", csv, rows)
			loads, rss = append(loads, took), max(rss, maxrss)

			ref := freshDB(t, "bench_copy")
			psql(t, ref, "-c", referenceTable, "-c", "CHECKPOINT")
			took, _, _ = timed(t, nil, "psql", ref, "-qX", "-v", "ON_ERROR_STOP=1", "-c",
				`\copy sales_reference FROM '`+csv+`' WITH (FORMAT csv, HEADER true)`)
			copies = append(copies, took)
			t.Logf("%s, round %d: load %s, \\copy %s (load average %s)", name, r+1, secs(loads[r]), secs(copies[r]), loadavg())
		}
		lm, cm := median(loads), median(copies)
		ratio := cm.Seconds() / lm.Seconds()
		if ratio < sh.target {
			met = false
		}
		if ratio/sh.target < worst {
			worst, worstName = ratio/sh.target, name
		}
		table = append(table, []string{name, secs(lm), secs(cm), fmt.Sprintf("**%.2f×**", ratio), fmt.Sprintf("≥ %.1f×", sh.target),
			fmt.Sprintf("%d MB", rss/1e6), fmt.Sprintf("%.0f", float64(rows)/lm.Seconds())})
		os.Remove(csv)
	}
	admin(t, "DROP DATABASE IF EXISTS bench_load WITH (FORCE)", "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)")
	proof.Record(t, proof.Result{
		Item: "ETL: `load` against `psql \\copy`, every file shape",
		Done: fmt.Sprintf("%d-row files (`salespulse generate --seed 42 --products P --reps R --date ...`) of %d shapes; %d alternating rounds each, "+
			"each into a fresh database after a CHECKPOINT: `salespulse load` (typed table, keys, ledger, one transaction) and `psql \\copy` into the original project's table (24 FLOAT/VARCHAR columns, VARCHAR primary key)",
			rows, len(shapes), rounds),
		Checked:   "every row loaded; medians of the wall times; maximum resident set size of `load`",
		Figure:    fmt.Sprintf("every shape at or above its target: %v (closest: %s, %.2f of its target)", met, worstName, worst),
		Reference: "`psql \\copy` of the same file, same round",
		Target:    "≥ 1.0× for every shape, ≥ 1.4× for the daily small-catalogue file",
		Met:       met,
		Table:     table,
	})
}

// TestLoadMemoryIsFlat loads a file of MEMORY_ROWS rows (10 million, about 2 GB) and one ten
// times smaller, each into a fresh database, and compares the maximum resident set sizes.
func TestLoadMemoryIsFlat(t *testing.T) {
	proof.Enabled(t)
	rows := proof.Int("MEMORY_ROWS", 200_000, 10_000_000)
	dir := t.TempDir()
	type run struct {
		rows       int
		bytes, rss int64
		took       time.Duration
	}
	var runs []run
	for _, n := range []int{rows / 10, rows} {
		csv := filepath.Join(dir, "mem.csv")
		if g := bin.Run(t, nil, "generate", "--rows", fmt.Sprint(n), "--seed", "43", "--date", "2024-06-03", "--out", csv); g.Code != 0 {
			t.Fatalf("generate: %s", g.Stderr)
		}
		st, _ := os.Stat(csv)
		url := migratedDB(t, "bench_memory")
		took, rss, out := timed(t, []string{"DATABASE_URL=" + url}, bin.Path, "load", "--json", csv)
		if !strings.Contains(out, `"status":"loaded"`) {
			t.Fatalf("load: %s", out)
		}
		runs = append(runs, run{n, st.Size(), rss, took})
		os.Remove(csv)
	}
	admin(t, "DROP DATABASE IF EXISTS bench_memory WITH (FORCE)")
	small, big := runs[0], runs[1]
	proof.Record(t, proof.Result{
		Item:      "ETL: memory for a large file",
		Done:      fmt.Sprintf("`salespulse load` of a %d-row file (%d MB) and of one ten times smaller (%d MB), each into a fresh database", big.rows, big.bytes/1e6, small.bytes/1e6),
		Checked:   "both loaded whole; maximum resident set size of the process (getrusage)",
		Figure:    fmt.Sprintf("%d MB max RSS for %d MB (%s)", big.rss/1e6, big.bytes/1e6, secs(big.took)),
		Reference: fmt.Sprintf("%d MB max RSS for the file ten times smaller", small.rss/1e6),
		Target:    "< 200 MB, flat in file size", Met: big.rss < 200e6 && float64(big.rss) < 1.25*float64(small.rss),
	})
}
