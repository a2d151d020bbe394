package etl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// KafkaOptions are the client settings of every connection to the brokers.
type KafkaOptions struct {
	ClientID      string
	SASLUsername  string // SASL is on when set
	SASLPassword  string
	SASLMechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	TLS           bool
	TLSCA         []byte // PEM certificates to trust besides the system's
	// SessionTimeout is how long the group waits for a silent member (a crashed worker)
	// before giving its partitions to the others.
	SessionTimeout time.Duration
}

// NewSaramaConfig is the Kafka client setup shared by the worker, its dead-letter producer
// and `watch`: client id, SASL (PLAIN or SCRAM) and TLS as hosted Kafka needs, acks from all
// replicas, and offsets committed only for messages marked done.
func NewSaramaConfig(cfg KafkaOptions) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = cfg.ClientID
	c.Version = sarama.V2_8_0_0
	c.Metadata.Retry.Max = 10
	c.Metadata.Retry.Backoff = 500 * time.Millisecond

	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.Offsets.AutoCommit.Interval = time.Second
	c.Consumer.Group.Session.Timeout = cfg.SessionTimeout
	if c.Consumer.Group.Session.Timeout <= 0 {
		c.Consumer.Group.Session.Timeout = 10 * time.Second
	}
	c.Consumer.Group.Heartbeat.Interval = c.Consumer.Group.Session.Timeout / 5
	// After a crash, the group waits this long for the dead member to rejoin. It must stay
	// below the network read timeout, or the JoinGroup of the member that replaces it times
	// out first, is sent again, and the group never settles.
	c.Consumer.Group.Rebalance.Timeout = 2 * c.Consumer.Group.Session.Timeout
	c.Net.ReadTimeout = max(c.Net.ReadTimeout, c.Consumer.Group.Rebalance.Timeout+10*time.Second)
	c.Consumer.Return.Errors = true

	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Retry.Max = 10
	c.Producer.Retry.Backoff = 250 * time.Millisecond

	if cfg.SASLUsername != "" {
		c.Net.SASL.Enable = true
		c.Net.SASL.User = cfg.SASLUsername
		c.Net.SASL.Password = cfg.SASLPassword
		switch cfg.SASLMechanism {
		case "SCRAM-SHA-256":
			c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
		case "SCRAM-SHA-512":
			c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
		default:
			c.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		}
	}
	if cfg.TLS {
		c.Net.TLS.Enable = true
		c.Net.TLS.Config = &tls.Config{MinVersion: tls.VersionTLS12}
		if len(cfg.TLSCA) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			pool.AppendCertsFromPEM(cfg.TLSCA) // checked when the settings were read
			c.Net.TLS.Config.RootCAs = pool
		}
	}
	return c
}

// scramClient adapts xdg-go/scram to sarama's SCRAMClient.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (s *scramClient) Begin(user, password, authzID string) error {
	c, err := s.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	s.conv = c.NewConversation()
	return nil
}

func (s *scramClient) Step(challenge string) (string, error) { return s.conv.Step(challenge) }

func (s *scramClient) Done() bool { return s.conv.Done() }

// Retry calls fn until it succeeds or ctx ends, waiting longer after each failure (up to
// ten seconds): brokers or stores still starting are no reason to give up.
func Retry[T any](ctx context.Context, log *slog.Logger, what string, fn func() (T, error)) (T, error) {
	wait := 250 * time.Millisecond
	for {
		v, err := fn()
		if err == nil {
			return v, nil
		}
		log.Warn(what+": will try again", "err", err, "in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			var zero T
			return zero, fmt.Errorf("%s: %w", what, err)
		}
		wait = min(2*wait, 10*time.Second)
	}
}
