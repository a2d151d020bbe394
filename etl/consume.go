package etl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"salespulse/etl/s3event"
)

// Worker consumes object-created events from a Kafka topic and loads each object once. It is
// a sarama consumer-group handler: partitions are worked in parallel (up to Parallel loads at
// a time), messages of one partition in order, and a message is marked only after every file
// it names is committed to the ledger, as loaded, skipped or failed. A redelivered message
// therefore finds its files in the ledger and does nothing.
type Worker struct {
	Loader      *Loader
	S3          *s3.Client
	DeadLetters sarama.SyncProducer // receives events whose file failed, on Topic + ".dlq"
	Topic       string
	Filter      KeyFilter
	Parallel    int           // loads at a time across partitions; 0 means 2
	Grace       time.Duration // at shutdown, how long the file in flight may take to finish
	MinBackoff  time.Duration // first wait before trying a failure again
	MaxBackoff  time.Duration // longest wait between tries
	// RetryBudget is how long a file may hold its partition through failures of its own
	// (see RetryBudget); 0 means a minute.
	RetryBudget time.Duration
	Log         *slog.Logger

	// Loaded, if set, is told of every file the worker settles (tests and metrics).
	Loaded func(Result)

	once    sync.Once
	slots   chan struct{}
	loadCtx context.Context // outlives the consume context by Grace
}

// KeyFilter selects the object keys the worker loads.
type KeyFilter struct {
	Prefix   string
	Suffixes []string // any of them; none selects every key
}

// Match reports whether the filter selects key (case-insensitively for the suffixes).
func (f KeyFilter) Match(key string) bool {
	if !strings.HasPrefix(key, f.Prefix) {
		return false
	}
	lower := strings.ToLower(key)
	for _, s := range f.Suffixes {
		if strings.HasSuffix(lower, strings.ToLower(s)) {
			return true
		}
	}
	return len(f.Suffixes) == 0
}

// DeadLetter is what the dead-letter topic receives for an event that could not be loaded.
type DeadLetter struct {
	Event     json.RawMessage `json:"event,omitempty"`     // the original message, when it is JSON
	RawEvent  string          `json:"raw_event,omitempty"` // or its text, when it is not
	Error     string          `json:"error"`
	Bucket    string          `json:"bucket,omitempty"`
	Key       string          `json:"key,omitempty"`
	FileID    int64           `json:"file_id,omitempty"` // its failed ledger row
	Topic     string          `json:"topic"`
	Partition int32           `json:"partition"`
	Offset    int64           `json:"offset"`
	FailedAt  time.Time       `json:"failed_at"`
}

func (w *Worker) init() {
	w.once.Do(func() {
		n := w.Parallel
		if n <= 0 {
			n = 2
		}
		w.slots = make(chan struct{}, n)
		if w.MinBackoff <= 0 {
			w.MinBackoff = 200 * time.Millisecond
		}
		if w.MaxBackoff <= 0 {
			w.MaxBackoff = 30 * time.Second
		}
		if w.Grace <= 0 {
			w.Grace = 30 * time.Second
		}
		if w.Log == nil {
			w.Log = slog.Default()
		}
	})
}

// Run consumes until ctx ends. Then it stops fetching, gives the files in flight Grace to
// commit (after which they are rolled back, to be loaded again on redelivery), commits the
// offsets of the messages done, and returns.
func (w *Worker) Run(ctx context.Context, group sarama.ConsumerGroup) error {
	w.init()
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	w.loadCtx = hard
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
			return
		}
		select {
		case <-time.After(w.Grace):
			w.Log.Warn("etl: grace period over, rolling back the files in flight")
			cancelHard()
		case <-stopped:
		}
	}()
	go func() {
		for err := range group.Errors() {
			w.Log.Warn("etl: kafka", "err", err)
		}
	}()
	for try := 0; ctx.Err() == nil; try++ {
		err := group.Consume(ctx, []string{w.Topic}, w)
		if errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return nil
		}
		if err != nil {
			w.Log.Warn("etl: consume", "err", err)
			w.sleep(ctx, try)
			continue
		}
		try = 0
	}
	return nil
}

