//go:build !wasm

package main

// The proof's fault tests (scripts/proof.sh, docs/PERFORMANCE.md): the real salespulse
// binary, the test's PostgreSQL database, in-process Kafka and S3. They are long, so they
// run only with PROOF=1; the PostgreSQL restart also needs PROOF_PG_RESTART=1, because it
// restarts the shared server. Each prints "PROOF <name> key=value ..." lines that the proof
// script reads; every check that can fail is a test error.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"salespulse/config"
	"salespulse/devstack"
	"salespulse/etl"
	"salespulse/server/api"
)

// proc is a salespulse process of the test, its output collected.
type proc struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error
}

func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}, env...)
	p := &proc{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	if os.Getenv("PROOF_VERBOSE") == "1" {
		p.out.tee = os.Stderr
	}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *proc) kill() {
	if p.alive() {
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(within time.Duration) error {
	if !p.alive() {
		return fmt.Errorf("had exited already: %v", p.err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		p.kill()
		return fmt.Errorf("no exit within %v of SIGTERM", within)
	}
}

// tail is the end of the process's output, for failure messages.
func (p *proc) tail() string {
	s := p.out.String()
	return s[max(0, len(s)-3000):]
}

var settledLine = regexp.MustCompile(`msg="etl: file settled" file=(\S+) status=(\w+)`)

// settled lists the "file settled" log lines of a worker: file and status, in order.
func (p *proc) settled() [][2]string {
	var out [][2]string
	for _, m := range settledLine.FindAllStringSubmatch(p.out.String(), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

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

func (w *workerStack) putErr(key string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := w.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sales"), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

// topicEnd is the number of messages in a topic (the sum of its partitions' high-water marks).
func topicEnd(t *testing.T, brokers []string, topic string) int64 {
	t.Helper()
	client, err := sarama.NewClient(brokers, etl.NewSaramaConfig(config.Kafka{ClientID: "proof"}))
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

// TestProofWorkerKilledOverAStreamOfFiles: files keep arriving in the bucket while the
// worker (`salespulse etl`) is killed with SIGKILL at random moments, KILLS times, and
// restarted each time. Afterwards every event is consumed, every distinct file loaded once,
// and sales and every rollup row equal a recomputation from the input bytes.
func TestProofWorkerKilledOverAStreamOfFiles(t *testing.T) {
	proofEnabled(t)
	testDB.Reset(t)
	w := startWorkerStack(t)
	kills := proofEnvInt("KILLS", 20)
	nfiles := proofEnvInt("STREAM_FILES", 40)
	bigRows := proofEnvInt("STREAM_BIG_ROWS", 200000)
	gap := proofEnvInt("STREAM_GAP_MS", 1500) // mean time between two files
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	t.Logf("random seed %d (KILL_SEED=%d repeats the plan)", seed, seed)

	// The stream: large files (kills land mid-COPY), a growing family whose every file holds
	// the previous one's sale ids and more, in both header shapes (the merge path, with
	// duplicates), exact copies of earlier files under new names (skipped), daily files.
	type file struct {
		key  string
		body []byte
	}
	var files []file
	truth := newInputs()
	contents := map[[32]byte]bool{}
	family := 0
	for i := range nfiles {
		var body []byte
		switch {
		case i%8 == 0:
			body = gen(t, etl.GenerateOptions{Rows: bigRows, Seed: uint64(100 + i), From: day("2024-03-01"), To: day("2024-03-31")})
		case i%8 == 3:
			family++
			body = gen(t, etl.GenerateOptions{Rows: 5000 * family, Seed: 1, From: day("2024-04-01"), To: day("2024-04-30"), Snake: family%2 == 0})
		case i%8 == 6 && len(files) > 0:
			body = files[r.IntN(len(files))].body
		default:
			d := day("2024-01-01").AddDate(0, 0, i)
			body = gen(t, etl.GenerateOptions{Rows: 1000 + r.IntN(9000), Seed: uint64(1000 + i), From: d, To: d, Comments: i%3 == 0})
		}
		if err := truth.add(body); err != nil {
			t.Fatal(err)
		}
		contents[sha256.Sum256(body)] = true
		files = append(files, file{fmt.Sprintf("stream/%03d.csv", i), body})
	}

	var put atomic.Int64
	produced := make(chan error, 1)
	go func() {
		pr := rand.New(rand.NewPCG(seed, 8))
		for _, f := range files {
			if err := w.putErr(f.key, f.body); err != nil {
				produced <- err
				return
			}
			put.Add(1)
			time.Sleep(time.Duration(pr.IntN(2*gap+1)) * time.Millisecond)
		}
		produced <- nil
	}()

	env := w.env("kill-stream")
	start := time.Now()
	midLoad := 0
	for k := range kills {
		p := startProc(t, env, "etl")
		mode := "at a random moment"
		if r.IntN(2) == 0 {
			time.Sleep(time.Duration(r.IntN(4000)) * time.Millisecond)
		} else {
			mode = "during a load"
			deadline := time.Now().Add(20 * time.Second)
			for !loadInProgress(t) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(time.Duration(r.IntN(1500)) * time.Millisecond)
		}
		writing := loadInProgress(t)
		if writing {
			midLoad++
		}
		if !p.alive() {
			t.Fatalf("the worker exited by itself before kill %d: %v\n%s", k+1, p.err, p.tail())
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		t.Logf("kill %d (%s, load writing: %v): %d of %d files put, %d ledger rows", k+1, mode, writing,
			put.Load(), len(files), dbInt(t, `SELECT count(*) FROM ingested_files`))
	}
	killPhase := time.Since(start)
	putDuringKills := put.Load()
	if err := <-produced; err != nil {
		t.Fatalf("put: %v", err)
	}

	final := startProc(t, env, "etl")
	waitUntil(t, "every distinct file to load after the kills", 5*time.Minute, func() bool {
		return dbInt(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`) >= int64(len(contents))
	})
	// The events of skipped copies may come after the last load: wait for every offset.
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if committedOffsets(t, []string{w.KafkaAddr()}, "kill-stream", devstack.DefaultTopic) >= int64(len(files)) {
			break
		}
	}
	if err := final.stop(time.Minute); err != nil {
		t.Errorf("final worker: %v\n%s", err, final.tail())
	}
	settle := time.Since(start)

	if n := dbInt(t, `SELECT count(*) FROM ingested_files WHERE status <> 'loaded'`); n != 0 {
		t.Errorf("%d ledger rows not loaded", n)
	}
	loaded := dbInt(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`)
	if loaded != int64(len(contents)) {
		t.Errorf("%d files loaded, want %d (one per distinct content)", loaded, len(contents))
	}
	consumed := committedOffsets(t, []string{w.KafkaAddr()}, "kill-stream", devstack.DefaultTopic)
	if consumed != int64(len(files)) {
		t.Errorf("%d events consumed (committed offsets), want %d", consumed, len(files))
	}
	summary := checkAgainstInputs(t, truth)
	merged := dbInt(t, `SELECT count(*) FROM ingested_files WHERE load_path = 'merge'`)
	proofLine("kill", "kills", kills, "kills_during_load", midLoad, "files", len(files), "distinct_files", len(contents),
		"files_put_during_kills", putDuringKills, "rows_read", truth.rows, "loaded_files", loaded, "merge_path_files", merged,
		"events_consumed", consumed, "kill_phase", killPhase.Round(time.Second), "until_settled", settle.Round(time.Second),
		"seed", seed)
	fmt.Println("PROOF kill-truth", summary)
	fmt.Printf("PROOF kill-result failed=%v\n", t.Failed())
}

// TestProofReplayFromTheStartChangesNothing: after a worker has settled a topic's files, a
// worker of a new consumer group reads the topic from the start. Sales, the rollups, the
// ledger and the rejected rows must stay as they were, and every file that loaded must be
// recognised and skipped. A file that failed (over the reject ratio) is on the topic too:
// a failed file is not "loaded", so the replay tries it again; the test reports what that
// does and checks it changes no sale.
func TestProofReplayFromTheStartChangesNothing(t *testing.T) {
	proofEnabled(t)
	testDB.Reset(t)
	w := startWorkerStack(t)
	n := proofEnvInt("REPLAY_FILES", 12)
	puts := 0
	put := func(key string, body []byte) {
		t.Helper()
		if err := w.putErr(key, body); err != nil {
			t.Fatal(err)
		}
		puts++
	}
	var first []byte
	for i := range n {
		d := day("2024-02-01").AddDate(0, 0, i)
		body := gen(t, etl.GenerateOptions{Rows: 2000 + 500*i, Seed: uint64(300 + i), From: d, To: d, Invalid: 0.03, Snake: i%2 == 1, Comments: i%3 == 0})
		if i == 0 {
			first = body
		}
		put(fmt.Sprintf("replay/day-%02d.csv", i), body)
	}
	put("replay/family-1.csv", gen(t, etl.GenerateOptions{Rows: 4000, Seed: 9, From: day("2024-03-01"), To: day("2024-03-31")}))
	put("replay/family-2.csv", gen(t, etl.GenerateOptions{Rows: 8000, Seed: 9, From: day("2024-03-01"), To: day("2024-03-31"), Snake: true}))
	put("replay/copy-of-day-00.csv", first)               // the same bytes under another name
	put("replay/day-00.csv", first)                       // the same object uploaded again
	put("replay/notes.txt", []byte("not a sales file\n")) // filtered out by the key suffix
	put("replay/mostly-bad.csv", gen(t, etl.GenerateOptions{Rows: 500, Seed: 77, From: day("2024-02-20"), To: day("2024-02-20"), Invalid: 0.9}))
	csvEvents := puts - 1

	settle := func(group string) *proc {
		t.Helper()
		p := startProc(t, w.env(group, "LOG_LEVEL=info"), "etl")
		waitUntil(t, "group "+group+" to settle every event", 3*time.Minute, func() bool {
			if !p.alive() {
				t.Fatalf("worker exited: %v\n%s", p.err, p.tail())
			}
			return len(p.settled()) >= csvEvents
		})
		time.Sleep(time.Second)
		if err := p.stop(time.Minute); err != nil {
			t.Fatalf("worker %s: %v\n%s", group, err, p.tail())
		}
		return p
	}
	firstPass := settle("first")
	maxID := dbInt(t, `SELECT coalesce(max(id), 0) FROM ingested_files`)
	ledgerRows := dbInt(t, `SELECT count(*) FROM ingested_files`)
	failedBefore := dbInt(t, `SELECT count(*) FROM ingested_files WHERE status = 'failed'`)
	digests := func() map[string]string {
		return map[string]string{
			"sales":         tableDigest(t, testDB.Pool, `SELECT * FROM sales`),
			"kpi_cube":      tableDigest(t, testDB.Pool, `SELECT * FROM kpi_cube`),
			"kpi_product":   tableDigest(t, testDB.Pool, `SELECT * FROM kpi_product`),
			"kpi_rep":       tableDigest(t, testDB.Pool, `SELECT * FROM kpi_rep`),
			"ledger":        tableDigest(t, testDB.Pool, `SELECT * FROM ingested_files WHERE id <= $1`, maxID),
			"rejected_rows": tableDigest(t, testDB.Pool, `SELECT * FROM rejected_rows WHERE file_id <= $1`, maxID),
		}
	}
	before := digests()
	dlqBefore := topicEnd(t, []string{w.KafkaAddr()}, devstack.DefaultTopic+devstack.DeadLetterSuffix)

	replay := settle("replay")
	after := digests()
	dlqAfter := topicEnd(t, []string{w.KafkaAddr()}, devstack.DefaultTopic+devstack.DeadLetterSuffix)
	changed := 0
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if before[k] != after[k] {
			changed++
			t.Errorf("%s changed by the replay: %s → %s", k, before[k], after[k])
		}
	}
	newLoaded := dbInt(t, `SELECT count(*) FROM ingested_files WHERE id > $1 AND status = 'loaded'`, maxID)
	newFailed := dbInt(t, `SELECT count(*) FROM ingested_files WHERE id > $1 AND status = 'failed'`, maxID)
	if newFailed != 0 {
		t.Errorf("the replay tried %d failed files again (a new failed ledger row and dead letter each)", newFailed)
	}
	if newLoaded != 0 {
		t.Errorf("the replay loaded %d files again", newLoaded)
	}
	// What each pass decided, by file.
	firstStatus := map[string]string{}
	for _, s := range firstPass.settled() {
		if firstStatus[s[0]] != "loaded" {
			firstStatus[s[0]] = s[1]
		}
	}
	count := map[string]int{}
	for _, s := range replay.settled() {
		count[s[1]]++
		if firstStatus[s[0]] == "loaded" && s[1] != "skipped" {
			t.Errorf("%s loaded in the first pass, but the replay settled it %s", s[0], s[1])
		}
	}
	if v := salespulse(t, dbEnv(), "verify"); v.code != 0 {
		t.Errorf("verify after the replay: %s", v.stdout)
	}
	proofLine("replay", "events", puts, "csv_events", csvEvents, "ledger_rows", ledgerRows, "failed_files", failedBefore,
		"replay_skipped", count["skipped"], "replay_loaded", count["loaded"], "replay_failed", count["failed"],
		"digests_changed", changed, "new_loaded_rows", newLoaded, "new_failed_rows", newFailed,
		"dlq_messages_added", dlqAfter-dlqBefore, "sales", before["sales"])
	fmt.Printf("PROOF replay-result failed=%v\n", t.Failed())
}

// freeAddr is a loopback address with a port free at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `salespulse serve` on the test database and waits until it is ready.
func startServe(t *testing.T) (*proc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := startProc(t, []string{"DATABASE_URL=" + testDB.URL, "LOG_LEVEL=info"}, "serve", "--addr", addr)
	waitUntil(t, "the server to be ready", 30*time.Second, func() bool {
		if !p.alive() {
			t.Fatalf("serve exited: %v\n%s", p.err, p.tail())
		}
		return httpStatus("http://"+addr+"/readyz") == http.StatusOK
	})
	return p, addr
}

func httpStatus(url string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// metric reads one unlabelled value from the server's /metrics; -1 when it cannot.
func metric(addr, name string) float64 {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return -1
}

// rss is a process's resident set in KiB.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// arrival is one snapshot a watching client read.
type arrival struct {
	at       time.Time
	seq      uint64
	lastFile string
	fileID   int64
	orders   int64
}

// watcher is a well-behaved dashboard: it reads every snapshot, and reconnects when the
// connection ends, as the dashboard does.
type watcher struct {
	url        string
	mu         sync.Mutex
	got        []arrival
	reconnects int
	closed     atomic.Bool
	conn       *websocket.Conn
}

func watch(t *testing.T, addr string) *watcher {
	t.Helper()
	w := &watcher{url: "ws://" + addr + "/ws"}
	conn, _, err := websocket.DefaultDialer.Dial(w.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.conn = conn
	go w.run(conn)
	t.Cleanup(func() {
		w.closed.Store(true)
		w.mu.Lock()
		w.conn.Close()
		w.mu.Unlock()
	})
	return w
}

func (w *watcher) run(conn *websocket.Conn) {
	for {
		var m api.Message
		err := conn.ReadJSON(&m)
		if err != nil {
			conn.Close()
			for !w.closed.Load() {
				time.Sleep(250 * time.Millisecond)
				c, _, err := websocket.DefaultDialer.Dial(w.url, nil)
				if err == nil {
					w.mu.Lock()
					w.conn, conn = c, c
					w.reconnects++
					w.mu.Unlock()
					break
				}
			}
			if w.closed.Load() {
				return
			}
			continue
		}
		if m.Type == api.TypeSnapshot && m.Data != nil {
			w.mu.Lock()
			w.got = append(w.got, arrival{time.Now(), m.Data.Seq, m.Data.LastFile, m.Data.LastFileID, m.Data.Totals.Orders})
			w.mu.Unlock()
		}
	}
}

// await waits for a snapshot read after index from that satisfies ok.
func (w *watcher) await(from int, within time.Duration, ok func(arrival) bool) (arrival, bool) {
	deadline := time.Now().Add(within)
	for {
		w.mu.Lock()
		for _, a := range w.got[min(from, len(w.got)):] {
			if ok(a) {
				w.mu.Unlock()
				return a, true
			}
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			return arrival{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *watcher) last() arrival {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got[len(w.got)-1]
}

func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.got)
}

// TestProofPostgresRestartedMidLoad restarts the PostgreSQL server while a running
// `salespulse etl` is in the COPY of a large file and a running `salespulse serve` has a
// dashboard connected. Both must recover unaided: the file loads whole, nothing is lost or
// doubled, the dashboard connected before the restart is shown a file loaded after it with
// the final totals, and /readyz answers 200 again.
func TestProofPostgresRestartedMidLoad(t *testing.T) {
	proofEnabled(t)
	if os.Getenv("PROOF_PG_RESTART") != "1" {
		t.Skip("restarts the shared PostgreSQL server: run by scripts/proof.sh only (PROOF_PG_RESTART=1)")
	}
	ctl := postgresCtl(t)
	t.Cleanup(func() { ensurePostgres(t, ctl) }) // registered first: runs last
	testDB.Reset(t)
	w := startWorkerStack(t)
	rows := proofEnvInt("PG_RESTART_ROWS", 400000)
	truth := newInputs()
	put := func(key string, body []byte) {
		t.Helper()
		if err := truth.add(body); err != nil {
			t.Fatal(err)
		}
		if err := w.putErr(key, body); err != nil {
			t.Fatal(err)
		}
	}
	serve, addr := startServe(t)
	worker := startProc(t, w.env("pg-restart", "LOG_LEVEL=info"), "etl")
	dash := watch(t, addr)
	put("pg/base.csv", gen(t, etl.GenerateOptions{Rows: 5000, Seed: 61, From: day("2024-05-01"), To: day("2024-05-10")}))
	if _, ok := dash.await(0, time.Minute, func(a arrival) bool { return a.lastFile == "pg/base.csv" }); !ok {
		t.Fatalf("the dashboard was not shown the first file\nserve:\n%s\netl:\n%s", serve.tail(), worker.tail())
	}
	put("pg/big.csv", gen(t, etl.GenerateOptions{Rows: rows, Seed: 62, From: day("2024-05-11"), To: day("2024-05-20")}))
	waitUntil(t, "the COPY of the big file", time.Minute, func() bool { return copyInProgress(t) })

	// /readyz, polled throughout.
	var readyMu sync.Mutex
	var readyLog []string
	lastReady := 0
	stopPoll := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for {
			code := httpStatus("http://" + addr + "/readyz")
			readyMu.Lock()
			if code != lastReady {
				readyLog = append(readyLog, fmt.Sprintf("%s:%d", time.Now().Format("15:04:05.000"), code))
				lastReady = code
			}
			readyMu.Unlock()
			select {
			case <-stopPoll:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	seenBefore := dash.count()
	restartStart := time.Now()
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", ctl.version, ctl.cluster, "restart").CombinedOutput()
	restartTook := time.Since(restartStart)
	if err != nil {
		t.Fatalf("pg_ctlcluster restart: %v\n%s", err, out)
	}
	restarted := time.Now()
	testDB.Pool.Reset() // the test's own connections died with the server
	put("pg/after.csv", gen(t, etl.GenerateOptions{Rows: 2000, Seed: 63, From: day("2024-05-21"), To: day("2024-05-21")}))

	want, _ := truth.totals()
	deadline := time.Now().Add(3 * time.Minute)
	for dbIntRetry(t, time.Minute, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the files did not all load within 3 minutes of the restart\netl:\n%s", worker.tail())
		}
		if !worker.alive() {
			t.Fatalf("the worker exited: %v\n%s", worker.err, worker.tail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	loadedAt := time.Since(restarted)
	postRestart := map[string]bool{}
	rowsAfter, err := testDB.Pool.Query(context.Background(), `SELECT object_key FROM ingested_files WHERE finished_at > $1`, restartStart)
	if err != nil {
		t.Fatal(err)
	}
	for rowsAfter.Next() {
		var k string
		rowsAfter.Scan(&k)
		postRestart[k] = true
	}
	rowsAfter.Close()
	final, ok := dash.await(seenBefore, time.Minute, func(a arrival) bool { return postRestart[a.lastFile] && a.orders == want })
	if !ok {
		t.Errorf("the dashboard connected before the restart was not shown the final state (a file loaded after the restart, %d orders) within a minute; files loaded after the restart: %v\nserve:\n%s",
			want, postRestart, serve.tail())
	}
	readyOK := false
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		readyMu.Lock()
		readyOK = lastReady == http.StatusOK
		readyMu.Unlock()
		if readyOK {
			break
		}
	}
	close(stopPoll)
	<-pollDone
	if !readyOK {
		t.Errorf("/readyz did not return to 200 within a minute: %v", readyLog)
	}
	workerAlive, serveAlive := worker.alive(), serve.alive()
	if !workerAlive || !serveAlive {
		t.Errorf("after the restart: worker running %v, server running %v", workerAlive, serveAlive)
	}
	if n := dbInt(t, `SELECT count(*) FROM ingested_files WHERE status <> 'loaded'`); n != 0 {
		t.Errorf("%d ledger rows not loaded", n)
	}
	summary := checkAgainstInputs(t, truth)
	retries := strings.Count(worker.out.String(), "will try again")
	reconnected := strings.Count(serve.out.String(), "listen: reconnected")
	pushErrors := strings.Count(serve.out.String(), "push: snapshot")
	if err := worker.stop(time.Minute); err != nil {
		t.Errorf("worker: %v", err)
	}
	if err := serve.stop(time.Minute); err != nil {
		t.Errorf("serve: %v", err)
	}
	showDelay := time.Duration(0)
	if ok {
		showDelay = final.at.Sub(restarted)
	}
	readyMu.Lock()
	proofLine("pgrestart", "big_file_rows", rows, "restart_took", restartTook.Round(time.Millisecond),
		"all_loaded_after", loadedAt.Round(time.Millisecond), "dashboard_final_after", showDelay.Round(time.Millisecond),
		"dashboard_reconnects", dash.reconnects, "readyz", strings.Join(readyLog, ","), "worker_retries_logged", retries,
		"listener_reconnects_logged", reconnected, "push_errors_logged", pushErrors,
		"worker_alive", workerAlive, "server_alive", serveAlive)
	readyMu.Unlock()
	fmt.Println("PROOF pgrestart-truth", summary)
	fmt.Printf("PROOF pgrestart-result failed=%v\n", t.Failed())
}

type pgCluster struct{ version, cluster string }

// postgresCtl names the local cluster, as pg_lsclusters lists it.
func postgresCtl(t *testing.T) pgCluster {
	t.Helper()
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		t.Fatalf("pg_lsclusters: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("pg_lsclusters lists no cluster: %q", out)
	}
	return pgCluster{f[0], f[1]}
}

// ensurePostgres starts the cluster if it is down, and waits until it answers.
func ensurePostgres(t *testing.T, c pgCluster) {
	if exec.Command("pg_ctlcluster", c.version, c.cluster, "status").Run() != nil {
		out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", c.version, c.cluster, "start").CombinedOutput()
		if err != nil {
			t.Errorf("PostgreSQL is down and would not start: %v\n%s", err, out)
		}
	}
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := testDB.Pool.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
	}
	t.Errorf("PostgreSQL does not answer after the test")
}

// TestProofWebSocketAbuse runs a real `salespulse serve` and, while files keep loading,
// subjects it to ABUSE_IDLE idle dashboards, ABUSE_BIG clients sending 1 MB frames and
// ABUSE_STALLED clients that never read. One well-behaved dashboard must get every push
// throughout (its latencies are reported, phase by phase), the 1 MB senders and the
// non-readers must be disconnected, and the server's memory must stay bounded.
func TestProofWebSocketAbuse(t *testing.T) {
	proofEnabled(t)
	testDB.Reset(t)
	idle := proofEnvInt("ABUSE_IDLE", 10000)
	stalled := proofEnvInt("ABUSE_STALLED", 200)
	bigSenders := proofEnvInt("ABUSE_BIG", 100)
	pushes := proofEnvInt("ABUSE_PUSHES", 10)
	margin := int64(proofEnvInt("ABUSE_RSS_MARGIN_MB", 256)) << 10
	interval := time.Duration(proofEnvInt("ABUSE_PUSH_INTERVAL_MS", 1000)) * time.Millisecond
	ctx := context.Background()

	base := filepath.Join(t.TempDir(), "base.csv")
	os.WriteFile(base, gen(t, etl.GenerateOptions{Rows: 30000, Seed: 5, From: day("2024-06-01"), To: day("2024-06-30")}), 0o644)
	if r := salespulse(t, dbEnv(), "load", base); r.code != 0 {
		t.Fatalf("load: %s %s", r.stdout, r.stderr)
	}
	serve, addr := startServe(t)
	pid := serve.cmd.Process.Pid
	dash := watch(t, addr)
	if _, ok := dash.await(0, 10*time.Second, func(arrival) bool { return true }); !ok {
		t.Fatal("no first snapshot")
	}

	// Memory, sampled throughout; the peak of each phase.
	var memMu sync.Mutex
	peak := map[string]int64{}
	phase := "baseline"
	stopMem := make(chan struct{})
	defer close(stopMem)
	go func() {
		for {
			r := rss(pid)
			memMu.Lock()
			peak[phase] = max(peak[phase], r)
			memMu.Unlock()
			select {
			case <-stopMem:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	setPhase := func(p string) {
		memMu.Lock()
		phase = p
		memMu.Unlock()
	}

	// Commits, timed when heard on a LISTEN connection of the test's own.
	listen, err := pgx.Connect(ctx, testDB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer listen.Close(ctx)
	if _, err := listen.Exec(ctx, "LISTEN salespulse_files"); err != nil {
		t.Fatal(err)
	}
	loader := &etl.Loader{Pool: testDB.Pool, MaxRejectRatio: 0.5, Log: quietLog()}
	dir := t.TempDir()
	lat := map[string][]time.Duration{}
	missed := 0
	nfile := 0
	push := func(ph string) {
		nfile++
		d := day("2024-07-01").AddDate(0, 0, nfile)
		path := filepath.Join(dir, fmt.Sprintf("push-%03d.csv", nfile))
		os.WriteFile(path, gen(t, etl.GenerateOptions{Rows: 200, Seed: uint64(5000 + nfile), From: d, To: d}), 0o644)
		src, _ := etl.NewLocalFile(path)
		from := dash.count()
		res, err := loader.Load(ctx, src, nil)
		if err != nil || res.Status != etl.StatusLoaded {
			t.Fatalf("load: %v %+v", err, res)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = listen.WaitForNotification(wctx)
		cancel()
		heard := time.Now()
		if err != nil {
			t.Fatalf("notification: %v", err)
		}
		a, ok := dash.await(from, 10*time.Second, func(a arrival) bool { return a.fileID >= res.FileID })
		if !ok {
			missed++
			t.Errorf("phase %s: the well-behaved client was not pushed file %d within 10 s", ph, res.FileID)
			return
		}
		lat[ph] = append(lat[ph], max(a.at.Sub(heard), 0))
	}
	pushFor := func(ph string, n int, until func() bool) {
		for i := 0; i < n || (until != nil && !until()); i++ {
			push(ph)
			time.Sleep(interval)
			if i > 300 {
				break
			}
		}
	}

	// A: no abuse, the reference.
	pushFor("baseline", pushes, nil)
	rssBase := rss(pid)

	// B: idle dashboards: connected, reading what is pushed, never sending.
	setPhase("idle")
	var idleSeq sync.Map
	idleConns := make([]*websocket.Conn, idle)
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var dialFailed atomic.Int64
	connectStart := time.Now()
	for i := range idleConns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, _, err := dialer.Dial("ws://"+addr+"/ws", nil)
			if err != nil {
				dialFailed.Add(1)
				return
			}
			idleConns[i] = c
			go func() {
				for {
					_, r, err := c.NextReader()
					if err != nil {
						return
					}
					head := make([]byte, 48)
					k, _ := io.ReadFull(r, head)
					io.Copy(io.Discard, r)
					if s, ok := bytes.CutPrefix(head[:k], []byte(`{"type":"snapshot","seq":`)); ok {
						if j := bytes.IndexByte(s, ','); j > 0 {
							seq, _ := strconv.ParseUint(string(s[:j]), 10, 64)
							idleSeq.Store(i, seq)
						}
					}
				}
			}()
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range idleConns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if dialFailed.Load() > 0 {
		t.Errorf("%d of %d idle clients could not connect", dialFailed.Load(), idle)
	}
	connectTook := time.Since(connectStart)
	time.Sleep(2 * time.Second)
	rssIdle := rss(pid)
	pushFor("idle", pushes, nil)
	lastSeq := dash.last().seq
	time.Sleep(3 * time.Second)
	idleCurrent := 0
	idleSeq.Range(func(_, v any) bool {
		if v.(uint64) >= lastSeq {
			idleCurrent++
		}
		return true
	})

	// C: clients sending 1 MB frames, while files keep loading.
	setPhase("big-frames")
	droppedBefore := metric(addr, "salespulse_ws_dropped_total")
	var closedByServer, stillOpen atomic.Int64
	var closeCodes sync.Map
	abuse := make(chan struct{})
	go func() {
		defer close(abuse)
		var wg sync.WaitGroup
		payload := bytes.Repeat([]byte("x"), 1<<20)
		sem := make(chan struct{}, 16)
		for range bigSenders {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
				if err != nil {
					t.Errorf("big-frame client: %v", err)
					return
				}
				defer c.Close()
				_ = c.WriteMessage(websocket.TextMessage, payload) // may fail: the server stops reading
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						var ce *websocket.CloseError
						var ne net.Error
						switch {
						case errors.As(err, &ne) && ne.Timeout():
							stillOpen.Add(1)
						case errors.As(err, &ce):
							closedByServer.Add(1)
							v, _ := closeCodes.LoadOrStore(ce.Code, new(atomic.Int64))
							v.(*atomic.Int64).Add(1)
						default:
							closedByServer.Add(1) // reset or EOF: the server hung up
						}
						return
					}
				}
			})
		}
		wg.Wait()
	}()
	bigDone := func() bool {
		select {
		case <-abuse:
			return true
		default:
			return false
		}
	}
	pushFor("big-frames", 3, bigDone)
	healthy := httpStatus("http://"+addr+"/healthz") == http.StatusOK
	if !healthy || !serve.alive() {
		t.Errorf("after the 1 MB frames: /healthz OK %v, server running %v", healthy, serve.alive())
	}
	if stillOpen.Load() > 0 {
		t.Errorf("%d of %d clients sending 1 MB frames were still connected 10 s later", stillOpen.Load(), bigSenders)
	}
	var codes []string
	closeCodes.Range(func(k, v any) bool {
		codes = append(codes, fmt.Sprintf("%v×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(codes)

	// D: clients that never read, with a small receive buffer, while files keep loading.
	setPhase("stalled")
	droppedBefore = metric(addr, "salespulse_ws_dropped_total")
	stalledDialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, NetDialContext: (&net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}).DialContext}
	var stalledConns []*websocket.Conn
	for range stalled {
		c, _, err := stalledDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Errorf("stalled client: %v", err)
			continue
		}
		stalledConns = append(stalledConns, c)
	}
	defer func() {
		for _, c := range stalledConns {
			c.Close()
		}
	}()
	stalledStart := time.Now()
	var allDroppedAfter atomic.Int64 // nanoseconds from the connections to the last drop
	pollStop := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for {
			if metric(addr, "salespulse_ws_dropped_total")-droppedBefore >= float64(len(stalledConns)) {
				allDroppedAfter.Store(int64(time.Since(stalledStart)))
				return
			}
			select {
			case <-pollStop:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	pushFor("stalled", pushes, func() bool {
		return allDroppedAfter.Load() != 0 || time.Since(stalledStart) > 3*time.Minute
	})
	close(pollStop)
	<-pollDone
	droppedStalled := metric(addr, "salespulse_ws_dropped_total") - droppedBefore
	if droppedStalled < float64(len(stalledConns)) {
		t.Errorf("%v of %d clients that never read were dropped after %v", droppedStalled, len(stalledConns), time.Since(stalledStart).Round(time.Second))
	}
	clients := metric(addr, "salespulse_ws_clients")

	// E: the idle dashboards leave; files keep loading.
	setPhase("after")
	for i, c := range idleConns {
		if c != nil {
			c.Close()
			idleConns[i] = nil
		}
	}
	time.Sleep(2 * time.Second)
	pushFor("after", max(3, pushes/2), nil)
	rssEnd := rss(pid)

	memMu.Lock()
	peaks := maps.Clone(peak)
	memMu.Unlock()
	abusePeak := max(peaks["big-frames"], peaks["stalled"])
	if abusePeak > rssIdle+margin {
		t.Errorf("server RSS peaked at %d MiB during the abuse, over %d MiB with the idle clients + %d MiB", abusePeak>>10, rssIdle>>10, margin>>10)
	}
	if !serve.alive() {
		t.Errorf("the server exited: %v\n%s", serve.err, serve.tail())
	}
	if err := serve.stop(time.Minute); err != nil {
		t.Errorf("serve: %v", err)
	}
	pcts := func(ph string) string {
		s := slices.Clone(lat[ph])
		slices.Sort(s)
		if len(s) == 0 {
			return "none"
		}
		at := func(p float64) float64 {
			return float64(s[min(len(s)-1, int(p*float64(len(s))+0.5)-1)].Microseconds()) / 1000
		}
		return fmt.Sprintf("n%d/p50:%.1fms/p99:%.1fms/max:%.1fms", len(s), at(0.5), at(0.99), at(1))
	}
	var during []time.Duration
	for _, ph := range []string{"idle", "big-frames", "stalled"} {
		during = append(during, lat[ph]...)
	}
	lat["abuse"] = during
	proofLine("abuse", "idle_clients", idle, "idle_connect", connectTook.Round(time.Millisecond), "idle_current_after_push", idleCurrent,
		"big_senders", bigSenders, "big_closed_by_server", closedByServer.Load(), "big_still_open", stillOpen.Load(), "close_codes", strings.Join(codes, ","),
		"stalled", len(stalledConns), "stalled_dropped", droppedStalled, "all_stalled_dropped_after", time.Duration(allDroppedAfter.Load()).Round(time.Millisecond),
		"ws_clients_after_drops", clients, "missed_pushes", missed)
	proofLine("abuse-latency", "baseline", pcts("baseline"), "idle", pcts("idle"), "big_frames", pcts("big-frames"),
		"stalled", pcts("stalled"), "after", pcts("after"), "abuse", pcts("abuse"))
	proofLine("abuse-rss", "base_mib", rssBase>>10, "with_idle_mib", rssIdle>>10,
		"per_idle_kib", fmt.Sprintf("%.1f", float64(rssIdle-rssBase)/float64(max(idle, 1))),
		"peak_idle_mib", peaks["idle"]>>10, "peak_big_frames_mib", peaks["big-frames"]>>10, "peak_stalled_mib", peaks["stalled"]>>10,
		"end_mib", rssEnd>>10, "bound_mib", (rssIdle+margin)>>10)
	fmt.Printf("PROOF abuse-result failed=%v\n", t.Failed())
}
