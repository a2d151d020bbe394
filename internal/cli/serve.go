package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/etl"
	"salespulse/schema"
	"salespulse/server"
	"salespulse/server/api"
	"salespulse/ui"
)

// runServe runs the KPI server until SIGINT or SIGTERM, then shuts it down gracefully.
func runServe(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [flags]", cfg, stderr)
	databaseFlag(fs, &cfg)
	fs.StringVar(&cfg.HTTP.Addr, "addr", cfg.HTTP.Addr, "address to listen on, host:port (env HTTP_ADDR)")
	fs.StringVar(&cfg.HTTP.APIToken, "api-token", cfg.HTTP.APIToken, "token required on /api/ and /ws when set (env API_TOKEN)")
	fs.Func("allowed-origins", "browser origins allowed besides the server's own, comma-separated, * for any (env ALLOWED_ORIGINS)", func(s string) error {
		cfg.HTTP.AllowedOrigins = nil
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				cfg.HTTP.AllowedOrigins = append(cfg.HTTP.AllowedOrigins, o)
			}
		}
		return nil
	})
	fs.Func("allowed-hosts", "host names the server answers to besides IP addresses and localhost, comma-separated, .example.com for subdomains, * for any (env ALLOWED_HOSTS)", func(s string) error {
		cfg.HTTP.AllowedHosts = splitList(s)
		return nil
	})
	fs.Func("upload-max-bytes", "largest file POST /api/uploads accepts, e.g. 100MiB (env UPLOAD_MAX_BYTES)", func(s string) error {
		n, err := ParseSize(s)
		cfg.HTTP.UploadMaxBytes = n
		return err
	})
	fs.DurationVar(&cfg.HTTP.AlertInterval, "alert-interval", cfg.HTTP.AlertInterval, "how often alert rules are evaluated besides after each file (env ALERT_INTERVAL)")
	fs.StringVar(&cfg.S3.Bucket, "bucket", cfg.S3.Bucket, "bucket uploads are put into; none disables uploads (env BUCKET_NAME)")
	fs.StringVar(&cfg.S3.Endpoint, "s3-endpoint", cfg.S3.Endpoint, "S3-compatible endpoint URL (env S3_ENDPOINT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	if cfg.HTTP.AlertInterval <= 0 {
		return &Error{Name: "alert-interval", Reason: "must be a positive duration such as 30s or 5m"}
	}
	log := slog.Default()
	// The server comes up whether or not the database answers yet (a container
	// orchestrator starts both at once): /readyz says 503 until it does and the migrations
	// are applied, which is tried until it succeeds.
	pool, err := schema.Pool(ctx, cfg.Database.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	migrated := make(chan struct{})
	go func() {
		defer close(migrated)
		if _, err := etl.Retry(ctx, log, "serve: migrate the database", func() (int, error) { return schema.Migrate(ctx, pool) }); err == nil {
			log.Info("serve: database ready")
		}
	}()
	defer func() { <-migrated }()
	var s3c *s3.Client
	if cfg.S3.Bucket != "" {
		if s3c, err = etl.NewS3Client(ctx, cfg.S3.S3Options); err != nil {
			return err
		}
	}
	srv := newServer(cfg, pool, s3c, log)
	if err := srv.Open(); err != nil {
		return err
	}
	log.Info("serve: listening", "addr", srv.Addr().String(), "token", cfg.HTTP.APIToken != "",
		"allowed_origins", strings.Join(cfg.HTTP.AllowedOrigins, ","), "allowed_hosts", strings.Join(cfg.HTTP.AllowedHosts, ","),
		"uploads_bucket", cfg.S3.Bucket)
	<-ctx.Done()
	log.Info("serve: shutting down")
	if err := srv.Close(); err != nil {
		return err
	}
	log.Info("serve: stopped")
	return nil
}

// newServer is the server of serve and demo, with its part of the settings. Its dashboard
// writes a first visit's figures into the page, from the server's snapshots.
func newServer(cfg Config, pool *pgxpool.Pool, s3c *s3.Client, log *slog.Logger) *server.Server {
	var srv *server.Server
	figures := func(r *http.Request, f api.Filter) ([]byte, error) { return srv.PageFigures(r, f) }
	srv = server.New(server.Config{
		Addr: cfg.HTTP.Addr, Pool: pool, APIToken: cfg.HTTP.APIToken,
		AllowedOrigins: cfg.HTTP.AllowedOrigins, AllowedHosts: cfg.HTTP.AllowedHosts,
		UI: uiHandler(version, figures), Log: log,
		S3: s3c, Bucket: cfg.S3.Bucket, UploadMaxBytes: cfg.HTTP.UploadMaxBytes,
		UploadTimeout: cfg.HTTP.UploadTimeout, UploadConcurrency: cfg.HTTP.UploadConcurrency,
		MaxClients: cfg.HTTP.MaxClients,
		Alerts:     server.AlertsConfig{Interval: cfg.HTTP.AlertInterval},
	})
	return srv
}

// runHealthcheck asks a running server whether it is alive (or ready), for container
// health checks in images that carry nothing but this binary.
func runHealthcheck(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", "healthcheck [--ready] [URL]", cfg, stderr)
	ready := fs.Bool("ready", false, "ask /readyz (database reachable, migrations current) instead of /healthz")
	if err := fs.Parse(args); err != nil {
		return err
	}
	base := dashboardURL(cfg.HTTP.Addr)
	if fs.NArg() > 0 {
		base = fs.Arg(0)
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return &Error{Name: "healthcheck", Reason: "bad URL " + base}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", base+path, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// uiHandler serves the dashboard: every path the API does not. The pages, the service
// worker, the manifest and the assets (app.wasm and echarts.min.js included, built by
// make web) all come from inside the binary.
func uiHandler(version string, figures ui.Figures) http.Handler {
	ui.Routes()
	return ui.Handler(version, figures)
}

// dashboardURL turns a listen address into a URL a browser can open: an unspecified host
// (":8080", "0.0.0.0:8080") is this machine.
func dashboardURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// redacted is a database URL fit to print: its password hidden.
func redacted(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "(database URL)"
	}
	return u.Redacted()
}