// Setup is called when the group assigns partitions.
func (w *Worker) Setup(sess sarama.ConsumerGroupSession) error {
	w.init()
	w.Log.Info("etl: partitions assigned", "claims", sess.Claims(), "member", sess.MemberID())
	return nil
}

// Cleanup commits the marked offsets before the partitions go to another member.
func (w *Worker) Cleanup(sess sarama.ConsumerGroupSession) error {
	sess.Commit()
	return nil
}

// ConsumeClaim works one partition's messages in order; no goroutine of its own.
func (w *Worker) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			if err := w.handle(sess.Context(), msg); err != nil {
				// Only shutdown ends a message unmarked: it is redelivered to whoever comes next.
				w.Log.Info("etl: message left for redelivery", "partition", msg.Partition, "offset", msg.Offset, "reason", err)
				return nil
			}
			sess.MarkMessage(msg, "")
		case <-sess.Context().Done():
			return nil
		}
	}
}

// handle settles every file a message names. It returns an error only when shutdown
// interrupted it.
func (w *Worker) handle(ctx context.Context, msg *sarama.ConsumerMessage) error {
	objects, err := s3event.Parse(msg.Value)
	if errors.Is(err, s3event.ErrTestEvent) {
		w.Log.Info("etl: test event acknowledged", "partition", msg.Partition, "offset", msg.Offset)
		return nil
	}
	if err != nil {
		w.Log.Warn("etl: malformed event", "partition", msg.Partition, "offset", msg.Offset, "err", err)
		return w.deadLetter(ctx, msg, DeadLetter{Error: "malformed event: " + err.Error()})
	}
	for _, obj := range objects {
		if !w.Filter.Match(obj.Key) {
			w.Log.Debug("etl: key filtered out", "bucket", obj.Bucket, "key", obj.Key)
			continue
		}
		res, err := w.settle(ctx, obj, eventRef(msg, obj))
		if err != nil {
			return err
		}
		if w.Loaded != nil {
			w.Loaded(res)
		}
		if res.Status == StatusFailed {
			dl := DeadLetter{Error: res.Error, Bucket: obj.Bucket, Key: obj.Key, FileID: res.FileID}
			if err := w.deadLetter(ctx, msg, dl); err != nil {
				return err
			}
		}
	}
	return nil
}

// eventRef identifies the event that announced obj: the store's sequencer for the object
// when the event has one (so a notification the store sent twice is one event), else the
// message's place in the topic.
func eventRef(msg *sarama.ConsumerMessage, obj s3event.Object) string {
	if obj.Sequencer != "" {
		return "s3:" + obj.Sequencer
	}
	return fmt.Sprintf("kafka:%s/%d/%d", msg.Topic, msg.Partition, msg.Offset)
}

// settle loads one object. A transient failure while the database or the store is away is
// waited out for as long as it takes: the file is not at fault. Any other failure is tried
// again within the retry budget and then, like a deterministic one at once, settles the file
// as failed, so that no file holds the partition longer than that.
func (w *Worker) settle(ctx context.Context, obj s3event.Object, event string) (Result, error) {
	start := time.Now()
	name := "s3://" + obj.Bucket + "/" + obj.Key
	var src *S3Object
	budget := RetryBudget{
		Limit: w.RetryBudget, MinBackoff: w.MinBackoff, MaxBackoff: w.MaxBackoff, Log: w.Log,
		Away: func(ctx context.Context) bool { return w.away(ctx, obj.Bucket) },
	}
	res, err := budget.Run(ctx, name, func() (Result, error) {
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
		defer func() { <-w.slots }()
		src = NewS3Object(w.S3, obj.Bucket, obj.Key, obj.Size, obj.ETag, obj.EventTime).AnnouncedBy(event)
		return w.Loader.Load(w.loadCtx, src, nil)
	})
	var gaveUp *GaveUp
	if errors.As(err, &gaveUp) {
		res, err = w.recordFailure(ctx, src, start, gaveUp)
	}
	if err != nil {
		return Result{}, err
	}
	attrs := []any{"file", res.File, "status", res.Status, "rows", res.RowsTotal, "loaded", res.RowsLoaded,
		"rejected", res.RowsRejected, "duplicate", res.RowsDuplicate, "seconds", res.Seconds}
	if res.Error != "" {
		attrs = append(attrs, "reason", res.Error)
	}
	if res.Repeats != 0 {
		attrs = append(attrs, "repeats_file_id", res.Repeats)
	}
	w.Log.Info("etl: file settled", attrs...)
	return res, nil
}

