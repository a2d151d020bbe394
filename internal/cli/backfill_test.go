package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"salespulse/etl"
	"salespulse/internal/oracle"
	"salespulse/internal/versitygw"
	"salespulse/schema/schematest"
)

// backfillRun runs `salespulse backfill --json` and reads its summary line.
func backfillRun(t *testing.T, env []string, args ...string) (backfillSummary, []string) {
	t.Helper()
	r := bin.Run(t, env, append([]string{"backfill", "--json"}, args...)...)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	var last map[string]backfillSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || r.Code != 0 {
		t.Fatalf("backfill %v: exit %d, %v\n%s\n%s", args, r.Code, err, r.Stdout, r.Stderr)
	}
	return last["summary"], lines[:len(lines)-1]
}

// digests fingerprint every table a backfill may change.
func digests(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"sales", "ingested_files", "rejected_rows"} {
		b.WriteString(table + "=" + schematest.Digest(t, testDB.Pool, "SELECT * FROM "+table) + " ")
	}
	return b.String()
}

// TestBackfillOfARealStore: more than 1,000 keys of plain, gzip and zstd files on a real S3
// server; a dry run that reports what a run then does and changes nothing; --since; a second
// run that loads nothing.
func TestBackfillOfARealStore(t *testing.T) {
	testDB.Reset(t)
	gw := versitygw.Start(t, versitygw.Config{Buckets: []string{"sales"}})
	store, err := etl.NewS3Client(context.Background(), etl.S3Options{Endpoint: gw.Endpoint, Region: versitygw.Region,
		AccessKeyID: versitygw.AccessKey, SecretAccessKey: versitygw.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := zstd.NewWriter(nil)
	defer zw.Close()
	files := func(from, n int) ([]string, [][]byte, *oracle.Inputs) {
		var keys []string
		var bodies [][]byte
		in := oracle.New()
		for i := from; i < from+n; i++ {
			var b bytes.Buffer
			day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%60)
			if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: 2, Seed: uint64(9000 + i), From: day, To: day}); err != nil {
				t.Fatal(err)
			}
			if err := in.Add(b.Bytes()); err != nil {
				t.Fatal(err)
			}
			key, body := fmt.Sprintf("hist/%04d.csv", i), b.Bytes()
			switch i % 5 {
			case 1:
				var gz bytes.Buffer
				w := gzip.NewWriter(&gz)
				w.Write(body)
				w.Close()
				key, body = key+".gz", gz.Bytes()
			case 2:
				key, body = key+".zst", zw.EncodeAll(body, nil)
			}
			keys, bodies = append(keys, key), append(bodies, body)
		}
		return keys, bodies, in
	}
	oldKeys, oldBodies, oldTruth := files(0, 1020)
	putAll(t, store, oldKeys, oldBodies)
	putAll(t, store, []string{"hist/readme.txt", "other/0000.csv"}, [][]byte{[]byte("not a csv"), oldBodies[0]})
	time.Sleep(1100 * time.Millisecond) // last-modified times have whole seconds
	cutoff := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(cutoff) + 100*time.Millisecond)
	newKeys, newBodies, newTruth := files(1020, 12)
	putAll(t, store, newKeys, newBodies)

	env := append(dbEnv(), "S3_ENDPOINT="+gw.Endpoint, "AWS_ACCESS_KEY_ID="+versitygw.AccessKey,
		"AWS_SECRET_ACCESS_KEY="+versitygw.SecretKey, "AWS_REGION="+versitygw.Region, "LOG_LEVEL=warn")
	before := digests(t)
	all := int64(len(oldKeys) + len(newKeys))

	dry, lines := backfillRun(t, env, "--dry-run", "s3://sales/hist/")
	if after := digests(t); after != before {
		t.Errorf("the dry run changed the tables: %s → %s", before, after)
	}
	if !dry.DryRun || dry.Files["loaded"] != int(all) || len(lines) != int(all) || dry.RowsLoaded != 2*all ||
		dry.Before.Orders != 0 || dry.After.Orders != 2*all || len(dry.Days) != 60 {
		t.Errorf("dry run summary: %+v (%d file lines)", dry, len(lines))
	}

	recent, _ := backfillRun(t, env, "--since", cutoff.Format(time.RFC3339), "s3://sales/hist/")
	if recent.Files["loaded"] != len(newKeys) || recent.After.Orders != newTruth.Distinct() {
		t.Errorf("--since %s: %+v, want the %d newer files", cutoff.Format(time.RFC3339), recent, len(newKeys))
	}

	rest, _ := backfillRun(t, env, "--parallel", "4", "s3://sales/hist/")
	if rest.Files["loaded"] != len(oldKeys) || rest.Files[statusSettled] != len(newKeys) || rest.Files["failed"] != 0 {
		t.Errorf("backfill: %+v", rest)
	}
	if rest.After != dry.After {
		t.Errorf("the dry run said the totals would become %+v, the runs made them %+v", dry.After, rest.After)
	}
	if n, want := testDB.Int(t, `SELECT count(*) FROM sales`), oldTruth.Distinct()+newTruth.Distinct(); n != want {
		t.Errorf("%d sales, want %d", n, want)
	}
	if n, want := testDB.Int(t, `SELECT sum(total_value_cents) FROM sales`), oldTruth.TotalCents()+newTruth.TotalCents(); n != want {
		t.Errorf("sales total %d cents, want %d", n, want)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE object_key NOT LIKE 'hist/%.csv%'`); n != 0 {
		t.Errorf("%d ledger rows for keys outside the prefix or the suffixes", n)
	}

	settled := digests(t)
	again, _ := backfillRun(t, env, "s3://sales/hist/")
	if again.Files["loaded"] != 0 || again.Files[statusSettled] != int(all) || digests(t) != settled {
		t.Errorf("a second backfill: %+v", again)
	}

	for _, args := range [][]string{{"--dry-run", "--parallel", "2", "s3://sales/hist/"}, {"--since", "yesterday", "s3://sales/"}, {"hist/"}} {
		if r := bin.Run(t, env, append([]string{"backfill"}, args...)...); r.Code == 0 || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 20 {
			t.Errorf("backfill %v: exit %d\n%s", args, r.Code, r.Stderr)
		}
	}
}
