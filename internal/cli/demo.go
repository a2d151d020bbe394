package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/etl"
	"salespulse/etl/devstack"
	"salespulse/schema"
	"salespulse/server"
)

// demoParts are the pieces `demo --parts` can run.
var demoParts = []string{"kafka", "s3", "etl", "serve", "generate"}

// demoOptions shape a demo beyond the usual settings.
type demoOptions struct {
	parts     map[string]bool
	kafkaAddr string
	s3Addr    string
	s3Dir     string
	interval  time.Duration // between generated files
	rows      int           // sales per generated file
	invalid   float64       // share of generated rows that break a rule
	backfill  int           // days before today generated at once when the demo starts
	firstDay  time.Time
	now       func() time.Time // the clock: which day is today, and the stamp of today's further files
}

// demo is the whole system in one process: in-process Kafka and S3 on real ports, the
// worker, the server and a generator uploading a day of sales at an interval.
type demo struct {
	cfg   Config
	opt   demoOptions
	log   *slog.Logger
	out   io.Writer
	pool  *pgxpool.Pool
	stack *devstack.Stack
	srv   *server.Server
	s3    *s3.Client

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error
}

const demoDatabaseURL = "postgres://postgres@127.0.0.1:5432/salespulse"

func runDemo(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	cfg, opt, err := demoFlags(cfg, args, stderr)
	if err != nil {
		return err
	}
	d := &demo{cfg: cfg, opt: opt, log: slog.Default(), out: stdout}
	if err := d.open(ctx); err != nil {
		d.close()
		return err
	}
	d.printAddresses()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-d.errs:
	}
	d.log.Info("demo: stopping")
	if err := d.close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// demoFlags reads the demo's flags over its settings (cfg.Demo, from DEMO_*): a flag given
// wins, one left out keeps the setting.
func demoFlags(cfg Config, args []string, stderr io.Writer) (Config, demoOptions, error) {
	fs := newFlags("demo", "demo [flags]", cfg, stderr)
	opt := demoOptions{now: time.Now}
	if cfg.Database.URL == "" {
		cfg.Database.URL = demoDatabaseURL
	}
	databaseFlag(fs, &cfg)
	parts := fs.String("parts", cfg.Demo.Parts, "what to run, comma-separated: "+strings.Join(demoParts, ", ")+" (env DEMO_PARTS)")
	fs.StringVar(&cfg.HTTP.Addr, "addr", cfg.HTTP.Addr, "dashboard and API address (env HTTP_ADDR)")
	fs.StringVar(&opt.kafkaAddr, "kafka-addr", cfg.Demo.KafkaAddr, "address of the in-process Kafka (env DEMO_KAFKA_ADDR)")
	fs.StringVar(&opt.s3Addr, "s3-addr", cfg.Demo.S3Addr, "address of the in-process S3 (env DEMO_S3_ADDR)")
	fs.StringVar(&opt.s3Dir, "s3-dir", cfg.Demo.S3Dir, "keep the in-process S3's objects in this directory, default memory (env DEMO_S3_DIR)")
	fs.DurationVar(&opt.interval, "interval", cfg.Demo.Interval, "time between generated files (env DEMO_INTERVAL)")
	fs.IntVar(&opt.rows, "rows", cfg.Demo.Rows, "sales per generated file (env DEMO_ROWS)")
	fs.Float64Var(&opt.invalid, "invalid", cfg.Demo.Invalid, "share of generated rows that break a rule, shows the reject path (env DEMO_INVALID)")
	fs.IntVar(&opt.backfill, "backfill", cfg.Demo.Backfill, "days before today generated at start (env DEMO_BACKFILL)")
	if err := fs.Parse(args); err != nil {
		return cfg, opt, err
	}
	var err error
	if opt.parts, err = parseParts(*parts); err != nil {
		return cfg, opt, err
	}
	switch {
	case opt.interval <= 0:
		return cfg, opt, &Error{Name: "--interval", Reason: "must be a positive duration such as 30s or 5m"}
	case opt.rows < 1:
		return cfg, opt, &Error{Name: "--rows", Reason: "must be a whole number ≥ 1"}
	case opt.invalid < 0 || opt.invalid > 1:
		return cfg, opt, &Error{Name: "--invalid", Reason: "must be a share between 0 and 1"}
	case opt.backfill < 0:
		return cfg, opt, &Error{Name: "--backfill", Reason: "must be a whole number ≥ 0"}
	}
	opt.firstDay = dayOf(opt.now()).AddDate(0, 0, -opt.backfill)
	return cfg, opt, nil
}

