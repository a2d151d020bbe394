package kpi

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/queries/db"
	"salespulse/schema/schematest"
	"salespulse/server/api"
)

var testDB *schematest.DB

func TestMain(m *testing.M) { os.Exit(schematest.Run(m, "kpi", &testDB)) }

// loadBytes loads a file through the real loader.
func loadBytes(t *testing.T, name string, data []byte) etl.Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := etl.NewLocalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5}).Load(context.Background(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// After random interleaved loads of large-catalogue files spanning many days (some of
// them repeating sales of others: the merge path), an engine that read the database at
// start and then took the files as they committed, in whatever order, and one that reads
// everything afterwards agree with each other, with a recomputation from sales in SQL, and
// with the oracle's reading of the files, for random views of every kind.
func TestEngineFedByCommitsEqualsRecomputationFromSales(t *testing.T) {
	testDB.Reset(t)
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 11))
	t.Logf("seed %d", seed)
	from := time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC)
	var files [][]byte
	for i := range 10 {
		var b bytes.Buffer
		start := from.AddDate(0, 0, r.IntN(300))
		if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: 1000 + r.IntN(3000), Seed: r.Uint64(), From: start,
			To: start.AddDate(0, 0, r.IntN(400)), Products: 5000, Reps: 500, Snake: i%3 == 0}); err != nil {
			t.Fatal(err)
		}
		files = append(files, b.Bytes())
	}
	// Two files that repeat part of others: their sales are counted once.
	for range 2 {
		a, b := files[r.IntN(len(files))], files[r.IntN(len(files))]
		lines := strings.SplitAfter(string(b), "\n")
		files = append(files, append(bytes.Clone(a[:bytes.IndexByte(a, '\n')+1]), []byte(strings.Join(lines[1:len(lines)/2], ""))...))
	}
	in := oracle.New()
	for _, f := range files {
		if err := in.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	r.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })

	// A third of the files load before the live engine starts; the rest load four at a
	// time while it takes each commit in the order they finish, some announced twice.
	early := len(files) / 3
	for i, f := range files[:early] {
		loadBytes(t, fmt.Sprintf("early%d.csv", i), f)
	}
	live := New()
	if err := live.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	committed := make(chan int64, len(files))
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				res := loadBytes(t, fmt.Sprintf("late%d.csv", i), files[i])
				committed <- res.FileID
			}
		})
	}
	go func() {
		for i := early; i < len(files); i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		close(committed)
	}()
	for id := range committed {
		for range 1 + r.IntN(2) {
			if _, err := live.LoadFile(ctx, testDB.Pool, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fp, err := live.Sync(ctx, testDB.Pool); err != nil || !fp.Empty() {
		t.Errorf("sync after every commit was taken changed %v (%v)", fp, err)
	}
	fresh := New()
	if err := fresh.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	if live.Sales() != in.Distinct() || fresh.Sales() != in.Distinct() {
		t.Fatalf("engines hold %d and %d sales, the files %d distinct", live.Sales(), fresh.Sales(), in.Distinct())
	}

	all := in.KPIs(api.Filter{})
	first, _ := time.Parse(time.DateOnly, all.DataRange.From)
	last, _ := time.Parse(time.DateOnly, all.DataRange.To)
	span := int(last.Sub(first).Hours() / 24)
	day := func() string { return first.AddDate(0, 0, r.IntN(span+20)-10).Format(time.DateOnly) }
	pick := func(vals []string) string {
		if r.IntN(2) == 0 {
			return ""
		}
		return vals[r.IntN(len(vals))]
	}
	q := db.New(testDB.Pool)
	for range 60 {
		f := api.Filter{Category: pick(all.Options.Categories), Region: pick(all.Options.Regions), Channel: pick(all.Options.Channels)}
		switch r.IntN(4) {
		case 1:
			f.From = day()
		case 2:
			f.To = day()
		case 3:
			f.From, f.To = day(), day()
			if f.From > f.To {
				f.From, f.To = f.To, f.From
			}
		}
		a := assertAgree(t, q, live, fresh, f)
		if d := in.Check(a, f); len(d) > 0 {
			t.Errorf("%+v: differs from the oracle:\n  %s", f, strings.Join(d, "\n  "))
		}
	}
}

// A file whose sales partly went into room freed earlier in the table (the pages of an
// aborted load, once vacuumed), below the blocks its ledger row records, is still read
// whole by a running engine: the ledger's count sends it looking for the rest.
func TestFileSalesInFreedRoomAreRead(t *testing.T) {
	testDB.Reset(t)
	ctx := context.Background()
	gen := func(rows int, seed uint64) []byte {
		var b bytes.Buffer
		from := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: rows, Seed: seed, From: from, To: from.AddDate(0, 0, 40), Products: 300, Reps: 40}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	first := gen(2000, 31)
	loadBytes(t, "first.csv", first)
	// New sales, then one of the first file's: the fast path writes the new ones and aborts
	// on the repeat; the merge path writes them again after. Vacuum frees the aborted pages.
	lines := strings.SplitAfter(string(first), "\n")
	if res := loadBytes(t, "repeat.csv", append(gen(6000, 32), lines[1]...)); res.Path != "merge" {
		t.Fatalf("the repeating file loaded along %q, want the merge path", res.Path)
	}
	if _, err := testDB.Pool.Exec(ctx, "VACUUM sales"); err != nil {
		t.Fatal(err)
	}
	live := New()
	if err := live.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	res := loadBytes(t, "last.csv", gen(4000, 33))
	below := testDB.Int(t, `SELECT count(*) FROM sales s JOIN ingested_files f ON f.id = s.file_id
		WHERE f.id = $1 AND s.ctid < format('(%s,0)', f.sales_from_block)::tid`, res.FileID)
	if below == 0 {
		t.Fatal("no sale of the last file went below its recorded blocks: the test shows nothing")
	}
	t.Logf("%d of the last file's %d sales lie below its recorded blocks", below, res.RowsLoaded)
	if _, err := live.LoadFile(ctx, testDB.Pool, res.FileID); err != nil {
		t.Fatal(err)
	}
	fresh := New()
	if err := fresh.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	if live.Sales() != fresh.Sales() || live.Sales() != 12000 {
		t.Fatalf("the live engine holds %d sales, a fresh one %d, want 12000", live.Sales(), fresh.Sales())
	}
	q := db.New(testDB.Pool)
	for _, f := range []api.Filter{{}, {From: "2024-05-10", To: "2024-05-20"}, {Region: fresh.Snapshot(Query{}).Options.Regions[0]}} {
		assertAgree(t, q, live, fresh, f)
	}
}

// A file whose ledger count disagrees with its sales (a sale deleted by hand) is still
// taken, with the sales there are: verify reports the drift, the push does not stop.
func TestLedgerDriftDoesNotStopAFile(t *testing.T) {
	testDB.Reset(t)
	ctx := context.Background()
	live := New()
	if err := live.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: 500, Seed: 41, From: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 5, 9, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	res := loadBytes(t, "drift.csv", b.Bytes())
	if _, err := testDB.Pool.Exec(ctx, `DELETE FROM sales WHERE sale_key = (SELECT sale_key FROM sales WHERE file_id = $1 LIMIT 1)`, res.FileID); err != nil {
		t.Fatal(err)
	}
	if _, err := live.LoadFile(ctx, testDB.Pool, res.FileID); err != nil {
		t.Fatalf("a file whose ledger disagrees with sales: %v", err)
	}
	if live.Sales() != 499 || !live.Has(res.FileID) {
		t.Errorf("the engine holds %d sales (file held: %v), want the 499 left", live.Sales(), live.Has(res.FileID))
	}
}

// assertAgree checks that a live engine's view equals a fresh engine's and a recomputation
// from sales with SQL, and returns it.
func assertAgree(t *testing.T, q *db.Queries, live, fresh *Engine, f api.Filter) *api.Snapshot {
	t.Helper()
	query := query(t, f)
	a := live.Snapshot(query)
	if !reflect.DeepEqual(a, fresh.Snapshot(query)) {
		t.Errorf("%+v: the live engine and a fresh one differ", f)
	}
	want, err := Recompute(context.Background(), q, f, a.Window)
	if err != nil {
		t.Fatal(err)
	}
	if d := Differences(a, want); len(d) > 0 {
		t.Errorf("%+v: differs from SQL in %v", f, d)
	}
	return a
}

// The columns the engine streams are those of the table: a file loaded through the real
// loader reads back as the oracle reads the file.
func TestStreamedSalesReadBackExactly(t *testing.T) {
	testDB.Reset(t)
	in := oracle.FixtureInputs(t)
	for i, path := range oracle.Fixtures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		loadBytes(t, fmt.Sprintf("f%d.csv", i), data)
	}
	e := New()
	if err := e.Load(context.Background(), testDB.Pool); err != nil {
		t.Fatal(err)
	}
	snap := e.Snapshot(Query{})
	if d := in.Check(snap, api.Filter{}); len(d) > 0 {
		t.Fatalf("fixtures:\n  %s", strings.Join(d, "\n  "))
	}
	if snap.Totals.Orders != 2663 || snap.Totals.Sales != 362790575 || len(e.Files()) != oracle.FixtureCount {
		t.Errorf("fixtures: %d orders, %v sales, %d files", snap.Totals.Orders, snap.Totals.Sales, len(e.Files()))
	}
}

// A read that fails midway leaves the engine empty, and the next attempt counts every sale
// once.
func TestFailedLoadLeavesTheEngineEmpty(t *testing.T) {
	testDB.Reset(t)
	ctx := context.Background()
	for i, path := range oracle.Fixtures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		loadBytes(t, fmt.Sprintf("f%d.csv", i), data)
	}
	tx, err := testDB.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	files, err := engineFiles(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	e := New()
	defer func(rows int) { deltaRows = rows }(deltaRows)
	deltaRows = 100 // some deltas are applied before the failure
	err = e.load(ctx, tx, files, " WHERE CASE WHEN ctid > '(20,0)' THEN 1 / 0 = 1 ELSE true END")
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("a failing read: %v", err)
	}
	if e.Sales() != 0 || len(e.Files()) != 0 || e.Snapshot(Query{}).Totals.Orders != 0 {
		t.Fatalf("after a failed read the engine holds %d sales of %d files", e.Sales(), len(e.Files()))
	}
	if err := e.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	fresh := New()
	if err := fresh.Load(ctx, testDB.Pool); err != nil {
		t.Fatal(err)
	}
	if a, b := fresh.Snapshot(Query{}), e.Snapshot(Query{}); !reflect.DeepEqual(a, b) || e.Sales() != 2663 {
		t.Errorf("a new attempt holds %d sales; equal to a first one: %v", e.Sales(), reflect.DeepEqual(a, b))
	}
}
