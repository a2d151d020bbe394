package etl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl/devstack"
	"salespulse/etl/s3event"
	"salespulse/internal/poll"
)

// stack is Kafka and S3 in the test process, on free ports.
type stack struct {
	*devstack.Stack
	s3      *s3.Client
	kafka   KafkaOptions
	brokers []string
	group   string
	topic   string
}

func startStack(t testing.TB, cfg devstack.Config) *stack {
	t.Helper()
	if cfg.KafkaAddr == "" {
		cfg.KafkaAddr = "127.0.0.1:0"
	}
	if cfg.S3Addr == "" {
		cfg.S3Addr = "127.0.0.1:0"
	}
	st, err := devstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &stack{Stack: st, topic: devstack.DefaultTopic}
	if st.KafkaAddr() != "" {
		s.kafka, s.brokers, s.group = KafkaOptions{ClientID: "test"}, []string{st.KafkaAddr()}, "test-"+t.Name()
	}
	if st.S3Endpoint() != "" {
		s.s3 = s3Client(t, st.S3Endpoint())
	}
	return s
}

func s3Client(t testing.TB, endpoint string) *s3.Client {
	c, err := NewS3Client(context.Background(), S3Options{
		AccessKeyID: "test", SecretAccessKey: "test", Region: "us-east-1", Endpoint: endpoint,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *stack) put(t testing.TB, key string, body []byte) {
	t.Helper()
	_, err := s.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(devstack.DefaultBucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// publish sends a raw message to the events topic, as another producer would.
func (s *stack) publish(t testing.TB, value []byte) {
	t.Helper()
	p, err := sarama.NewSyncProducer(s.brokers, NewSaramaConfig(s.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: s.topic, Value: sarama.ByteEncoder(value)}); err != nil {
		t.Fatal(err)
	}
}

// deadLetters reads everything on the dead-letter topic so far.
func (s *stack) deadLetters(t *testing.T) []DeadLetter {
	t.Helper()
	c, err := sarama.NewConsumer(s.brokers, NewSaramaConfig(s.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	topic := s.topic + ".dlq"
	parts, err := c.Partitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := sarama.NewClient(s.brokers, NewSaramaConfig(s.kafka))
	defer client.Close()
	var out []DeadLetter
	for _, p := range parts {
		end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			t.Fatal(err)
		}
		if end == 0 {
			continue
		}
		pc, err := c.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatal(err)
		}
		for msg := range pc.Messages() {
			var dl DeadLetter
			if err := json.Unmarshal(msg.Value, &dl); err != nil {
				t.Fatalf("dead letter is not JSON: %s", msg.Value)
			}
			out = append(out, dl)
			if msg.Offset+1 >= end {
				break
			}
		}
		pc.Close()
	}
	return out
}

// runningWorker is a Worker consuming in the background.
type runningWorker struct {
	*Worker
	mu      sync.Mutex
	settled []Result
	stop    context.CancelFunc
	done    chan error
}

func (s *stack) startWorker(t testing.TB, group string) *runningWorker {
	t.Helper()
	return s.startWorkerWith(t, group, nil)
}

// startWorkerWith starts a worker that configure may change first.
func (s *stack) startWorkerWith(t testing.TB, group string, configure func(*Worker)) *runningWorker {
	t.Helper()
	if group == "" {
		group = s.group
	}
	scfg := NewSaramaConfig(s.kafka)
	scfg.Consumer.Group.Session.Timeout = 6 * time.Second
	scfg.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	cg, err := sarama.NewConsumerGroup(s.brokers, group, scfg)
	if err != nil {
		t.Fatal(err)
	}
	dlq, err := sarama.NewSyncProducer(s.brokers, scfg)
	if err != nil {
		t.Fatal(err)
	}
	rw := &runningWorker{done: make(chan error, 1)}
	rw.Worker = &Worker{
		Loader: newLoader(), S3: s.s3, DeadLetters: dlq, Topic: s.topic,
		Filter: KeyFilter{Suffixes: []string{".csv"}}, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Loaded: func(r Result) {
			rw.mu.Lock()
			rw.settled = append(rw.settled, r)
			rw.mu.Unlock()
		},
	}
	if configure != nil {
		configure(rw.Worker)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rw.stop = cancel
	go func() { rw.done <- rw.Run(ctx, cg); cg.Close(); dlq.Close() }()
	t.Cleanup(func() { rw.shutdown(t) })
	return rw
}

func (rw *runningWorker) shutdown(t testing.TB) {
	rw.stop()
	select {
	case err := <-rw.done:
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("worker did not stop within 30 s")
	}
	rw.done <- nil // later calls return at once
}

func (rw *runningWorker) results() []Result {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return append([]Result(nil), rw.settled...)
}

func settledCount(t *testing.T, rws ...*runningWorker) int {
	n := 0
	for _, rw := range rws {
		n += len(rw.results())
	}
	return n
}

func TestUploadedFilesLoadOnceWhateverTheEvents(t *testing.T) {
	testDB.Reset(t)
	s := startStack(t, devstack.Config{})
	w := s.startWorker(t, "")
	day := generated(t, GenerateOptions{Rows: 1000, Seed: 21})
	s.put(t, "incoming/2024-03-01 sales.csv", day)
	poll.Until(t, "the upload to load", 20*time.Second, func() bool { return settledCount(t, w) == 1 })
	if r := w.results()[0]; r.Status != StatusLoaded || r.RowsLoaded != 1000 || r.File != "s3://sales/incoming/2024-03-01 sales.csv" {
		t.Fatalf("%+v", r)
	}

	loadedID := w.results()[0].FileID

	// A new event for the same object version (another announcement of it), then the same
	// bytes under another key: two attempts, each skipped with a ledger row of its own.
	s.publish(t, s3event.New("sales", "incoming/2024-03-01 sales.csv", int64(len(day)), etagOf(t, s, "incoming/2024-03-01 sales.csv"),
		s3event.ObjectCreatedPut, time.Now(), "1"))
	s.put(t, "incoming/copy.csv", day)
	poll.Until(t, "the repeats to settle", 20*time.Second, func() bool { return settledCount(t, w) == 3 })
	for _, r := range w.results()[1:] {
		if r.Status != StatusSkipped || r.Repeats != loadedID || r.FileID == loadedID {
			t.Errorf("a repeat was not skipped with a row of its own naming file %d: %+v", loadedID, r)
		}
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 1000 {
		t.Errorf("sales %d, want 1000", n)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`); n != 1 {
		t.Errorf("%d loaded ledger rows, want 1", n)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'skipped' AND repeats_file_id = $1 AND rows_total = 0`, loadedID); n != 2 {
		t.Errorf("%d skipped ledger rows repeating file %d, want 2", n, loadedID)
	}
	var etag string
	if err := testDB.Pool.QueryRow(context.Background(), `SELECT etag FROM ingested_files WHERE status = 'loaded'`).Scan(&etag); err != nil || etag == "" {
		t.Errorf("the ledger row has no ETag (%v)", err)
	}
	assertConsistent(t)
}

func etagOf(t *testing.T, s *stack, key string) string {
	head, err := s.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("sales"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(aws.ToString(head.ETag), `"`)
}

func TestBadEventsAndFilesGoToDeadLettersAndTheNextFileLoads(t *testing.T) {
	testDB.Reset(t)
	s := startStack(t, devstack.Config{})
	w := s.startWorker(t, "")
	s.publish(t, []byte(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-01-01T00:00:00.000Z","Bucket":"sales"}`))
	s.publish(t, s3event.New("sales", "gone.csv", 10, "abc", s3event.ObjectCreatedPut, time.Now(), "2"))
	s.put(t, "garbage.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00binary"))
	s.put(t, "empty.csv", nil)
	s.publish(t, []byte("this is not an event"))
	s.put(t, "notes.txt", []byte("ignored: not .csv"))
	s.put(t, "good.csv", generated(t, GenerateOptions{Rows: 50, Seed: 3}))
	poll.Until(t, "four files to settle", 20*time.Second, func() bool { return settledCount(t, w) == 4 })

	byKey := map[string]Result{}
	for _, r := range w.results() {
		byKey[r.File] = r
	}
	for key, want := range map[string]string{
		"s3://sales/gone.csv": "no longer exists", "s3://sales/garbage.csv": "missing required column",
		"s3://sales/empty.csv": "empty file",
	} {
		if r := byKey[key]; r.Status != StatusFailed || !strings.Contains(r.Error, want) {
			t.Errorf("%s: %+v, want failed with %q", key, r, want)
		}
	}
	if r := byKey["s3://sales/good.csv"]; r.Status != StatusLoaded || r.RowsLoaded != 50 {
		t.Errorf("the file after the bad ones: %+v", r)
	}
	var dls []DeadLetter
	poll.Until(t, "four dead letters", 10*time.Second, func() bool { dls = s.deadLetters(t); return len(dls) >= 4 })
	got := map[string]DeadLetter{}
	for _, dl := range dls {
		got[dl.Key] = dl
		if dl.Topic != s.topic || dl.Error == "" {
			t.Errorf("incomplete dead letter: %+v", dl)
		}
	}
	for _, key := range []string{"gone.csv", "garbage.csv", "empty.csv"} {
		if dl, ok := got[key]; !ok || dl.FileID == 0 || len(dl.Event) == 0 {
			t.Errorf("no dead letter with its event and failed ledger row for %s: %+v", key, dl)
		}
	}
	if dl, ok := got[""]; !ok || dl.RawEvent != "this is not an event" || !strings.Contains(dl.Error, "malformed event") {
		t.Errorf("no dead letter for the malformed event: %+v", dl)
	}
	if len(dls) != 4 {
		t.Errorf("%d dead letters, want 4 (the test event is acknowledged, not a failure)", len(dls))
	}
	// A new event for the object version that failed: settled already, so not tried again;
	// the attempt is recorded as skipped, naming the failed file, and is no new dead letter.
	s.publish(t, s3event.New("sales", "garbage.csv", 20, etagOf(t, s, "garbage.csv"), s3event.ObjectCreatedPut, time.Now(), "9"))
	poll.Until(t, "the repeat to settle", 10*time.Second, func() bool { return settledCount(t, w) == 5 })
	if r := w.results()[4]; r.Status != StatusSkipped || r.Repeats != byKey["s3://sales/garbage.csv"].FileID {
		t.Errorf("the failed file's event again: %+v, want skipped repeating file %d", r, byKey["s3://sales/garbage.csv"].FileID)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status <> 'skipped'`); n != 4 {
		t.Errorf("%d ledger rows loaded or failed, want 4", n)
	}
	if n := len(s.deadLetters(t)); n != 4 {
		t.Errorf("%d dead letters after the repeat, want still 4", n)
	}
}

func TestTwoWorkersInOneGroupLoadEachFileOnce(t *testing.T) {
	testDB.Reset(t)
	s := startStack(t, devstack.Config{Partitions: 4})
	a := s.startWorker(t, "pair")
	b := s.startWorker(t, "pair")
	const files = 24
	for i := range files {
		s.put(t, fmt.Sprintf("day-%02d.csv", i), generated(t, GenerateOptions{Rows: 200, Seed: uint64(1000 + i)}))
	}
	poll.Until(t, "every file to settle", 60*time.Second, func() bool { return settledCount(t, a, b) >= files })
	time.Sleep(500 * time.Millisecond) // a double load would show up now
	if n := settledCount(t, a, b); n != files {
		t.Errorf("%d settlements for %d files", n, files)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`); n != files {
		t.Errorf("%d files loaded, want %d", n, files)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != files*200 {
		t.Errorf("sales %d, want %d", n, files*200)
	}
	if len(a.results()) == 0 || len(b.results()) == 0 {
		t.Logf("one worker did all the work (%d / %d): partitions were not shared", len(a.results()), len(b.results()))
	}
	assertConsistent(t)
}

func TestAStoreOutageIsWaitedOutNotSkipped(t *testing.T) {
	testDB.Reset(t)
	dir := t.TempDir()
	k := startStack(t, devstack.Config{DisableS3: true})
	st := startStack(t, devstack.Config{DisableKafka: true, S3Dir: dir})
	k.s3 = st.s3
	body := generated(t, GenerateOptions{Rows: 100, Seed: 8})
	st.put(t, "late.csv", body)
	addr := strings.TrimPrefix(st.S3Endpoint(), "http://")
	st.Close()

	w := k.startWorker(t, "")
	k.publish(t, s3event.New("sales", "late.csv", int64(len(body)), "", s3event.ObjectCreatedPut, time.Now(), "1"))
	time.Sleep(1500 * time.Millisecond) // tries fail meanwhile
	if n := settledCount(t, w); n != 0 {
		t.Fatalf("settled while the store was down: %+v", w.results())
	}
	back, err := devstack.Start(context.Background(), devstack.Config{DisableKafka: true, S3Addr: addr, S3Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	poll.Until(t, "the file to load once the store is back", 20*time.Second, func() bool { return settledCount(t, w) == 1 })
	if r := w.results()[0]; r.Status != StatusLoaded || r.RowsLoaded != 100 {
		t.Errorf("%+v", r)
	}
}

func TestWatchAnnouncesEachObjectVersionOnce(t *testing.T) {
	testDB.Reset(t)
	k := startStack(t, devstack.Config{DisableS3: true})
	st := startStack(t, devstack.Config{DisableKafka: true}) // a store that cannot notify
	k.s3 = st.s3
	for i := range 3 {
		st.put(t, fmt.Sprintf("in/%d.csv", i), generated(t, GenerateOptions{Rows: 30, Seed: uint64(50 + i)}))
	}
	st.put(t, "in/readme.txt", []byte("not a csv"))
	st.put(t, "elsewhere/9.csv", generated(t, GenerateOptions{Rows: 30, Seed: 59}))
	p, err := sarama.NewSyncProducer(k.brokers, NewSaramaConfig(k.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	watcher := &Watcher{S3: st.s3, Producer: p, Pool: testDB.Pool, Topic: k.topic, Bucket: "sales",
		Filter: KeyFilter{Prefix: "in/", Suffixes: []string{".csv"}}, Interval: time.Hour}
	ctx := context.Background()
	for i, want := range []int{3, 0} {
		if n, err := watcher.Poll(ctx); err != nil || n != want {
			t.Fatalf("poll %d announced %d (%v), want %d", i, n, err, want)
		}
	}
	st.put(t, "in/1.csv", generated(t, GenerateOptions{Rows: 40, Seed: 51})) // a new version
	st.put(t, "in/3.csv", generated(t, GenerateOptions{Rows: 30, Seed: 53}))
	if n, err := watcher.Poll(ctx); err != nil || n != 2 {
		t.Fatalf("third poll announced %d (%v), want 2", n, err)
	}
	// Five events, four objects: in/1.csv was replaced before the worker ran, so its first
	// event fetches the current version and its second finds that version loaded.
	w := k.startWorker(t, "")
	poll.Until(t, "the announced files to settle", 20*time.Second, func() bool { return settledCount(t, w) == 5 })
	statuses := map[string]int{}
	for _, r := range w.results() {
		statuses[r.Status]++
	}
	if statuses[StatusLoaded] != 4 || statuses[StatusSkipped] != 1 {
		t.Errorf("settled %v, want 4 loaded and 1 skipped", statuses)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 30+40+30+30 {
		t.Errorf("sales %d, want %d (in/1.csv in its 40-row version)", n, 30+40+30+30)
	}
}
