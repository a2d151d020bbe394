//go:build !wasm

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"salespulse/etl"
	"salespulse/internal/fixtures"
	"salespulse/internal/pgtest"
)

var (
	testDB *pgtest.DB
	binary string // the salespulse binary, built once for the tests
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "salespulse-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "salespulse")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	code := pgtest.Run(m, "cli", &testDB)
	os.RemoveAll(dir)
	os.Exit(code)
}

type outcome struct {
	stdout, stderr string
	code           int
}

// salespulse runs the binary in an empty directory (no .env) with only the given variables.
func salespulse(t *testing.T, env []string, args ...string) outcome {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return outcome{out.String(), errb.String(), code}
}

func dbEnv() []string { return []string{"DATABASE_URL=" + testDB.URL} }

func TestSettingsProblemsStopWithOneLineNamingThem(t *testing.T) {
	cases := []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"load", "x.csv"}, "salespulse: config: DATABASE_URL: is not set (nor POSTGRES_HOST)\n"},
		{[]string{"DATABASE_URL=postgres://u:secret@h:notaport/db"}, []string{"migrate"}, "salespulse: config: DATABASE_URL: malformed connection string\n"},
		{[]string{"MAX_REJECT_RATIO=lots"}, []string{"migrate"}, "salespulse: config: MAX_REJECT_RATIO: must be a share between 0 and 1 or a percentage such as 50%\n"},
		{[]string{"POSTGRES_HOST=db"}, []string{"migrate"}, "salespulse: config: POSTGRES_USER: is not set (POSTGRES_HOST is)\n"},
		{[]string{"POSTGRES_HOST=db", "POSTGRES_USER=u", "POSTGRES_PORT=99999"}, []string{"migrate"}, "salespulse: config: POSTGRES_PORT: must be a port number\n"},
		{[]string{"LOG_LEVEL=loud"}, []string{"version"}, "salespulse: config: LOG_LEVEL: must be debug, info, warn or error\n"},
		{nil, []string{"generate", "--date", "yesterday"}, "salespulse: config: --date: \"yesterday\" is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD\n"},
		{dbEnv(), []string{"load", "--max-reject-ratio", "2", "x.csv"}, "salespulse: config: --max-reject-ratio: must be a share between 0 and 1 or a percentage such as 50%\n"},
	}
	for _, c := range cases {
		r := salespulse(t, c.env, c.args...)
		if r.code != 2 || r.stderr != c.want {
			t.Errorf("%v %v: exit %d, stderr %q; want exit 2 and %q", c.env, c.args, r.code, r.stderr, c.want)
		}
		if strings.Contains(r.stderr, "secret") {
			t.Errorf("a password reached the output: %q", r.stderr)
		}
	}
}

func TestEnvFileIsReadAndEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("MAX_REJECT_RATIO=nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "version")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "MAX_REJECT_RATIO") {
		t.Errorf(".env was not read: %q", out)
	}
	cmd = exec.Command(binary, "version")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MAX_REJECT_RATIO=10%"}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "salespulse ") {
		t.Errorf("the environment did not override .env: %v %q", err, out)
	}
}

