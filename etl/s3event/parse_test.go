package s3event

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// awsPut is a notification as AWS delivers it (from the S3 user guide's
// example, with a key that needs decoding).
const awsPut = `{
  "Records": [
    {
      "eventVersion": "2.1",
      "eventSource": "aws:s3",
      "awsRegion": "eu-west-1",
      "eventTime": "2024-06-01T08:15:30.123Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
      "requestParameters": {"sourceIPAddress": "203.0.113.7"},
      "responseElements": {
        "x-amz-request-id": "C3D13FE58DE4C810",
        "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
      },
      "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "sales-files",
        "bucket": {
          "name": "sales",
          "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
          "arn": "arn:aws:s3:::sales"
        },
        "object": {
          "key": "daily/2024-06-01/sales+of+the+day.csv",
          "size": 48213,
          "eTag": "9b2cf535f27731c974343645a3985328",
          "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
          "sequencer": "0055AED6DCD90281E5"
        }
      }
    }
  ]
}`

// minioPut is what MinIO publishes to a Kafka target; MinIO escapes "/" in
// the key and adds the top-level EventName and Key.
const minioPut = `{"EventName":"s3:ObjectCreated:Put","Key":"sales/incoming/caf\u00e9 r\u00e9sum\u00e9.csv","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2024-06-01T08:15:30.45678Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"minioadmin"},"requestParameters":{"principalId":"minioadmin","region":"","sourceIPAddress":"172.18.0.1"},"responseElements":{"x-amz-id-2":"dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8","x-amz-request-id":"17D6E8A4C1F2B3A0","x-minio-deployment-id":"4b8f7c3e-2d1a-4e5f-9a8b-7c6d5e4f3a2b","x-minio-origin-endpoint":"http://172.18.0.2:9000"},"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"sales","ownerIdentity":{"principalId":"minioadmin"},"arn":"arn:aws:s3:::sales"},"object":{"key":"incoming%2Fcaf%C3%A9+r%C3%A9sum%C3%A9.csv","size":1024,"eTag":"\"d41d8cd98f00b204e9800998ecf8427e\"","contentType":"text/csv","userMetadata":{"content-type":"text/csv"},"sequencer":"17D6E8A4C2A1B9F4"}},"source":{"host":"172.18.0.1","port":"","userAgent":"MinIO (linux; amd64) minio-go/v7.0.70 mc/RELEASE.2024-05-24T09-08-49Z"}}]}`

// minioMultipart is a MinIO CompleteMultipartUpload event.
const minioMultipart = `{"EventName":"s3:ObjectCreated:CompleteMultipartUpload","Key":"sales/big/2024-06.csv","Records":[{"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2024-06-30T23:59:59Z","eventName":"s3:ObjectCreated:CompleteMultipartUpload","s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"sales","arn":"arn:aws:s3:::sales"},"object":{"key":"big%2F2024-06.csv","size":157286400,"eTag":"3858f62230ac3c915f300c664312c11f-30","sequencer":"17D6E8A4C2A1B9F5"}}}]}`

// awsSeveral carries three records: two created objects and a deletion.
const awsSeveral = `{"Records":[
 {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-06-02T00:00:01.000Z","eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"sales"},"object":{"key":"a%2Bb%25c.csv","size":10,"eTag":"aaaa-2","sequencer":"01"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-06-02T00:00:02.000Z","eventName":"ObjectRemoved:Delete","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"sales"},"object":{"key":"old.csv","sequencer":"02"}}},
 {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-06-02T00:00:03.000Z","eventName":"ObjectCreated:Copy","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"archive"},"object":{"key":"%E6%97%A5%E5%A0%B1/%F0%9F%93%88.csv","size":20,"eTag":"bbbb","sequencer":"03"}}}
]}`

// awsTestEvent is sent by AWS when a notification is configured.
const awsTestEvent = `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-06-01T08:00:00.000Z","Bucket":"sales","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}`

