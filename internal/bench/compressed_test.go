package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"salespulse/internal/proof"
)

// TestLoadCompressed loads the same rows from a plain file and gzip-compressed (`gzip -6`,
// what an export script would do), alternating, each into a fresh database, and compares
// the medians: inflating must cost the load little.
func TestLoadCompressed(t *testing.T) {
	proof.Enabled(t)
	rows := proof.Int("LOAD_ROWS", 20_000, 1_000_000)
	rounds := proof.Int("LOAD_ROUNDS", 1, 3)
	dir := t.TempDir()
	csv := filepath.Join(dir, "sales.csv")
	if gen := bin.Run(t, nil, "generate", "--rows", fmt.Sprint(rows), "--seed", "42", "--date", "2024-06-01", "--out", csv); gen.Code != 0 {
		t.Fatalf("generate: %s", gen.Stderr)
	}
	if out, err := exec.Command("gzip", "-6", "-k", csv).CombinedOutput(); err != nil {
		t.Fatalf("gzip: %v %s", err, out)
	}
	gz := csv + ".gz"
	plainSize, gzSize := fileSize(t, csv), fileSize(t, gz)
	load := func(path string) (time.Duration, int64) {
		took, rss, out := timedLoad(t, "bench_gz", path, rows)
		if strings.HasSuffix(path, ".gz") != strings.Contains(out, `"compression":"gzip"`) {
			t.Fatalf("load %s did not say how it was compressed: %s", path, out)
		}
		return took, rss
	}
	var plain, packed []time.Duration
	var plainRSS, gzRSS int64
	for r := range rounds {
		p, prss := load(csv)
		g, grss := load(gz)
		plain, packed = append(plain, p), append(packed, g)
		plainRSS, gzRSS = max(plainRSS, prss), max(gzRSS, grss)
		t.Logf("round %d: plain %s, gzip %s (load average %s)", r+1, secs(p), secs(g), loadavg())
	}
	admin(t, "DROP DATABASE IF EXISTS bench_gz WITH (FORCE)")
	pm, gm := median(plain), median(packed)
	ratio := pm.Seconds() / gm.Seconds()
	proof.Record(t, proof.Result{
		Item: "ETL: a gzip-compressed file against the same rows plain",
		Done: fmt.Sprintf("a %d-row daily file (%d MB) and its `gzip -6` copy (%d MB); %d alternating rounds of `salespulse load`, each into a fresh database after a CHECKPOINT",
			rows, plainSize/1e6, gzSize/1e6, rounds),
		Checked:   "every row loaded both ways, the compressed one read as gzip; medians; maximum resident set size",
		Figure:    fmt.Sprintf("**%.2f×** (gzip %s, %.0f rows/s, max RSS %d MB)", ratio, secs(gm), float64(rows)/gm.Seconds(), gzRSS/1e6),
		Reference: fmt.Sprintf("the plain file, same rounds: %s, max RSS %d MB", secs(pm), plainRSS/1e6),
		Target:    "≥ 0.9×",
		Met:       ratio >= 0.9,
	})
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
