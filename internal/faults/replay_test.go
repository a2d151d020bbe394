package faults

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"salespulse/etl"
	"salespulse/etl/devstack"
	"salespulse/internal/poll"
	"salespulse/internal/proof"
	"salespulse/internal/testbin"
	"salespulse/schema/schematest"
)

// TestProofReplayFromTheStartChangesNothing: after a worker has settled a topic's files, a
// worker of a new consumer group reads the topic from the start. Sales, the ledger and
// the rejected rows must stay as they were, and every file that loaded must be
// recognised and skipped. A file that failed (over the reject ratio) is on the topic too:
// a failed file is not "loaded", so the replay tries it again; the test reports what that
// does and checks it changes no sale.
func TestProofReplayFromTheStartChangesNothing(t *testing.T) {
	proofEnabled(t)
	testDB.Reset(t)
	w := testbin.StartStack(t)
	n := proof.Int("REPLAY_FILES", 6, 12)
	puts := 0
	put := func(key string, body []byte) {
		t.Helper()
		if err := w.Put(key, body); err != nil {
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

	settle := func(group string) *testbin.Proc {
		t.Helper()
		p := bin.Start(t, w.Env(testDB.URL, group, "LOG_LEVEL=info"), "etl")
		poll.Until(t, "group "+group+" to settle every event", 3*time.Minute, func() bool {
			if !p.Alive() {
				t.Fatalf("worker exited: %v\n%s", p.Err(), p.Tail())
			}
			return len(p.Settled()) >= csvEvents
		})
		time.Sleep(time.Second)
		if err := p.Stop(time.Minute); err != nil {
			t.Fatalf("worker %s: %v\n%s", group, err, p.Tail())
		}
		return p
	}
	firstPass := settle("first")
	maxID := testDB.Int(t, `SELECT coalesce(max(id), 0) FROM ingested_files`)
	ledgerRows := testDB.Int(t, `SELECT count(*) FROM ingested_files`)
	failedBefore := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'failed'`)
	digests := func() map[string]string {
		return map[string]string{
			"sales":         schematest.Digest(t, testDB.Pool, `SELECT * FROM sales`),
			"ledger":        schematest.Digest(t, testDB.Pool, `SELECT * FROM ingested_files WHERE id <= $1`, maxID),
			"rejected_rows": schematest.Digest(t, testDB.Pool, `SELECT * FROM rejected_rows WHERE file_id <= $1`, maxID),
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
	newLoaded := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE id > $1 AND status = 'loaded'`, maxID)
	newFailed := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE id > $1 AND status = 'failed'`, maxID)
	if newFailed != 0 {
		t.Errorf("the replay tried %d failed files again (a new failed ledger row and dead letter each)", newFailed)
	}
	if newLoaded != 0 {
		t.Errorf("the replay loaded %d files again", newLoaded)
	}
	// Every event of the topic was settled once already, skipped attempts included: seen
	// again, none adds a ledger row.
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE id > $1`, maxID); n != 0 {
		t.Errorf("the replay added %d ledger rows", n)
	}
	// What each pass decided, by file.
	firstStatus := map[string]string{}
	for _, s := range firstPass.Settled() {
		if firstStatus[s[0]] != "loaded" {
			firstStatus[s[0]] = s[1]
		}
	}
	count := map[string]int{}
	for _, s := range replay.Settled() {
		count[s[1]]++
		if firstStatus[s[0]] == "loaded" && s[1] != "skipped" {
			t.Errorf("%s loaded in the first pass, but the replay settled it %s", s[0], s[1])
		}
	}
	if v := bin.Run(t, dbEnv(), "verify"); v.Code != 0 {
		t.Errorf("verify after the replay: %s", v.Stdout)
	}
	proof.Record(t, proof.Result{
		Item:    "Fault: topic replayed with a new consumer group",
		Done:    fmt.Sprintf("%d events (%d of .csv objects, loaded or refused) settled by a worker; then a worker of a new consumer group reads the topic from the start", puts, csvEvents),
		Checked: "digests of sales, the ledger and the rejected rows before and after; what the replay settled each file as; dead letters added; verify",
		Figure: fmt.Sprintf("%d of %d digests changed; the replay settled %d skipped, %d loaded, %d failed; %d new loaded and %d new failed ledger rows; %d dead letters added",
			changed, len(before), count["skipped"], count["loaded"], count["failed"], newLoaded, newFailed, dlqAfter-dlqBefore),
		Reference: fmt.Sprintf("the state after the first pass: %d ledger rows (%d failed), sales %s (rows:digest)", ledgerRows, failedBefore, before["sales"]),
		Target:    "nothing changes", Met: !t.Failed() && changed == 0 && newLoaded == 0,
	})
}

// freeAddr is a loopback address with a port free at the moment.