func parseParts(s string) (map[string]bool, error) {
	parts := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(demoParts, p) {
			return nil, &Error{Name: "--parts", Reason: fmt.Sprintf("unknown part %q (use %s)", p, strings.Join(demoParts, ", "))}
		}
		parts[p] = true
	}
	if len(parts) == 0 {
		return nil, &Error{Name: "--parts", Reason: "names no part"}
	}
	return parts, nil
}

// open starts the parts in dependency order: database, Kafka and S3, worker, server,
// generator.
func (d *demo) open(ctx context.Context) error {
	ctx, d.cancel = context.WithCancel(ctx)
	d.errs = make(chan error, 4)
	p := d.opt.parts
	if p["etl"] || p["serve"] {
		if err := schema.CreateIfMissing(ctx, d.cfg.Database.URL); err != nil {
			return err
		}
		pool, err := openDatabase(ctx, d.cfg)
		if err != nil {
			return err
		}
		d.pool = pool
	}
	if p["kafka"] || p["s3"] {
		st, err := devstack.Start(ctx, devstack.Config{
			KafkaAddr: d.opt.kafkaAddr, S3Addr: d.opt.s3Addr, S3Dir: d.opt.s3Dir,
			Topic: d.cfg.Kafka.Topic, Buckets: []string{d.bucket()},
			DisableKafka: !p["kafka"], DisableS3: !p["s3"],
		})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		d.stack = st
		if st.KafkaAddr() != "" {
			d.cfg.Kafka.Brokers = []string{st.KafkaAddr()}
		}
		if st.S3Endpoint() != "" {
			d.cfg.S3.Endpoint = st.S3Endpoint()
			if d.cfg.S3.AccessKeyID == "" { // the in-process store takes any key
				d.cfg.S3.AccessKeyID, d.cfg.S3.SecretAccessKey = "demo", "demo"
			}
		}
	}
	d.cfg.S3.Bucket = d.bucket()
	if p["etl"] || p["serve"] || p["generate"] {
		s3c, err := etl.NewS3Client(ctx, d.cfg.S3.S3Options)
		if err != nil {
			return err
		}
		d.s3 = s3c
	}
	if p["etl"] {
		if err := d.cfg.RequireKafka(); err != nil {
			return err
		}
		w, stop, err := newWorker(ctx, d.cfg, d.pool, d.log)
		if err != nil {
			return err
		}
		d.goRun(func() error {
			defer stop()
			return w.run(ctx)
		})
	}
	if p["serve"] {
		d.srv = newServer(d.cfg, d.pool, d.s3, d.log)
		if err := d.srv.Open(); err != nil {
			return err
		}
	}
	if p["generate"] {
		d.goRun(func() error { return d.generate(ctx) })
	}
	return nil
}

func (d *demo) bucket() string {
	if d.cfg.S3.Bucket != "" {
		return d.cfg.S3.Bucket
	}
	return devstack.DefaultBucket
}

// goRun runs a part in the background; its error stops the demo.
func (d *demo) goRun(fn func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
			select {
			case d.errs <- err:
			default: // the demo is stopping already
			}
		}
	}()
}

