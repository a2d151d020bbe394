package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/internal/proof"
	"salespulse/internal/testbin"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	w := testbin.StartStack(t)
	rows := proof.Int("PG_RESTART_ROWS", 100000, 400000)
	truth := oracle.New()
	put := func(key string, body []byte) {
		t.Helper()
		if err := truth.Add(body); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(key, body); err != nil {
			t.Fatal(err)
		}
	}
	serve, addr := startServe(t)
	worker := bin.Start(t, w.Env(testDB.URL, "pg-restart", "LOG_LEVEL=info"), "etl")
	dash := watch(t, addr)
	put("pg/base.csv", gen(t, etl.GenerateOptions{Rows: 5000, Seed: 61, From: day("2024-05-01"), To: day("2024-05-10")}))
	if _, ok := dash.await(0, time.Minute, func(a arrival) bool { return a.lastFile == "pg/base.csv" }); !ok {
		t.Fatalf("the dashboard was not shown the first file\nserve:\n%s\netl:\n%s", serve.Tail(), worker.Tail())
	}
	put("pg/big.csv", gen(t, etl.GenerateOptions{Rows: rows, Seed: 62, From: day("2024-05-11"), To: day("2024-05-20")}))
	poll.Until(t, "the COPY of the big file", time.Minute, func() bool { return copyInProgress(t) })

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

	want := truth.Distinct()
	deadline := time.Now().Add(3 * time.Minute)
	for dbIntRetry(t, time.Minute, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the files did not all load within 3 minutes of the restart\netl:\n%s", worker.Tail())
		}
		if !worker.Alive() {
			t.Fatalf("the worker exited: %v\n%s", worker.Err(), worker.Tail())
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
			want, postRestart, serve.Tail())
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
	workerAlive, serveAlive := worker.Alive(), serve.Alive()
	if !workerAlive || !serveAlive {
		t.Errorf("after the restart: worker running %v, server running %v", workerAlive, serveAlive)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status <> 'loaded'`); n != 0 {
		t.Errorf("%d ledger rows not loaded", n)
	}
	summary := checkAgainstInputs(t, truth)
	retries := strings.Count(worker.Output(), "will try again")
	reconnected := strings.Count(serve.Output(), "listen: reconnected")
	pushErrors := strings.Count(serve.Output(), "push: snapshot")
	if err := worker.Stop(time.Minute); err != nil {
		t.Errorf("worker: %v", err)
	}
	if err := serve.Stop(time.Minute); err != nil {
		t.Errorf("serve: %v", err)
	}
	showDelay := time.Duration(0)
	if ok {
		showDelay = final.at.Sub(restarted)
	}
	readyMu.Lock()
	readyz := strings.Join(readyLog, ",")
	readyMu.Unlock()
	proof.Record(t, proof.Result{
		Item:    "Fault: PostgreSQL restarted mid-load",
		Done:    fmt.Sprintf("a running `salespulse etl` and `salespulse serve` (a dashboard connected); PostgreSQL restarted (`pg_ctlcluster restart`) during the COPY of a %d-row file, more files arriving", rows),
		Checked: "both recover unaided; every file loaded once; the dashboard shown the final state; /readyz 200 → 503 → 200; sales and KPIs equal a recomputation from the input bytes",
		Figure: fmt.Sprintf("restart took %v; all files loaded %v after it; dashboard shown the final state %v after it (%d reconnects); %s; /readyz: %s",
			restartTook.Round(time.Millisecond), loadedAt.Round(time.Millisecond), showDelay.Round(time.Millisecond), dash.reconnects, summary, readyz),
		Reference: fmt.Sprintf("%s; worker retries logged %d, server LISTEN reconnects %d, push errors %d", summary.reference(), retries, reconnected, pushErrors),
		Target:    "recover unaided, nothing lost or doubled, dashboards updated",
		Met:       !t.Failed() && summary.ok() && workerAlive && serveAlive,
	})
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
