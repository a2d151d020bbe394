package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl"
)

func runLoad(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", "load [flags] PATH|s3://BUCKET/KEY ...", cfg, stderr)
	databaseFlag(fs, &cfg)
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	ratio := fs.String("max-reject-ratio", "", "fail a file with more rejected rows than this share, e.g. 0.5 or 50% (env MAX_REJECT_RATIO, default 50%)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ratio != "" {
		v, err := ParseRatio(*ratio)
		if err != nil {
			return &Error{Name: "--max-reject-ratio", Reason: err.Error()}
		}
		cfg.ETL.MaxRejectRatio = v
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError(2)
	}
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	tuneGC()
	loader := &etl.Loader{Pool: pool, MaxRejectRatio: cfg.ETL.MaxRejectRatio, Timeout: cfg.ETL.Timeout,
		RetryFailed: true, Log: slog.Default()}
	var s3c *s3.Client
	for _, arg := range fs.Args() {
		if strings.HasPrefix(arg, "s3://") && s3c == nil {
			if s3c, err = etl.NewS3Client(ctx, cfg.S3.S3Options); err != nil {
				return err
			}
		}
	}
	budget := etl.RetryBudget{Limit: cfg.ETL.RetryBudget, Log: slog.Default()}
	allDone := true
	for _, arg := range fs.Args() {
		res, err := loadOne(ctx, loader, budget, s3c, arg, stderr)
		if err != nil {
			// Not loaded, nothing committed: reported like a refused file, and the next one tried.
			res.File, res.Status, res.Error = arg, etl.StatusFailed, err.Error()
		}
		if res.Status != etl.StatusLoaded && res.Status != etl.StatusSkipped {
			allDone = false
		}
		if *asJSON {
			line, _ := json.Marshal(res)
			fmt.Fprintln(stdout, string(line))
		} else {
			fmt.Fprintln(stdout, describe(res))
		}
		if ctx.Err() != nil {
			return exitError(1)
		}
	}
	if !allDone {
		return exitError(1)
	}
	return nil
}

// loadOne loads a file, trying failures again within the retry budget like the worker does,
// and records a file it opened but could not load as failed in the ledger. An error means
// it could not be opened, or not even its failure recorded.
func loadOne(ctx context.Context, loader *etl.Loader, budget etl.RetryBudget, s3c *s3.Client, arg string, stderr io.Writer) (etl.Result, error) {
	src, err := openSource(ctx, s3c, arg)
	if err != nil {
		return etl.Result{}, err
	}
	return loadSource(ctx, loader, budget, src, stderr)
}

// loadSource is loadOne of a source at hand (an object a listing found).
func loadSource(ctx context.Context, loader *etl.Loader, budget etl.RetryBudget, src etl.Source, stderr io.Writer) (etl.Result, error) {
	bar := newProgressBar(stderr, src.Info().Name(), src.Info().Size)
	defer bar.finish()
	start := time.Now()
	res, err := budget.Run(ctx, src.Info().Name(), func() (etl.Result, error) { return loader.Load(ctx, src, bar.update) })
	var gaveUp *etl.GaveUp
	if errors.As(err, &gaveUp) {
		return loader.RecordFailure(ctx, src, start, gaveUp)
	}
	return res, err
}

// openSource turns a command-line argument into a Source: a path, or s3://BUCKET/KEY.
func openSource(ctx context.Context, s3c *s3.Client, arg string) (etl.Source, error) {
	if !strings.HasPrefix(arg, "s3://") {
		return etl.NewLocalFile(arg)
	}
	bucket, key, err := etl.ParseS3URL(arg)
	if err != nil {
		return nil, err
	}
	return etl.StatS3Object(ctx, s3c, bucket, key)
}

func describe(r etl.Result) string {
	switch r.Status {
	case etl.StatusSkipped:
		return fmt.Sprintf("skipped  %s: these bytes were loaded before (file %d repeats file %d)", r.File, r.FileID, r.Repeats)
	case etl.StatusLoaded:
		return fmt.Sprintf("loaded   %s: %d rows: %d loaded, %d rejected, %d duplicate (file %d, %.2f s)",
			r.File, r.RowsTotal, r.RowsLoaded, r.RowsRejected, r.RowsDuplicate, r.FileID, r.Seconds)
	case etl.StatusFailed:
		if r.FileID == 0 {
			return fmt.Sprintf("failed   %s: %s", r.File, r.Error)
		}
		return fmt.Sprintf("failed   %s: %s (file %d)", r.File, r.Error, r.FileID)
	}
	return fmt.Sprintf("%-8s %s: %s", r.Status, r.File, r.Error)
}

// tuneGC trades memory the loader does not need for fewer collections: a load allocates
// fast but keeps little alive. GOGC and GOMEMLIMIT, when set, win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(160 << 20)
	}
}
