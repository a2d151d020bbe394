// Command run is `make proof`: it runs every benchmark and fault test of the proof (each a
// Go test that records its figures with internal/proof), one at a time under a time limit,
// keeps each one's whole output, and writes the report (docs/PERFORMANCE.md): the machine,
// the date, and per item what was done and checked, the figure, its reference measured in
// the same run, the target and whether it was met, with the conditions it ran in.
//
//	go run ./internal/proof/run                      # everything, full sizes
//	PROOF_QUICK=1 go run ./internal/proof/run        # small sizes: checks the machinery
//	go run ./internal/proof/run -sections load,push  # some sections only
package main

import (
	"bufio"
	"encoding/json"

	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"salespulse/internal/proof"
)

func main() {
	quick := os.Getenv("PROOF_QUICK") == "1"
	defReport := "docs/PERFORMANCE.md"
	if quick {
		defReport = "test-artifacts/PERFORMANCE.quick.md"
	}
	only := flag.String("sections", "", "comma-separated section ids to run (default: all)")
	report := flag.String("report", defReport, "where the report goes")
	logs := flag.String("logs", filepath.Join("test-artifacts", "proof", time.Now().UTC().Format("20060102T150405Z")), "where each section's output goes")
	scale := flag.Float64("timeout-scale", 1, "multiplies every section's time limit")
	flag.Parse()
	if err := os.MkdirAll(*logs, 0o755); err != nil {
		fail(err)
	}
	r := &run{logs: *logs, scale: *scale, started: time.Now()}
	want := map[string]bool{}
	for _, id := range strings.Split(*only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	for _, s := range sections {
		if len(want) > 0 && !want[s.id] {
			continue
		}
		r.outcomes = append(r.outcomes, r.section(s))
	}
	if err := r.write(*report); err != nil {
		fail(err)
	}
	fmt.Printf("proof: %s written; logs in %s\n", *report, *logs)
	for _, o := range r.outcomes {
		if o.failed() {
			os.Exit(1)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "proof:", err)
	os.Exit(1)
}

// section is one item or group of items of the proof: a go test run.
type section struct {
	id, title string
	pkg, test string // the package and the test pattern
	env       []string
	limit     time.Duration
	fuzz      string // a fuzz target: the section runs go test -fuzz instead
}

// outcome is what became of a section: its results, or why it has none.
type outcome struct {
	section
	results []proof.Result
	exit    error
	took    time.Duration
	loadavg string // before → after
	tail    string // the end of its output
	logFile string
	rerun   string
}

func (o outcome) failed() bool { return o.exit != nil || len(o.results) == 0 }

type run struct {
	logs     string
	scale    float64
	started  time.Time
	outcomes []outcome
}

// section runs one section under its time limit.
func (r *run) section(s section) outcome {
	o := outcome{section: s, logFile: filepath.Join(r.logs, s.id+".log")}
	results := filepath.Join(r.logs, s.id+".jsonl")
	os.Remove(results)
	limit := time.Duration(float64(s.limit) * r.scale)
	args := []string{"test", "-count=1", "-v", "-timeout", limit.String(), "-run", s.test, s.pkg}
	if s.fuzz != "" {
		args = []string{"test", "-count=1", "-run", "^$", "-fuzz", "^" + s.fuzz + "$", "-fuzztime", fuzzTime(), s.pkg}
	}
	env := append([]string{"PROOF=1", "PROOF_RESULTS=" + absolute(results)}, s.env...)
	o.rerun = "`" + strings.Join(append(env[:1:1], s.env...), " ") + " go " + strings.Join(args, " ") + "`"
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := os.Create(o.logFile)
	if err != nil {
		fail(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	before := loadavg()
	start := time.Now()
	fmt.Printf("[%s] %-10s started (limit %v)\n", start.Format("15:04:05"), s.id, limit)
	o.exit = cmd.Run()
	o.took = time.Since(start).Round(time.Second)
	out.Close()
	o.loadavg = before + " → " + loadavg()
	o.tail = tail(o.logFile, 30)
	if s.fuzz != "" {
		o.results = fuzzResult(s, o)
	} else {
		o.results = readResults(results)
	}
	status := "done"
	if o.failed() {
		status = "FAILED"
	}
	fmt.Printf("[%s] %-10s %s in %v\n", time.Now().Format("15:04:05"), s.id, status, o.took)
	return o
}

func fuzzTime() string {
	if t := os.Getenv("FUZZTIME"); t != "" {
		return t
	}
	if os.Getenv("PROOF_QUICK") == "1" {
		return "20s"
	}
	return "10m"
}

// fuzzResult reads a fuzz run's end: its execution count, and whether it found a crash.
func fuzzResult(s section, o outcome) []proof.Result {
	execs := "?"
	for _, line := range strings.Split(o.tail, "\n") {
		if i := strings.Index(line, "execs: "); i >= 0 {
			execs = strings.Fields(line[i+len("execs: "):])[0]
		}
	}
	return []proof.Result{{
		Item: s.title, Done: fmt.Sprintf("`go test -fuzz %s` for %s, seeded from the project's own corpus", s.fuzz, fuzzTime()),
		Checked: "no input crashes, hangs or breaks an invariant of the target", Figure: execs + " executions, " + map[bool]string{true: "no failure", false: "a FAILURE"}[o.exit == nil],
		Reference: "the seed corpus passes first", Target: "no failure in " + fuzzTime(), Met: o.exit == nil,
	}}
}

func readResults(path string) []proof.Result {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []proof.Result
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r proof.Result
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "time=") || strings.TrimSpace(l) == "" || strings.Contains(l, "PROOF {") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep[max(0, len(keep)-n):], "\n")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func absolute(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