// minioNonCreated holds only events that bring no new bytes.
const minioNonCreated = `{"EventName":"s3:ObjectCreated:PutTagging","Key":"sales/x.csv","Records":[
 {"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"2024-06-01T08:15:30Z","eventName":"s3:ObjectCreated:PutTagging","s3":{"bucket":{"name":"sales"},"object":{"key":"x.csv"}}},
 {"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"2024-06-01T08:15:31Z","eventName":"s3:ObjectAccessed:Get","s3":{"bucket":{"name":"sales"},"object":{"key":"x.csv"}}},
 {"eventVersion":"2.0","eventSource":"minio:s3","eventTime":"2024-06-01T08:15:32Z","eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"sales"},"object":{"key":"x.csv"}}}
]}`

// versityPut is what the Versity S3 Gateway (v1.8.0) publishes to Kafka for
// a PUT of the key "a+b 100%/café.csv": the key as it is, not URL-encoded.
const versityPut = `{"Records":[{"eventVersion":"2.2","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-12-02T06:28:58Z","eventName":"s3:ObjectCreated:Put","userIdentity":{"PrincipalId":"salespulse"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"","x-amz-id-2":""},"s3":{"s3SchemaVersion":"1.0","configurationId":"webhook-global","bucket":{"name":"sales","ownerIdentity":{"PrincipalId":"salespulse"},"arn":"arn:aws:s3:::/sales/a+b 100%/café.csv"},"object":{"key":"a+b 100%/café.csv","size":5,"eTag":"\"5d41402abc4b2a76b9719d911017c592\"","versionId":null,"sequencer":"3"}},"glacierEventData":{"restoreEventData":{"lifecycleRestorationExpiryTime":"","lifecycleRestoreStorageClass":""}}}]}`

// versityDelete is the gateway's event for a deletion.
const versityDelete = `{"Records":[{"eventVersion":"2.2","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-12-02T06:28:58Z","eventName":"s3:ObjectRemoved:Delete","s3":{"s3SchemaVersion":"1.0","configurationId":"webhook-global","bucket":{"name":"sales","arn":"arn:aws:s3:::/sales/a b.csv"},"object":{"key":"a b.csv","size":0,"eTag":null,"versionId":null,"sequencer":"9"}}}]}`

// versityTestEvent is what the gateway publishes once at start.
const versityTestEvent = `{"Bucket":"Test-Bucket","Event":"s3:TestEvent","Service":"S3","Time":"2026-12-02T06:28:58Z"}`

