// Package faults holds the end-to-end fault tests of salespulse: the real binary, the test's
// PostgreSQL database, in-process Kafka and S3, and faults inflicted on them (workers killed
// or stopped mid-file, PostgreSQL restarted, a topic replayed, hostile WebSocket clients).
// The short ones run with every test run; the long ones of the proof only with PROOF=1, and
// the PostgreSQL restart also needs PROOF_PG_RESTART=1, because it restarts the shared
// server. After each fault, sales and the KPIs are compared with a recomputation from the
// input bytes (internal/oracle).
package faults

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"salespulse/etl"
	"salespulse/internal/testbin"
	"salespulse/schema/schematest"
)

func gen(t *testing.T, opt etl.GenerateOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := etl.Generate(&b, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// dbIntRetry is dbInt for moments the database may be away: it tries again for a while.
func dbIntRetry(t *testing.T, within time.Duration, sql string, args ...any) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var n int64
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := testDB.Pool.QueryRow(ctx, sql, args...).Scan(&n)
		cancel()
		if err == nil {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", sql, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func topicEnd(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	client, err := sarama.NewClient(brokers, etl.NewSaramaConfig(etl.KafkaOptions{ClientID: "proof"}))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range parts {
		off, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		n += off
	}
	return n
}

// loadInProgress reports whether a load is writing in the test database.
func loadInProgress(t *testing.T) bool {
	return testDB.Int(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state = 'active' AND (query LIKE 'COPY%' OR query LIKE '-- name: MergeStaged%' OR query LIKE '-- name: Apply%')`) > 0
}

// copyInProgress reports whether a COPY into sales is running in the test database.
func copyInProgress(t *testing.T) bool {
	return testDB.Int(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state = 'active' AND query LIKE 'COPY "sales"%'`) > 0
}

// put puts an object into the stack's bucket.
func put(t *testing.T, w *testbin.Stack, key string, body []byte) {
	t.Helper()
	if err := w.Put(key, body); err != nil {
		t.Fatal(err)
	}
}

// generate is `salespulse generate` with args, its output.
func generate(t *testing.T, args ...string) []byte {
	t.Helper()
	r := bin.Run(t, nil, append([]string{"generate"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("generate %v: %s", args, r.Stderr)
	}
	return []byte(r.Stdout)
}

func dbEnv() []string { return []string{"DATABASE_URL=" + testDB.URL} }

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

var (
	testDB *schematest.DB
	bin    *testbin.Binary
)

func TestMain(m *testing.M) {
	var err error
	if bin, err = testbin.Build(); err != nil {
		panic(err)
	}
	code := schematest.Run(m, "faults", &testDB)
	bin.Remove()
	os.Exit(code)
}
