package etl

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"salespulse/internal/oracle"
	"salespulse/queries/db"
	"salespulse/schema/schematest"
)

var testDB *schematest.DB

func TestMain(m *testing.M) { os.Exit(schematest.Run(m, "etl", &testDB)) }

func fixtureFiles(t testing.TB) []string { return oracle.Fixtures(t) }

func newLoader() *Loader { return &Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5} }

func loadPath(t testing.TB, l *Loader, path string) Result {
	t.Helper()
	src, err := NewLocalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Load(context.Background(), src, nil)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return res
}

// writeFile writes a test file and returns its path.
func writeFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func generated(t testing.TB, opt GenerateOptions) []byte {
	t.Helper()
	if opt.From.IsZero() {
		opt.From = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		opt.To = opt.From.AddDate(0, 0, 13)
	}
	var b bytes.Buffer
	if _, err := Generate(&b, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// assertConsistent checks the ledger against sales: every loaded file's rows are there, no
// more, and every ledger row's counts add up.
func assertConsistent(t testing.TB) {
	t.Helper()
	q := db.New(testDB.Pool)
	ctx := context.Background()
	if n, err := q.LedgerDrift(ctx); err != nil || n != 0 {
		t.Errorf("sales rows minus ledger rows_loaded: %d (%v)", n, err)
	}
	if files, err := q.FileDrift(ctx); err != nil || len(files) != 0 {
		t.Errorf("files whose sales differ from the ledger: %+v (%v)", files, err)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE rows_total <> rows_loaded + rows_rejected + rows_duplicate`); n != 0 {
		t.Errorf("%d ledger rows whose counts do not add up", n)
	}
	if files, err := q.FilesPastTheirBlocks(ctx); err != nil || len(files) != 0 {
		t.Errorf("files with sales past their recorded blocks: %+v (%v)", files, err)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files
		WHERE (status = 'loaded') <> (sales_from_block IS NOT NULL AND sales_end_block IS NOT NULL)`); n != 0 {
		t.Errorf("%d ledger rows whose sales blocks are recorded though they loaded nothing, or missing though they loaded", n)
	}
}

// tablesDigest fingerprints sales and the ledger's loaded and failed rows, to show that
// something changed nothing (but for the skipped rows of its attempts).
func tablesDigest(t testing.TB) string {
	t.Helper()
	var s string
	err := testDB.Pool.QueryRow(context.Background(), `
		SELECT md5(coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM sales x), '')
		        || coalesce((SELECT string_agg(f.id::text || f.status || f.rows_loaded, ',' ORDER BY f.id)
		                     FROM ingested_files f WHERE f.status <> 'skipped'), ''))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fixtureTruth is what loading files must give, as the oracle computes it.
type fixtureTruth struct {
	rows, rejects, distinct, duplicates int64
	totalCents                          int64
}

func computeFixtureTruth(t testing.TB, files []string) fixtureTruth {
	t.Helper()
	in := oracle.New()
	for _, f := range files {
		in.AddFile(t, f)
	}
	return fixtureTruth{rows: in.Rows, rejects: in.Rejects, distinct: in.Distinct(), duplicates: in.Duplicates, totalCents: in.TotalCents()}
}

func TestFixturesLoadExactlyInAnyOrderAndOnce(t *testing.T) {
	testDB.Reset(t)
	files := fixtureFiles(t)
	truth := computeFixtureTruth(t, files)
	seed := uint64(time.Now().UnixNano())
	rand.New(rand.NewPCG(seed, 1)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	t.Logf("load order seed %d; expected %+v", seed, truth)

	l := newLoader()
	var got fixtureTruth
	for _, f := range files {
		res := loadPath(t, l, f)
		if res.Status != StatusLoaded {
			t.Fatalf("%s: %+v", f, res)
		}
		if res.RowsTotal != res.RowsLoaded+res.RowsRejected+res.RowsDuplicate {
			t.Errorf("%s: counts do not add up: %+v", f, res)
		}
		got.rows += res.RowsTotal
		got.rejects += res.RowsRejected
		got.duplicates += res.RowsDuplicate
	}
	got.distinct = testDB.Int(t, `SELECT count(*) FROM sales`)
	got.totalCents = testDB.Int(t, `SELECT sum(total_value_cents) FROM sales`)
	if got != truth {
		t.Fatalf("loaded %+v, want %+v", got, truth)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM rejected_rows`); n != truth.rejects {
		t.Errorf("rejected_rows holds %d entries, want %d", n, truth.rejects)
	}
	assertConsistent(t)

	before := tablesDigest(t)
	for _, f := range files {
		res := loadPath(t, l, f)
		if res.Status != StatusSkipped || res.FileID == 0 || res.Repeats == 0 || res.Repeats == res.FileID {
			t.Errorf("second load of %s: %+v, want skipped, with a row of its own naming the earlier file", f, res)
		}
	}
	if after := tablesDigest(t); after != before {
		t.Error("loading the files again changed sales or the ledger's loaded rows")
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files s JOIN ingested_files f ON f.id = s.repeats_file_id
		WHERE s.status = 'skipped' AND f.status = 'loaded' AND f.content_sha256 = s.content_sha256`); n != int64(len(files)) {
		t.Errorf("%d skipped rows naming the loaded file of the same bytes, want %d", n, len(files))
	}
	assertConsistent(t)
}

// Loads one after another write their sales within the heap blocks their ledger rows
// record, whichever path they take (the third file repeats sales of the first: its fast
// path aborts after writing most of its rows and it loads again along the merge path).
// That is what lets a server read a file's sales by those blocks alone.
func TestLoadsRecordTheBlocksTheirSalesLieIn(t *testing.T) {
	testDB.Reset(t)
	l := newLoader()
	first := generated(t, GenerateOptions{Rows: 3000, Seed: 21})
	again := generated(t, GenerateOptions{Rows: 3000, Seed: 22})
	lines := strings.SplitAfter(string(first), "\n")
	files := [][]byte{first, generated(t, GenerateOptions{Rows: 5000, Seed: 23}),
		append(again, []byte(strings.Join(lines[1:200], ""))...), generated(t, GenerateOptions{Rows: 2000, Seed: 24})}
	paths := []string{pathCopy, pathCopy, pathMerge, pathCopy}
	for i, f := range files {
		res := loadPath(t, l, writeFile(t, fmt.Sprintf("f%d.csv", i), f))
		if res.Status != StatusLoaded || res.Path != paths[i] {
			t.Fatalf("file %d: %+v, want loaded along %s", i, res, paths[i])
		}
		inside := testDB.Int(t, `SELECT count(*) FROM sales s JOIN ingested_files f ON f.id = s.file_id
			WHERE f.id = $1 AND s.ctid >= format('(%s,0)', f.sales_from_block)::tid AND s.ctid < format('(%s,0)', f.sales_end_block)::tid`, res.FileID)
		if inside != res.RowsLoaded || inside == 0 {
			t.Errorf("file %d: %d of its %d sales lie within its recorded blocks", i, inside, res.RowsLoaded)
		}
	}
	assertConsistent(t)
}

func TestMergePathCountsDuplicatesAndKeepsFirstOccurrence(t *testing.T) {
	testDB.Reset(t)
	l := newLoader()
	first := generated(t, GenerateOptions{Rows: 400, Seed: 11})
	if res := loadPath(t, l, writeFile(t, "first.csv", first)); res.Status != StatusLoaded || res.Path != pathCopy || res.RowsLoaded != 400 {
		t.Fatalf("first file: %+v", res)
	}
	// The second file repeats 150 rows of the first, then brings 300 new ones, one of which
	// appears twice with a different customer name: the first occurrence must win.
	lines := strings.SplitAfter(strings.TrimSuffix(string(first), "\n"), "\n")
	fresh := strings.SplitAfter(strings.TrimSuffix(string(generated(t, GenerateOptions{Rows: 300, Seed: 12})), "\n"), "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	for _, l := range lines[1:151] {
		b.WriteString(l)
	}
	for _, l := range fresh[1:] {
		b.WriteString(l)
	}
	repeat := strings.TrimSuffix(fresh[1], "\n")
	fields := strings.Split(repeat, ",")
	fields[16] = "Someone Else" // Customer Name
	b.WriteString("\n" + strings.Join(fields, ",") + "\n")
	res := loadPath(t, l, writeFile(t, "second.csv", []byte(b.String())))
	want := Result{Status: StatusLoaded, Path: pathMerge, RowsTotal: 451, RowsLoaded: 300, RowsDuplicate: 151}
	if res.Status != want.Status || res.Path != want.Path || res.RowsTotal != want.RowsTotal ||
		res.RowsLoaded != want.RowsLoaded || res.RowsDuplicate != want.RowsDuplicate || res.RowsRejected != 0 {
		t.Fatalf("second file: %+v, want %+v", res, want)
	}
	var name string
	id := strings.Split(repeat, ",")[1]
	if err := testDB.Pool.QueryRow(context.Background(), `SELECT customer_name FROM sales WHERE sale_id = $1`, id).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name == "Someone Else" {
		t.Error("a later duplicate in the file replaced the first occurrence")
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 700 {
		t.Errorf("sales holds %d rows, want 700", n)
	}
	assertConsistent(t)
}

func TestTooManyRejectsFailTheWholeFile(t *testing.T) {
	testDB.Reset(t)
	var st GenerateStats
	var b bytes.Buffer
	st, err := Generate(&b, GenerateOptions{Rows: 500, Seed: 5, Invalid: 0.7,
		From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "bad.csv", b.Bytes())
	res := loadPath(t, newLoader(), path)
	if res.Status != StatusFailed || res.RowsTotal != 500 || res.RowsRejected != 500 || res.RowsLoaded != 0 ||
		!strings.Contains(res.Error, "over the 50% limit") {
		t.Fatalf("got %+v", res)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 0 {
		t.Errorf("a refused file loaded %d sales", n)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM rejected_rows WHERE file_id = $1`, res.FileID); n != int64(st.Invalid) {
		t.Errorf("%d rejected rows recorded, want the %d invalid ones", n, st.Invalid)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE id = $1 AND status = 'failed' AND error <> ''`, res.FileID); n != 1 {
		t.Error("no failed ledger row with its reason")
	}
	assertConsistent(t)

	// A higher limit takes the same file, rejects and all.
	lenient := &Loader{Pool: testDB.Pool, MaxRejectRatio: 0.9}
	res = loadPath(t, lenient, path)
	if res.Status != StatusLoaded || res.RowsRejected != int64(st.Invalid) || res.RowsLoaded != int64(500-st.Invalid) {
		t.Fatalf("with a 90%% limit: %+v (invalid %d)", res, st.Invalid)
	}
	assertConsistent(t)
}

func TestFilesThatCannotBeReadFailWithAReason(t *testing.T) {
	testDB.Reset(t)
	cases := map[string]struct {
		content string
		reason  string
	}{
		"empty":             {"", "empty file"},
		"missing column":    {"Sale Date,Sale ID,Product ID\n2024-01-01,x,y\n", "missing required column(s): Product Name"},
		"duplicate meaning": {"sale_date,Sale Date,sale_id\n", "both mean Sale Date"},
		"binary":            {"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "missing required column"},
	}
	l := newLoader()
	for name, c := range cases {
		res := loadPath(t, l, writeFile(t, "f.csv", []byte(c.content)))
		if res.Status != StatusFailed || !strings.Contains(res.Error, c.reason) {
			t.Errorf("%s: got %+v, want failed with %q", name, res, c.reason)
		}
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'failed'`); n != int64(len(cases)) {
		t.Errorf("%d failed ledger rows, want %d", n, len(cases))
	}
	assertConsistent(t)
}

func TestEncodingsAndDialectsLoad(t *testing.T) {
	testDB.Reset(t)
	header := "Sale Date;Sale ID;Product ID;Product Name;Product Category;Quantity Sold;Unit Price;Discount (%);Total Value (with Discount);Payment Method;Payment Status;Customer ID;Customer Name;Sales Channel;Sales Region;Sales Representative;Extra Notes\r\n"
	row := "2024-05-02;4b0f3b8e-6a53-4c2a-9a55-0d2a4f1e7c01;PRD1;Caf\xe9 Table;Furniture;2;10.50;0;21.00;Pix;Paid;CUS1;Jo\xe3o Gon\xe7alves;Online Store;S\xe3o Paulo;Ana;x\r\n"
	res := loadPath(t, newLoader(), writeFile(t, "latin1.csv", []byte(header+row)))
	if res.Status != StatusLoaded || res.RowsLoaded != 1 {
		t.Fatalf("got %+v", res)
	}
	var name, region, enc, delim string
	var unknown []string
	err := testDB.Pool.QueryRow(context.Background(), `
		SELECT s.customer_name, s.sales_region, f.encoding, f.delimiter, f.unknown_columns
		FROM sales s JOIN ingested_files f ON f.id = s.file_id`).Scan(&name, &region, &enc, &delim, &unknown)
	if err != nil {
		t.Fatal(err)
	}
	if name != "João Gonçalves" || region != "São Paulo" || enc != EncodingWindows1252 || delim != ";" ||
		len(unknown) != 1 || unknown[0] != "Extra Notes" {
		t.Errorf("got %q %q %s %q %v", name, region, enc, delim, unknown)
	}
}

func TestConcurrentLoadsKeepTheLedgerExact(t *testing.T) {
	testDB.Reset(t)
	// Six files; each shares a third of its ids with the next, so loads collide on sale
	// ids while they run at the same time.
	var files []string
	for i := range 6 {
		a := generated(t, GenerateOptions{Rows: 600, Seed: uint64(100 + i)})
		b := generated(t, GenerateOptions{Rows: 300, Seed: uint64(101 + i)})
		lines := strings.SplitAfter(string(b), "\n")
		files = append(files, writeFile(t, fmt.Sprintf("f%d.csv", i), append(a, []byte(strings.Join(lines[1:], ""))...)))
	}
	var wg sync.WaitGroup
	results := make([]Result, len(files))
	for i, f := range files {
		wg.Go(func() { results[i] = loadPath(t, newLoader(), f) })
	}
	wg.Wait()
	var loaded, dups int64
	for _, r := range results {
		if r.Status != StatusLoaded {
			t.Fatalf("%+v", r)
		}
		loaded += r.RowsLoaded
		dups += r.RowsDuplicate
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != loaded || n != 6*600+300 {
		t.Errorf("sales %d, loaded %d, want %d distinct", n, loaded, 6*600+300)
	}
	if dups != 6*300-300 {
		t.Errorf("%d duplicates, want %d", dups, 6*300-300)
	}
	assertConsistent(t)
}

func TestRandomInterleavedLoadsKeepTheLedgerExact(t *testing.T) {
	testDB.Reset(t)
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 2))
	t.Logf("seed %d", seed)
	files := fixtureFiles(t)
	for i := range 4 {
		files = append(files, writeFile(t, fmt.Sprintf("g%d.csv", i),
			generated(t, GenerateOptions{Rows: 200 + r.IntN(400), Seed: uint64(r.IntN(3)), Invalid: 0.1, Snake: i%2 == 0})))
	}
	r.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	work := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			l := newLoader()
			for f := range work {
				res := loadPath(t, l, f)
				if res.Status == StatusFailed {
					t.Errorf("%s: %+v", f, res)
				}
			}
		})
	}
	for _, f := range append(files, files[:10]...) {
		work <- f
	}
	close(work)
	wg.Wait()
	assertConsistent(t)
}

