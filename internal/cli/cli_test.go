package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/testbin"
	"salespulse/schema/schematest"
)

var (
	testDB *schematest.DB
	bin    *testbin.Binary // the salespulse binary, built once for the tests
)

func TestMain(m *testing.M) {
	var err error
	if bin, err = testbin.Build(); err != nil {
		panic(err)
	}
	code := schematest.Run(m, "cli", &testDB)
	bin.Remove()
	os.Exit(code)
}

// salespulse runs the binary in an empty directory (no .env) with only the given variables.
func salespulse(t *testing.T, env []string, args ...string) testbin.Outcome {
	t.Helper()
	return bin.Run(t, env, args...)
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
		if r.Code != 2 || r.Stderr != c.want {
			t.Errorf("%v %v: exit %d, stderr %q; want exit 2 and %q", c.env, c.args, r.Code, r.Stderr, c.want)
		}
		if strings.Contains(r.Stderr, "secret") {
			t.Errorf("a password reached the output: %q", r.Stderr)
		}
	}
}

func TestEnvFileIsReadAndEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("MAX_REJECT_RATIO=nonsense\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin.Path, "version")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "MAX_REJECT_RATIO") {
		t.Errorf(".env was not read: %q", out)
	}
	cmd = exec.Command(bin.Path, "version")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "MAX_REJECT_RATIO=10%"}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "salespulse ") {
		t.Errorf("the environment did not override .env: %v %q", err, out)
	}
}

func TestLoadJSONAndExitStatus(t *testing.T) {
	testDB.Reset(t)
	files := oracle.Fixtures(t)
	r := salespulse(t, dbEnv(), append([]string{"load", "--json"}, files...)...)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	var total, loaded, dups int64
	sc := bufio.NewScanner(strings.NewReader(r.Stdout))
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
	if again.Code != 0 || !strings.Contains(again.Stdout, `"status":"skipped"`) {
		t.Errorf("reload: exit %d, %s", again.Code, again.Stdout)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("Sale Date,Sale ID\n2024-01-01,x\n"), 0o644)
	failed := salespulse(t, dbEnv(), "load", bad, files[1])
	if failed.Code != 1 || !strings.HasPrefix(failed.Stdout, "failed   "+bad+": missing required column(s)") ||
		!strings.Contains(failed.Stdout, "skipped  ") {
		t.Errorf("a failed file among others: exit %d, %q", failed.Code, failed.Stdout)
	}
	missing := salespulse(t, dbEnv(), "load", filepath.Join(t.TempDir(), "nope.csv"))
	if missing.Code != 1 || !strings.HasPrefix(missing.Stdout, "failed   ") || !strings.Contains(missing.Stdout, "no such file") {
		t.Errorf("a missing file: exit %d, %q", missing.Code, missing.Stdout)
	}
	if v := salespulse(t, dbEnv(), "verify"); v.Code != 0 || !strings.Contains(v.Stdout, "agree") {
		t.Errorf("verify: exit %d, %s", v.Code, v.Stdout)
	}
	// A ledger row whose blocks end before its sales do is reported: servers would miss them.
	id := testDB.Int(t, `UPDATE ingested_files SET sales_end_block = sales_from_block
		WHERE id = (SELECT min(id) FROM ingested_files WHERE status = 'loaded' AND rows_loaded > 0) RETURNING id`)
	if v := salespulse(t, dbEnv(), "verify"); v.Code != 1 ||
		!regexp.MustCompile(`files with sales past their recorded blocks: +1\n  file `+strconv.FormatInt(id, 10)+`: \d+ sales at or past block`).MatchString(v.Stdout) {
		t.Errorf("verify of a ledger row whose blocks miss its sales: exit %d, %s", v.Code, v.Stdout)
	}
}

func TestGenerateIsDeterministicAndLoadsWithoutRejects(t *testing.T) {
	a := salespulse(t, nil, "generate", "--rows", "3000", "--seed", "4", "--date", "2024-01-01..2024-01-31", "--shape", "snake", "--comments")
	b := salespulse(t, nil, "generate", "--rows", "3000", "--seed", "4", "--date", "2024-01-01..2024-01-31", "--shape", "snake", "--comments")
	c := salespulse(t, nil, "generate", "--rows", "3000", "--seed", "5", "--date", "2024-01-01..2024-01-31", "--shape", "snake", "--comments")
	if a.Code != 0 || a.Stdout != b.Stdout || a.Stdout == c.Stdout {
		t.Fatalf("generate is not deterministic under --seed (exit %d)", a.Code)
	}
	if !strings.HasPrefix(a.Stdout, "sale_date,sale_id,") || strings.Count(a.Stdout, "\n") != 3001 {
		t.Fatalf("unexpected output: %.100q", a.Stdout)
	}
	testDB.Reset(t)
	path := filepath.Join(t.TempDir(), "g.csv")
	os.WriteFile(path, []byte(a.Stdout), 0o644)
	r := salespulse(t, dbEnv(), "load", "--json", path)
	if !strings.Contains(r.Stdout, `"rows_total":3000,"rows_loaded":3000,"rows_rejected":0,"rows_duplicate":0`) {
		t.Errorf("generated rows did not all load: %s %s", r.Stdout, r.Stderr)
	}
}

func TestSeveralProcessesLoadingAtOnceKeepTheLedgerExact(t *testing.T) {
	testDB.Reset(t)
	dir := t.TempDir()
	// Four processes, each loading three files. Process p's file f is generated with seed
	// p+f and 1000+500f rows, so files of neighbouring processes share a seed and the shorter
	// one's sale ids are all in the longer one: loads collide on ids.
	var files [][]string
	for p := range 4 {
		var mine []string
		for f := range 3 {
			g := salespulse(t, nil, "generate", "--rows", fmt.Sprint(1000+500*f), "--seed", fmt.Sprint(p+f),
				"--date", "2024-02-01..2024-02-20", "--invalid", "0.05")
			path := filepath.Join(dir, fmt.Sprintf("p%d-f%d.csv", p, f))
			os.WriteFile(path, []byte(g.Stdout), 0o644)
			mine = append(mine, path)
		}
		files = append(files, mine)
	}
	files[3] = append(files[3], files[0][0], files[1][1]) // the same bytes, loaded twice at once
	var wg sync.WaitGroup
	results := make([]testbin.Outcome, len(files))
	for i, mine := range files {
		wg.Go(func() { results[i] = salespulse(t, dbEnv(), append([]string{"load", "--json"}, mine...)...) })
	}
	wg.Wait()
	var loaded int64
	for _, r := range results {
		if r.Code != 0 {
			t.Fatalf("exit %d: %s %s", r.Code, r.Stdout, r.Stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
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
	if v := salespulse(t, dbEnv(), "verify"); v.Code != 0 {
		t.Errorf("verify after concurrent processes: %s", v.Stdout)
	}
}
