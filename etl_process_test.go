//go:build !wasm

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/config"
	"salespulse/devstack"
	"salespulse/etl"
)

// workerStack is in-process Kafka and S3 (with MinIO-style notifications) for the real
// `salespulse etl` binary to work against.
type workerStack struct {
	*devstack.Stack
	s3 *s3.Client
}

func startWorkerStack(t *testing.T) *workerStack {
	t.Helper()
	st, err := devstack.Start(context.Background(), devstack.Config{KafkaAddr: "127.0.0.1:0", S3Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := etl.NewS3Client(context.Background(), config.S3{AccessKeyID: "k", SecretAccessKey: "s", Region: "us-east-1", Endpoint: st.S3Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	return &workerStack{st, c}
}

func (w *workerStack) env(group string, extra ...string) []string {
	return append([]string{
		"DATABASE_URL=" + testDB.URL, "BOOTSTRAP_SERVERS=" + w.KafkaAddr(), "S3_ENDPOINT=" + w.S3Endpoint(),
		"AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s", "AWS_REGION=us-east-1",
		"KAFKA_GROUP=" + group, "KAFKA_SESSION_TIMEOUT=2s", "LOG_LEVEL=" + logLevel(),
	}, extra...)
}

func (w *workerStack) put(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := w.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("sales"), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startETL starts `salespulse etl` in the background.
func startETL(t *testing.T, env []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, "etl")
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}, env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func generate(t *testing.T, args ...string) []byte {
	t.Helper()
	r := salespulse(t, nil, append([]string{"generate"}, args...)...)
	if r.code != 0 {
		t.Fatalf("generate %v: %s", args, r.stderr)
	}
	return []byte(r.stdout)
}

// inputTruth is what loading files must give, computed from their bytes alone: the distinct
// sale ids and the sum of total value of their first occurrences (the files hold no bad rows).
func inputTruth(t *testing.T, files [][]byte) (int64, int64) {
	first := map[string]*big.Rat{}
	for _, f := range files {
		recs, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			if _, ok := first[r[1]]; !ok {
				v, _ := new(big.Rat).SetString(r[8])
				first[r[1]] = v
			}
		}
	}
	sum := new(big.Rat)
	for _, v := range first {
		sum.Add(sum, v)
	}
	cents := sum.Mul(sum, big.NewRat(100, 1))
	return int64(len(first)), cents.Num().Int64()
}

func dbInt(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := testDB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWorkerKilledAtRandomMomentsLosesAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test")
	}
	testDB.Reset(t)
	w := startWorkerStack(t)
	// A large file, files that repeat part of it (the merge path) and small ones.
	var files [][]byte
	files = append(files, generate(t, "--rows", "300000", "--seed", "1", "--date", "2024-04-01..2024-04-30"))
	for i := range 4 {
		files = append(files, generate(t, "--rows", fmt.Sprint(20000+10000*i), "--seed", "1", "--date", "2024-04-01..2024-04-30", "--shape", "snake"))
		files = append(files, generate(t, "--rows", "5000", "--seed", fmt.Sprint(10+i), "--date", "2024-05-01"))
	}
	for i, f := range files {
		w.put(t, fmt.Sprintf("in/file-%02d.csv", i), f)
	}
	env := w.env("kill-test")
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 3))
	t.Logf("kill schedule seed %d", seed)
	kills := 0
	for kills < killCount() {
		// The killed worker's database sessions end when PostgreSQL sees its sockets close:
		// wait for that, so that the load seen below is the new worker's own.
		settle := time.Now().Add(10 * time.Second)
		for loadInProgress(t) && time.Now().Before(settle) {
			time.Sleep(10 * time.Millisecond)
		}
		cmd := startETL(t, env)
		// Kill it while it writes: once a load is under way, at a random moment.
		deadline := time.Now().Add(20 * time.Second)
		for !loadInProgress(t) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(r.IntN(1500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		kills++
		t.Logf("kill %d: %d files settled so far", kills, dbInt(t, `SELECT count(DISTINCT object_key) FROM ingested_files`))
	}
	cmd := startETL(t, env)
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	waitUntil(t, "every file to settle after the kills", 3*time.Minute, func() bool {
		return dbInt(t, `SELECT count(DISTINCT object_key) FROM ingested_files`) == int64(len(files))
	})
	wantSales, wantCents := inputTruth(t, files)
	if got := dbInt(t, `SELECT count(*) FROM sales`); got != wantSales {
		t.Errorf("sales %d, want %d distinct sale ids from the inputs", got, wantSales)
	}
	if got := dbInt(t, `SELECT coalesce(sum(total_value_cents), 0)::bigint FROM sales`); got != wantCents {
		t.Errorf("total value %d cents, want %d", got, wantCents)
	}
	if n := dbInt(t, `SELECT count(*) FROM ingested_files WHERE status <> 'loaded'`); n != 0 {
		t.Errorf("%d files not loaded", n)
	}
	if n := dbInt(t, `SELECT count(*) - count(DISTINCT object_key) FROM ingested_files`); n != 0 {
		t.Errorf("%d files loaded twice", n)
	}
	if v := salespulse(t, dbEnv(), "verify"); v.code != 0 {
		t.Errorf("rollups differ from a recomputation after %d kills:\n%s", kills, v.stdout)
	}
}

// loadInProgress reports whether a load is writing in the test database.
func loadInProgress(t *testing.T) bool {
	return dbInt(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state = 'active' AND (query LIKE 'COPY%' OR query LIKE '-- name: MergeStaged%' OR query LIKE '-- name: Apply%')`) > 0
}

// copyInProgress reports whether a COPY into sales is running in the test database.
func copyInProgress(t *testing.T) bool {
	return dbInt(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state = 'active' AND query LIKE 'COPY "sales"%'`) > 0
}

func committedOffsets(t *testing.T, brokers []string, group, topic string) int64 {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(brokers, etl.NewSaramaConfig(config.Kafka{ClientID: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	res, err := admin.ListConsumerGroupOffsets(group, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, block := range res.Blocks[topic] {
		if block.Offset > 0 {
			n += block.Offset
		}
	}
	return n
}

func TestWorkerStopsCleanlyOnSIGTERMMidFile(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test")
	}
	for _, c := range []struct {
		name, grace string
		finished    bool // the file in flight finishes within the grace period, or is rolled back
	}{
		{"finishes the file in flight", "60s", true},
		{"rolls back the file in flight after the grace period", "50ms", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			testDB.Reset(t)
			w := startWorkerStack(t)
			group := "sigterm-" + c.grace
			w.put(t, "big.csv", generate(t, "--rows", "400000", "--seed", "7", "--date", "2024-06-01"))
			cmd := startETL(t, w.env(group, "ETL_SHUTDOWN_GRACE="+c.grace))
			waitUntil(t, "the COPY to start", 30*time.Second, func() bool { return copyInProgress(t) })
			cmd.Process.Signal(syscall.SIGTERM)
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v", err)
				}
			case <-time.After(90 * time.Second):
				cmd.Process.Kill()
				t.Fatal("no exit within 90 s of SIGTERM")
			}
			sales := dbInt(t, `SELECT count(*) FROM sales`)
			ledger := dbInt(t, `SELECT count(*) FROM ingested_files`)
			offsets := committedOffsets(t, []string{w.KafkaAddr()}, group, devstack.DefaultTopic)
			if c.finished && (sales != 400000 || ledger != 1 || offsets != 1) {
				t.Errorf("after SIGTERM: %d sales, %d ledger rows, offset %d; want the whole file and its offset committed", sales, ledger, offsets)
			}
			if !c.finished && (sales != 0 || ledger != 0 || offsets != 0) {
				t.Errorf("after SIGTERM: %d sales, %d ledger rows, offset %d; want nothing: the file rolled back, its message left", sales, ledger, offsets)
			}
			if !c.finished { // the next worker loads it whole
				next := startETL(t, w.env(group))
				defer func() { next.Process.Signal(syscall.SIGTERM); next.Wait() }()
				waitUntil(t, "the file to load on restart", time.Minute, func() bool { return dbInt(t, `SELECT count(*) FROM ingested_files`) == 1 })
				if n := dbInt(t, `SELECT count(*) FROM sales`); n != 400000 {
					t.Errorf("after restart: %d sales, want 400000", n)
				}
			}
			if v := salespulse(t, dbEnv(), "verify"); v.code != 0 {
				t.Errorf("verify: %s", v.stdout)
			}
		})
	}
}

func killCount() int {
	if n := os.Getenv("KILLS"); n != "" {
		var k int
		fmt.Sscan(n, &k)
		return k
	}
	return 12
}

func logLevel() string {
	if l := os.Getenv("ETL_TEST_LOG"); l != "" {
		return l
	}
	return "warn"
}

func TestGenerateUploadsAndLoadReadsS3(t *testing.T) {
	testDB.Reset(t)
	st, err := devstack.Start(context.Background(), devstack.Config{S3Addr: "127.0.0.1:0", DisableKafka: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	env := append(dbEnv(), "S3_ENDPOINT="+st.S3Endpoint(), "AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s")
	up := salespulse(t, env, "generate", "--rows", "500", "--seed", "9", "--date", "2024-02-02", "--upload", "s3://sales/incoming/")
	const key = "incoming/sales_2024-02-02_seed9_500.csv"
	if up.code != 0 || !strings.Contains(up.stderr, "s3://sales/"+key) {
		t.Fatalf("generate --upload: exit %d, %s", up.code, up.stderr)
	}
	first := salespulse(t, env, "load", "--json", "s3://sales/"+key)
	if first.code != 0 || !strings.Contains(first.stdout, `"file":"s3://sales/`+key+`"`) ||
		!strings.Contains(first.stdout, `"status":"loaded","rows_total":500,"rows_loaded":500`) {
		t.Fatalf("load s3://: exit %d, %s %s", first.code, first.stdout, first.stderr)
	}
	again := salespulse(t, env, "load", "--json", "s3://sales/"+key)
	if again.code != 0 || !strings.Contains(again.stdout, `"status":"skipped"`) {
		t.Errorf("second load s3://: %s", again.stdout)
	}
	missing := salespulse(t, env, "load", "s3://sales/nope.csv")
	if missing.code != 1 || !strings.Contains(missing.stdout, "no longer exists") {
		t.Errorf("a missing object: exit %d, %q", missing.code, missing.stdout)
	}
	if bad := salespulse(t, env, "load", "s3:///key.csv"); bad.code != 1 || !strings.Contains(bad.stdout, "not an s3://BUCKET/KEY URL") {
		t.Errorf("a malformed URL: exit %d, %q", bad.code, bad.stdout)
	}
}
