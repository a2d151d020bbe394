package devstack

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startKafka starts a one-broker kfake cluster on cfg.KafkaAddr with the
// topic and its dead-letter topic.
func startKafka(cfg Config) (*kfake.Cluster, error) {
	// kfake always listens on 127.0.0.1 with the port from Ports; ListenFn
	// lets us listen on the configured host as well. It also advertises
	// the listener's own address, hence advertisedListener.
	listen := func(network, _ string) (net.Listener, error) {
		ln, err := net.Listen(network, cfg.KafkaAddr)
		if err != nil {
			return nil, err
		}
		return advertise(ln), nil
	}
	c, err := kfake.NewCluster(
		kfake.Ports(0), // one broker; the port comes from listen
		kfake.ListenFn(listen),
		kfake.ClusterID("salespulse-devstack"),
		kfake.SeedTopics(cfg.Partitions, cfg.Topic, cfg.Topic+DeadLetterSuffix),
		// Kafka refuses group session timeouts under 6 s; fault tests
		// want a killed worker's partitions back sooner than that.
		kfake.GroupMinSessionTimeout(time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("devstack: starting Kafka on %s: %w", cfg.KafkaAddr, err)
	}
	return c, nil
}

// advertisedListener reports 127.0.0.1 as its address when it listens on
// every interface: kfake puts the listener's address in its metadata
// responses, and clients cannot be told to connect to 0.0.0.0 or [::].
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

func advertise(ln net.Listener) net.Listener {
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return ln
	}
	return advertisedListener{ln, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tcp.Port}}
}

// newProducer returns the client that publishes the notifications. It
// waits for nothing (no linger), because each notification is produced
// synchronously while an S3 client waits for its response.
func newProducer(ctx context.Context, addr, topic string) (*kgo.Client, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("devstack: Kafka producer for %s: %w", addr, err)
	}
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("devstack: Kafka producer cannot reach %s: %w", addr, err)
	}
	return cl, nil
}
