package devstack

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The worker reads the topic with a sarama consumer group; kfake must serve
// its whole protocol: join, sync, heartbeats, fetch, offset commit and
// fetch, leave. sarama's sync producer is checked as well.
func TestSaramaCompatibility(t *testing.T) {
	tests := []struct {
		version sarama.KafkaVersion
		session time.Duration // 0: sarama's default, 10 s
	}{
		{sarama.DefaultVersion, 0},
		// A session timeout under Kafka's 6 s minimum, as fault tests use.
		{sarama.MaxVersion, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.version.String(), func(t *testing.T) {
			s := start(t, Config{})
			addrs := []string{s.KafkaAddr()}
			c := s3Client(t, s.S3Endpoint())
			kc := kafkaClient(t, s.KafkaAddr(), DefaultTopic)

			cfg := sarama.NewConfig()
			cfg.Version = tt.version
			if tt.session != 0 {
				cfg.Consumer.Group.Session.Timeout = tt.session
				cfg.Consumer.Group.Heartbeat.Interval = tt.session / 4
			}
			cfg.ClientID = "salespulse-test"
			cfg.Producer.Return.Successes = true
			cfg.Producer.RequiredAcks = sarama.WaitForAll
			cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
			cfg.Consumer.Return.Errors = true
			const group = "salespulse-etl"

			// A notification and a message from a sarama sync producer.
			put(t, c, DefaultBucket, "a.csv", csv)
			produce(t, addrs, cfg, DefaultTopic, "b.csv")

			// A first member reads and marks both, and leaves; sarama
			// commits the marked offsets on Close.
			got := consume(t, addrs, cfg, group, DefaultTopic, 2)
			if got["sales/a.csv"] != 1 || got["b.csv"] != 1 {
				t.Fatalf("first session read %v, want sales/a.csv and b.csv once", got)
			}
			if n := committed(t, kc, group); n != 2 {
				t.Fatalf("the group committed offsets for %d records, want 2", n)
			}
			// The next member of the group resumes after them.
			produce(t, addrs, cfg, DefaultTopic, "c.csv")
			if got := consume(t, addrs, cfg, group, DefaultTopic, 1); got["c.csv"] != 1 {
				t.Fatalf("second session read %v, want c.csv", got)
			}

			// The dead-letter topic exists for the worker to produce to.
			produce(t, addrs, cfg, DefaultTopic+DeadLetterSuffix, "bad")
		})
	}
}

func produce(t *testing.T, addrs []string, cfg *sarama.Config, topic, key string) {
	t.Helper()
	p, err := sarama.NewSyncProducer(addrs, cfg)
	if err != nil {
		t.Fatalf("sarama.NewSyncProducer: %v", err)
	}
	defer p.Close()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{
		Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(fmt.Sprintf(`{"bucket":"sales","key":%q}`, key)),
	}); err != nil {
		t.Fatalf("sarama SendMessage to %s: %v", topic, err)
	}
}

// consume joins group, reads n records, leaves, and returns how often each
// record key was seen.
func consume(t *testing.T, addrs []string, cfg *sarama.Config, group, topic string, n int) map[string]int {
	t.Helper()
	cg, err := sarama.NewConsumerGroup(addrs, group, cfg)
	if err != nil {
		t.Fatalf("sarama.NewConsumerGroup: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	h := &handler{msgs: make(chan *sarama.ConsumerMessage, 16)}
	done := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				done <- err
				return
			}
		}
		done <- nil
	}()
	got := map[string]int{}
	for i := 0; i < n; i++ {
		select {
		case m := <-h.msgs:
			got[string(m.Key)]++
		case err := <-cg.Errors():
			t.Fatalf("consumer group: %v", err)
		case err := <-done:
			t.Fatalf("Consume stopped early: %v", err)
		case <-ctx.Done():
			t.Fatalf("read %d of %d records: %v", i, n, got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if err := cg.Close(); err != nil {
		t.Fatalf("closing the consumer group: %v", err)
	}
	return got
}

// committed is the sum of group's committed offsets.
func committed(t *testing.T, cl *kgo.Client, group string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("FetchOffsets %s: %v", group, err)
	}
	if err := offs.Error(); err != nil {
		t.Fatalf("FetchOffsets %s: %v", group, err)
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) { n += o.At })
	return n
}

// handler hands every message over and marks it.
type handler struct{ msgs chan *sarama.ConsumerMessage }

func (*handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			select {
			case h.msgs <- m:
				sess.MarkMessage(m, "")
			case <-sess.Context().Done():
				return nil
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}
