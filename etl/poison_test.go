package etl

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"salespulse/etl/devstack"
	"salespulse/etl/s3event"
	"salespulse/internal/poll"
)

// poison is a file (or an event) meant to break the pipeline, and what must become of it.
type poison struct {
	key    string
	body   []byte // nil: only an event is published, for an object that does not exist
	status string // its ledger row's
}

// poisons are files whose text PostgreSQL cannot hold as it is, that cannot be read as CSV,
// or that the store refuses oddly, each of another kind.
func poisons(t *testing.T) []poison {
	good := generated(t, GenerateOptions{Rows: 20, Seed: 700})
	header, rows, _ := bytes.Cut(good, []byte("\n"))

	// An extra column whose name holds a NUL: its rows are fine, so the file loads.
	nulHeader := append(append(append([]byte{}, header...), ",Ex\x00tra\n"...), addField(rows, "x")...)

	// A huge header: as many unknown columns as a header may have, with NULs in their names,
	// one name of 300 KB.
	var huge bytes.Buffer
	huge.Write(header)
	extra := maxHeaderColumns - bytes.Count(header, []byte(",")) - 2
	for i := range extra {
		fmt.Fprintf(&huge, ",extra\x00%d", i)
	}
	huge.WriteString("," + strings.Repeat("long name ", 30_000) + "\n")
	for _, row := range bytes.Split(bytes.TrimSuffix(rows, []byte("\n")), []byte("\n")) {
		huge.Write(row)
		huge.WriteString(strings.Repeat(",", extra+1) + "\n")
	}

	// UTF-16 without a byte-order mark: every other byte a NUL.
	units := utf16.Encode([]rune(string(good)))
	utf16LE := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(utf16LE[2*i:], u)
	}

	// Invalid UTF-8 in a rejected row's raw text, after valid UTF-8 (so it is not Latin-1).
	lines := strings.Split(strings.TrimSuffix(string(good), "\n"), "\n")
	lines[1] = strings.Replace(lines[1], ",", ",Jo\xc3\xa3o\xff\xfe\x00,", 1)
	invalidUTF8 := []byte(strings.Join(lines, "\n") + "\n")

	garbage := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range garbage {
		garbage[i] = byte(r.UintN(256))
	}
	return []poison{
		{key: "poison/nul-header.csv", body: nulHeader, status: StatusLoaded},
		{key: "poison/utf16-no-bom.csv", body: utf16LE, status: StatusFailed},
		{key: "poison/invalid-utf8.csv", body: invalidUTF8, status: StatusLoaded},
		{key: "poison/huge-header.csv", body: huge.Bytes(), status: StatusLoaded},
		{key: "poison/garbage.csv", body: garbage, status: StatusFailed},
		{key: "poison/nul\x00in key.csv", status: StatusFailed},
		{key: "poison/control\x01\x1b[2J characters.csv", status: StatusFailed},
		{key: "poison/" + strings.Repeat("k", 3000) + ".csv", status: StatusFailed},
		{key: "poison/refused-oddly.csv", body: good, status: StatusFailed},
	}
}

// addField appends a field to every line of rows.
func addField(rows []byte, v string) []byte {
	return bytes.ReplaceAll(rows, []byte("\n"), []byte(","+v+"\n"))
}

