//go:build !wasm

package main

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

	"salespulse/config"
	"salespulse/etl"
	"salespulse/postgres"
	"salespulse/schema"
)

func runLoad(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", "load [flags] PATH|s3://BUCKET/KEY ...", stderr)
	databaseFlag(fs, &cfg)
	asJSON := fs.Bool("json", false, "print one JSON object per file")
	ratio := fs.String("max-reject-ratio", "", "fail a file with more rejected rows than this share, e.g. 0.5 or 50% (env MAX_REJECT_RATIO, default 50%)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ratio != "" {
		v, err := config.ParseRatio(*ratio)
		if err != nil {
			return &config.Error{Name: "--max-reject-ratio", Reason: err.Error()}
		}
		cfg.ETL.MaxRejectRatio = v
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError(2)
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	sources := make([]etl.Source, 0, fs.NArg())
	for _, arg := range fs.Args() {
		src, err := openSource(arg)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		sources = append(sources, src)
	}
	pool, err := postgres.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := schema.Migrate(ctx, pool); err != nil {
		return err
	}
	tuneGC()
	loader := &etl.Loader{Pool: pool, MaxRejectRatio: cfg.ETL.MaxRejectRatio, Log: slog.Default()}
	allDone := true
	for _, src := range sources {
		bar := newProgressBar(stderr, src.Info().Name(), src.Info().Size)
		res, err := loader.Load(ctx, src, bar.update)
		bar.finish()
		if err != nil {
			res.Status, res.Error = "error", err.Error()
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
		if errors.Is(err, context.Canceled) {
			return exitError(1)
		}
	}
	if !allDone {
		return exitError(1)
	}
	return nil
}

// openSource turns a command-line argument into a Source.
func openSource(arg string) (etl.Source, error) {
	if strings.HasPrefix(arg, "s3://") {
		return nil, fmt.Errorf("%s: loading from S3 is not available in this build", arg)
	}
	return etl.NewLocalFile(arg)
}

func describe(r etl.Result) string {
	switch r.Status {
	case etl.StatusSkipped:
		return fmt.Sprintf("skipped  %s: these bytes were loaded before (file %d)", r.File, r.FileID)
	case etl.StatusLoaded:
		return fmt.Sprintf("loaded   %s: %d rows: %d loaded, %d rejected, %d duplicate (file %d, %.2f s)",
			r.File, r.RowsTotal, r.RowsLoaded, r.RowsRejected, r.RowsDuplicate, r.FileID, r.Seconds)
	case etl.StatusFailed:
		return fmt.Sprintf("failed   %s: %s (file %d)", r.File, r.Error, r.FileID)
	}
	return fmt.Sprintf("error    %s: %s", r.File, r.Error)
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
