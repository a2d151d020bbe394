package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/internal/proof"
	"salespulse/server/api"
)

// startDemo runs the demo in the test process: every part on a free port, the test database.
func startDemo(t testing.TB, parts string, tune func(*demoOptions)) *demo {
	t.Helper()
	cfg, err := FromLookup(func(name string) (string, bool) {
		v, ok := map[string]string{"DATABASE_URL": testDB.URL, "HTTP_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn"}[name]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseParts(parts)
	if err != nil {
		t.Fatal(err)
	}
	opt := demoOptions{parts: p, kafkaAddr: "127.0.0.1:0", s3Addr: "127.0.0.1:0", interval: time.Hour, rows: 100, now: time.Now,
		firstDay: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	if tune != nil {
		tune(&opt)
	}
	d := &demo{cfg: cfg, opt: opt, log: quietLog(), out: io.Discard}
	if err := d.open(context.Background()); err != nil {
		d.close()
		t.Fatal(err)
	}
	t.Cleanup(func() { d.close() })
	return d
}

// wsClient subscribes to the demo's snapshots.
func wsClient(t testing.TB, d *demo) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+d.srv.Addr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func nextSnapshot(t testing.TB, conn *websocket.Conn, within time.Duration) api.Snapshot {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(within))
	for {
		var m api.Message
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("websocket: %v", err)
		}
		if m.Type == api.TypeSnapshot && m.Data != nil {
			return *m.Data
		}
	}
}

func TestDemoGeneratesLoadsAndPushes(t *testing.T) {
	testDB.Reset(t)
	d := startDemo(t, "kafka,s3,etl,serve,generate", func(o *demoOptions) {
		o.interval, o.rows, o.backfill, o.invalid = 300*time.Millisecond, 200, 2, 0.05
	})
	conn := wsClient(t, d)
	first := nextSnapshot(t, conn, 5*time.Second)
	var snap api.Snapshot
	deadline := time.Now().Add(30 * time.Second)
	for snap = first; snap.Totals.Orders < 3*190; snap = nextSnapshot(t, conn, 10*time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the dashboard shows %d orders", snap.Totals.Orders)
		}
	}
	if !strings.HasPrefix(snap.LastFile, "daily/sales_") || snap.Seq <= first.Seq {
		t.Errorf("last file %q, seq %d after %d", snap.LastFile, snap.Seq, first.Seq)
	}
	resp, err := http.Get("http://" + d.srv.Addr().String() + "/api/files?limit=5")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page api.FilesPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Files) == 0 || page.Files[0].RowsRejected == 0 {
		t.Errorf("the ledger does not show the generated files with their rejects: %+v %v", page, err)
	}
}

func TestDemoPartsAndSettings(t *testing.T) {
	for _, bad := range []string{"kafka,teleport", ",", ""} {
		if _, err := parseParts(bad); err == nil {
			t.Errorf("--parts %q accepted", bad)
		}
	}
	for addr, want := range map[string]string{":8080": "http://127.0.0.1:8080", "0.0.0.0:80": "http://127.0.0.1:80", "10.0.0.5:9": "http://10.0.0.5:9"} {
		if got := dashboardURL(addr); got != want {
			t.Errorf("dashboardURL(%q) = %q, want %q", addr, got, want)
		}
	}
	if got := redacted("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("redacted kept the password: %s", got)
	}
	// Only Kafka and S3: what separate `salespulse etl` processes would consume from.
	d := startDemo(t, "kafka,s3", nil)
	if d.stack.KafkaAddr() == "" || d.stack.S3Endpoint() == "" || d.srv != nil || d.pool != nil {
		t.Errorf("--parts kafka,s3 started more or less than asked")
	}
}