// oddStore is the in-process store behind a proxy that refuses to read one object with an
// error no classification knows: the worker must give up on it within its retry budget.
func oddStore(t *testing.T, endpoint string) string {
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "refused-oddly") {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>OddRefusal</Code><Message>not today</Message></Error>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestPoisonFilesDoNotHoldTheFilesBehindThem(t *testing.T) {
	testDB.Reset(t)
	s := startStack(t, devstack.Config{Partitions: 1})
	const budget = 2 * time.Second
	odd := s3Client(t, oddStore(t, s.S3Endpoint()))
	w := s.startWorkerWith(t, "", func(w *Worker) { w.S3, w.RetryBudget = odd, budget })

	ps := poisons(t)
	var goods []string
	began := time.Now()
	for i, p := range ps {
		if p.body != nil {
			s.put(t, p.key, p.body) // the store notifies
		} else {
			s.publish(t, s3event.New("sales", p.key, 100, "0123", s3event.ObjectCreatedPut, time.Now(), ""))
		}
		good := fmt.Sprintf("good/day-%02d.csv", i)
		s.put(t, good, generated(t, GenerateOptions{Rows: 30, Seed: uint64(800 + i)}))
		goods = append(goods, "s3://sales/"+good)
	}
	byFile := map[string]Result{}
	defer func() {
		if t.Failed() {
			for f, r := range byFile {
				t.Logf("settled %.80q: %s", f, r.Status)
			}
		}
	}()
	poll.Until(t, "every file to settle", 2*time.Minute, func() bool {
		for _, r := range w.results() {
			byFile[r.File] = r
		}
		return len(byFile) == len(ps)+len(goods)
	})
	allDone := time.Since(began)
	for _, g := range goods {
		if r := byFile[g]; r.Status != StatusLoaded || r.RowsLoaded != 30 {
			t.Errorf("%s behind a poison file: %+v", g, r)
		}
	}
	var heldMax time.Duration
	for _, p := range ps {
		r := byFile["s3://sales/"+p.key]
		if r.Status != p.status || r.FileID == 0 {
			t.Errorf("%.60q: %s (%s), want %s with a ledger row", p.key, r.Status, r.Error, p.status)
			continue
		}
		var held time.Duration
		if err := testDB.Pool.QueryRow(context.Background(),
			`SELECT finished_at - started_at FROM ingested_files WHERE id = $1`, r.FileID).Scan(&held); err != nil {
			t.Fatal(err)
		}
		heldMax = max(heldMax, held)
		t.Logf("%-32.32q %-7s held its partition %6.3f s: %.100s", p.key, r.Status, held.Seconds(), r.Error)
		// The time limit is the budget, plus one try; nothing of the file's own may hold
		// the partition for good.
		if held > budget+20*time.Second {
			t.Errorf("%.60q held its partition %v, over its retry budget of %v", p.key, held, budget)
		}
	}
	if r := byFile["s3://sales/poison/refused-oddly.csv"]; !strings.Contains(r.Error, "gave up after") {
		t.Errorf("the oddly refused file: %q, want it given up after its retry budget", r.Error)
	}
	t.Logf("%d poison and %d good files settled in %.2f s; longest hold %.3f s (budget %v)",
		len(ps), len(goods), allDone.Seconds(), heldMax.Seconds(), budget)

	// Every text of theirs is in the ledger, storable and bounded.
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE object_key LIKE 'poison/%'`); n != int64(len(ps)) {
		t.Errorf("%d ledger rows of poison files, want %d", n, len(ps))
	}
	if n := testDB.Int(t, `SELECT max(octet_length(object_key)) FROM ingested_files`); n > int64(maxKeyBytes+len(cutMark)) {
		t.Errorf("a key of %d bytes in the ledger", n)
	}
	if n := testDB.Int(t, `SELECT coalesce(max(cardinality(unknown_columns)), 0) FROM ingested_files`); n != maxUnknownKept+1 {
		t.Errorf("the huge header left %d unknown columns in the ledger, want %d and a count of the rest", n, maxUnknownKept)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE $1 = ANY(unknown_columns)`,
		fmt.Sprintf("(and %d more)", maxHeaderColumns-24-maxUnknownKept)); n != 1 {
		t.Error("the huge header's unknown columns beyond those named are not counted")
	}
	if n := testDB.Int(t, `SELECT max(octet_length(u)) FROM ingested_files, unnest(unknown_columns) u`); n > int64(maxNameBytes+len(cutMark)) {
		t.Errorf("an unknown column name of %d bytes in the ledger", n)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE 'Ex␀tra' = ANY(unknown_columns)`); n != 1 {
		t.Error("the NUL in the header name is not shown as ␀")
	}
	if n := testDB.Int(t, `SELECT count(*) FROM rejected_rows r JOIN ingested_files f ON f.id = r.file_id
		WHERE f.object_key = 'poison/invalid-utf8.csv' AND r.raw_line LIKE '%João�%'`); n != 1 {
		t.Error("the invalid UTF-8 of a rejected row is not kept as U+FFFD")
	}
	var dls []DeadLetter
	wantDLQ := 0
	for _, p := range ps {
		if p.status == StatusFailed {
			wantDLQ++
		}
	}
	poll.Until(t, "a dead letter per failed poison file", 10*time.Second, func() bool { dls = s.deadLetters(t); return len(dls) >= wantDLQ })
	if len(dls) != wantDLQ {
		t.Errorf("%d dead letters, want %d", len(dls), wantDLQ)
	}
	assertConsistent(t)
}
