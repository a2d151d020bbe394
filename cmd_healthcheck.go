//go:build !wasm

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"salespulse/config"
)

// runHealthcheck asks a running server whether it is alive (or ready), for container
// health checks in images that carry nothing but this binary.
func runHealthcheck(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", "healthcheck [--ready] [URL]", stderr)
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
		return &config.Error{Name: "healthcheck", Reason: "bad URL " + base}
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
