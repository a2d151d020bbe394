package devstack

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Close releases both ports and stops every goroutine the stack started:
// a new stack can start on the same ports right away.
func TestCloseReleasesPortsAndGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()

	first, err := Start(t.Context(), Config{KafkaAddr: anyPort, S3Addr: anyPort})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { first.Close() }) // if the test fails before it does
	kafkaAddr, endpoint := first.KafkaAddr(), first.S3Endpoint()
	roundTrip(t, first, "first.csv")
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitGoroutines(t, before)

	second, err := Start(t.Context(), Config{KafkaAddr: kafkaAddr, S3Addr: strings.TrimPrefix(endpoint, "http://")})
	if err != nil {
		t.Fatalf("Start again on %s and %s: %v", kafkaAddr, endpoint, err)
	}
	t.Cleanup(func() { second.Close() })
	if second.KafkaAddr() != kafkaAddr || second.S3Endpoint() != endpoint {
		t.Errorf("restarted on %s and %s, want %s and %s", second.KafkaAddr(), second.S3Endpoint(), kafkaAddr, endpoint)
	}
	roundTrip(t, second, "second.csv")
	if err := second.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitGoroutines(t, before)
}

// roundTrip puts an object and reads its event, with clients it closes
// before returning so that they leave no goroutines behind.
func roundTrip(t *testing.T, s *Stack, key string) {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	defer transport.CloseIdleConnections()
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.S3Endpoint()), UsePathStyle: true,
		Credentials:                aws.AnonymousCredentials{},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 &http.Client{Transport: transport},
	})
	put(t, c, DefaultBucket, key, csv)

	kc, err := kgo.NewClient(kgo.SeedBrokers(s.KafkaAddr()), kgo.ConsumeTopics(DefaultTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	if ev := readEvents(t, kc, 1, 5*time.Second)[0]; ev.obj.Key != key {
		t.Errorf("event for %q, want %q", ev.obj.Key, key)
	}
}

// waitGoroutines waits for the number of goroutines to fall back to n:
// some (kfake's connection handlers) end shortly after Close returns.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFileBackedSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(t.Context(), Config{KafkaAddr: anyPort, S3Addr: anyPort, S3Dir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { first.Close() }) // if the test fails before it does
	body := bytes.Repeat(csv, 100)
	etag := put(t, s3Client(t, first.S3Endpoint()), DefaultBucket, "daily/2024-06-01 kept.csv", body)
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s := start(t, Config{S3Dir: dir})
	c := s3Client(t, s.S3Endpoint())
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(DefaultBucket), Key: aws.String("daily/2024-06-01 kept.csv")})
	if err != nil {
		t.Fatalf("GetObject after restart: %v", err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) || unquote(aws.ToString(out.ETag)) != etag {
		t.Errorf("after restart: %d bytes with ETag %s, want %d with %s", len(got), aws.ToString(out.ETag), len(body), etag)
	}
	list, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(DefaultBucket), Prefix: aws.String("daily/")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "daily/2024-06-01 kept.csv" {
		t.Errorf("listing after restart: %+v", list.Contents)
	}
	// The restarted stack notifies new objects, with a sequencer above
	// the earlier ones (Kafka itself starts empty).
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)
	put(t, c, DefaultBucket, "daily/2024-06-02.csv", csv)
	if o := readEvents(t, kc, 1, 2*time.Second)[0].obj; o.Key != "daily/2024-06-02.csv" || o.ETag != md5hex(csv) {
		t.Errorf("event after restart: %+v", o)
	}
}

func TestTopicsCreated(t *testing.T) {
	s := start(t, Config{Topic: "files.in", Partitions: 5, DisableS3: true})
	if s.S3Endpoint() != "" {
		t.Errorf("S3Endpoint() = %q with S3 disabled", s.S3Endpoint())
	}
	kc := kafkaClient(t, s.KafkaAddr(), "files.in")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	topics, err := kadm.NewClient(kc).ListTopics(ctx)
	if err != nil {
		t.Fatalf("ListTopics: %v", err)
	}
	for _, name := range []string{"files.in", "files.in.dlq"} {
		if d, ok := topics[name]; !ok || d.Err != nil || len(d.Partitions) != 5 {
			t.Errorf("topic %s: %+v, want 5 partitions", name, d)
		}
	}
}

func TestS3WithoutKafka(t *testing.T) {
	s := start(t, Config{DisableKafka: true})
	if s.KafkaAddr() != "" {
		t.Errorf("KafkaAddr() = %q with Kafka disabled", s.KafkaAddr())
	}
	c := s3Client(t, s.S3Endpoint())
	put(t, c, DefaultBucket, "x.csv", csv)
	if _, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(DefaultBucket), Key: aws.String("x.csv")}); err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
}

// Listening on every interface advertises an address clients can reach.
func TestUnspecifiedHost(t *testing.T) {
	s := start(t, Config{KafkaAddr: "0.0.0.0:0", S3Addr: "0.0.0.0:0"})
	for _, addr := range []string{s.KafkaAddr(), strings.TrimPrefix(s.S3Endpoint(), "http://")} {
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("address %s, want host 127.0.0.1", addr)
		}
	}
	kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)
	put(t, s3Client(t, s.S3Endpoint()), DefaultBucket, "x.csv", csv)
	readEvents(t, kc, 1, 2*time.Second)
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", anyPort)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", anyPort)
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nothing to run", Config{DisableKafka: true, DisableS3: true}, "both Kafka and S3 are disabled"},
		{"bad bucket", Config{Buckets: []string{"Sales_Files"}}, `bucket "Sales_Files"`},
		{"negative partitions", Config{Partitions: -1}, "-1 partitions"},
		{"bad topic", Config{Topic: "sales files"}, "not a valid Kafka topic"},
		{"kafka port busy", Config{KafkaAddr: busy.Addr().String(), S3Addr: anyPort}, "starting Kafka on " + busy.Addr().String()},
		// Kafka starts on freeAddr, then S3 fails: Kafka must be stopped.
		{"s3 port busy", Config{KafkaAddr: freeAddr, S3Addr: busy.Addr().String()}, "starting S3 on " + busy.Addr().String()},
		{"s3 dir is a file", Config{KafkaAddr: anyPort, S3Addr: anyPort, S3Dir: "stack_test.go"}, "S3 directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(t.Context(), tt.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("Start(%+v) succeeded", tt.cfg)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "devstack: ") {
				t.Errorf("Start error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	// The failed start above released the Kafka port it had taken.
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("Kafka port %s still taken after a failed Start: %v", freeAddr, err)
	}
	ln.Close()
}