// recordFailure settles a file as failed, trying again while the database is away. Should
// the ledger refuse even that, the file is dead-lettered without a ledger row rather than
// hold its partition.
func (w *Worker) recordFailure(ctx context.Context, src *S3Object, start time.Time, cause *GaveUp) (Result, error) {
	for try := 0; ; try++ {
		res, err := w.Loader.RecordFailure(w.loadCtx, src, start, cause)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("shutdown during %s: %w", src.Info().Name(), err)
		}
		if ClassifyFailure(err) != FailureTransient {
			w.Log.Error("etl: the failure could not be recorded; dead-lettering it without a ledger row",
				"file", src.Info().Name(), "cause", cause, "err", err)
			return Result{File: src.Info().Name(), Status: StatusFailed, Error: storable(cause.Error(), maxErrorBytes),
				Seconds: time.Since(start).Seconds()}, nil
		}
		w.Log.Warn("etl: recording the failure failed, will try again", "file", src.Info().Name(), "err", err)
		if !w.sleep(ctx, try) {
			return Result{}, ctx.Err()
		}
	}
}

// away reports whether the database or the store of bucket does not answer now, or answers
// that it is in trouble (5xx, throttling). Any other answer, a refusal included, is the store
// answering.
func (w *Worker) away(ctx context.Context, bucket string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.Loader.Pool.Ping(ctx); err != nil {
		return true
	}
	_, err := w.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		return false
	}
	var resp *awshttp.ResponseError
	if !errors.As(err, &resp) {
		return true
	}
	status := resp.HTTPStatusCode() // 0: the request got no answer
	return status == 0 || status >= 500 || status == http.StatusTooManyRequests
}

// deadLetter publishes the message and its error to the dead-letter topic, trying until it
// succeeds or shutdown: the event must not vanish.
func (w *Worker) deadLetter(ctx context.Context, msg *sarama.ConsumerMessage, dl DeadLetter) error {
	if json.Valid(msg.Value) {
		dl.Event = json.RawMessage(msg.Value)
	} else {
		dl.RawEvent = string(msg.Value)
	}
	dl.Topic, dl.Partition, dl.Offset, dl.FailedAt = msg.Topic, msg.Partition, msg.Offset, time.Now().UTC()
	value, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	out := &sarama.ProducerMessage{Topic: w.Topic + ".dlq", Key: sarama.ByteEncoder(msg.Key), Value: sarama.ByteEncoder(value)}
	for try := 0; ; try++ {
		if _, _, err := w.DeadLetters.SendMessage(out); err == nil {
			return nil
		} else {
			w.Log.Warn("etl: dead-letter publish failed, will try again", "err", err)
		}
		if !w.sleep(ctx, try) {
			return ctx.Err()
		}
	}
}

// sleep waits the backoff of a try (see backoff); false when ctx ended first.
func (w *Worker) sleep(ctx context.Context, try int) bool {
	select {
	case <-time.After(backoff(w.MinBackoff, w.MaxBackoff, try)):
		return true
	case <-ctx.Done():
		return false
	}
}
