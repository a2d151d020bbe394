package etl

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/etl/s3event"
	"salespulse/queries/db"
)

// Watcher announces objects for stores that cannot send notifications: it lists a bucket
// prefix at an interval and publishes the same object-created event as S3 or MinIO would,
// once per object version. What it announced is kept in PostgreSQL, and recorded only after
// the event is published: a crash in between announces an object twice, which the worker
// shrugs off, and never loses one.
type Watcher struct {
	S3       *s3.Client
	Producer sarama.SyncProducer
	Pool     *pgxpool.Pool
	Topic    string
	Bucket   string
	Filter   KeyFilter // Prefix is also the listing prefix
	Interval time.Duration
	Log      *slog.Logger
}

// Run polls until ctx ends; a failed poll is logged and the next one tries again.
func (w *Watcher) Run(ctx context.Context) error {
	if w.Log == nil {
		w.Log = slog.Default()
	}
	for {
		n, err := w.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			w.Log.Warn("watch: poll failed", "bucket", w.Bucket, "err", err)
		case n > 0:
			w.Log.Info("watch: announced new objects", "bucket", w.Bucket, "count", n)
		}
		select {
		case <-time.After(w.Interval):
		case <-ctx.Done():
			return nil
		}
	}
}

// Poll lists the prefix once and announces the object versions not announced before.
func (w *Watcher) Poll(ctx context.Context) (int, error) {
	q := db.New(w.Pool)
	announced := 0
	pages := s3.NewListObjectsV2Paginator(w.S3, &s3.ListObjectsV2Input{
		Bucket: aws.String(w.Bucket), Prefix: aws.String(w.Filter.Prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return announced, s3Error("list", w.Bucket, w.Filter.Prefix, err)
		}
		// The table holds keys as the ledger does (storable): a key PostgreSQL cannot hold
		// must not stop the listing at its page for good.
		bucket := storable(w.Bucket, maxNameBytes)
		keys := make([]string, 0, len(page.Contents))
		for _, o := range page.Contents {
			keys = append(keys, storable(aws.ToString(o.Key), maxKeyBytes))
		}
		before, err := q.AnnouncedAmong(ctx, db.AnnouncedAmongParams{Bucket: bucket, Keys: keys})
		if err != nil {
			return announced, fmt.Errorf("watch: %w", err)
		}
		seen := make(map[[2]string]bool, len(before))
		for _, b := range before {
			seen[[2]string{b.ObjectKey, b.Etag}] = true
		}
		for i, o := range page.Contents {
			key, etag := aws.ToString(o.Key), strings.Trim(aws.ToString(o.ETag), `"`)
			storedEtag := storable(etag, maxNameBytes)
			if !w.Filter.Match(key) || seen[[2]string{keys[i], storedEtag}] {
				continue
			}
			if err := w.announce(ctx, key, etag, aws.ToInt64(o.Size), aws.ToTime(o.LastModified)); err != nil {
				return announced, err
			}
			if err := q.RecordAnnounced(ctx, db.RecordAnnouncedParams{
				Bucket: bucket, ObjectKey: keys[i], Etag: storedEtag, SizeBytes: aws.ToInt64(o.Size),
			}); err != nil {
				return announced, fmt.Errorf("watch: %w", err)
			}
			announced++
		}
	}
	return announced, nil
}

func (w *Watcher) announce(ctx context.Context, key, etag string, size int64, modified time.Time) error {
	event := s3event.New(w.Bucket, key, size, etag, s3event.ObjectCreatedPut, modified,
		fmt.Sprintf("%016X", modified.UnixNano()))
	_, _, err := w.Producer.SendMessage(&sarama.ProducerMessage{
		Topic: w.Topic, Key: sarama.StringEncoder(w.Bucket + "/" + key), Value: sarama.ByteEncoder(event),
	})
	if err != nil {
		return fmt.Errorf("watch: publish s3://%s/%s: %w", w.Bucket, key, err)
	}
	return ctx.Err()
}
