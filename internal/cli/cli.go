// Command salespulse is the sales ETL and KPI dashboard: one binary, one subcommand per role.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/schema"
)

// version is set at build time with -ldflags "-X salespulse/internal/cli.version=...".
var version = "dev"

const usage = `salespulse: sales ETL and real-time KPI dashboard

Usage: salespulse <command> [flags] [args]

Commands:
  demo      the whole system in one process: Kafka, S3, worker, server and a generator
  serve     the KPI server: REST API, WebSocket push, dashboard, health and metrics
  etl       consume object-created events from Kafka and load each object
  watch     poll a bucket and publish events for new objects (stores that cannot notify)
  load      load CSV files (paths or s3://bucket/key) synchronously
  backfill  load every file under an s3://bucket/prefix not loaded yet (--dry-run to see what would change)
  generate  write realistic fake sales as CSV
  migrate   apply database migrations
  verify    check the ledger and the KPIs against the sales table
  healthcheck  ask a running server whether it is alive (for container health checks)
  version   print the version

Settings come from the environment and a .env file; flags override them.
Run "salespulse <command> -h" for a command's flags.
`

// exitError carries a command's exit status without a message of its own.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs the command line of the process and returns its exit status.
func Main() int {
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, level)
	stop()
	var code exitError
	var cfgErr *Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, flag.ErrHelp):
		return 2
	case errors.As(err, &cfgErr):
		fmt.Fprintln(os.Stderr, "salespulse: config: "+cfgErr.Error())
		return 2
	default:
		log.Error(err.Error())
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, level *slog.LevelVar) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitError(2)
		}
		return nil
	}
	cfg, err := Load()
	if err != nil {
		return err
	}
	level.Set(cfg.LogLevel)
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return runDemo(ctx, cfg, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, cfg, rest, stdout, stderr)
	case "backfill":
		return runBackfill(ctx, cfg, rest, stdout, stderr)
	case "load":
		return runLoad(ctx, cfg, rest, stdout, stderr)
	case "etl":
		return runETL(ctx, cfg, rest, stdout, stderr)
	case "watch":
		return runWatch(ctx, cfg, rest, stdout, stderr)
	case "generate":
		return runGenerate(ctx, cfg, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, cfg, rest, stdout, stderr)
	case "verify":
		return runVerify(ctx, cfg, rest, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, cfg, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "salespulse", version)
		return nil
	}
	fmt.Fprintf(stderr, "salespulse: unknown command %q\n\n%s", cmd, usage)
	return exitError(2)
}

// newFlags is a flag set that prints its usage to stderr and returns errors instead of
// exiting. What it prints (usage, defaults, errors) never shows a secret of cfg: the flags'
// defaults are the settings read from the environment.
func newFlags(name, synopsis string, cfg Config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	out := redacting{w: stderr, secrets: cfg.secrets()}
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: salespulse %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// databaseFlag lets --database-url override DATABASE_URL.
func databaseFlag(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.Database.URL, "database-url", cfg.Database.URL, "PostgreSQL URL (env DATABASE_URL or POSTGRES_*)")
}

// openDatabase connects and applies pending migrations, as every command that touches the
// database does first.
func openDatabase(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	if err := cfg.RequireDatabase(); err != nil {
		return nil, err
	}
	return schema.OpenMigrated(ctx, cfg.Database.URL)
}
