package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"salespulse/internal/oracle"
	"salespulse/internal/proof"
	"salespulse/server/api"
	"salespulse/server/kpi"
)

// What the fault tests check against: the expected sales and KPIs, computed from the input
// files' bytes alone (internal/oracle), and digests of the tables.

// checkAgainstInputs compares the database with the inputs: the set of sale ids, the total
// value, and the KPI views of an engine built from the database (as a server builds it)
// with the oracle's; then `salespulse verify`. It returns what it found; differences
// are test errors.
func checkAgainstInputs(t *testing.T, in *oracle.Inputs) truthCheck {
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
	e := kpi.New()
	if err := e.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	views := kpiViews(in)
	n := 0
	for _, f := range views {
		q, err := kpi.ParseQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		if diffs := in.Check(e.Snapshot(q), f); len(diffs) > 0 {
			n++
			t.Errorf("KPIs of %+v differ from a recomputation from the input bytes:\n  %s", f, strings.Join(diffs, "\n  "))
		}
	}
	verify := bin.Run(t, dbEnv(), "verify")
	if verify.Code != 0 {
		t.Errorf("salespulse verify: exit %d\n%s%s", verify.Code, verify.Stdout, verify.Stderr)
	}
	return truthCheck{gotSales, wantSales, int64(missing), int64(doubled), int64(extra), gotCents, wantCents, len(views), n, verify.Code}
}

// truthCheck is what checkAgainstInputs found.
type truthCheck struct {
	sales, wantSales, missing, doubled, extra, cents, wantCents int64
	views, viewDiffs, verifyExit                                int
}

func (c truthCheck) ok() bool {
	return c.sales == c.wantSales && c.missing == 0 && c.doubled == 0 && c.extra == 0 && c.cents == c.wantCents &&
		c.viewDiffs == 0 && c.verifyExit == 0
}

// String is the check as the proof reports it.
func (c truthCheck) String() string {
	return fmt.Sprintf("%d sales, %d missing, %d doubled, %d not in the inputs; %d of %d KPI views differ from the oracle's; verify exit %d",
		c.sales, c.missing, c.doubled, c.extra, c.viewDiffs, c.views, c.verifyExit)
}

// reference is what the inputs say, for the proof's reference column.
func (c truthCheck) reference() string {
	return fmt.Sprintf("from the input bytes: %d distinct sales, %d cents", c.wantSales, c.wantCents)
}

// kpiViews are filters worth checking over the inputs: all time, each category, region and
// channel, and windows over the first and the last days.
func kpiViews(in *oracle.Inputs) []api.Filter {
	all := in.KPIs(api.Filter{})
	views := []api.Filter{{}, {From: all.DataRange.To}, {To: all.DataRange.From}}
	for _, c := range all.Options.Categories {
		views = append(views, api.Filter{Category: c})
	}
	for _, r := range all.Options.Regions {
		views = append(views, api.Filter{Region: r, From: all.DataRange.From, To: all.DataRange.To})
	}
	for _, ch := range all.Options.Channels {
		views = append(views, api.Filter{Channel: ch, To: all.DataRange.To})
	}
	return views
}

// proofEnabled gates the proof's long fault tests: `make test` skips them.
func proofEnabled(t *testing.T) { proof.Enabled(t) }
