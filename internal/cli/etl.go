package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/IBM/sarama"

	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/etl"
)

// kafkaFlags lets flags override the Kafka settings.
func kafkaFlags(fs *flag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.Kafka.Topic, "topic", cfg.Kafka.Topic, "Kafka topic of object-created events (env KAFKA_TOPIC)")
	fs.Func("brokers", "Kafka bootstrap servers, comma-separated (env BOOTSTRAP_SERVERS)", func(s string) error {
		cfg.Kafka.Brokers = strings.Split(s, ",")
		return nil
	})
	fs.StringVar(&cfg.S3.Endpoint, "s3-endpoint", cfg.S3.Endpoint, "S3-compatible endpoint URL (env S3_ENDPOINT)")
}

func runETL(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("etl", "etl [flags]", cfg, stderr)
	databaseFlag(fs, &cfg)
	kafkaFlags(fs, &cfg)
	fs.StringVar(&cfg.Kafka.Group, "group", cfg.Kafka.Group, "consumer group (env KAFKA_GROUP)")
	fs.StringVar(&cfg.ETL.KeyPrefix, "prefix", cfg.ETL.KeyPrefix, "load only object keys with this prefix (env ETL_KEY_PREFIX)")
	fs.Func("suffix", "load only object keys ending with one of these, comma-separated (env ETL_KEY_SUFFIX; default "+strings.Join(cfg.ETL.KeySuffixes, ",")+")", suffixFlag(&cfg.ETL.KeySuffixes))
	fs.IntVar(&cfg.ETL.Parallel, "parallel", cfg.ETL.Parallel, "files loaded at a time (env ETL_PARALLEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, check := range []func() error{cfg.RequireDatabase, cfg.RequireKafka} {
		if err := check(); err != nil {
			return err
		}
	}
	log := slog.Default()
	// A database still starting (or away) is waited for, as an orchestrator expects.
	pool, err := etl.Retry(ctx, log, "etl: open the database", func() (*pgxpool.Pool, error) { return openDatabase(ctx, cfg) })
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting
		}
		return err
	}
	defer pool.Close()
	worker, stop, err := newWorker(ctx, cfg, pool, log)
	if err != nil {
		return err
	}
	defer stop()
	log.Info("etl: consuming", "topic", cfg.Kafka.Topic, "group", cfg.Kafka.Group,
		"brokers", strings.Join(cfg.Kafka.Brokers, ","), "parallel", cfg.ETL.Parallel)
	if err := worker.run(ctx); err != nil {
		return err
	}
	log.Info("etl: stopped")
	return nil
}

// runningWorker is a worker with its Kafka clients.
type runningWorker struct {
	*etl.Worker
	group sarama.ConsumerGroup
}

// run consumes until ctx ends, then commits the offsets of the messages done.
func (w runningWorker) run(ctx context.Context) error {
	if err := w.Run(ctx, w.group); err != nil {
		return fmt.Errorf("etl: %w", err)
	}
	if err := w.group.Close(); err != nil {
		return fmt.Errorf("etl: commit offsets: %w", err)
	}
	return nil
}

// newWorker joins the consumer group and makes the dead-letter producer; stop closes both.
func newWorker(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) (runningWorker, func(), error) {
	s3c, err := etl.NewS3Client(ctx, cfg.S3.S3Options)
	if err != nil {
		return runningWorker{}, nil, err
	}
	scfg := etl.NewSaramaConfig(cfg.Kafka.KafkaOptions)
	group, err := etl.Retry(ctx, log, "etl: join consumer group", func() (sarama.ConsumerGroup, error) {
		return sarama.NewConsumerGroup(cfg.Kafka.Brokers, cfg.Kafka.Group, scfg)
	})
	if err != nil {
		return runningWorker{}, nil, err
	}
	dlq, err := etl.Retry(ctx, log, "etl: dead-letter producer", func() (sarama.SyncProducer, error) {
		return sarama.NewSyncProducer(cfg.Kafka.Brokers, scfg)
	})
	if err != nil {
		group.Close()
		return runningWorker{}, nil, err
	}
	w := &etl.Worker{
		Loader: &etl.Loader{Pool: pool, MaxRejectRatio: cfg.ETL.MaxRejectRatio, Timeout: cfg.ETL.Timeout, Log: log},
		S3:     s3c, DeadLetters: dlq, Topic: cfg.Kafka.Topic,
		Filter:   etl.KeyFilter{Prefix: cfg.ETL.KeyPrefix, Suffixes: cfg.ETL.KeySuffixes},
		Parallel: cfg.ETL.Parallel, Grace: cfg.ETL.Grace, RetryBudget: cfg.ETL.RetryBudget, Log: log,
	}
	return runningWorker{w, group}, func() { group.Close(); dlq.Close() }, nil
}

func runWatch(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("watch", "watch [flags]", cfg, stderr)
	databaseFlag(fs, &cfg)
	kafkaFlags(fs, &cfg)
	fs.StringVar(&cfg.S3.Bucket, "bucket", cfg.S3.Bucket, "bucket to list (env BUCKET_NAME)")
	fs.StringVar(&cfg.ETL.KeyPrefix, "prefix", cfg.ETL.KeyPrefix, "list only keys with this prefix (env ETL_KEY_PREFIX)")
	fs.Func("suffix", "announce only keys ending with one of these, comma-separated (env ETL_KEY_SUFFIX; default "+strings.Join(cfg.ETL.KeySuffixes, ",")+")", suffixFlag(&cfg.ETL.KeySuffixes))
	fs.DurationVar(&cfg.ETL.WatchInterval, "interval", cfg.ETL.WatchInterval, "time between listings (env WATCH_INTERVAL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, check := range []func() error{cfg.RequireDatabase, cfg.RequireKafka, cfg.RequireS3} {
		if err := check(); err != nil {
			return err
		}
	}
	if cfg.ETL.WatchInterval <= 0 {
		return &Error{Name: "--interval", Reason: "must be positive"}
	}
	log := slog.Default()
	pool, err := etl.Retry(ctx, log, "watch: open the database", func() (*pgxpool.Pool, error) { return openDatabase(ctx, cfg) })
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting
		}
		return err
	}
	defer pool.Close()
	s3c, err := etl.NewS3Client(ctx, cfg.S3.S3Options)
	if err != nil {
		return err
	}
	producer, err := etl.Retry(ctx, log, "watch: producer", func() (sarama.SyncProducer, error) {
		return sarama.NewSyncProducer(cfg.Kafka.Brokers, etl.NewSaramaConfig(cfg.Kafka.KafkaOptions))
	})
	if err != nil {
		return err
	}
	defer producer.Close()
	w := &etl.Watcher{
		S3: s3c, Producer: producer, Pool: pool, Topic: cfg.Kafka.Topic, Bucket: cfg.S3.Bucket,
		Filter:   etl.KeyFilter{Prefix: cfg.ETL.KeyPrefix, Suffixes: cfg.ETL.KeySuffixes},
		Interval: cfg.ETL.WatchInterval, Log: log,
	}
	log.Info("watch: polling", "bucket", cfg.S3.Bucket, "prefix", cfg.ETL.KeyPrefix, "interval", cfg.ETL.WatchInterval, "topic", cfg.Kafka.Topic)
	return w.Run(ctx)
}