func TestSameBytesAtOnceLoadOnce(t *testing.T) {
	testDB.Reset(t)
	content := generated(t, GenerateOptions{Rows: 2000, Seed: 9})
	a, b := writeFile(t, "a.csv", content), writeFile(t, "b.csv", content)
	var wg sync.WaitGroup
	var ra, rb Result
	wg.Go(func() { ra = loadPath(t, newLoader(), a) })
	wg.Go(func() { rb = loadPath(t, newLoader(), b) })
	wg.Wait()
	statuses := []string{ra.Status, rb.Status}
	if !(statuses[0] == StatusLoaded && statuses[1] == StatusSkipped || statuses[0] == StatusSkipped && statuses[1] == StatusLoaded) {
		t.Fatalf("got %v, want one loaded and one skipped", statuses)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 2000 {
		t.Errorf("sales %d, want 2000", n)
	}
	assertConsistent(t)
}

func TestDiscountsAndMoneyRoundTripExactly(t *testing.T) {
	testDB.Reset(t)
	content := "sale_date,sale_id,product_id,product_name,product_category,quantity_sold,unit_price,discount,total_value,unit_cost,total_cost,gross_profit,payment_method,payment_status,customer_id,sales_channel,sales_region,sales_rep\n" +
		"2024-02-29,S-1,P1,Desk,Furniture,3,100.00,12.5,262.50,40.005,120.02,142.48,Pix,paid,C1,Web,North,Rep A\n" +
		"2023-12-31,S-2,P2,Desk,Furniture,1.0,0.01,0.0,0.01,,,,Card,Cancelled,C2,Web,North,Rep B\n"
	res := loadPath(t, newLoader(), writeFile(t, "m.csv", []byte(content)))
	if res.RowsLoaded != 2 {
		t.Fatalf("%+v", res)
	}
	rows, err := testDB.Pool.Query(context.Background(), `
		SELECT sale_id, sale_date::text, discount_pct::text, total_value_cents, unit_cost_cents,
		       coalesce(gross_profit_cents, -1), payment_status
		FROM sales ORDER BY sale_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id, date, disc, status string
		var total, cost, profit int64
		var ucost *int64
		if err := rows.Scan(&id, &date, &disc, &total, &ucost, &profit, &status); err != nil {
			t.Fatal(err)
		}
		if ucost != nil {
			cost = *ucost
		}
		got = append(got, fmt.Sprintf("%s %s %s %d %d %d %s", id, date, disc, total, cost, profit, status))
	}
	want := []string{"S-1 2024-02-29 12.5000 26250 4001 14248 Paid", "S-2 2023-12-31 0.0000 1 0 -1 Canceled"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}