// ambiguous is one key string under each producer's event: AWS before and
// after its unified versions, MinIO and the gateway.
func ambiguous(source, version string) string {
	return `{"Records":[{"eventVersion":"` + version + `","eventSource":"` + source + `","eventTime":"2026-01-01T00:00:00Z","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"sales"},"object":{"key":"a+b%2B.csv"}}}]}`
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Object
	}{
		{"aws put", awsPut, []Object{{
			Bucket: "sales", Key: "daily/2024-06-01/sales of the day.csv", ETag: "9b2cf535f27731c974343645a3985328",
			Size: 48213, EventName: "ObjectCreated:Put", EventTime: mustTime(t, "2024-06-01T08:15:30.123Z"),
			Sequencer: "0055AED6DCD90281E5",
		}}},
		{"minio put, escaped slash, unicode, quoted etag", minioPut, []Object{{
			Bucket: "sales", Key: "incoming/café résumé.csv", ETag: "d41d8cd98f00b204e9800998ecf8427e",
			Size: 1024, EventName: "s3:ObjectCreated:Put", EventTime: mustTime(t, "2024-06-01T08:15:30.45678Z"),
			Sequencer: "17D6E8A4C2A1B9F4",
		}}},
		{"minio multipart", minioMultipart, []Object{{
			Bucket: "sales", Key: "big/2024-06.csv", ETag: "3858f62230ac3c915f300c664312c11f-30",
			Size: 157286400, EventName: "s3:ObjectCreated:CompleteMultipartUpload",
			EventTime: mustTime(t, "2024-06-30T23:59:59Z"), Sequencer: "17D6E8A4C2A1B9F5",
		}}},
		{"several records, one removal skipped", awsSeveral, []Object{
			{Bucket: "sales", Key: "a+b%c.csv", ETag: "aaaa-2", Size: 10, EventName: "ObjectCreated:CompleteMultipartUpload",
				EventTime: mustTime(t, "2024-06-02T00:00:01Z"), Sequencer: "01"},
			{Bucket: "archive", Key: "日報/📈.csv", ETag: "bbbb", Size: 20, EventName: "ObjectCreated:Copy",
				EventTime: mustTime(t, "2024-06-02T00:00:03Z"), Sequencer: "03"},
		}},
		{"only non-created events", minioNonCreated, nil},
		{"plain form, key not decoded", `{"bucket":"sales","key":"daily/a+b%20c.csv"}`, []Object{
			{Bucket: "sales", Key: "daily/a+b%20c.csv"},
		}},
		{"plain form with size and etag", ` {"bucket":"sales","key":"x.csv","size":12,"etag":"\"abc\""}` + "\n", []Object{
			{Bucket: "sales", Key: "x.csv", Size: 12, ETag: "abc"},
		}},
		{"versity gateway put, key as it is", versityPut, []Object{{
			Bucket: "sales", Key: "a+b 100%/café.csv", ETag: "5d41402abc4b2a76b9719d911017c592",
			Size: 5, EventName: "s3:ObjectCreated:Put", EventTime: mustTime(t, "2026-12-02T06:28:58Z"), Sequencer: "3",
		}}},
		{"versity gateway delete skipped", versityDelete, nil},
		{"record without eventTime", `{"Records":[{"eventName":"ObjectCreated:Post","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, []Object{
			{Bucket: "b", Key: "k", EventName: "ObjectCreated:Post"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseTestEvent(t *testing.T) {
	for _, msg := range []string{awsTestEvent, versityTestEvent} {
		objs, err := Parse([]byte(msg))
		if !errors.Is(err, ErrTestEvent) {
			t.Fatalf("Parse(%s) error = %v, want ErrTestEvent", msg, err)
		}
		if objs != nil {
			t.Errorf("Parse(%s) = %v, want nil", msg, objs)
		}
	}
}

// TestParseTellsRawKeysFromEncodedOnesByProducer: the key string "a+b%2B.csv" is the key
// "a b+.csv" URL-encoded, or the key "a+b%2B.csv" as it is; only the record's producer says
// which.
func TestParseTellsRawKeysFromEncodedOnesByProducer(t *testing.T) {
	for _, tt := range []struct{ source, version, want string }{
		{"aws:s3", "2.1", "a b+.csv"},
		{"aws:s3", "2.5", "a b+.csv"},
		{"minio:s3", "2.0", "a b+.csv"},
		{"aws:s3", "2.2", "a+b%2B.csv"},
	} {
		objs, err := Parse([]byte(ambiguous(tt.source, tt.version)))
		if err != nil {
			t.Fatalf("%s %s: %v", tt.source, tt.version, err)
		}
		if len(objs) != 1 || objs[0].Key != tt.want {
			t.Errorf("%s eventVersion %s: %+v, want the key %q", tt.source, tt.version, objs, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string // want: a part of the error text
	}{
		{"empty", "", "empty message"},
		{"blank", " \n\t", "empty message"},
		{"not json", "s3://sales/x.csv", "not JSON"},
		{"truncated json", `{"Records":[`, "not JSON"},
		{"array", `[{"bucket":"b","key":"k"}]`, "not a JSON object"},
		{"string", `"sales/x.csv"`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"empty object", `{}`, "no Records"},
		{"other object", `{"Type":"Notification","Message":"…"}`, "no Records"},
		{"records null", `{"Records":null}`, "no Records"},
		{"records empty", `{"Records":[]}`, "no Records"},
		{"records not a list", `{"Records":{"eventName":"ObjectCreated:Put"}}`, "decoding Records"},
		{"size not a number", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":"12"}}}]}`, "decoding Records"},
		{"no event name", `{"Records":[{"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "record 0: no eventName"},
		{"no bucket", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}}]}`, "record 0: no s3.bucket.name"},
		{"no key", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":""}}}]}`, "record 0: no s3.object.key"},
		{"second record bad", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}},{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]}`, "record 1: no s3.object.key"},
		{"bad escape", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zzb.csv"}}}]}`, "not URL-encoded"},
		{"truncated escape", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%2"}}}]}`, "not URL-encoded"},
		{"invalid utf-8 key", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%FFb"}}}]}`, "invalid UTF-8"},
		{"negative size", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":-1}}}]}`, "negative"},
		{"bad time", `{"Records":[{"eventName":"ObjectCreated:Put","eventTime":"01/06/2024 08:15","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, "not RFC 3339"},
		{"plain without bucket", `{"key":"x.csv"}`, `without "bucket"`},
		{"plain without key", `{"bucket":"sales"}`, `without "key"`},
		{"plain empty key", `{"bucket":"sales","key":""}`, `without "key"`},
		{"plain key not a string", `{"bucket":"sales","key":7}`, "decoding {bucket, key}"},
		{"plain negative size", `{"bucket":"sales","key":"k","size":-5}`, "negative size"},
		{"test event lookalike", `{"Service":"Amazon S3","Event":"s3:ObjectCreated:Put"}`, "no Records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error containing %q", tt.in, objs, tt.want)
			}
			if errors.Is(err, ErrTestEvent) {
				t.Fatalf("Parse(%q) = ErrTestEvent", tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "s3event: ") {
				t.Errorf("error %q does not name the package", err)
			}
		})
	}
}

func TestNewRoundTrip(t *testing.T) {
	at := time.Date(2024, 6, 1, 8, 15, 30, 123_456_789, time.FixedZone("CEST", 2*3600))
	keys := []string{
		"x.csv",
		"daily/2024-06-01/sales of the day.csv",
		"a+b%c&d=e?f#g.csv",
		"日報/📈 データ.csv",
		"trailing/",
		"//double//slash",
		" leading and trailing ",
		"%2F literally",
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			msg := New("sales", key, 48213, `"9b2cf535f27731c974343645a3985328"`, ObjectCreatedPut, at, "0000018FCB1A2B3C")
			got, err := Parse(msg)
			if err != nil {
				t.Fatalf("Parse(New(…)): %v\n%s", err, msg)
			}
			want := []Object{{
				Bucket: "sales", Key: key, ETag: "9b2cf535f27731c974343645a3985328", Size: 48213,
				EventName: ObjectCreatedPut, EventTime: at.Truncate(time.Millisecond).UTC(),
				Sequencer: "0000018FCB1A2B3C",
			}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestNewShape(t *testing.T) {
	msg := string(New("sales", "in/a b+c.csv", 7, "abc", ObjectCreatedMultipart, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), "01"))
	for _, want := range []string{
		`"EventName":"s3:ObjectCreated:CompleteMultipartUpload"`,
		`"Key":"sales/in/a b+c.csv"`,
		`"eventTime":"2024-06-01T00:00:00.000Z"`,
		`"key":"in/a+b%2Bc.csv"`,
		`"size":7`,
		`"eTag":"abc"`,
		`"sequencer":"01"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("New(…) = %s\nwant it to contain %s", msg, want)
		}
	}
}

func TestEncodeKey(t *testing.T) {
	tests := map[string]string{
		"a/b c.csv":   "a/b+c.csv",
		"a+b":         "a%2Bb",
		"100%":        "100%25",
		"café":        "caf%C3%A9",
		"q?x=1&y#z":   "q%3Fx%3D1%26y%23z",
		"~tilde_-.ok": "~tilde_-.ok",
	}
	for in, want := range tests {
		if got := EncodeKey(in); got != want {
			t.Errorf("EncodeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		awsPut, minioPut, minioMultipart, awsSeveral, awsTestEvent, minioNonCreated,
		versityPut, versityDelete, versityTestEvent,
		`{"bucket":"sales","key":"x.csv","size":1,"etag":"e"}`,
		`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]}`,
		`{"Records":[]}`, `{}`, `null`, `[]`, ``, `{"Records":[{}]}`,
		string(New("sales", "x y/z.csv", 1, "e", ObjectCreatedPut, time.Unix(0, 0), "01")),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Parse(data)
		if err != nil && objs != nil {
			t.Fatalf("Parse returned objects %v and error %v", objs, err)
		}
		for i, o := range objs {
			if o.Bucket == "" || o.Key == "" {
				t.Fatalf("object %d has an empty bucket or key: %+v", i, o)
			}
			if o.Size < 0 {
				t.Fatalf("object %d has a negative size: %+v", i, o)
			}
		}
	})
}
