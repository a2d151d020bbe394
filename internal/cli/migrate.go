package cli

import (
	"context"
	"fmt"
	"io"

	"salespulse/queries/db"
	"salespulse/schema"
)

func runMigrate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate [flags]", stderr)
	databaseFlag(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	pool, err := schema.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := schema.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrate: %d migration(s) applied, schema up to date\n", n)
	return nil
}

// runVerify recomputes every rollup and the ledger's totals from sales and reports drift.
func runVerify(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "verify [flags]", stderr)
	databaseFlag(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	pool, err := schema.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	q := db.New(pool)
	checks := []struct {
		name string
		run  func(context.Context) (int64, error)
	}{
		{"kpi_cube rows differing from sales", q.CubeDrift},
		{"kpi_product rows differing from sales", q.ProductDrift},
		{"kpi_rep rows differing from sales", q.RepDrift},
		{"sales rows minus ledger rows_loaded", q.LedgerDrift},
	}
	bad := false
	for _, c := range checks {
		n, err := c.run(ctx)
		if err != nil {
			return fmt.Errorf("verify: %s: %w", c.name, err)
		}
		fmt.Fprintf(stdout, "%-40s %d\n", c.name+":", n)
		bad = bad || n != 0
	}
	if bad {
		fmt.Fprintln(stdout, "verify: DRIFT FOUND")
		return exitError(1)
	}
	fmt.Fprintln(stdout, "verify: rollups and ledger agree with sales")
	return nil
}