// generate uploads a file of each day from the first to today at once, then one every
// interval: of the next day once the clock has passed midnight, else more of today's sales.
// No sale is dated after today.
func (d *demo) generate(ctx context.Context) error {
	day, first := d.opt.firstDay, true
	for n := 0; ; n++ {
		if err := d.uploadDay(ctx, day, first); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.log.Warn("demo: upload failed, will try again", "err", err)
		} else if today := dayOf(d.opt.now()); day.Before(today) {
			day, first = day.AddDate(0, 0, 1), true
		} else {
			first = false
		}
		if n < d.opt.backfill {
			continue
		}
		select {
		case <-time.After(d.opt.interval):
		case <-ctx.Done():
			return nil
		}
	}
}

// uploadDay puts sales of a day. A day's first file is the same for the same day, so a
// restarted demo's repeats load as skipped; each further one is seeded and named by the
// clock, so they bring new sales, also after a restart.
func (d *demo) uploadDay(ctx context.Context, day time.Time, first bool) error {
	seed, key := uint64(day.Unix()), "daily/sales_"+day.Format(time.DateOnly)+".csv"
	if !first {
		now := d.opt.now().UTC()
		seed, key = uint64(now.UnixNano()), "daily/sales_"+day.Format(time.DateOnly)+"_"+now.Format("150405.000000")+".csv"
	}
	var b bytes.Buffer
	st, err := etl.Generate(&b, etl.GenerateOptions{
		Rows: d.opt.rows, Seed: seed, From: day, To: day, Invalid: d.opt.invalid, Comments: seed%3 == 0, Snake: seed%4 == 0,
		NotAfter: dayOf(d.opt.now()),
	})
	if err != nil {
		return err
	}
	_, err = d.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(d.bucket()), Key: aws.String(key), Body: bytes.NewReader(b.Bytes()),
		ContentType: aws.String("text/csv"),
	})
	if err != nil {
		return fmt.Errorf("demo: put %s: %w", key, err)
	}
	d.log.Info("demo: uploaded sales", "key", key, "day", day.Format(time.DateOnly), "rows", st.Rows, "invalid", st.Invalid)
	return nil
}

func (d *demo) printAddresses() {
	fmt.Fprintln(d.out, "salespulse demo is running (Ctrl-C stops it):")
	if d.srv != nil {
		fmt.Fprintf(d.out, "  dashboard  %s/\n", dashboardURL(d.srv.Addr().String()))
	}
	if d.stack != nil && d.stack.S3Endpoint() != "" {
		fmt.Fprintf(d.out, "  S3         %s  bucket %s (any access key), e.g.\n", d.stack.S3Endpoint(), d.bucket())
		fmt.Fprintf(d.out, "             AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url %s s3 cp my-sales.csv s3://%s/\n", d.stack.S3Endpoint(), d.bucket())
	}
	if d.stack != nil && d.stack.KafkaAddr() != "" {
		fmt.Fprintf(d.out, "  Kafka      %s  topic %s, dead letters %s.dlq\n", d.stack.KafkaAddr(), d.cfg.Kafka.Topic, d.cfg.Kafka.Topic)
	}
	if d.pool != nil {
		fmt.Fprintf(d.out, "  database   %s\n", redacted(d.cfg.Database.URL))
	}
	if d.opt.parts["generate"] {
		fmt.Fprintf(d.out, "  generator  %d days up to today now, then %d more of today's sales every %v\n", d.opt.backfill+1, d.opt.rows, d.opt.interval)
	}
}

// close stops everything in reverse order; the worker finishes its file in flight.
func (d *demo) close() error {
	if d.cancel != nil {
		d.cancel()
	}
	var errs []error
	if d.srv != nil {
		errs = append(errs, d.srv.Close())
	}
	d.wg.Wait()
	if d.stack != nil {
		errs = append(errs, d.stack.Close())
	}
	if d.pool != nil {
		d.pool.Close()
	}
	return errors.Join(errs...)
}
