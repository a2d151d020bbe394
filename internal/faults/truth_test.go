package faults

import (
	"context"
	"fmt"
	"os"
	"salespulse/internal/oracle"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// What the fault tests check against: the expected content of sales and of every rollup,
// computed from the input files' bytes alone (internal/oracle), and digests of the tables.

// dbRollups reads the three rollup tables in the form of inputs.rollups.
func dbRollups(ctx context.Context, pool *pgxpool.Pool) (map[string]string, error) {
	out := map[string]string{}
	for _, q := range []struct{ table, sql string }{
		{"cube", `SELECT grain::text, period::text, category, region, channel, concat_ws(' ', orders, quantity, sales_cents,
			cost_cents, gross_profit_cents, paid_orders, paid_sales_cents, pending_orders, pending_sales_cents,
			canceled_orders, canceled_sales_cents) FROM kpi_cube`},
		{"product", `SELECT grain::text, period::text, category, region, channel, product,
			concat_ws(' ', orders, quantity, sales_cents) FROM kpi_product`},
		{"rep", `SELECT grain::text, period::text, category, region, channel, rep,
			concat_ws(' ', orders, sales_cents, gross_profit_cents) FROM kpi_rep`},
	} {
		rows, err := pool.Query(ctx, q.sql)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.table, err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, err
			}
			parts := []string{q.table}
			for _, v := range vals[:len(vals)-1] {
				parts = append(parts, fmt.Sprint(v))
			}
			out[strings.Join(parts, "|")] = fmt.Sprint(vals[len(vals)-1])
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// diffMaps counts the keys whose values differ (missing on either side included) and
// describes the first few.
func diffMaps(want, got map[string]string) (int, []string) {
	n := 0
	var ex []string
	note := func(s string) {
		n++
		if len(ex) < 5 {
			ex = append(ex, s)
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			note(fmt.Sprintf("missing %s (want %s)", k, w))
		} else if g != w {
			note(fmt.Sprintf("%s: got %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			note(fmt.Sprintf("extra %s = %s", k, g))
		}
	}
	slices.Sort(ex)
	return n, ex
}

// checkAgainstInputs compares the database with the inputs: the set of sale ids, the total value,
// every row of every rollup. It returns a one-line summary; differences are test errors.
func checkAgainstInputs(t *testing.T, in *oracle.Inputs) string {
	t.Helper()
	ctx := context.Background()
	wantSales, wantCents := in.Distinct(), in.TotalCents()
	ids := map[string]bool{}
	rows, err := testDB.Pool.Query(ctx, `SELECT sale_id FROM sales`)
	if err != nil {
		t.Fatal(err)
	}
	doubled := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if ids[strings.ToLower(id)] {
			doubled++
		}
		ids[strings.ToLower(id)] = true
	}
	rows.Close()
	missing, extra := 0, 0
	for _, s := range in.Sales() {
		if !ids[s.ID] {
			missing++
		}
	}
	for id := range ids {
		if !in.Has(id) {
			extra++
		}
	}
	gotSales := testDB.Int(t, `SELECT count(*) FROM sales`)
	gotCents := testDB.Int(t, `SELECT coalesce(sum(total_value_cents), 0)::bigint FROM sales`)
	if missing != 0 || extra != 0 || doubled != 0 || gotSales != wantSales || gotCents != wantCents {
		t.Errorf("sales: %d rows (want %d distinct sale ids from the inputs), %d missing, %d not in the inputs, %d doubled; total value %d cents, want %d",
			gotSales, wantSales, missing, extra, doubled, gotCents, wantCents)
	}
	want := in.Rollups()
	got, err := dbRollups(ctx, testDB.Pool)
	if err != nil {
		t.Fatal(err)
	}
	n, ex := diffMaps(want, got)
	if n != 0 {
		t.Errorf("%d rollup rows differ from a recomputation from the input bytes, e.g.:\n  %s", n, strings.Join(ex, "\n  "))
	}
	verify := bin.Run(t, dbEnv(), "verify")
	if verify.Code != 0 {
		t.Errorf("salespulse verify: exit %d\n%s%s", verify.Code, verify.Stdout, verify.Stderr)
	}
	return fmt.Sprintf("sales=%d want=%d missing=%d doubled=%d extra=%d cents=%d want_cents=%d rollup_rows=%d rollup_diffs=%d verify_exit=%d",
		gotSales, wantSales, missing, doubled, extra, gotCents, wantCents, len(want), n, verify.Code)
}

// tableDigest is the row count and MD5 of a query's rows, each as its text form, in a fixed
// order: two digests are equal when the rows are.
func tableDigest(t *testing.T, pool *pgxpool.Pool, query string, args ...any) string {
	t.Helper()
	var n int64
	var sum string
	err := pool.QueryRow(context.Background(), `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), ''))
		FROM (`+query+`) r`, args...).Scan(&n, &sum)
	if err != nil {
		t.Fatalf("digest of %s: %v", query, err)
	}
	return fmt.Sprintf("%d:%s", n, sum[:16])
}

// proofEnabled gates the proof's long fault tests: `make test` skips them.
func proofEnabled(t *testing.T) {
	t.Helper()
	if os.Getenv("PROOF") != "1" {
		t.Skip("a fault test of the proof (scripts/proof.sh): set PROOF=1")
	}
}

func proofEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// proofLine prints one machine-readable result line for scripts/proof.sh.
func proofLine(name string, kv ...any) {
	var b strings.Builder
	fmt.Fprintf(&b, "PROOF %s", name)
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		if d, ok := kv[i+1].(time.Duration); ok {
			v = d.String()
		}
		fmt.Fprintf(&b, " %s=%s", kv[i], strings.ReplaceAll(v, " ", "_"))
	}
	fmt.Println(b.String())
}
