//go:build !wasm

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"
)

// This file holds what the proof's fault tests (proof_faults_test.go) check against: the
// expected content of sales and of every rollup, computed from the input files' bytes alone
// (a CSV reader of its own, not the loader's), and digests of the tables.

// truthSale is what the rollups need of one input row.
type truthSale struct {
	date, category, region, channel, product, rep, status string
	quantity, sales, cost, profit                         int64
}

// inputs accumulates input files: the first occurrence of each sale id wins, and every
// later occurrence must carry the same figures (otherwise the expected result would depend
// on the order the files load in, and the test would be meaningless).
type inputs struct {
	sales map[string]truthSale
	rows  int64 // data rows read, duplicates included
}

func newInputs() *inputs { return &inputs{sales: map[string]truthSale{}} }

// normHeader folds a header name for lookup: lower case, letters and digits only.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truthColumns maps what the truth needs to the header names of both generated shapes.
var truthColumns = map[string][]string{
	"date":     {"saledate"},
	"id":       {"saleid"},
	"product":  {"productname"},
	"category": {"productcategory"},
	"quantity": {"quantitysold"},
	"total":    {"totalvaluewithdiscount", "totalvalue"},
	"cost":     {"totalcost"},
	"profit":   {"grossprofit"},
	"status":   {"paymentstatus"},
	"channel":  {"saleschannel"},
	"region":   {"salesregion"},
	"rep":      {"salesrepresentative", "salesrep"},
}

