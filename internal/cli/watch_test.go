package cli

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"salespulse/etl"
	"salespulse/etl/devstack"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/internal/versitygw"
)

var announcedLine = regexp.MustCompile(`msg="watch: announced new objects" bucket=sales count=(\d+)`)

// announced is the sum of the counts a watch process logged.
func announced(out string) int {
	n := 0
	for _, m := range announcedLine.FindAllStringSubmatch(out, -1) {
		c, _ := strconv.Atoi(m[1])
		n += c
	}
	return n
}

// TestWatchListsMoreThanOnePageOfARealStore: `watch` against a real S3 server that notifies no
// one, with more keys than one ListObjectsV2 page holds (1,000), announces each object once.
// The worker loads the keys of the second page (its prefix selects them) under their own names.
func TestWatchListsMoreThanOnePageOfARealStore(t *testing.T) {
	testDB.Reset(t)
	kafka, err := devstack.Start(context.Background(), devstack.Config{KafkaAddr: "127.0.0.1:0", DisableS3: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kafka.Close() })
	gw := versitygw.Start(t, versitygw.Config{Buckets: []string{"sales"}})
	store, err := etl.NewS3Client(context.Background(), etl.S3Options{Endpoint: gw.Endpoint, Region: versitygw.Region,
		AccessKeyID: versitygw.AccessKey, SecretAccessKey: versitygw.SecretKey})
	if err != nil {
		t.Fatal(err)
	}

	var keys []string
	for i := range 1040 {
		keys = append(keys, fmt.Sprintf("in/%04d.csv", i))
	}
	// Listed in key order, these come after the first 1,000.
	lastPage := []string{"in/z/a b.csv", "in/z/a+b.csv", "in/z/100%.csv", "in/z/café/été.csv"}
	keys = append(keys, lastPage...)
	bodies := make([][]byte, len(keys))
	truth := oracle.New()
	for i, key := range keys {
		var b bytes.Buffer
		if _, err := etl.Generate(&b, etl.GenerateOptions{Rows: 2, Seed: uint64(7000 + i),
			From: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		bodies[i] = b.Bytes()
		if slices.Contains(lastPage, key) {
			if err := truth.Add(bodies[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	putAll(t, store, keys, bodies)
	putAll(t, store, []string{"in/readme.txt", "elsewhere/x.csv"}, [][]byte{[]byte("not a csv"), bodies[0]})

	env := append(dbEnv(), "BOOTSTRAP_SERVERS="+kafka.KafkaAddr(), "S3_ENDPOINT="+gw.Endpoint,
		"AWS_ACCESS_KEY_ID="+versitygw.AccessKey, "AWS_SECRET_ACCESS_KEY="+versitygw.SecretKey, "AWS_REGION="+versitygw.Region,
		"BUCKET_NAME=sales", "ETL_KEY_SUFFIX=.csv", "KAFKA_GROUP=watch-test", "LOG_LEVEL=info")
	watch := bin.Start(t, env, "watch", "--prefix", "in/", "--interval", "200ms")
	worker := bin.Start(t, env, "etl", "--prefix", "in/z/")
	poll.Until(t, "the last page's objects to load", time.Minute, func() bool {
		return testDB.Int(t, `SELECT count(*) FROM ingested_files`) >= int64(len(lastPage)) || !watch.Alive() || !worker.Alive()
	})
	time.Sleep(time.Second) // some more listings, which must find nothing new
	if n := announced(watch.Output()); n != len(keys) {
		t.Errorf("watch announced %d objects, want %d:\n%s", n, len(keys), watch.Tail())
	}
	if got, want := queryKeys(t, `SELECT object_key FROM watched_objects ORDER BY object_key`), slices.Sorted(slices.Values(keys)); !slices.Equal(got, want) {
		t.Errorf("watch recorded %d keys, want the %d listed", len(got), len(want))
	}
	if got, want := queryKeys(t, `SELECT object_key FROM ingested_files WHERE status = 'loaded' ORDER BY object_key`), slices.Sorted(slices.Values(lastPage)); !slices.Equal(got, want) {
		t.Errorf("loaded %q, want %q; worker:\n%s", got, want, worker.Tail())
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != truth.Distinct() {
		t.Errorf("%d sales, want %d", n, truth.Distinct())
	}
	for name, p := range map[string]interface {
		Stop(time.Duration) error
		Tail() string
	}{"watch": watch, "etl": worker} {
		if err := p.Stop(30 * time.Second); err != nil {
			t.Errorf("%s: %v\n%s", name, err, p.Tail())
		}
	}
}

func queryKeys(t *testing.T, sql string) []string {
	t.Helper()
	rows, err := testDB.Pool.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// putAll uploads objects, a few at a time.
func putAll(t *testing.T, store *s3.Client, keys []string, bodies [][]byte) {
	t.Helper()
	errs := make([]error, len(keys))
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				_, errs[i] = store.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket: aws.String("sales"), Key: aws.String(keys[i]), Body: bytes.NewReader(bodies[i])})
			}
		})
	}
	for i := range keys {
		work <- i
	}
	close(work)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("put %s: %v", keys[i], err)
		}
	}
}
