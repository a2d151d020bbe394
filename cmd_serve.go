//go:build !wasm

package main

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/config"
	"salespulse/etl"
	"salespulse/server"
)

// runServe runs the KPI server until SIGINT or SIGTERM, then shuts it down gracefully.
func runServe(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [flags]", stderr)
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
	fs.Func("upload-max-bytes", "largest file POST /api/uploads accepts, e.g. 100MiB (env UPLOAD_MAX_BYTES)", func(s string) error {
		n, err := config.ParseSize(s)
		cfg.HTTP.UploadMaxBytes = n
		return err
	})
	fs.StringVar(&cfg.S3.Bucket, "bucket", cfg.S3.Bucket, "bucket uploads are put into; none disables uploads (env BUCKET_NAME)")
	fs.StringVar(&cfg.S3.Endpoint, "s3-endpoint", cfg.S3.Endpoint, "S3-compatible endpoint URL (env S3_ENDPOINT)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	log := slog.Default()
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	var s3c *s3.Client
	if cfg.S3.Bucket != "" {
		if s3c, err = etl.NewS3Client(ctx, cfg.S3); err != nil {
			return err
		}
	}
	srv := server.New(server.Config{
		Addr: cfg.HTTP.Addr, Pool: pool, APIToken: cfg.HTTP.APIToken, AllowedOrigins: cfg.HTTP.AllowedOrigins,
		UI: uiHandler(version), Log: log,
		S3: s3c, Bucket: cfg.S3.Bucket, UploadMaxBytes: cfg.HTTP.UploadMaxBytes,
	})
	if err := srv.Open(); err != nil {
		return err
	}
	log.Info("serve: listening", "addr", srv.Addr().String(), "token", cfg.HTTP.APIToken != "",
		"allowed_origins", strings.Join(cfg.HTTP.AllowedOrigins, ","), "uploads_bucket", cfg.S3.Bucket)
	<-ctx.Done()
	log.Info("serve: shutting down")
	if err := srv.Close(); err != nil {
		return err
	}
	log.Info("serve: stopped")
	return nil
}