// TestFreshness (proof) puts 1,000-row daily files into the demo's S3 endpoint and times
// each until a WebSocket snapshot names it in last_file (FRESH_FILES files). It also times
// each file's commit, heard on a LISTEN connection of its own, to split the time into
// PUT → commit (the worker) and commit → snapshot (the server).
func TestFreshness(t *testing.T) {
	proof.Enabled(t)
	testDB.Reset(t)
	d := startDemo(t, "kafka,s3,etl,serve", nil)
	conn := wsClient(t, d)
	nextSnapshot(t, conn, 5*time.Second)
	commits := listenCommits(t)
	put := func(key string, body []byte) {
		_, err := d.s3.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("sales"), Key: aws.String(key), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(key string) api.Snapshot {
		snap := nextSnapshot(t, conn, time.Minute)
		for snap.LastFile != key {
			snap = nextSnapshot(t, conn, time.Minute)
		}
		return snap
	}
	file := func(i int) []byte {
		var buf bytes.Buffer
		day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		if _, err := etl.Generate(&buf, etl.GenerateOptions{Rows: 1000, Seed: uint64(i), From: day, To: day}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	put("warmup.csv", file(999)) // the consumer group settles, connections warm up
	waitFor("warmup.csv")
	n := proof.Int("FRESH_FILES", 20, 100)
	var lags, toCommit, toSnapshot []time.Duration
	for i := range n {
		body, key := file(i), fmt.Sprintf("fresh/%03d.csv", i)
		put(key, body)
		start := time.Now()
		snap := waitFor(key)
		arrived := time.Now()
		lags = append(lags, arrived.Sub(start))
		if at, ok := commits.at(snap.LastFileID, 10*time.Second); ok {
			toCommit = append(toCommit, at.Sub(start))
			toSnapshot = append(toSnapshot, max(arrived.Sub(at), 0))
		}
	}
	at := func(ds []time.Duration, p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[max(0, min(len(s)-1, int(p*float64(len(s))+0.5)-1))]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	proof.Record(t, proof.Result{
		Item:    "Freshness: PUT → snapshot on a dashboard",
		Done:    fmt.Sprintf("`salespulse demo` (in-process Kafka and S3, worker, server); %d files of 1,000 rows put into its S3 one after another, a WebSocket client watching", n),
		Checked: "each file's snapshot names it in last_file; its commit heard on a LISTEN connection of the test's own",
		Figure:  fmt.Sprintf("p50 %s, p95 %s, p99 %s (max %s)", ms(at(lags, 0.5)), ms(at(lags, 0.95)), ms(at(lags, 0.99)), ms(at(lags, 1))),
		Reference: fmt.Sprintf("of which PUT → commit p50 %s / p95 %s, commit → snapshot p50 %s / p95 %s",
			ms(at(toCommit, 0.5)), ms(at(toCommit, 0.95)), ms(at(toSnapshot, 0.5)), ms(at(toSnapshot, 0.95))),
		Target: "p95 ≤ 250 ms", Met: at(lags, 0.95) <= 250*time.Millisecond,
	})
}

// commitTimes hears the commits of loads (NOTIFY salespulse_files) and remembers when each
// file's arrived.
type commitTimes struct {
	mu   sync.Mutex
	seen map[int64]time.Time
}

func listenCommits(b testing.TB) *commitTimes {
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, testDB.URL)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN salespulse_files"); err != nil {
		b.Fatal(err)
	}
	c := &commitTimes{seen: map[int64]time.Time{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				return
			}
			id, _ := strconv.ParseInt(n.Payload, 10, 64)
			c.mu.Lock()
			c.seen[id] = time.Now()
			c.mu.Unlock()
		}
	}()
	b.Cleanup(func() { cancel(); <-done; conn.Close(context.Background()) })
	return c
}

// at is when the commit of ledger row id was heard.
func (c *commitTimes) at(id int64, within time.Duration) (time.Time, bool) {
	for end := time.Now().Add(within); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		t, ok := c.seen[id]
		c.mu.Unlock()
		if ok || time.Now().After(end) {
			return t, ok
		}
	}
}

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// tickingClock starts at from and moves on a millisecond at each reading.
func tickingClock(from time.Time) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		from = from.Add(time.Millisecond)
		return from
	}
}

// TestDemoNeverGeneratesPastToday: with more files than backfill days, once the generator
// has reached today it adds more of today's sales, in files of their own, rather than days
// that have not happened; no payment or delivery is dated after today either.
func TestDemoNeverGeneratesPastToday(t *testing.T) {
	today := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	d := startDemo(t, "s3,generate", func(o *demoOptions) {
		o.interval, o.rows, o.invalid, o.backfill = 10*time.Millisecond, 50, 0, 2
		o.firstDay, o.now = today.AddDate(0, 0, -2), tickingClock(today.Add(12*time.Hour))
	})
	ctx := context.Background()
	var keys []string
	poll.Until(t, "eight generated files", 30*time.Second, func() bool {
		out, err := d.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(d.bucket())})
		if err != nil {
			t.Fatal(err)
		}
		keys = keys[:0]
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		return len(keys) >= 8
	})
	seen := map[string]bool{}
	inputs := oracle.New()
	var later int
	for _, key := range keys {
		obj, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket()), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := inputs.Add(data); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if date := latestDate(t, data); date > "2024-03-10" {
			t.Errorf("%s holds a date after today: %s", key, date)
		}
		seen[key] = true
		if strings.HasPrefix(key, "daily/sales_2024-03-10_") {
			later++
		}
	}
	k := inputs.KPIs(api.Filter{})
	if k.DataRange.From != "2024-03-08" || k.DataRange.To != today.Format(time.DateOnly) {
		t.Errorf("generated sale dates span %v, want 2024-03-08..2024-03-10 (never after today)", k.DataRange)
	}
	if inputs.Duplicates != 0 || k.Orders != int64(50*len(keys)) {
		t.Errorf("%d files of 50 sales hold %d distinct sales, %d repeated: today's further files must bring new sales", len(keys), k.Orders, inputs.Duplicates)
	}
	for _, want := range []string{"daily/sales_2024-03-08.csv", "daily/sales_2024-03-09.csv", "daily/sales_2024-03-10.csv"} {
		if !seen[want] {
			t.Errorf("no %s among %v", want, keys)
		}
	}
	if later != len(keys)-3 {
		t.Errorf("files after the backfill days: %d of today's, want all %d of them, keys %v", later, len(keys)-3, keys)
	}
}

