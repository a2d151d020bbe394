package devstack

import (
	"context"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"

	"salespulse/etl/s3event"
)

// publishTimeout bounds the produce of one notification.
const publishTimeout = 10 * time.Second

// notifier wraps the S3 handler and publishes an s3event message for every
// object created in a notified bucket, as MinIO's bucket notifications do,
// but synchronously: the message is in Kafka before the S3 client gets its
// response, so that "PutObject returned" can start a latency measurement.
type notifier struct {
	next    http.Handler
	backend gofakes3.Backend
	buckets map[string]bool
	suffix  string
	publish func(ctx context.Context, key string, value []byte) error
	seq     sequencer
}

func (n *notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := classify(r)
	if !ok || !n.buckets[c.bucket] || !strings.HasSuffix(c.key, n.suffix) {
		n.next.ServeHTTP(w, r)
		return
	}
	buf := newResponseBuffer()
	n.next.ServeHTTP(buf, r)
	if buf.code()/100 == 2 {
		// A client that hangs up must not cancel the event of an object
		// that is already stored.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), publishTimeout)
		err := n.notify(ctx, c)
		cancel()
		if err != nil {
			// The object is stored but nobody will hear of it. Say so
			// with a 500 InternalError, which SDK clients retry: a
			// retried PutObject or CopyObject publishes again. (A
			// retried CompleteMultipartUpload gets NoSuchUpload: the
			// client has to upload again, but is not told success.)
			writeError(w, buf.header.Get("x-amz-request-id"), r.URL.Path, err)
			return
		}
	}
	buf.sendTo(w)
}

// notify publishes the event for an object that was just created, with the
// size and ETag the store now reports for it: the ETag is then the one that
// GetObject and HeadObject return. For a multipart upload gofakes3 returns
// an S3-style "<md5 of part md5s>-<parts>" ETag from
// CompleteMultipartUpload but stores and serves the MD5 of the whole
// object; the event carries the latter.
//
// Two clients writing the same key at once can both read the later
// object's size and ETag: each still gets its own event.
func (n *notifier) notify(ctx context.Context, c creation) error {
	obj, err := n.backend.HeadObject(c.bucket, c.key)
	if err != nil {
		return fmt.Errorf("reading back %s/%s for its notification: %w", c.bucket, c.key, err)
	}
	if obj.Contents != nil {
		obj.Contents.Close()
	}
	msg := s3event.New(c.bucket, c.key, obj.Size, hex.EncodeToString(obj.Hash), c.eventName, time.Now(), n.seq.next())
	if err := n.publish(ctx, c.bucket+"/"+c.key, msg); err != nil {
		return fmt.Errorf("publishing the notification of %s/%s: %w", c.bucket, c.key, err)
	}
	return nil
}

// s3Error is the body of an S3 error response.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, requestID, resource string, err error) {
	body, _ := xml.Marshal(s3Error{ // strings only: cannot fail
		Code:      "InternalError",
		Message:   "the object was stored but its notification was not published: " + err.Error(),
		Resource:  resource,
		RequestID: requestID,
	})
	w.Header().Set("Content-Type", "application/xml")
	if requestID != "" {
		w.Header().Set("x-amz-request-id", requestID)
	}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}