// add reads one file (UTF-8 CSV with a header, every row valid: the generator's output).
func (in *inputs) add(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[normHeader(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	idx := map[string]int{}
	for name, aliases := range truthColumns {
		idx[name] = -1
		for _, a := range aliases {
			if i, ok := col[a]; ok {
				idx[name] = i
				break
			}
		}
		if idx[name] < 0 {
			return fmt.Errorf("no column for %s in %v", name, header)
		}
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		get := func(name string) string { return strings.TrimSpace(rec[idx[name]]) }
		qty, err := strconv.ParseFloat(get("quantity"), 64)
		if err != nil {
			return fmt.Errorf("line %d: quantity %q", line, get("quantity"))
		}
		s := truthSale{
			date: get("date"), category: get("category"), region: get("region"), channel: get("channel"),
			product: get("product"), rep: get("rep"), status: canonicalStatus(get("status")), quantity: int64(qty),
		}
		for _, m := range []struct {
			name string
			dst  *int64
		}{{"total", &s.sales}, {"cost", &s.cost}, {"profit", &s.profit}} {
			if *m.dst, err = cents(get(m.name)); err != nil {
				return fmt.Errorf("line %d: %s: %w", line, m.name, err)
			}
		}
		in.rows++
		id := get("id")
		if prev, ok := in.sales[id]; ok {
			if prev != s {
				return fmt.Errorf("sale id %s appears with different figures: %+v and %+v", id, prev, s)
			}
			continue
		}
		in.sales[id] = s
	}
}

func canonicalStatus(s string) string {
	switch strings.ToLower(s) {
	case "paid":
		return "Paid"
	case "pending":
		return "Pending"
	case "canceled", "cancelled":
		return "Canceled"
	}
	return s
}

// cents converts a decimal amount to integer cents, rounding half away from zero (an empty
// amount is 0, as the rollups' coalesce makes it).
func cents(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	r.Mul(r, big.NewRat(100, 1))
	neg := r.Sign() < 0
	r.Abs(r)
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if neg {
		q.Neg(q)
	}
	return q.Int64(), nil
}

// totals is the number of distinct sales and the sum of their total value in cents.
func (in *inputs) totals() (int64, int64) {
	var sum int64
	for _, s := range in.sales {
		sum += s.sales
	}
	return int64(len(in.sales)), sum
}

// rollups computes kpi_cube, kpi_product and kpi_rep as the loads must leave them: both
// grains; for kpi_cube every combination of category, region and channel (” = all); for
// kpi_product and kpi_rep the finest combination and "all". Keys and values are rendered
// as dbRollups renders the tables' rows.
func (in *inputs) rollups() map[string]string {
	type cube struct{ orders, qty, sales, cost, profit, po, ps, qo, qs, co, cs int64 }
	type prod struct{ orders, qty, sales int64 }
	type rep struct{ orders, sales, profit int64 }
	cubes, prods, reps := map[string]*cube{}, map[string]*prod{}, map[string]*rep{}
	for _, s := range in.sales {
		month := s.date[:8] + "01"
		for _, period := range [][2]string{{"d", s.date}, {"m", month}} {
			for mask := range 8 {
				cat, reg, ch := s.category, s.region, s.channel
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
				c.qty += s.quantity
				c.sales += s.sales
				c.cost += s.cost
				c.profit += s.profit
				switch s.status {
				case "Paid":
					c.po, c.ps = c.po+1, c.ps+s.sales
				case "Pending":
					c.qo, c.qs = c.qo+1, c.qs+s.sales
				case "Canceled":
					c.co, c.cs = c.co+1, c.cs+s.sales
				}
			}
			for _, dims := range [][3]string{{s.category, s.region, s.channel}, {"", "", ""}} {
				pk := strings.Join([]string{"product", period[0], period[1], dims[0], dims[1], dims[2], s.product}, "|")
				p := prods[pk]
				if p == nil {
					p = &prod{}
					prods[pk] = p
				}
				p.orders, p.qty, p.sales = p.orders+1, p.qty+s.quantity, p.sales+s.sales
				rk := strings.Join([]string{"rep", period[0], period[1], dims[0], dims[1], dims[2], s.rep}, "|")
				r := reps[rk]
				if r == nil {
					r = &rep{}
					reps[rk] = r
				}
				r.orders, r.sales, r.profit = r.orders+1, r.sales+s.sales, r.profit+s.profit
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
func checkAgainstInputs(t *testing.T, in *inputs) string {
	t.Helper()
	ctx := context.Background()
	wantSales, wantCents := in.totals()
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
		if ids[id] {
			doubled++
		}
		ids[id] = true
	}
	rows.Close()
	missing, extra := 0, 0
	for id := range in.sales {
		if !ids[id] {
			missing++
		}
	}
	for id := range ids {
		if _, ok := in.sales[id]; !ok {
			extra++
		}
	}
	gotSales := dbInt(t, `SELECT count(*) FROM sales`)
	gotCents := dbInt(t, `SELECT coalesce(sum(total_value_cents), 0)::bigint FROM sales`)
	if missing != 0 || extra != 0 || doubled != 0 || gotSales != wantSales || gotCents != wantCents {
		t.Errorf("sales: %d rows (want %d distinct sale ids from the inputs), %d missing, %d not in the inputs, %d doubled; total value %d cents, want %d",
			gotSales, wantSales, missing, extra, doubled, gotCents, wantCents)
	}
	want := in.rollups()
	got, err := dbRollups(ctx, testDB.Pool)
	if err != nil {
		t.Fatal(err)
	}
	n, ex := diffMaps(want, got)
	if n != 0 {
		t.Errorf("%d rollup rows differ from a recomputation from the input bytes, e.g.:\n  %s", n, strings.Join(ex, "\n  "))
	}
	verify := salespulse(t, dbEnv(), "verify")
	if verify.code != 0 {
		t.Errorf("salespulse verify: exit %d\n%s%s", verify.code, verify.stdout, verify.stderr)
	}
	return fmt.Sprintf("sales=%d want=%d missing=%d doubled=%d extra=%d cents=%d want_cents=%d rollup_rows=%d rollup_diffs=%d verify_exit=%d",
		gotSales, wantSales, missing, doubled, extra, gotCents, wantCents, len(want), n, verify.code)
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

// syncBuffer collects a process's output for the test to read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tee != nil {
		b.tee.Write(p)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
