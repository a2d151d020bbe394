// Package bench holds the proof's benchmarks of the real salespulse binary against
// references measured in the same run: `load` against `psql \copy`, snapshot latency and
// start-up at ten million sales, pushes to many viewers, fan-out to many clients. They run
// with PROOF=1 only (make proof) and record their figures with internal/proof.
package bench

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"salespulse/internal/testbin"
)

var bin *testbin.Binary

func TestMain(m *testing.M) {
	if os.Getenv("PROOF") != "1" {
		os.Exit(m.Run()) // every test skips itself
	}
	var err error
	if bin, err = testbin.Build(); err != nil {
		panic(err)
	}
	code := m.Run()
	bin.Remove()
	os.Exit(code)
}

// adminURL is the PostgreSQL server the benchmarks create their databases on.
func adminURL() string {
	if u := os.Getenv("PG_TEST_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres"
}

// dbURL is the URL of database name on the same server.
func dbURL(t testing.TB, name string) string {
	u, err := url.Parse(adminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// admin runs statements on the server's maintenance database.
func admin(t testing.TB, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s: %v", adminURL(), err)
	}
	defer conn.Close(ctx)
	for _, s := range sqls {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// freshDB drops and creates a database and returns its URL.
func freshDB(t testing.TB, name string) string {
	t.Helper()
	admin(t, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", "CREATE DATABASE "+name)
	return dbURL(t, name)
}

// migratedDB is a fresh database with the schema, migrated by the binary; it returns its URL.
func migratedDB(t testing.TB, name string) string {
	t.Helper()
	url := freshDB(t, name)
	if m := bin.Run(t, []string{"DATABASE_URL=" + url}, "migrate"); m.Code != 0 {
		t.Fatalf("migrate: %s", m.Stderr)
	}
	return url
}

// timedLoad loads a file of rows rows into a fresh migrated database after a CHECKPOINT,
// and returns the load's wall time, maximum resident set size and --json output.
func timedLoad(t testing.TB, name, path string, rows int) (time.Duration, int64, string) {
	t.Helper()
	url := migratedDB(t, name)
	psql(t, url, "-c", "CHECKPOINT")
	took, rss, out := timed(t, []string{"DATABASE_URL=" + url}, bin.Path, "load", "--json", path)
	if !strings.Contains(out, `"status":"loaded"`) || !strings.Contains(out, fmt.Sprintf(`"rows_loaded":%d`, rows)) {
		t.Fatalf("load %s: %s", path, out)
	}
	return took, rss, out
}

// psql runs a psql command against a database.
func psql(t testing.TB, url string, args ...string) string {
	t.Helper()
	out, err := exec.Command("psql", append([]string{url, "-qAtX", "-v", "ON_ERROR_STOP=1"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// timed runs a command and returns its wall time and maximum resident set size.
func timed(t testing.TB, env []string, name string, args ...string) (time.Duration, int64, string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // KiB on Linux
	}
	return took, rss, string(out)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func millis(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// loadavg is the machine's load average, for the record of conditions.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}
