// Package proof is how the benchmarks and fault tests of `make proof` report: each one
// that measures something records a Result, which the proof's runner (internal/proof/run)
// collects into docs/PERFORMANCE.md. Such tests run only with PROOF=1: they are long, and
// their figures mean something only on an otherwise idle machine.
package proof

import (
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Result is one measured item: what was done and checked, the figure, the reference measured
// in the same run, the target and whether it was met.
type Result struct {
	Item      string     `json:"item"`      // a short title, e.g. "load against psql \\copy"
	Done      string     `json:"done"`      // what the test did
	Checked   string     `json:"checked"`   // what it checked besides the figure
	Figure    string     `json:"figure"`    // the measured figure
	Reference string     `json:"reference"` // the reference measured in the same run
	Target    string     `json:"target"`
	Met       bool       `json:"met"`
	Note      string     `json:"note,omitempty"`  // why a target was missed, or what to know
	Table     [][]string `json:"table,omitempty"` // a matrix of figures, first row the header
}

// Enabled skips the test unless the proof runs it.
func Enabled(t testing.TB) {
	t.Helper()
	if os.Getenv("PROOF") != "1" {
		t.Skip("a benchmark or fault test of the proof (make proof): set PROOF=1")
	}
}

// Quick reports whether the proof runs at small sizes (PROOF_QUICK=1): the machinery is
// checked, nothing is proved.
func Quick() bool { return os.Getenv("PROOF_QUICK") == "1" }

// Int is a size setting: the variable if set, else the quick or the full default.
func Int(name string, quick, full int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	if Quick() {
		return quick
	}
	return full
}

var mu sync.Mutex

// Record logs a result and appends it to the file PROOF_RESULTS names, one JSON object a
// line. A test that records a missed target still passes: the report says missed; a test
// fails only when what it checks is wrong.
func Record(t testing.TB, r Result) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PROOF %s", b)
	path := os.Getenv("PROOF_RESULTS")
	if path == "" {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}