// latestDate is the latest sale, payment or delivery date in a generated file.
func latestDate(t *testing.T, data []byte) string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var cols []int
	for i, name := range rows[0] {
		switch name {
		case "Sale Date", "sale_date", "Payment Date", "payment_date", "Delivery Date", "delivery_date":
			cols = append(cols, i)
		}
	}
	if len(cols) != 3 {
		t.Fatalf("header %v: want the sale, payment and delivery dates", rows[0])
	}
	latest := ""
	for _, row := range rows[1:] {
		for _, c := range cols {
			latest = max(latest, row[c])
		}
	}
	return latest
}

// demoEnv reads settings as the binary does, from these variables only.
func demoEnv(t *testing.T, env map[string]string) (Config, error) {
	t.Helper()
	return FromLookup(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
}

// TestDemoSettingsFromEnv: every demo setting comes from the environment, and a flag given
// overrides it while one left out keeps it.
func TestDemoSettingsFromEnv(t *testing.T) {
	cfg, err := demoEnv(t, map[string]string{
		"DEMO_PARTS": "kafka,s3", "DEMO_KAFKA_ADDR": "127.0.0.1:19092", "DEMO_S3_ADDR": "127.0.0.1:19000", "DEMO_S3_DIR": "/tmp/objects",
		"DEMO_INTERVAL": "2s", "DEMO_ROWS": "50", "DEMO_INVALID": "10%", "DEMO_BACKFILL": "3", "HTTP_ADDR": "127.0.0.1:18080",
		"DATABASE_URL": "postgres://env@127.0.0.1/x",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, opt, err := demoFlags(cfg, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(opt.parts, opt.kafkaAddr, opt.s3Addr, opt.s3Dir, opt.interval, opt.rows, opt.invalid, opt.backfill, cfg.HTTP.Addr, cfg.Database.URL)
	want := fmt.Sprint(map[string]bool{"kafka": true, "s3": true}, "127.0.0.1:19092", "127.0.0.1:19000", "/tmp/objects", 2*time.Second, 50, 0.1, 3,
		"127.0.0.1:18080", "postgres://env@127.0.0.1/x")
	if got != want {
		t.Errorf("from the environment: %s, want %s", got, want)
	}
	if today := dayOf(time.Now()); !opt.firstDay.Equal(today.AddDate(0, 0, -3)) {
		t.Errorf("first day %v, want 3 days before %v", opt.firstDay, today)
	}

	cfg, _ = demoEnv(t, nil)
	_, opt, _ = demoFlags(cfg, nil, io.Discard)
	got = fmt.Sprint(len(opt.parts), opt.kafkaAddr, opt.s3Addr, opt.s3Dir, opt.interval, opt.rows, opt.invalid, opt.backfill)
	if want := fmt.Sprint(5, "127.0.0.1:9092", "127.0.0.1:9000", "", 5*time.Second, 2000, 0.02, 14); got != want {
		t.Errorf("defaults: %s, want %s", got, want)
	}

	cfg, _ = demoEnv(t, map[string]string{"DEMO_S3_ADDR": "127.0.0.1:19000", "DEMO_ROWS": "50", "DEMO_INVALID": "0.5"})
	cfg, opt, err = demoFlags(cfg, []string{"--s3-addr", "127.0.0.1:29000", "--rows", "7", "--parts", "s3", "--interval", "1m",
		"--invalid", "0", "--backfill", "0", "--kafka-addr", "127.0.0.1:29092", "--s3-dir", "/tmp/other", "--addr", ":0",
		"--database-url", "postgres://flag@127.0.0.1/y"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got = fmt.Sprint(opt.parts, opt.kafkaAddr, opt.s3Addr, opt.s3Dir, opt.interval, opt.rows, opt.invalid, opt.backfill, cfg.HTTP.Addr, cfg.Database.URL)
	want = fmt.Sprint(map[string]bool{"s3": true}, "127.0.0.1:29092", "127.0.0.1:29000", "/tmp/other", time.Minute, 7, 0.0, 0, ":0", "postgres://flag@127.0.0.1/y")
	if got != want {
		t.Errorf("flags over the environment: %s, want %s", got, want)
	}

	// A flag out of range is refused by name even where the setting was fine.
	for _, args := range [][]string{{"--rows", "0"}, {"--interval", "0s"}, {"--invalid", "1.5"}, {"--backfill", "-1"}, {"--parts", "kafka,teleport"}} {
		_, _, err := demoFlags(cfg, args, io.Discard)
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Name != args[0] {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[0])
		}
	}
}

// TestDemoBadSettingsRefused: a bad DEMO_* value stops the binary with one line naming it.
func TestDemoBadSettingsRefused(t *testing.T) {
	for name, bad := range map[string]string{"DEMO_PARTS": "kafka,teleport", "DEMO_INTERVAL": "soon", "DEMO_ROWS": "0",
		"DEMO_INVALID": "2", "DEMO_BACKFILL": "-1"} {
		_, err := demoEnv(t, map[string]string{name: bad})
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Name != name || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%s: %v, want one line naming it", name, bad, err)
		}
	}
}
