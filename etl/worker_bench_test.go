package etl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"salespulse/etl/devstack"
	"salespulse/internal/proof"
)

// commitWatcher LISTENs for committed files and records when each notification arrived.
type commitWatcher struct {
	conn *pgx.Conn
}

func listenCommits(b testing.TB) *commitWatcher {
	conn, err := pgx.Connect(context.Background(), testDB.URL)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "LISTEN salespulse_files"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return &commitWatcher{conn}
}

// next waits for the next committed file and returns its object key and arrival time.
func (c *commitWatcher) next(b testing.TB) (string, time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	n, err := c.conn.WaitForNotification(ctx)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	var key string
	if err := testDB.Pool.QueryRow(ctx, `SELECT object_key FROM ingested_files WHERE id = $1`, n.Payload).Scan(&key); err != nil {
		b.Fatal(err)
	}
	return key, at
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchmarkEventToCommit measures, for 1,000-row daily files, the time from PutObject returning to
// the file's transaction committing (its NOTIFY arriving), through in-process Kafka and S3:
//
//	go test ./etl -run '^$' -bench EventToCommit -benchtime 1x
func BenchmarkEventToCommit(b *testing.B) {
	testDB.Reset(b)
	s := startStack(b, devstack.Config{})
	s.startWorker(b, "")
	commits := listenCommits(b)
	files := 20
	if n, _ := strconv.Atoi(os.Getenv("BENCH_FILES")); n > 0 {
		files = n
	}
	// One file first, so the group has settled and the connections are warm.
	s.put(b, "warmup.csv", generated(b, GenerateOptions{Rows: 1000, Seed: 999}))
	commits.next(b)
	var lags []time.Duration
	b.ResetTimer()
	for i := range files {
		// A daily file, the next day each time, as producers send them.
		day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		body := generated(b, GenerateOptions{Rows: 1000, Seed: uint64(i), From: day, To: day})
		key := fmt.Sprintf("lag/%02d.csv", i)
		s.put(b, key, body)
		put := time.Now()
		got, at := commits.next(b)
		if got != key {
			b.Fatalf("committed %s, expected %s", got, key)
		}
		lags = append(lags, at.Sub(put))
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lags, 0.5).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(percentile(lags, 0.95).Microseconds())/1000, "p95_ms")
	b.ReportMetric(float64(percentile(lags, 1).Microseconds())/1000, "max_ms")
	b.Logf("event-to-commit over %d files of 1,000 rows: p50 %v, p95 %v, max %v",
		files, percentile(lags, 0.5), percentile(lags, 0.95), percentile(lags, 1))
}

// TestWorkerThroughput (proof) loads the same 1,000,000-row file (WORKER_ROWS) as a local
// file with the loader, and as an S3 object through the worker (from PutObject returning to
// the commit), in alternating rounds into an empty database, and compares the rates.
func TestWorkerThroughput(t *testing.T) {
	proof.Enabled(t)
	rows := proof.Int("WORKER_ROWS", 20_000, 1_000_000)
	day := time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC)
	s := startStack(t, devstack.Config{})
	s.startWorker(t, "")
	commits := listenCommits(t)
	var local, worker []time.Duration
	for round := range 3 {
		// Each round its own seed: the same bytes would be skipped, the same ids merged.
		body := generated(t, GenerateOptions{Rows: rows, Seed: uint64(77 + round), From: day, To: day})
		path := filepath.Join(t.TempDir(), "big.csv")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		testDB.Reset(t)
		testDB.Pool.Exec(context.Background(), "CHECKPOINT")
		src, _ := NewLocalFile(path)
		start := time.Now()
		if res, err := newLoader().Load(context.Background(), src, nil); err != nil || res.RowsLoaded != int64(rows) {
			t.Fatalf("local load: %+v %v", res, err)
		}
		local = append(local, time.Since(start))
		// The local load announced its commit too: take that notification off the queue
		// before the database is emptied, or the worker round would read it as its own.
		if got, _ := commits.next(t); got != path {
			t.Fatalf("committed %s, expected the local file %s", got, path)
		}

		testDB.Reset(t)
		testDB.Pool.Exec(context.Background(), "CHECKPOINT")
		key := fmt.Sprintf("big-%d.csv", round)
		s.put(t, key, body)
		put := time.Now()
		got, at := commits.next(t)
		if got != key {
			t.Fatalf("committed %s, expected %s", got, key)
		}
		worker = append(worker, at.Sub(put))
		t.Logf("round %d: local load %v, worker path %v", round+1, local[round], worker[round])
	}
	lm, wm := percentile(local, 0.5), percentile(worker, 0.5)
	ratio := lm.Seconds() / wm.Seconds()
	proof.Record(t, proof.Result{
		Item:      "ETL: worker path against `load`",
		Done:      fmt.Sprintf("the same %d-row daily file, 3 alternating rounds into an emptied database: loaded from a local file by the loader, and put into the in-process S3, announced on Kafka and streamed by the worker (PutObject returned → commit)", rows),
		Checked:   "every row loaded both ways; medians",
		Figure:    fmt.Sprintf("%.2f× (worker %.0f rows/s)", ratio, float64(rows)/wm.Seconds()),
		Reference: fmt.Sprintf("local load %.0f rows/s", float64(rows)/lm.Seconds()),
		Target:    "≥ 0.8×", Met: ratio >= 0.8,
	})
}