func TestLoadJSONAndExitStatus(t *testing.T) {
	testDB.Reset(t)
	files := fixtures.Paths(t)
	r := salespulse(t, dbEnv(), append([]string{"load", "--json"}, files...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var total, loaded, dups int64
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	lines := 0
	for sc.Scan() {
		var res map[string]any
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		for _, k := range []string{"file", "status", "rows_total", "rows_loaded", "rows_rejected", "rows_duplicate", "seconds"} {
			if _, ok := res[k]; !ok {
				t.Errorf("line without %q: %s", k, sc.Text())
			}
		}
		if res["status"] != "loaded" {
			t.Errorf("%s", sc.Text())
		}
		total += int64(res["rows_total"].(float64))
		loaded += int64(res["rows_loaded"].(float64))
		dups += int64(res["rows_duplicate"].(float64))
		lines++
	}
	if lines != 38 || total != 3950 || loaded != 2663 || dups != 1287 {
		t.Errorf("%d lines, %d rows, %d loaded, %d duplicates", lines, total, loaded, dups)
	}

	again := salespulse(t, dbEnv(), "load", "--json", files[0])
	if again.code != 0 || !strings.Contains(again.stdout, `"status":"skipped"`) {
		t.Errorf("reload: exit %d, %s", again.code, again.stdout)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("Sale Date,Sale ID\n2024-01-01,x\n"), 0o644)
	failed := salespulse(t, dbEnv(), "load", bad, files[1])
	if failed.code != 1 || !strings.HasPrefix(failed.stdout, "failed   "+bad+": missing required column(s)") ||
		!strings.Contains(failed.stdout, "skipped  ") {
		t.Errorf("a failed file among others: exit %d, %q", failed.code, failed.stdout)
	}
	missing := salespulse(t, dbEnv(), "load", filepath.Join(t.TempDir(), "nope.csv"))
	if missing.code != 1 || !strings.HasPrefix(missing.stdout, "failed   ") || !strings.Contains(missing.stdout, "no such file") {
		t.Errorf("a missing file: exit %d, %q", missing.code, missing.stdout)
	}
	if v := salespulse(t, dbEnv(), "verify"); v.code != 0 || !strings.Contains(v.stdout, "agree") {
		t.Errorf("verify: exit %d, %s", v.code, v.stdout)
	}
}

func TestGenerateIsDeterministicAndLoadsWithoutRejects(t *testing.T) {
	a := salespulse(t, nil, "generate", "--rows", "3000", "--seed", "4", "--date", "2024-01-01..2024-01-31", "--shape", "snake", "--comments")
	b := salespulse(t, nil, "generate", "--rows", "3000", "--seed", "4", "--date", "2024-01-01..2024-01-31", "--shape", "snake", "--comments")
	c := salespulse(t, nil, "generate", "--rows", "3000", "--seed", "5", "--date", "2024-01-01..2024-01-31", "--shape", "snake", "--comments")
	if a.code != 0 || a.stdout != b.stdout || a.stdout == c.stdout {
		t.Fatalf("generate is not deterministic under --seed (exit %d)", a.code)
	}
	if !strings.HasPrefix(a.stdout, "sale_date,sale_id,") || strings.Count(a.stdout, "\n") != 3001 {
		t.Fatalf("unexpected output: %.100q", a.stdout)
	}
	testDB.Reset(t)
	path := filepath.Join(t.TempDir(), "g.csv")
	os.WriteFile(path, []byte(a.stdout), 0o644)
	r := salespulse(t, dbEnv(), "load", "--json", path)
	if !strings.Contains(r.stdout, `"rows_total":3000,"rows_loaded":3000,"rows_rejected":0,"rows_duplicate":0`) {
		t.Errorf("generated rows did not all load: %s %s", r.stdout, r.stderr)
	}
}

func TestSeveralProcessesLoadingAtOnceKeepRollupsExact(t *testing.T) {
	testDB.Reset(t)
	dir := t.TempDir()
	// Four processes, each loading three files. Process p's file f is generated with seed
	// p+f and 1000+500f rows, so files of neighbouring processes share a seed and the shorter
	// one's sale ids are all in the longer one: loads collide on ids and on rollup rows.
	var files [][]string
	for p := range 4 {
		var mine []string
		for f := range 3 {
			g := salespulse(t, nil, "generate", "--rows", fmt.Sprint(1000+500*f), "--seed", fmt.Sprint(p+f),
				"--date", "2024-02-01..2024-02-20", "--invalid", "0.05")
			path := filepath.Join(dir, fmt.Sprintf("p%d-f%d.csv", p, f))
			os.WriteFile(path, []byte(g.stdout), 0o644)
			mine = append(mine, path)
		}
		files = append(files, mine)
	}
	files[3] = append(files[3], files[0][0], files[1][1]) // the same bytes, loaded twice at once
	var wg sync.WaitGroup
	results := make([]outcome, len(files))
	for i, mine := range files {
		wg.Go(func() { results[i] = salespulse(t, dbEnv(), append([]string{"load", "--json"}, mine...)...) })
	}
	wg.Wait()
	var loaded int64
	for _, r := range results {
		if r.code != 0 {
			t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var res etl.Result
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatal(err)
			}
			loaded += res.RowsLoaded
		}
	}
	var sales int64
	if err := testDB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM sales").Scan(&sales); err != nil {
		t.Fatal(err)
	}
	if sales != loaded {
		t.Errorf("sales %d, but the processes report %d loaded", sales, loaded)
	}
	if v := salespulse(t, dbEnv(), "verify"); v.code != 0 {
		t.Errorf("verify after concurrent processes: %s", v.stdout)
	}
}
