// Package devstack runs Kafka and S3 inside the process, on real TCP ports,
// for `salespulse demo` and for tests: franz-go's kfake as the Kafka broker,
// gofakes3 as the S3 endpoint, and between them MinIO-style bucket
// notifications, so that every object created in S3 shows up as an
// s3event message on the Kafka topic.
//
// Any client can use both: sarama or franz-go with the bootstrap address
// from KafkaAddr, aws-sdk-go-v2 or the aws CLI with S3Endpoint, path-style.
// The S3 endpoint accepts any access key and secret (it checks no
// signature), so the usual AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of the
// project work unchanged. gofakes3 neither checks nor returns the
// x-amz-checksum-* values that AWS SDKs have sent by default since early
// 2025, and of the aws-chunked body encodings it decodes only the signed
// one; the project's clients therefore ask for checksums only when required
// (RequestChecksumCalculation and ResponseChecksumValidation "when_required",
// or AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION),
// as they must for most S3-compatible stores. (aws-sdk-go-v2 with its
// defaults did work against it over plain HTTP when this was written.)
//
// Kafka creates no topics on demand: producing to a topic other than the
// two of Config fails with UNKNOWN_TOPIC_OR_PARTITION, rather than a typo
// in KAFKA_TOPIC leaving a worker waiting on an empty topic.
package devstack

import (
	"errors"
	"fmt"

	"github.com/johannesboyne/gofakes3"
)

// Defaults for the zero Config, matching the demo's documented addresses.
const (
	DefaultKafkaAddr  = "127.0.0.1:9092"
	DefaultS3Addr     = "127.0.0.1:9000"
	DefaultTopic      = "sales.files"
	DefaultPartitions = 3
	DefaultBucket     = "sales"
)

// DeadLetterSuffix names the dead-letter topic: Topic + DeadLetterSuffix.
const DeadLetterSuffix = ".dlq"

// Config says what to run and where. Its zero value runs both parts on the
// default addresses.
type Config struct {
	// KafkaAddr is the host:port the broker listens on, and the address it
	// advertises to clients. Port 0 picks a free port (see Stack.KafkaAddr).
	// An unspecified host ("0.0.0.0:9092", ":9092") listens on every
	// interface and advertises 127.0.0.1.
	KafkaAddr string
	// S3Addr is the host:port of the S3 endpoint; port 0 picks a free port.
	S3Addr string
	// Topic receives the notifications; it and its dead-letter topic
	// (Topic + DeadLetterSuffix) are created at start with Partitions
	// partitions each.
	Topic      string
	Partitions int32
	// Buckets are created at start (if missing), and only objects created
	// in them are notified. Buckets that clients create later are not.
	Buckets []string
	// S3Dir keeps the objects in this directory (created if missing), so
	// that they survive a restart; "" keeps them in memory. Kafka is always
	// in memory.
	S3Dir string
	// NotifySuffix, if set, notifies only keys that end with it (".csv").
	NotifySuffix string

	// DisableKafka and DisableS3 leave a part out, for `demo --parts`.
	// Without Kafka, S3 publishes no notifications.
	DisableKafka bool
	DisableS3    bool
}

// withDefaults fills in the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.DisableKafka && c.DisableS3 {
		return c, errors.New("devstack: both Kafka and S3 are disabled: nothing to start")
	}
	if c.KafkaAddr == "" {
		c.KafkaAddr = DefaultKafkaAddr
	}
	if c.S3Addr == "" {
		c.S3Addr = DefaultS3Addr
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Partitions < 0 {
		return c, fmt.Errorf("devstack: %d partitions: want at least 1", c.Partitions)
	}
	if len(c.Buckets) == 0 {
		c.Buckets = []string{DefaultBucket}
	}
	for _, b := range c.Buckets {
		if err := gofakes3.ValidateBucketName(b); err != nil {
			return c, fmt.Errorf("devstack: bucket %q: %w", b, err)
		}
	}
	if !validTopic(c.Topic + DeadLetterSuffix) {
		return c, fmt.Errorf("devstack: topic %q: not a valid Kafka topic name (letters, digits, '.', '_', '-')", c.Topic)
	}
	return c, nil
}

// validTopic applies Kafka's rule for topic names.
func validTopic(name string) bool {
	if len(name) > 249 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
