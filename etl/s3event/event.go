// Package s3event reads and writes the object-created notifications that
// S3-compatible stores publish: the standard S3 event notification JSON sent
// by AWS, MinIO and the Versity S3 Gateway, plus a plain {"bucket":…,"key":…}
// form for hand-written messages and tools.
//
// The package depends on the standard library only, so any part of the
// project (the worker, the poller, the in-process demo S3) can use it.
package s3event

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Event is the S3 event notification message. AWS sends only Records; MinIO
// adds the top-level EventName and Key (bucket/key, not URL-encoded).
type Event struct {
	EventName string   `json:"EventName,omitempty"`
	Key       string   `json:"Key,omitempty"`
	Records   []Record `json:"Records"`
}

// Record is one entry of Event.Records. Fields that neither the worker nor
// New use (userIdentity, requestParameters, …) are left out: decoding ignores
// them.
type Record struct {
	EventVersion string `json:"eventVersion"`
	EventSource  string `json:"eventSource"`
	AWSRegion    string `json:"awsRegion"`
	// EventTime is RFC 3339; AWS writes milliseconds ("…T12:00:00.000Z").
	// It is a string so that a record is decoded field by field and a bad
	// time can be reported as such.
	EventTime string `json:"eventTime"`
	// EventName is "ObjectCreated:Put" on AWS, "s3:ObjectCreated:Put" on
	// MinIO.
	EventName string   `json:"eventName"`
	S3        S3Entity `json:"s3"`
}

// S3Entity is the "s3" member of a record.
type S3Entity struct {
	SchemaVersion   string   `json:"s3SchemaVersion"`
	ConfigurationID string   `json:"configurationId"`
	Bucket          S3Bucket `json:"bucket"`
	Object          S3Object `json:"object"`
}

// S3Bucket is the "s3.bucket" member of a record.
type S3Bucket struct {
	Name string `json:"name"`
	ARN  string `json:"arn,omitempty"`
}

// S3Object is the "s3.object" member of a record.
type S3Object struct {
	// Key is URL-encoded the way HTML forms are ("+" is a space, "%2B" a
	// plus sign) by AWS and MinIO; the Versity S3 Gateway writes it as it is.
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	// Sequencer orders events for the same key: compare two as hex strings
	// of equal length (pad the shorter with leading zeros).
	Sequencer string `json:"sequencer,omitempty"`
}

// Event names that New is used with. Parse accepts the AWS spelling (without
// the "s3:" prefix) as well.
const (
	ObjectCreatedPut       = "s3:ObjectCreated:Put"
	ObjectCreatedPost      = "s3:ObjectCreated:Post"
	ObjectCreatedCopy      = "s3:ObjectCreated:Copy"
	ObjectCreatedMultipart = "s3:ObjectCreated:CompleteMultipartUpload"
)

// timeLayout is how AWS and MinIO write eventTime: UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// New returns a MinIO-style notification with a single record for an object
// that was just created.
//
// The key is encoded as AWS does it: form-style escaping (a space becomes
// "+", a "+" becomes "%2B", non-ASCII is percent-encoded as UTF-8) but with
// "/" left as is, so a key reads like a path in logs. MinIO escapes "/" as
// well; Parse accepts both, since both decode to the same key.
func New(bucket, key string, size int64, etag string, eventName string, at time.Time, sequencer string) []byte {
	ev := Event{
		EventName: eventName,
		Key:       bucket + "/" + key,
		Records: []Record{{
			EventVersion: "2.0",
			EventSource:  "minio:s3",
			EventTime:    at.UTC().Format(timeLayout),
			EventName:    eventName,
			S3: S3Entity{
				SchemaVersion:   "1.0",
				ConfigurationID: "Config",
				Bucket:          S3Bucket{Name: bucket, ARN: "arn:aws:s3:::" + bucket},
				Object: S3Object{
					Key:       EncodeKey(key),
					Size:      size,
					ETag:      strings.Trim(etag, `"`),
					Sequencer: sequencer,
				},
			},
		}},
	}
	// Marshalling strings and integers cannot fail (invalid UTF-8 is
	// replaced, not refused), so the error is always nil.
	b, _ := json.Marshal(ev)
	return b
}

// EncodeKey escapes an object key the way AWS writes it in event
// notifications: url.QueryEscape, except that "/" stays unescaped.
func EncodeKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}
