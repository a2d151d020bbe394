package etl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5"

	"salespulse/etl/devstack"
	"salespulse/etl/s3event"
	"salespulse/internal/oracle"
	"salespulse/internal/poll"
	"salespulse/internal/versitygw"
)

// The tests in this file run against a real S3 server, the Versity S3 Gateway, publishing its
// own notifications to the in-process Kafka. One partition keeps the events in the order the
// gateway sent them, so that a file loading proves the worker got past every event before it.

// startGateway is the in-process Kafka and a gateway notifying it; the stack's S3 client
// speaks to the gateway with its credentials.
func startGateway(t *testing.T) (*stack, *versitygw.Server) {
	t.Helper()
	k := startStack(t, devstack.Config{DisableS3: true, Partitions: 1})
	gw := versitygw.Start(t, versitygw.Config{Kafka: k.KafkaAddr(), Topic: k.topic, Buckets: []string{devstack.DefaultBucket}})
	k.s3 = gatewayClient(t, gw, versitygw.AccessKey, versitygw.SecretKey)
	return k, gw
}

func gatewayClient(t *testing.T, gw *versitygw.Server, accessKey, secretKey string) *s3.Client {
	t.Helper()
	c, err := NewS3Client(context.Background(), S3Options{
		Endpoint: gw.Endpoint, Region: versitygw.Region, AccessKeyID: accessKey, SecretAccessKey: secretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// multipartUpload uploads body in parts of partSize bytes (S3's smallest is 5 MiB, the last
// part excepted) and returns the number of parts.
func (s *stack) multipartUpload(t *testing.T, key string, body []byte, partSize int) int {
	t.Helper()
	ctx := context.Background()
	bucket := aws.String(devstack.DefaultBucket)
	up, err := s.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key)})
	if err != nil {
		t.Fatalf("create multipart upload: %v", err)
	}
	var parts []types.CompletedPart
	for n, chunk := int32(1), body; len(chunk) > 0; n++ {
		part := chunk[:min(partSize, len(chunk))]
		chunk = chunk[len(part):]
		out, err := s.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(part)})
		if err != nil {
			t.Fatalf("upload part %d: %v", n, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatalf("complete multipart upload: %v", err)
	}
	return len(parts)
}

