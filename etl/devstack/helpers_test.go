package devstack

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"salespulse/etl/s3event"
)

// anyPort listens on a free port chosen by the kernel.
const anyPort = "127.0.0.1:0"

// start runs a stack on free ports and closes it at the end of the test.
func start(t *testing.T, cfg Config) *Stack {
	t.Helper()
	if cfg.KafkaAddr == "" {
		cfg.KafkaAddr = anyPort
	}
	if cfg.S3Addr == "" {
		cfg.S3Addr = anyPort
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// s3Client is an aws-sdk-go-v2 client for the stack, configured the way
// the project's own clients must be: path-style, checksums only when
// required. It closes its connections at the end of the test.
func s3Client(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		// Any key and secret will do: gofakes3 checks no signature.
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "salespulse", SecretAccessKey: "not-checked"}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Transport: transport},
	})
}

// kafkaClient is a franz-go client for the stack's broker that consumes
// topic from its start.
func kafkaClient(t *testing.T, addr, topic string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// endOffsets is the number of records on topic, over all partitions: what
// a consumer could read right now.
func endOffsets(t *testing.T, cl *kgo.Client, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("ListEndOffsets: %v", err)
	}
	if err := offs.Error(); err != nil {
		t.Fatalf("ListEndOffsets: %v", err)
	}
	var n int64
	offs.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// event is a consumed notification.
type event struct {
	key string // the Kafka record key
	obj s3event.Object
}

// readEvents consumes until it has n events, fails the test after
// timeout, and then checks for a short while that no more arrive.
func readEvents(t *testing.T, cl *kgo.Client, n int, timeout time.Duration) []event {
	t.Helper()
	var got []event
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	for len(got) < n {
		got = append(got, poll(t, ctx, cl)...)
		if ctx.Err() != nil {
			t.Fatalf("got %d events within %v, want %d: %+v", len(got), timeout, n, got)
		}
	}
	quiet, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if extra := poll(t, quiet, cl); len(extra) > 0 {
		t.Fatalf("got %d more events than the %d expected: %+v", len(extra), n, extra)
	}
	return got
}

func poll(t *testing.T, ctx context.Context, cl *kgo.Client) []event {
	t.Helper()
	var got []event
	fs := cl.PollFetches(ctx)
	fs.EachError(func(topic string, p int32, err error) {
		if ctx.Err() == nil {
			t.Fatalf("fetching %s/%d: %v", topic, p, err)
		}
	})
	fs.EachRecord(func(r *kgo.Record) {
		objs, err := s3event.Parse(r.Value)
		if err != nil {
			t.Fatalf("event %s: %v", r.Value, err)
		}
		if len(objs) != 1 {
			t.Fatalf("event %s names %d objects, want 1", r.Value, len(objs))
		}
		got = append(got, event{string(r.Key), objs[0]})
	})
	return got
}

// put stores body under bucket/key and returns its ETag without quotes.
func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) string {
	t.Helper()
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String("text/csv"),
	})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return unquote(aws.ToString(out.ETag))
}

func unquote(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag[1 : len(etag)-1]
	}
	return etag
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// csv is a small sales file.
var csv = []byte("sale_date,sale_id,product_id,product_name,quantity_sold,unit_price\n" +
	"2024-06-01,S-1,P-1,Café au lait,2,3.50\n" +
	"2024-06-01,S-2,P-2,\"Tea, green\",1,2.00\n")
