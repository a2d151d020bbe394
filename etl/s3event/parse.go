package s3event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrTestEvent is returned by Parse for the s3:TestEvent message that AWS
// sends when a bucket notification is configured. Callers acknowledge it and
// move on.
var ErrTestEvent = errors.New("s3event: s3:TestEvent message, no object")

// Object is one created object named by a notification.
type Object struct {
	Bucket string
	// Key is the object key as stored (URL-decoded where the producer encodes it).
	Key string
	// ETag is without quotes; empty when the message has none.
	ETag string
	Size int64
	// EventName is the record's, e.g. "ObjectCreated:Put" (AWS) or
	// "s3:ObjectCreated:Put" (MinIO); empty for the plain form.
	EventName string
	// EventTime is zero for the plain form.
	EventTime time.Time
	Sequencer string
}

// Parse reads a notification message. It accepts:
//
//   - the S3 event notification JSON (AWS, MinIO, the Versity S3 Gateway)
//     with one or more Records. Keys are URL-decoded, except the gateway's,
//     which are written as they are (see recordKey). Records that are not
//     object-created events are skipped, so a message may yield no Object
//     and no error;
//   - a plain {"bucket":"…","key":"…"} object, optionally with "size" and
//     "etag". Its key is taken as is, not URL-decoded;
//   - the s3:TestEvent message (AWS, the Versity S3 Gateway), for which it
//     returns ErrTestEvent.
//
// Anything else is an error that says what is wrong with the message.
func Parse(data []byte) ([]Object, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("s3event: empty message")
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("s3event: message is not JSON (starts %q)", head(data))
	}
	// Dispatch on the exact top-level member names: encoding/json matches
	// struct fields case-insensitively, which would confuse MinIO's
	// top-level "Key" with the plain form's "key".
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, fmt.Errorf("s3event: message is not a JSON object (starts %q)", head(data))
	}
	switch {
	case top["Records"] != nil:
		return parseRecords(top["Records"])
	case isTestEvent(top):
		return nil, ErrTestEvent
	case top["bucket"] != nil || top["key"] != nil:
		return parsePlain(data)
	default:
		return nil, errors.New(`s3event: message has no Records, is no s3:TestEvent and has no "bucket" and "key"`)
	}
}

func isTestEvent(top map[string]json.RawMessage) bool {
	var event string
	return json.Unmarshal(top["Event"], &event) == nil && event == "s3:TestEvent"
}

func parseRecords(raw json.RawMessage) ([]Object, error) {
	var records []Record
	if err := json.Unmarshal(raw, &records); err != nil {
		return nil, fmt.Errorf("s3event: decoding Records: %w", err)
	}
	if len(records) == 0 {
		return nil, errors.New("s3event: message has no Records")
	}
	var objs []Object
	for i, r := range records {
		created, err := isCreated(r.EventName)
		if err != nil {
			return nil, fmt.Errorf("s3event: record %d: %w", i, err)
		}
		if !created {
			continue
		}
		obj, err := recordObject(r)
		if err != nil {
			return nil, fmt.Errorf("s3event: record %d: %w", i, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// isCreated reports whether an event name announces new object content.
// MinIO files metadata changes (PutRetention, PutLegalHold, PutTagging,
// DeleteTagging) under ObjectCreated too; they leave the bytes unchanged,
// so they do not count.
func isCreated(name string) (bool, error) {
	if name == "" {
		return false, errors.New("no eventName")
	}
	op, ok := strings.CutPrefix(strings.TrimPrefix(name, "s3:"), "ObjectCreated:")
	if !ok {
		return false, nil
	}
	switch op {
	case "PutRetention", "PutLegalHold", "PutTagging", "DeleteTagging":
		return false, nil
	}
	return true, nil
}

func recordObject(r Record) (Object, error) {
	if r.S3.Bucket.Name == "" {
		return Object{}, errors.New("no s3.bucket.name")
	}
	if r.S3.Object.Key == "" {
		return Object{}, errors.New("no s3.object.key")
	}
	key, err := recordKey(r)
	if err != nil {
		return Object{}, err
	}
	if r.S3.Object.Size < 0 {
		return Object{}, fmt.Errorf("negative s3.object.size %d", r.S3.Object.Size)
	}
	var at time.Time
	if r.EventTime != "" {
		if at, err = time.Parse(time.RFC3339Nano, r.EventTime); err != nil {
			return Object{}, fmt.Errorf("eventTime %q is not RFC 3339", r.EventTime)
		}
	}
	return Object{
		Bucket:    r.S3.Bucket.Name,
		Key:       key,
		ETag:      strings.Trim(r.S3.Object.ETag, `"`),
		Size:      r.S3.Object.Size,
		EventName: r.EventName,
		EventTime: at,
		Sequencer: r.S3.Object.Sequencer,
	}, nil
}

// recordKey is a record's object key as stored. A key string alone cannot say whether it is
// URL-encoded ("a+b.csv" is the key "a+b.csv" as is, or "a b.csv" encoded), so the record's
// producer decides:
//
//   - the Versity S3 Gateway writes keys as they are. Its records carry eventSource "aws:s3"
//     with eventVersion "2.2"; AWS wrote 2.2 only on replication events, which are no
//     object-created events and never reach this function, and writes 2.4 and later on
//     every event since it unified its versions;
//   - AWS (eventVersion 2.1, and 2.4 and later) and MinIO (eventSource "minio:s3") URL-encode
//     keys, and so does New.
func recordKey(r Record) (string, error) {
	if r.EventSource == "aws:s3" && r.EventVersion == versityEventVersion {
		return r.S3.Object.Key, nil // valid UTF-8: encoding/json makes it so
	}
	key, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		return "", fmt.Errorf("s3.object.key %q is not URL-encoded: %w", r.S3.Object.Key, err)
	}
	if !utf8.ValidString(key) {
		return "", fmt.Errorf("s3.object.key %q decodes to invalid UTF-8", r.S3.Object.Key)
	}
	return key, nil
}

// versityEventVersion is the eventVersion of every record the Versity S3 Gateway writes.
const versityEventVersion = "2.2"

// plain is the hand-written form. Its key is not URL-encoded: people and
// scripts write keys as they are.
type plain struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

func parsePlain(data []byte) ([]Object, error) {
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("s3event: decoding {bucket, key} message: %w", err)
	}
	switch {
	case p.Bucket == "":
		return nil, errors.New(`s3event: {bucket, key} message without "bucket"`)
	case p.Key == "":
		return nil, errors.New(`s3event: {bucket, key} message without "key"`)
	case p.Size < 0:
		return nil, fmt.Errorf("s3event: {bucket, key} message with negative size %d", p.Size)
	}
	return []Object{{Bucket: p.Bucket, Key: p.Key, Size: p.Size, ETag: strings.Trim(p.ETag, `"`)}}, nil
}

// head is the start of a message, for error text.
func head(data []byte) string {
	const n = 40
	if len(data) > n {
		return string(data[:n]) + "…"
	}
	return string(data)
}
