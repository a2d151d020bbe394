package devstack

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"salespulse/etl/s3event"
)

func TestPutObjectNotifies(t *testing.T) {
	s := start(t, Config{})
	c := s3Client(t, s.S3Endpoint())
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)

	keys := []string{
		"daily/2024-06-01/sales of the day.csv",
		"x.csv",
		"odd/a+b%c&d=e #1 (copy).csv",
		"日報/2024-06-01 ventes été.csv",
	}
	var etags []string
	for i, key := range keys {
		before := time.Now()
		etags = append(etags, put(t, c, DefaultBucket, key, csv))
		// The event is published before PutObject returns: a consumer
		// can read it right away.
		if n := endOffsets(t, kc, DefaultTopic); n != int64(i+1) {
			t.Fatalf("after PutObject %d returned, the topic holds %d records, want %d", i+1, n, i+1)
		}
		ev := readEvents(t, kc, 1, 2*time.Second)[0]
		if ev.key != DefaultBucket+"/"+key {
			t.Errorf("record key %q, want %q", ev.key, DefaultBucket+"/"+key)
		}
		o := ev.obj
		if o.Bucket != DefaultBucket || o.Key != key || o.Size != int64(len(csv)) {
			t.Errorf("event for %s/%s of %d bytes: got %+v", DefaultBucket, key, len(csv), o)
		}
		if o.ETag != etags[i] || o.ETag != md5hex(csv) {
			t.Errorf("event ETag %q, PutObject's %q, MD5 %q", o.ETag, etags[i], md5hex(csv))
		}
		if o.EventName != s3event.ObjectCreatedPut {
			t.Errorf("event name %q, want %q", o.EventName, s3event.ObjectCreatedPut)
		}
		if o.EventTime.Before(before.Truncate(time.Millisecond)) || o.EventTime.After(time.Now()) {
			t.Errorf("event time %v, not within the PutObject call", o.EventTime)
		}
	}
}

func TestSequencerIncreases(t *testing.T) {
	s := start(t, Config{})
	c := s3Client(t, s.S3Endpoint())
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)
	for range 5 {
		put(t, c, DefaultBucket, "same.csv", csv)
	}
	evs := readEvents(t, kc, 5, 5*time.Second)
	for i := 1; i < len(evs); i++ {
		a, b := evs[i-1].obj.Sequencer, evs[i].obj.Sequencer
		if len(a) != 16 || len(b) != 16 || a >= b {
			t.Errorf("sequencer %q then %q: want increasing 16-digit hex", a, b)
		}
	}
}

func TestMultipartUploadNotifiesOnce(t *testing.T) {
	s := start(t, Config{})
	c := s3Client(t, s.S3Endpoint())
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)
	ctx := t.Context()
	bucket, key := aws.String(DefaultBucket), aws.String("monthly/2024-06 all regions.csv")

	// Parts other than the last must be at least 5 MiB.
	parts := [][]byte{
		bytes.Repeat([]byte("2024-06-01,S-1,P-1,Widget,1,9.99\n"), 5<<20/33+1),
		bytes.Repeat([]byte("2024-06-02,S-2,P-2,Gadget,2,4.50\n"), 5<<20/33+7),
	}
	whole := bytes.Join(parts, nil)

	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: n, Body: bytes.NewReader(p),
		})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: n})
	}
	if n := endOffsets(t, kc, DefaultTopic); n != 0 {
		t.Fatalf("%d events before the upload completed, want none", n)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if n := endOffsets(t, kc, DefaultTopic); n != 1 {
		t.Fatalf("after CompleteMultipartUpload returned, the topic holds %d records, want 1", n)
	}

	o := readEvents(t, kc, 1, 2*time.Second)[0].obj
	if o.Key != *key || o.Size != int64(len(whole)) || o.EventName != s3event.ObjectCreatedMultipart {
		t.Errorf("event %+v, want %s of %d bytes from %s", o, *key, len(whole), s3event.ObjectCreatedMultipart)
	}
	// The event's ETag is the one GetObject and HeadObject report.
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if o.ETag != unquote(aws.ToString(head.ETag)) {
		t.Errorf("event ETag %q, HeadObject ETag %q", o.ETag, aws.ToString(head.ETag))
	}
	if aws.ToInt64(head.ContentLength) != int64(len(whole)) {
		t.Errorf("HeadObject size %d, want %d", aws.ToInt64(head.ContentLength), len(whole))
	}
}

