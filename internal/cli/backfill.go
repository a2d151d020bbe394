package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/etl"
	"salespulse/queries/db"
	"salespulse/server/api"
	"salespulse/server/kpi"
)

// backfillSummary is the last line `backfill --json` prints: what the run changed (or, dry,
// would change).
type backfillSummary struct {
	DryRun bool `json:"dry_run"`
	// Files by status: loaded, failed, skipped (same bytes as a loaded file), and
	// already_settled (this object version was loaded or refused before: not read again).
	Files         map[string]int `json:"files"`
	RowsLoaded    int64          `json:"rows_loaded"`
	RowsRejected  int64          `json:"rows_rejected"`
	RowsDuplicate int64          `json:"rows_duplicate"`
	Before        backfillTotals `json:"before"`
	After         backfillTotals `json:"after"`
	Days          []string       `json:"days_affected"` // sale dates the loaded files brought sales for
}

// backfillTotals are the KPI totals over all loaded sales, as the dashboard shows them.
type backfillTotals struct {
	Sales  api.Money `json:"sales"`
	Orders int64     `json:"orders"`
}

func runBackfill(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backfill", "backfill [--dry-run] [--json] [--since TIME] [--until TIME] [--parallel N] s3://BUCKET/PREFIX", cfg, stderr)
	databaseFlag(fs, &cfg)
	dryRun := fs.Bool("dry-run", false, "load every file in one transaction, report what would change, then roll it all back")
	asJSON := fs.Bool("json", false, "print one JSON object per file, then a summary")
	since := fs.String("since", "", "only objects last modified at or after this time (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "only objects last modified before this time (RFC 3339 or YYYY-MM-DD)")
	parallel := fs.Int("parallel", 1, "files loaded at once (1 with --dry-run)")
	fs.Func("suffix", "load only keys ending with one of these, comma-separated (env ETL_KEY_SUFFIX; default "+strings.Join(cfg.ETL.KeySuffixes, ",")+")", suffixFlag(&cfg.ETL.KeySuffixes))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || !strings.HasPrefix(fs.Arg(0), "s3://") {
		fs.Usage()
		return exitError(2)
	}
	bucket, prefix, err := etl.ParseS3URL(fs.Arg(0))
	if err != nil {
		return &Error{Name: "backfill", Reason: err.Error()}
	}
	from, err := parseTimeFlag("--since", *since)
	if err != nil {
		return err
	}
	to, err := parseTimeFlag("--until", *until)
	if err != nil {
		return err
	}
	switch {
	case *parallel < 1:
		return &Error{Name: "--parallel", Reason: "must be a whole number ≥ 1"}
	case *dryRun && *parallel > 1:
		return &Error{Name: "--parallel", Reason: "a dry run loads one file at a time, in one transaction"}
	}
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	s3c, err := etl.NewS3Client(ctx, cfg.S3.S3Options)
	if err != nil {
		return err
	}
	tuneGC()
	b := &backfill{pool: pool, out: stdout, stderr: stderr, json: *asJSON,
		sum:    backfillSummary{DryRun: *dryRun, Files: map[string]int{}},
		budget: etl.RetryBudget{Limit: cfg.ETL.RetryBudget, Log: slog.Default()},
		loader: &etl.Loader{Pool: pool, MaxRejectRatio: cfg.ETL.MaxRejectRatio, Timeout: cfg.ETL.Timeout, Log: slog.Default()}}
	if b.sum.Before, err = totals(ctx, pool, nil); err != nil {
		return fmt.Errorf("backfill: totals before: %w", err)
	}
	objects, err := etl.ListObjects(ctx, s3c, bucket, etl.KeyFilter{Prefix: prefix, Suffixes: cfg.ETL.KeySuffixes}, from, to)
	if err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	var dry pgx.Tx
	if *dryRun {
		if dry, err = pool.Begin(ctx); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		defer func() { _ = dry.Rollback(context.WithoutCancel(ctx)) }()
		b.loader.DryRun = dry
	}
	if err := b.run(ctx, objects, *parallel); err != nil {
		return err
	}
	if err := b.finish(ctx, dry); err != nil {
		return err
	}
	if b.sum.Files[etl.StatusFailed] > 0 {
		return exitError(1)
	}
	return nil
}

// parseTimeFlag reads an RFC 3339 time or a date (its midnight, UTC); "" is no bound.
func parseTimeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &Error{Name: name, Reason: "must be an RFC 3339 time (2024-06-01T12:00:00Z) or a date (2024-06-01)"}
}

