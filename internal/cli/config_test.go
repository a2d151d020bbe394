package cli

import (
	"errors"
	"testing"
	"time"
)

// The settings `salespulse serve` reads for this package (config is tested here: it has no
// tests of its own, and these settings are the server's).
func TestServeSettings(t *testing.T) {
	env := map[string]string{"ALLOWED_ORIGINS": " https://a.example , https://b.example:8443,", "UPLOAD_MAX_BYTES": "2MiB"}
	cfg, err := FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.HTTP.AllowedOrigins; len(got) != 2 || got[0] != "https://a.example" || got[1] != "https://b.example:8443" {
		t.Errorf("ALLOWED_ORIGINS: %q", got)
	}
	if cfg.HTTP.UploadMaxBytes != 2<<20 {
		t.Errorf("UPLOAD_MAX_BYTES: %d", cfg.HTTP.UploadMaxBytes)
	}
	def, _ := FromLookup(func(string) (string, bool) { return "", false })
	if def.HTTP.AllowedOrigins != nil || def.HTTP.UploadMaxBytes != 100<<20 {
		t.Errorf("defaults: %q %d", def.HTTP.AllowedOrigins, def.HTTP.UploadMaxBytes)
	}
	for in, want := range map[string]int64{"1048576": 1 << 20, "512KiB": 512 << 10, "100 MiB": 100 << 20, "1GB": 1 << 30, "64B": 64} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0", "-5", "12XB", "1.5MiB", "99999999999GiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	env["UPLOAD_MAX_BYTES"] = "lots"
	if _, err := FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err == nil {
		t.Error("a malformed UPLOAD_MAX_BYTES was accepted")
	}
}

func TestLimitSettings(t *testing.T) {
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}
	cfg, err := FromLookup(lookup(map[string]string{
		"ALLOWED_HOSTS": "dash.example.com, .corp.example", "UPLOAD_TIMEOUT": "2m", "UPLOAD_CONCURRENCY": "8",
		"WS_MAX_CLIENTS": "500", "ETL_RETRY_BUDGET": "30s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if h := cfg.HTTP; len(h.AllowedHosts) != 2 || h.AllowedHosts[1] != ".corp.example" || h.UploadTimeout != 2*time.Minute ||
		h.UploadConcurrency != 8 || h.MaxClients != 500 || cfg.ETL.RetryBudget != 30*time.Second {
		t.Errorf("settings read as %+v, retry budget %v", h, cfg.ETL.RetryBudget)
	}
	def, _ := FromLookup(lookup(nil))
	if h := def.HTTP; h.AllowedHosts != nil || h.UploadTimeout != 10*time.Minute || h.UploadConcurrency != 4 ||
		h.MaxClients != 20000 || def.ETL.RetryBudget != time.Minute {
		t.Errorf("defaults: %+v, retry budget %v", h, def.ETL.RetryBudget)
	}
	for name, bad := range map[string]string{"UPLOAD_TIMEOUT": "soon", "UPLOAD_CONCURRENCY": "0", "WS_MAX_CLIENTS": "many", "ETL_RETRY_BUDGET": "-1s"} {
		_, err := FromLookup(lookup(map[string]string{name: bad}))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Name != name {
			t.Errorf("%s=%s: %v, want an error naming it", name, bad, err)
		}
	}
}