func TestCopyObjectNotifies(t *testing.T) {
	s := start(t, Config{})
	c := s3Client(t, s.S3Endpoint())
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)
	put(t, c, DefaultBucket, "incoming/a.csv", csv)
	if _, err := c.CopyObject(t.Context(), &s3.CopyObjectInput{
		Bucket: aws.String(DefaultBucket), Key: aws.String("archive/a copy.csv"),
		CopySource: aws.String(DefaultBucket + "/incoming/a.csv"),
	}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	evs := readEvents(t, kc, 2, 2*time.Second)
	o := evs[1].obj
	if o.Key != "archive/a copy.csv" || o.EventName != s3event.ObjectCreatedCopy || o.Size != int64(len(csv)) || o.ETag != md5hex(csv) {
		t.Errorf("copy event %+v", o)
	}
}

// Nothing is published for what does not create an object in a notified
// bucket.
func TestNoEventWithoutNewObject(t *testing.T) {
	s := start(t, Config{Buckets: []string{"sales", "archive"}, NotifySuffix: ".csv"})
	c := s3Client(t, s.S3Endpoint())
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)
	ctx := t.Context()

	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("nosuchbucket"), Key: aws.String("x.csv"), Body: bytes.NewReader(csv),
	})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchBucket" {
		t.Fatalf("PutObject into a missing bucket: %v, want NoSuchBucket", err)
	}
	// A bucket made by a client is not notified.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("scratch")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	put(t, c, "scratch", "x.csv", csv)
	// Keys without the suffix are not notified.
	put(t, c, "sales", "notes.txt", csv)
	// Reads, listings, deletions, an abandoned multipart upload.
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("scratch"), Key: aws.String("x.csv")}); err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("sales")}); err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("sales"), Key: aws.String("notes.txt")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("archive"), Key: aws.String("big.csv")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String("archive"), Key: aws.String("big.csv"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(csv),
	}); err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String("archive"), Key: aws.String("big.csv"), UploadId: up.UploadId,
	}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	// A failed completion.
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("archive"), Key: aws.String("big.csv"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String("x")}}},
	}); err == nil {
		t.Fatal("CompleteMultipartUpload of an aborted upload succeeded")
	}
	if n := endOffsets(t, kc, DefaultTopic); n != 0 {
		t.Fatalf("%d events, want none", n)
	}
	// The second notified bucket is notified.
	put(t, c, "archive", "y.csv", csv)
	if o := readEvents(t, kc, 1, 2*time.Second)[0].obj; o.Bucket != "archive" || o.Key != "y.csv" {
		t.Errorf("event %+v, want archive/y.csv", o)
	}
}

func TestGetObjectStreamsBack(t *testing.T) {
	s := start(t, Config{})
	c := s3Client(t, s.S3Endpoint())
	body := bytes.Repeat(csv, 20000) // a few MiB
	etag := put(t, c, DefaultBucket, "big/file.csv", body)
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(DefaultBucket), Key: aws.String("big/file.csv")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading the object: %v", err)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("GetObject returned %d bytes, not the %d put", len(got), len(body))
	}
	if unquote(aws.ToString(out.ETag)) != etag {
		t.Errorf("GetObject ETag %s, PutObject's %s", aws.ToString(out.ETag), etag)
	}
	if !strings.HasPrefix(aws.ToString(out.ContentType), "text/csv") {
		t.Errorf("content type %q, want text/csv", aws.ToString(out.ContentType))
	}
}
