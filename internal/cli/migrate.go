package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"salespulse/queries/db"
	"salespulse/schema"
	"salespulse/server/api"
	"salespulse/server/kpi"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func runMigrate(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate [flags]", cfg, stderr)
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

// runVerify checks the ledger against sales, and the KPIs the engine computes (and, with
// --server, those a running server shows) against a recomputation from sales with SQL.
func runVerify(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "verify [--server URL] [flags]", cfg, stderr)
	databaseFlag(fs, &cfg)
	server := fs.String("server", "", "also check what the server at this URL shows (API_TOKEN is sent when set)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	if *server != "" {
		if u, err := url.Parse(*server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Name: "--server", Reason: "must be an http:// or https:// URL"}
		}
	}
	pool, err := schema.Open(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	v := verifier{out: stdout}
	if err := v.ledger(ctx, db.New(pool)); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := v.kpis(ctx, pool, *server, cfg.HTTP.APIToken); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if v.bad {
		fmt.Fprintln(stdout, "verify: DIFFERENCES FOUND")
		return exitError(1)
	}
	fmt.Fprintln(stdout, "verify: the ledger and the KPIs agree with sales")
	return nil
}

// verifier prints each check's result and remembers whether any failed.
type verifier struct {
	out io.Writer
	bad bool
}

func (v *verifier) report(name string, n int, detail ...string) {
	fmt.Fprintf(v.out, "%-48s %d\n", name+":", n)
	for _, d := range detail {
		fmt.Fprintf(v.out, "  %s\n", d)
	}
	v.bad = v.bad || n != 0
}

func (v *verifier) ledger(ctx context.Context, q *db.Queries) error {
	drift, err := q.LedgerDrift(ctx)
	if err != nil {
		return err
	}
	v.report("sales rows minus ledger rows_loaded", int(drift))
	files, err := q.FileDrift(ctx)
	if err != nil {
		return err
	}
	var detail []string
	for _, f := range files {
		detail = append(detail, fmt.Sprintf("file %d: ledger says %d rows loaded, sales holds %d", f.ID, f.RowsLoaded, f.Sales))
	}
	v.report("files whose sales differ from the ledger", len(files), detail...)
	past, err := q.FilesPastTheirBlocks(ctx)
	if err != nil {
		return err
	}
	detail = detail[:0]
	for _, f := range past {
		detail = append(detail, fmt.Sprintf("file %d: %d sales at or past block %d, where the ledger says they end", f.ID, f.Sales, f.EndBlock))
	}
	v.report("files with sales past their recorded blocks", len(past), detail...)
	return nil
}

// kpis builds an engine from the database and recomputes a set of views with SQL, both in
// one REPEATABLE READ transaction, so that they see the same data; a server's views are
// compared with the same recomputation (a file committing meanwhile shows as a difference:
// run it again).
func (v *verifier) kpis(ctx context.Context, pool *pgxpool.Pool, server, token string) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	e := kpi.New()
	if err := e.LoadTx(ctx, tx); err != nil {
		return err
	}
	all := e.Snapshot(kpi.Query{})
	var views []kpi.Check
	if all.DataRange != (api.Window{}) {
		first, _ := time.Parse(time.DateOnly, all.DataRange.From)
		last, _ := time.Parse(time.DateOnly, all.DataRange.To)
		views = kpi.Checks(kpi.DayOf(first), kpi.DayOf(last), all.Options)
	} else {
		views = []kpi.Check{{Name: "all time"}}
	}
	sql := db.New(tx)
	var engineDiffs, serverDiffs []string
	for _, view := range views {
		q, err := kpi.ParseQuery(view.Filter)
		if err != nil {
			return err
		}
		snap := e.Snapshot(q)
		want, err := kpi.Recompute(ctx, sql, view.Filter, snap.Window)
		if err != nil {
			return fmt.Errorf("%s: %w", view.Name, err)
		}
		if d := kpi.Differences(snap, want); len(d) > 0 {
			engineDiffs = append(engineDiffs, view.Name+": "+strings.Join(d, ", "))
		}
		if server == "" {
			continue
		}
		got, err := fetchSnapshot(ctx, server, token, view.Filter)
		if err != nil {
			return err
		}
		if d := kpi.Differences(got, want); len(d) > 0 {
			serverDiffs = append(serverDiffs, view.Name+": "+strings.Join(d, ", "))
		}
	}
	v.report(fmt.Sprintf("KPI views of %d differing from SQL (engine)", len(views)), len(engineDiffs), engineDiffs...)
	if server != "" {
		v.report(fmt.Sprintf("KPI views of %d differing from SQL (server)", len(views)), len(serverDiffs), serverDiffs...)
	}
	return nil
}

// fetchSnapshot asks a server for the snapshot of a filter.
func fetchSnapshot(ctx context.Context, server, token string, f api.Filter) (*api.Snapshot, error) {
	params := url.Values{}
	for k, val := range map[string]string{"from": f.From, "to": f.To, "category": f.Category, "region": f.Region, "channel": f.Channel} {
		if val != "" {
			params.Set(k, val)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/kpis?"+params.Encode(), nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server: GET /api/kpis answered %s", resp.Status)
	}
	var snap api.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return &snap, nil
}