// firstEvent is the first message of the events topic's first partition.
func (s *stack) firstEvent(t *testing.T) []byte {
	t.Helper()
	c, err := sarama.NewConsumer(s.brokers, NewSaramaConfig(s.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(s.topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	select {
	case msg := <-pc.Messages():
		return msg.Value
	case <-time.After(10 * time.Second):
		t.Fatal("no event on the topic")
		return nil
	}
}

// topicEnd is the end offset of the events topic's first partition.
func (s *stack) topicEnd(t *testing.T) int64 {
	t.Helper()
	client, err := sarama.NewClient(s.brokers, NewSaramaConfig(s.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	end, err := client.GetOffset(s.topic, 0, sarama.OffsetNewest)
	if err != nil {
		t.Fatal(err)
	}
	return end
}

// ledgerKeys are the object keys of the ledger's rows with a status, sorted.
func ledgerKeys(t *testing.T, status string) []string {
	t.Helper()
	rows, err := testDB.Pool.Query(context.Background(), `SELECT object_key FROM ingested_files WHERE status = $1 ORDER BY object_key`, status)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestGatewayPutAndMultipartUploadLoadOnceAndItsTestEventIsAcknowledged(t *testing.T) {
	testDB.Reset(t)
	s, gw := startGateway(t)
	w := s.startWorker(t, "")
	fixture := fixtureFiles(t)[0]
	small, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	big := generated(t, GenerateOptions{Rows: 50_000, Seed: 77})
	if len(big) <= 10<<20 {
		t.Fatalf("the generated file is %d bytes, want more than two parts of 5 MiB", len(big))
	}
	truth := oracle.New()
	for _, data := range [][]byte{small, big} {
		if err := truth.Add(data); err != nil {
			t.Fatal(err)
		}
	}
	s.put(t, "incoming/fixture.csv", small)
	parts := s.multipartUpload(t, "incoming/big.csv", big, 5<<20)

	poll.Until(t, "both files to settle", 2*time.Minute, func() bool { return settledCount(t, w) >= 2 })
	for _, r := range w.results() {
		if r.Status != StatusLoaded {
			t.Errorf("%s: %+v, want loaded", r.File, r)
		}
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != truth.Distinct() {
		t.Errorf("%d sales, want %d", n, truth.Distinct())
	}
	if n := testDB.Int(t, fmt.Sprintf(`SELECT count(*) FROM ingested_files WHERE object_key = 'incoming/big.csv' AND etag LIKE '%%-%d'`, parts)); n != 1 {
		t.Errorf("%d ledger rows of the multipart upload with its %d-part ETag, want 1", n, parts)
	}
	// The gateway's s3:TestEvent came first on the one partition: the files loading shows the
	// worker acknowledged it; a second worker of the group finds nothing left to do.
	if _, err := s3event.Parse(s.firstEvent(t)); !errors.Is(err, s3event.ErrTestEvent) {
		t.Errorf("the first event is no s3:TestEvent (%v)", err)
	}
	w.shutdown(t)
	again := s.startWorker(t, "")
	s.put(t, "incoming/marker.csv", generated(t, GenerateOptions{Rows: 10, Seed: 78}))
	poll.Until(t, "the next file to settle", 30*time.Second, func() bool { return settledCount(t, again) >= 1 })
	if r := again.results(); len(r) != 1 || r[0].File != "s3://sales/incoming/marker.csv" {
		t.Errorf("the restarted worker settled %+v, want only the new file", r)
	}
	if dls := s.deadLetters(t); len(dls) != 0 {
		t.Errorf("dead letters %+v, want none", dls)
	}
	if !strings.Contains(gw.Output(), "initializing S3 Event Notifications with kafka") {
		t.Errorf("the gateway did not say it notifies Kafka:\n%s", gw.Output())
	}
	assertConsistent(t)
}

// TestGatewayKeysLoadUnderTheirOwnNames: the gateway writes keys as they are, AWS and MinIO
// URL-encoded. "in/a+b.csv" as written by the gateway and "in/a+b.csv" as written by AWS name
// two different objects, and each must load under its own name.
func TestGatewayKeysLoadUnderTheirOwnNames(t *testing.T) {
	testDB.Reset(t)
	s, _ := startGateway(t)
	w := s.startWorker(t, "")
	keys := []string{
		"in/a b.csv",
		"in/a+b.csv",
		"in/100%.csv",
		"in/x%2By.csv",
		"in/café résumé/ventes é+%20ü.csv",
		"in/日報/2024-03-01.csv",
	}
	truth := oracle.New()
	for i, key := range keys {
		body := generated(t, GenerateOptions{Rows: 20, Seed: uint64(300 + i)})
		if err := truth.Add(body); err != nil {
			t.Fatal(err)
		}
		s.put(t, key, body)
	}
	poll.Until(t, "every key to settle", 30*time.Second, func() bool { return settledCount(t, w) >= len(keys) })
	var files []string
	for _, r := range w.results() {
		files = append(files, r.File)
		if r.Status != StatusLoaded {
			t.Errorf("%s: %+v, want loaded", r.File, r)
		}
	}
	var want []string
	for _, key := range keys {
		want = append(want, "s3://sales/"+key)
	}
	if slices.Sort(files); !slices.Equal(files, slices.Sorted(slices.Values(want))) {
		t.Errorf("settled %q\nwant %q", files, want)
	}
	if got := ledgerKeys(t, StatusLoaded); !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		t.Errorf("ledger keys %q, want %q", got, keys)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != truth.Distinct() {
		t.Errorf("%d sales, want %d", n, truth.Distinct())
	}

	// The same objects announced by URL-encoded events (as AWS and MinIO write them): the key
	// string "in/a+b.csv" now means "in/a b.csv", and "in/a%2Bb.csv" means "in/a+b.csv".
	// Each event finds its own object, loaded already, and is a skipped attempt naming it.
	// (Their sequencers are new: an event with the gateway's own sequencer for the key would
	// be the gateway's event seen again, which adds nothing.)
	encoded := []string{"in/a b.csv", "in/a+b.csv", "in/100%.csv"}
	for i, key := range encoded {
		s.publish(t, s3event.New("sales", key, 0, etagOf(t, s, key), s3event.ObjectCreatedPut, time.Now(), fmt.Sprintf("FFFF%04d", i)))
	}
	poll.Until(t, "the encoded events to settle", 30*time.Second, func() bool { return settledCount(t, w) >= len(keys)+len(encoded) })
	for i, r := range w.results()[len(keys):] {
		if r.File != "s3://sales/"+encoded[i] || r.Status != StatusSkipped {
			t.Errorf("the encoded event %q: %+v, want s3://sales/%s skipped", s3event.EncodeKey(encoded[i]), r, encoded[i])
		}
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE status = 'loaded'`); n != int64(len(keys)) {
		t.Errorf("%d loaded ledger rows, want %d", n, len(keys))
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files s JOIN ingested_files f ON f.id = s.repeats_file_id
		WHERE s.status = 'skipped' AND f.object_key = s.object_key`); n != int64(len(encoded)) {
		t.Errorf("%d skipped attempts naming their own key's file, want %d", n, len(encoded))
	}
	if dls := s.deadLetters(t); len(dls) != 0 {
		t.Errorf("dead letters %+v, want none", dls)
	}
}

func TestGatewayOverwriteLoadsAsANewVersionAndDeletionIsIgnored(t *testing.T) {
	testDB.Reset(t)
	s, _ := startGateway(t)
	w := s.startWorker(t, "")
	first := generated(t, GenerateOptions{Rows: 100, Seed: 401})
	second := generated(t, GenerateOptions{Rows: 120, Seed: 402})
	truth := oracle.New()
	for _, data := range [][]byte{first, second} {
		if err := truth.Add(data); err != nil {
			t.Fatal(err)
		}
	}
	s.put(t, "daily.csv", first)
	poll.Until(t, "the first version to settle", 30*time.Second, func() bool { return settledCount(t, w) >= 1 })
	firstETag := etagOf(t, s, "daily.csv")
	s.put(t, "daily.csv", second)
	poll.Until(t, "the second version to settle", 30*time.Second, func() bool { return settledCount(t, w) >= 2 })
	if secondETag := etagOf(t, s, "daily.csv"); secondETag == firstETag {
		t.Fatalf("both versions have the ETag %s", firstETag)
	}
	for _, r := range w.results() {
		if r.Status != StatusLoaded || r.File != "s3://sales/daily.csv" {
			t.Errorf("%+v, want s3://sales/daily.csv loaded", r)
		}
	}
	if n := testDB.Int(t, `SELECT count(DISTINCT etag) FROM ingested_files WHERE object_key = 'daily.csv' AND status = 'loaded'`); n != 2 {
		t.Errorf("%d loaded versions of daily.csv in the ledger, want 2", n)
	}

	// The gateway publishes from a goroutine of its own: the next upload waits for the
	// deletion's event, so that the file after it loading shows the worker went past it.
	events := s.topicEnd(t)
	if _, err := s.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{
		Bucket: aws.String(devstack.DefaultBucket), Key: aws.String("daily.csv")}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the deletion's event", 10*time.Second, func() bool { return s.topicEnd(t) > events })
	s.put(t, "after.csv", generated(t, GenerateOptions{Rows: 5, Seed: 403}))
	poll.Until(t, "the file after the deletion to settle", 30*time.Second, func() bool { return settledCount(t, w) >= 3 })
	if r := w.results(); len(r) != 3 || r[2].File != "s3://sales/after.csv" || r[2].Status != StatusLoaded {
		t.Errorf("after the deletion: %+v, want only s3://sales/after.csv loaded", r[2:])
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales s JOIN ingested_files f ON f.id = s.file_id WHERE f.object_key = 'daily.csv'`); n != truth.Distinct() {
		t.Errorf("%d sales of daily.csv after its deletion, want still %d", n, truth.Distinct())
	}
	if dls := s.deadLetters(t); len(dls) != 0 {
		t.Errorf("dead letters %+v, want none", dls)
	}
	assertConsistent(t)
}

// TestGatewayWrongCredentialsFailTheFileOnce: a worker whose S3 secret is wrong cannot read
// any file, and no retry can change that. The file ends failed in the ledger with a reason
// naming the refusal, its event goes to the dead letters, and the worker moves on.
func TestGatewayWrongCredentialsFailTheFileOnce(t *testing.T) {
	testDB.Reset(t)
	s, gw := startGateway(t)
	uploader := s.s3
	s.s3 = gatewayClient(t, gw, versitygw.AccessKey, "not-the-secret")
	w := s.startWorker(t, "")
	body := generated(t, GenerateOptions{Rows: 10, Seed: 501})
	if _, err := uploader.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(devstack.DefaultBucket), Key: aws.String("refused.csv"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the file to settle as failed, not be tried again and again", 30*time.Second, func() bool { return settledCount(t, w) >= 1 })
	r := w.results()[0]
	if r.Status != StatusFailed || !strings.Contains(r.Error, "SignatureDoesNotMatch") {
		t.Errorf("%+v, want failed with the store's SignatureDoesNotMatch", r)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM ingested_files WHERE object_key = 'refused.csv' AND status = 'failed'`); n != 1 {
		t.Errorf("%d failed ledger rows of refused.csv, want 1", n)
	}
	var dls []DeadLetter
	poll.Until(t, "its dead letter", 10*time.Second, func() bool { dls = s.deadLetters(t); return len(dls) >= 1 })
	if dl := dls[0]; len(dls) != 1 || dl.Key != "refused.csv" || dl.FileID != r.FileID || !strings.Contains(dl.Error, "SignatureDoesNotMatch") {
		t.Errorf("dead letters %+v, want one for refused.csv with its ledger row and reason", dls)
	}
	if n := testDB.Int(t, `SELECT count(*) FROM sales`); n != 0 {
		t.Errorf("%d sales loaded without access to the store", n)
	}
}
