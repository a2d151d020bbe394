package devstack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// shutdownTimeout is how long Close lets S3 requests in flight finish.
const shutdownTimeout = 5 * time.Second

// Stack is a running in-process Kafka and S3. Start it, Close it.
type Stack struct {
	kafka     *kfake.Cluster
	kafkaAddr string
	producer  *kgo.Client // nil unless S3 notifies

	s3     *http.Server
	s3URL  string
	served chan struct{} // closed when the S3 server's Serve returns

	mu       sync.Mutex // guards closing and inflight.Add
	closing  bool
	inflight sync.WaitGroup // S3 requests being handled

	closeOnce sync.Once
	closeErr  error
}

// Start runs the parts cfg asks for and returns when they accept
// connections. ctx bounds the start only; the stack runs until Close.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if !cfg.DisableKafka {
		if s.kafka, err = startKafka(cfg); err != nil {
			return nil, err
		}
		s.kafkaAddr = s.kafka.ListenAddrs()[0]
		if !cfg.DisableS3 {
			if s.producer, err = newProducer(ctx, s.kafkaAddr, cfg.Topic); err != nil {
				return nil, err
			}
		}
	}
	if !cfg.DisableS3 {
		if err = s.startS3(cfg); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Stack) startS3(cfg Config) error {
	backend, err := newBackend(cfg.S3Dir)
	if err != nil {
		return err
	}
	if err := createBuckets(backend, cfg.Buckets); err != nil {
		return err
	}
	var h http.Handler = gofakes3.New(backend).Server()
	if s.producer != nil {
		buckets := make(map[string]bool, len(cfg.Buckets))
		for _, b := range cfg.Buckets {
			buckets[b] = true
		}
		h = &notifier{next: h, backend: backend, buckets: buckets, suffix: cfg.NotifySuffix, publish: s.publish}
	}
	ln, err := net.Listen("tcp", cfg.S3Addr)
	if err != nil {
		return fmt.Errorf("devstack: starting S3 on %s: %w", cfg.S3Addr, err)
	}
	s.s3URL = "http://" + advertise(ln).Addr().String()
	s.s3 = &http.Server{Handler: s.track(h), ReadHeaderTimeout: 10 * time.Second}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.s3.Serve(ln) // always ErrServerClosed, after Close
	}()
	return nil
}

// track counts the requests in flight, so that Close can wait for those
// that outlive a forced shutdown.
func (s *Stack) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			http.Error(w, "devstack is closing", http.StatusServiceUnavailable)
			return
		}
		defer s.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

// enter counts a request in, unless Close is already waiting for the
// count to reach zero (a WaitGroup must not grow from zero during Wait).
func (s *Stack) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.inflight.Add(1)
	return true
}

// publish produces one notification, keyed by bucket/key so that the
// events of one object stay in order on one partition.
func (s *Stack) publish(ctx context.Context, key string, value []byte) error {
	return s.producer.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: value}).FirstErr()
}

// KafkaAddr is the bootstrap address clients should use (host:port); empty
// when Kafka is disabled.
func (s *Stack) KafkaAddr() string { return s.kafkaAddr }

// S3Endpoint is the S3 endpoint URL (http://host:port), to be used
// path-style; empty when S3 is disabled.
func (s *Stack) S3Endpoint() string { return s.s3URL }

// Close stops S3 (letting requests in flight finish for a few seconds),
// then Kafka, and releases their ports. Objects in memory and all Kafka
// data are gone; an S3Dir keeps its objects. Close is safe to call twice.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Stack) close() error {
	var err error
	if s.s3 != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if e := s.s3.Shutdown(ctx); e != nil {
			err = fmt.Errorf("devstack: S3 requests still running after %v were cut off: %w", shutdownTimeout, e)
			_ = s.s3.Close() // its only error is the listener's, closed already
		}
		cancel()
		<-s.served
	}
	if s.producer != nil {
		// After a forced shutdown this also fails any produce still
		// waiting, so that the wait below is short.
		s.producer.Close()
	}
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.inflight.Wait()
	if s.kafka != nil {
		s.kafka.Close()
	}
	return err
}