// backfill loads a listing's objects and adds up what became of them.
type backfill struct {
	pool   *pgxpool.Pool
	loader *etl.Loader
	budget etl.RetryBudget
	out    io.Writer
	stderr io.Writer
	json   bool

	mu     sync.Mutex
	sum    backfillSummary
	loaded []int64 // ledger ids of the files loaded
}

// run loads the objects not settled before, parallel at a time. The ledger is read for all
// of them first: a dry run's one connection serves one statement at a time.
func (b *backfill) run(ctx context.Context, objects []*etl.S3Object, parallel int) error {
	q := db.New(b.loader.Conn())
	var todo []*etl.S3Object
	for _, o := range objects {
		info := o.Info()
		_, err := q.FindSettledObject(ctx, db.FindSettledObjectParams{Bucket: info.Bucket, ObjectKey: info.Key, Etag: info.ETag})
		switch {
		case err == nil:
			b.add(etl.Result{File: info.Name(), Status: statusSettled})
		case errors.Is(err, pgx.ErrNoRows):
			todo = append(todo, o)
		default:
			return fmt.Errorf("backfill: ledger: %w", err)
		}
	}
	work := make(chan *etl.S3Object)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				b.load(ctx, o)
			}
		}()
	}
	defer wg.Wait()
	defer close(work)
	for _, o := range todo {
		select {
		case work <- o:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// statusSettled counts an object version loaded or refused before: not read again.
const statusSettled = "already_settled"

// load loads one object as `load` does: within the retry budget, a failure recorded.
func (b *backfill) load(ctx context.Context, o *etl.S3Object) {
	res, err := loadSource(ctx, b.loader, b.budget, o, b.stderr)
	if err != nil {
		res.File, res.Status, res.Error = o.Info().Name(), etl.StatusFailed, err.Error()
	}
	b.add(res)
}

// add counts a file's result and prints its line.
func (b *backfill) add(res etl.Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sum.Files[res.Status]++
	b.sum.RowsLoaded += res.RowsLoaded
	b.sum.RowsRejected += res.RowsRejected
	b.sum.RowsDuplicate += res.RowsDuplicate
	if res.Status == etl.StatusLoaded {
		b.loaded = append(b.loaded, res.FileID)
	}
	switch {
	case b.json:
		line, _ := json.Marshal(res)
		fmt.Fprintln(b.out, string(line))
	case res.Status == statusSettled:
		fmt.Fprintf(b.out, "settled  %s: this object version was settled before, not read again\n", res.File)
	default:
		fmt.Fprintln(b.out, describe(res))
	}
}

// finish reads the totals after (inside the dry run's transaction: what committing would
// give) and the days affected, and prints the summary.
func (b *backfill) finish(ctx context.Context, dry pgx.Tx) error {
	var err error
	if b.sum.After, err = totals(ctx, b.pool, dry); err != nil {
		return fmt.Errorf("backfill: totals after: %w", err)
	}
	days, err := db.New(b.loader.Conn()).DaysOfFiles(ctx, b.loaded)
	if err != nil {
		return fmt.Errorf("backfill: days affected: %w", err)
	}
	b.sum.Days = make([]string, 0, len(days))
	for _, d := range days {
		b.sum.Days = append(b.sum.Days, d.Time.Format(time.DateOnly))
	}
	if b.json {
		line, _ := json.Marshal(map[string]backfillSummary{"summary": b.sum})
		fmt.Fprintln(b.out, string(line))
		return nil
	}
	verb := "changed"
	if b.sum.DryRun {
		verb = "would change (dry run, rolled back)"
	}
	fmt.Fprintf(b.out, "backfill %s: files %v; rows %d loaded, %d rejected, %d duplicate; %d days; sales %s → %s, orders %d → %d\n",
		verb, b.sum.Files, b.sum.RowsLoaded, b.sum.RowsRejected, b.sum.RowsDuplicate, len(b.sum.Days),
		b.sum.Before.Sales, b.sum.After.Sales, b.sum.Before.Orders, b.sum.After.Orders)
	return nil
}

// totals are the KPI engine's totals over every loaded sale, built from the data tx sees (a
// snapshot of its own when tx is nil), as a server starting now would show them.
func totals(ctx context.Context, pool *pgxpool.Pool, tx pgx.Tx) (backfillTotals, error) {
	if tx == nil {
		own, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return backfillTotals{}, err
		}
		defer func() { _ = own.Rollback(context.WithoutCancel(ctx)) }()
		tx = own
	}
	e := kpi.New()
	if err := e.LoadTx(ctx, tx); err != nil {
		return backfillTotals{}, err
	}
	t := e.Snapshot(kpi.Query{}).Totals
	return backfillTotals{Sales: t.Sales, Orders: t.Orders}, nil
}
