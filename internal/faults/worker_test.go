package faults

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"salespulse/etl"
	"salespulse/etl/devstack"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/internal/proof"
	"salespulse/internal/testbin"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkerKilledAtRandomMomentsLosesAndDoublesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long fault test")
	}
	testDB.Reset(t)
	w := testbin.StartStack(t)
	// A large file, files that repeat part of it (the merge path) and small ones.
	var files [][]byte
	files = append(files, generate(t, "--rows", "300000", "--seed", "1", "--date", "2024-04-01..2024-04-30"))
	for i := range 4 {
		files = append(files, generate(t, "--rows", fmt.Sprint(20000+10000*i), "--seed", "1", "--date", "2024-04-01..2024-04-30", "--shape", "snake"))
		files = append(files, generate(t, "--rows", "5000", "--seed", fmt.Sprint(10+i), "--date", "2024-05-01"))
	}
	for i, f := range files {
		put(t, w, fmt.Sprintf("in/file-%02d.csv", i), f)
	}
	env := w.Env(testDB.URL, "kill-test")
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
		p := bin.Start(t, env, "etl")
		// Kill it while it writes: once a load is under way, at a random moment.
		deadline := time.Now().Add(20 * time.Second)
		for !loadInProgress(t) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(r.IntN(1500)) * time.Millisecond)
		p.Kill()
		kills++
		t.Logf("kill %d: %d files settled so far", kills, testDB.Int(t, `SELECT count(DISTINCT object_key) FROM ingested_files`))
	}
	final := bin.Start(t, env, "etl")
	defer final.Stop(time.Minute)
	poll.Until(t, "every file to settle after the kills", 3*time.Minute, func() bool {
		return testDB.Int(t, `SELECT count(DISTINCT object_key) FROM ingested_files`) == int64(len(files))
	})
	truth := oracle.New()
	for _, f := range files {
		if err := truth.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	wantSales, wantCents := truth.Distinct(), truth.TotalCents()
	if got := testDB.Int(t, `SELECT count(*) FROM sales`); got != wantSales {
		t.Errorf("sales %d, want %d distinct sale ids from the inputs", got, wantSales)
	}
	if got := testDB.Int(t, `SELECT coalesce(sum(total_value_cents), 0)::bigint FROM sales`); got != wantCents {
		t.Errorf("total value %d cents, want %d", got, wantCents)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status <> 'loaded'`); n != 0 {
		t.Errorf("%d files not loaded", n)
	}
	if n := testDB.Int(t, `SELECT count(*) - count(DISTINCT object_key) FROM ingested_files`); n != 0 {
		t.Errorf("%d files loaded twice", n)
	}
	if v := bin.Run(t, dbEnv(), "verify"); v.Code != 0 {
		t.Errorf("verify after %d kills:\n%s", kills, v.Stdout)
	}
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
			w := testbin.StartStack(t)
			group := "sigterm-" + c.grace
			put(t, w, "big.csv", generate(t, "--rows", "400000", "--seed", "7", "--date", "2024-06-01"))
			p := bin.Start(t, w.Env(testDB.URL, group, "ETL_SHUTDOWN_GRACE="+c.grace), "etl")
			poll.Until(t, "the COPY to start", 30*time.Second, func() bool { return copyInProgress(t) })
			if err := p.Stop(90 * time.Second); err != nil {
				t.Fatalf("after SIGTERM: %v", err)
			}
			sales := testDB.Int(t, `SELECT count(*) FROM sales`)
			ledger := testDB.Int(t, `SELECT count(*) FROM ingested_files`)
			offsets := w.CommittedOffsets(t, group, devstack.DefaultTopic)
			if c.finished && (sales != 400000 || ledger != 1 || offsets != 1) {
				t.Errorf("after SIGTERM: %d sales, %d ledger rows, offset %d; want the whole file and its offset committed", sales, ledger, offsets)
			}
			if !c.finished && (sales != 0 || ledger != 0 || offsets != 0) {
				t.Errorf("after SIGTERM: %d sales, %d ledger rows, offset %d; want nothing: the file rolled back, its message left", sales, ledger, offsets)
			}
			if !c.finished { // the next worker loads it whole
				next := bin.Start(t, w.Env(testDB.URL, group), "etl")
				defer next.Stop(time.Minute)
				poll.Until(t, "the file to load on restart", time.Minute, func() bool { return testDB.Int(t, `SELECT count(*) FROM ingested_files`) == 1 })
				if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 400000 {
					t.Errorf("after restart: %d sales, want 400000", n)
				}
			}
			if v := bin.Run(t, dbEnv(), "verify"); v.Code != 0 {
				t.Errorf("verify: %s", v.Stdout)
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

// TestProofWorkerKilledOverAStreamOfFiles: files keep arriving in the bucket while the
// worker (`salespulse etl`) is killed with SIGKILL at random moments, KILLS times, and
// restarted each time. Afterwards every event is consumed, every distinct file loaded once,
// and sales and the KPIs equal a recomputation from the input bytes.
func TestProofWorkerKilledOverAStreamOfFiles(t *testing.T) {
	proofEnabled(t)
	testDB.Reset(t)
	w := testbin.StartStack(t)
	kills := proof.Int("KILLS", 5, 20)
	nfiles := proof.Int("STREAM_FILES", 12, 40)
	bigRows := proof.Int("STREAM_BIG_ROWS", 30000, 200000)
	gap := proof.Int("STREAM_GAP_MS", 1500, 1500) // mean time between two files
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
	truth := oracle.New()
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
		if err := truth.Add(body); err != nil {
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
			if err := w.Put(f.key, f.body); err != nil {
				produced <- err
				return
			}
			put.Add(1)
			time.Sleep(time.Duration(pr.IntN(2*gap+1)) * time.Millisecond)
		}
		produced <- nil
	}()

	env := w.Env(testDB.URL, "kill-stream")
	start := time.Now()
	midLoad := 0
	for k := range kills {
		p := bin.Start(t, env, "etl")
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
		if !p.Alive() {
			t.Fatalf("the worker exited by itself before kill %d: %v\n%s", k+1, p.Err(), p.Tail())
		}
		p.Kill()
		t.Logf("kill %d (%s, load writing: %v): %d of %d files put, %d ledger rows", k+1, mode, writing,
			put.Load(), len(files), testDB.Int(t, `SELECT count(*) FROM ingested_files`))
	}
	killPhase := time.Since(start)
	putDuringKills := put.Load()
	if err := <-produced; err != nil {
		t.Fatalf("put: %v", err)
	}

	final := bin.Start(t, env, "etl")
	poll.Until(t, "every distinct file to load after the kills", 5*time.Minute, func() bool {
		return testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`) >= int64(len(contents))
	})
	// The events of skipped copies may come after the last load: wait for every offset.
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if w.CommittedOffsets(t, "kill-stream", devstack.DefaultTopic) >= int64(len(files)) {
			break
		}
	}
	if err := final.Stop(time.Minute); err != nil {
		t.Errorf("final worker: %v\n%s", err, final.Tail())
	}
	settle := time.Since(start)

	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status NOT IN ('loaded', 'skipped')`); n != 0 {
		t.Errorf("%d ledger rows neither loaded nor skipped", n)
	}
	// One skipped attempt per copy, however often a kill made an event come again.
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'skipped'`); n != int64(len(files)-len(contents)) {
		t.Errorf("%d skipped attempts, want one per copy: %d", n, len(files)-len(contents))
	}
	loaded := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`)
	if loaded != int64(len(contents)) {
		t.Errorf("%d files loaded, want %d (one per distinct content)", loaded, len(contents))
	}
	consumed := w.CommittedOffsets(t, "kill-stream", devstack.DefaultTopic)
	if consumed != int64(len(files)) {
		t.Errorf("%d events consumed (committed offsets), want %d", consumed, len(files))
	}
	summary := checkAgainstInputs(t, truth)
	merged := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE load_path = 'merge'`)
	proof.Record(t, proof.Result{
		Item: "Fault: worker SIGKILLed over a stream of files",
		Done: fmt.Sprintf("%d files (%d distinct, some repeating others' sales: %d took the merge path) put into the bucket over %v while `salespulse etl` was SIGKILLed %d times at random moments (%d during a load) and restarted; kill schedule seed %d",
			len(files), len(contents), merged, killPhase.Round(time.Second), kills, midLoad, seed),
		Checked: fmt.Sprintf("every event consumed (%d), every distinct file loaded once (%d, all settled %v after the start), sales and KPIs equal a recomputation from the input bytes, verify",
			consumed, loaded, settle.Round(time.Second)),
		Figure:    fmt.Sprintf("%d kills (%d during a load, %d of %d files put meanwhile); %s", kills, midLoad, putDuringKills, len(files), summary),
		Reference: summary.reference(),
		Target:    "nothing lost or doubled; KPIs = recomputation",
		Met:       !t.Failed() && summary.ok(),
	})
}
