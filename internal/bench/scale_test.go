package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"salespulse/internal/proof"
)

// catalogue is the size of the company behind a dataset.
type catalogue struct {
	name           string
	products, reps int
}

var (
	largeCatalogue = catalogue{"20,000 products, 2,000 reps", 20000, 2000}
	smallCatalogue = catalogue{"20 products, 30 reps", 20, 30}
)

// scaleDB is a database of SCALE_SALES sales (10 million) over two years, loaded as daily
// files with `salespulse load`, built once per catalogue and kept (it takes a few minutes):
// it is rebuilt when the schema or its parameters change.
func scaleDB(t testing.TB, c catalogue) (url string, sales int) {
	t.Helper()
	sales = proof.Int("SCALE_SALES", 200_000, 10_000_000)
	const days = 730
	first := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	h := sha256.New()
	migrations, _ := filepath.Glob("../../schema/*.sql")
	for _, m := range migrations {
		b, _ := os.ReadFile(m)
		h.Write(b)
	}
	fmt.Fprintf(h, "%d %d %d %d", sales, days, c.products, c.reps)
	fingerprint := "salespulse bench " + hex.EncodeToString(h.Sum(nil))[:16]
	name := fmt.Sprintf("salespulse_bench_%d_%d", c.products, sales)
	url = dbURL(t, name)
	if psql(t, adminURL(), "-c", "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '"+name+"'") == fingerprint {
		return url, sales
	}
	t.Logf("building %s: %d sales over %d days, %s (once)", name, sales, days, c.name)
	migratedDB(t, name)
	dir := t.TempDir()
	perDay := sales / days
	start := time.Now()
	for batch := 0; batch < days; batch += 30 {
		var paths []string
		for d := batch; d < min(batch+30, days); d++ {
			path := filepath.Join(dir, fmt.Sprintf("day%03d.csv", d))
			rows := perDay
			if d == days-1 {
				rows = sales - perDay*(days-1)
			}
			g := bin.Run(t, nil, "generate", "--rows", fmt.Sprint(rows), "--seed", fmt.Sprint(1000+d), "--date", first.AddDate(0, 0, d).Format(time.DateOnly),
				"--products", fmt.Sprint(c.products), "--reps", fmt.Sprint(c.reps), "--out", path)
			if g.Code != 0 {
				t.Fatalf("generate: %s", g.Stderr)
			}
			paths = append(paths, path)
		}
		if l := bin.Run(t, []string{"DATABASE_URL=" + url}, append([]string{"load"}, paths...)...); l.Code != 0 {
			t.Fatalf("load: %s %s", l.Stdout, l.Stderr)
		}
		for _, p := range paths {
			os.Remove(p)
		}
	}
	psql(t, url, "-c", "VACUUM ANALYZE")
	admin(t, "COMMENT ON DATABASE "+name+" IS '"+fingerprint+"'")
	if got := psql(t, url, "-c", "SELECT count(*) FROM sales"); got != fmt.Sprint(sales) {
		t.Fatalf("%s holds %s sales, want %d", name, got, sales)
	}
	t.Logf("built %s in %v", name, time.Since(start).Round(time.Second))
	return url, sales
}

// startServe runs `salespulse serve` on a database and waits until it is ready, returning
// the process, its address, and how long it took to be ready.
func startServe(t testing.TB, url string, env ...string) (*servedProc, time.Duration) {
	t.Helper()
	addr := freeAddr(t)
	start := time.Now()
	p := bin.Start(t, append([]string{"DATABASE_URL=" + url, "LOG_LEVEL=info"}, env...), "serve", "--addr", addr)
	for {
		if code := httpStatus("http://" + addr + "/readyz"); code == 200 {
			break
		}
		if !p.Alive() {
			t.Fatalf("serve exited: %v\n%s", p.Err(), p.Tail())
		}
		if time.Since(start) > 10*time.Minute {
			t.Fatalf("serve not ready after 10 minutes\n%s", p.Tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &servedProc{Proc: p, addr: addr}, time.Since(start)
}

func mib(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }
