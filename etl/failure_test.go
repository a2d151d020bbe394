package etl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"salespulse/etl/devstack"
	"salespulse/internal/versitygw"
)

// pgFailure runs fn on a connection of its own to the test database and returns the error
// PostgreSQL (or pgx) gave it: the classification is tested on real errors only.
func pgFailure(t *testing.T, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testDB.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	err = fn(ctx, conn)
	if err == nil {
		t.Fatal("the statement did not fail")
	}
	return err
}

func exec(sql string, args ...any) func(context.Context, *pgx.Conn) error {
	return func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	}
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return "(none)"
}

func TestClassifyFailureOfRealPostgreSQLErrors(t *testing.T) {
	randomText := `(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i)`
	for _, tt := range []struct {
		name  string
		state string // the SQLSTATE the statement must give, "" when it is not a server error
		fn    func(context.Context, *pgx.Conn) error
		want  FailureClass
	}{
		{"NUL in text", "22021", exec(`SELECT $1::text`, "a\x00b"), FailureDeterministic},
		{"bad number", "22P02", exec(`SELECT 'x'::int`), FailureDeterministic},
		{"number out of range", "22003", exec(`SELECT 2147483647::int + 1`), FailureDeterministic},
		{"date out of range", "22008", exec(`SELECT '300000-01-01'::timestamptz`), FailureDeterministic},
		{"ledger check", "23514", exec(`INSERT INTO ingested_files (source, object_key, status, started_at, finished_at)
			VALUES ('file', 'x', 'bogus', now(), now())`), FailureDeterministic},
		{"unique", "23505", exec(`CREATE TEMP TABLE u (k int PRIMARY KEY); INSERT INTO u VALUES (1), (1)`), FailureDeterministic},
		{"index row too big", "54000", exec(`CREATE TEMP TABLE big (v text); CREATE INDEX ON big (v);
			INSERT INTO big SELECT ` + randomText), FailureDeterministic},
		{"statement timeout", "57014", exec(`SET statement_timeout = '10ms'; SELECT pg_sleep(2)`), FailureTransient},
		{"terminated", "57P01", terminated, FailureTransient},
		{"used after termination", "", usedAfterTermination, FailureTransient},
		{"deadlock", "40P01", deadlock, FailureTransient},
		{"too many connections", "53300", tooManyConnections, FailureTransient},
		{"syntax", "42601", exec(`SELEC 1`), FailureUnclassified},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := pgFailure(t, tt.fn)
			if got := sqlState(err); tt.state != "" && got != tt.state {
				t.Fatalf("SQLSTATE %s, want %s: %v", got, tt.state, err)
			}
			// As the loader returns it: wrapped once or twice.
			wrapped := fmt.Errorf("load: copy rejects: %w", err)
			if got := ClassifyFailure(wrapped); got != tt.want {
				t.Errorf("%v: %s, want %s", err, got, tt.want)
			}
		})
	}
	t.Run("database down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		_, err = pgx.Connect(context.Background(), "postgres://postgres@"+addr+"/postgres?connect_timeout=2")
		if err == nil {
			t.Fatal("connected to a closed port")
		}
		if got := ClassifyFailure(fmt.Errorf("load: begin: %w", err)); got != FailureTransient {
			t.Errorf("%v: %s, want transient", err, got)
		}
	})
}

// terminated is a statement cut by pg_terminate_backend (an administrator, or a restart).
func terminated(ctx context.Context, conn *pgx.Conn) error {
	other, err := pgx.Connect(ctx, conn.Config().ConnString())
	if err != nil {
		return err
	}
	defer other.Close(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, `SELECT pg_sleep(10)`)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if _, err := other.Exec(ctx, `SELECT pg_terminate_backend($1)`, conn.PgConn().PID()); err != nil {
		return err
	}
	return <-done
}

// usedAfterTermination is the next statement on a connection the server closed.
func usedAfterTermination(ctx context.Context, conn *pgx.Conn) error {
	_ = terminated(ctx, conn)
	_, err := conn.Exec(ctx, `SELECT 1`)
	return err
}

// deadlock is two transactions locking two rows in opposite orders: PostgreSQL cancels one.
func deadlock(ctx context.Context, conn *pgx.Conn) error {
	other, err := pgx.Connect(ctx, conn.Config().ConnString())
	if err != nil {
		return err
	}
	defer other.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS deadlock_test (k int PRIMARY KEY); INSERT INTO deadlock_test VALUES (1), (2) ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range []*pgx.Conn{conn, other} {
		wg.Go(func() {
			first, second := 1+i, 2-i
			tx, err := c.Begin(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `UPDATE deadlock_test SET k = k WHERE k = $1`, first); err != nil {
				errs[i] = err
				return
			}
			time.Sleep(300 * time.Millisecond)
			_, errs[i] = tx.Exec(ctx, `UPDATE deadlock_test SET k = k WHERE k = $1`, second)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tooManyConnections connects as a role allowed none.
func tooManyConnections(ctx context.Context, conn *pgx.Conn) error {
	role := fmt.Sprintf("salespulse_test_noconn_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE ROLE `+role+` LOGIN CONNECTION LIMIT 0`); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `DROP ROLE `+role)
	cfg := conn.Config().Copy()
	cfg.User = role
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		c.Close(ctx)
	}
	return err
}

// TestClassifyFailureOfTheStore reads objects through the S3 protocol: a real S3 server (the
// Versity S3 Gateway) for missing objects and buckets and for refused credentials, the
// in-process store for a store that is down, and a server answering as S3 does for its own
// trouble and for refusals no real server here can be made to give.
func TestClassifyFailureOfTheStore(t *testing.T) {
	ctx := context.Background()
	open := func(client *s3.Client, bucket, key string) error {
		t.Helper()
		_, err := NewS3Object(client, bucket, key, 0, "", time.Time{}).Open(ctx)
		if err == nil {
			t.Fatalf("s3://%s/%s opened", bucket, key)
		}
		return err
	}
	once := func(c *s3.Client) *s3.Client {
		return s3.New(c.Options(), func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	}
	gw := versitygw.Start(t, versitygw.Config{Buckets: []string{"sales"}})
	good := gatewayClient(t, gw, versitygw.AccessKey, versitygw.SecretKey)
	gone := open(good, "sales", "nothing-here.csv")
	if !errors.Is(gone, ErrGone) || ClassifyFailure(gone) != FailureDeterministic {
		t.Errorf("missing object: %v (%s)", gone, ClassifyFailure(gone))
	}
	noBucket := open(good, "no-such-bucket", "x.csv")
	if !errors.Is(noBucket, ErrNoBucket) || errors.Is(noBucket, ErrGone) || ClassifyFailure(noBucket) != FailureDeterministic {
		t.Errorf("missing bucket: %v (%s)", noBucket, ClassifyFailure(noBucket))
	}
	if _, err := StatS3Object(ctx, good, "no-such-bucket", "x.csv"); !errors.Is(err, ErrNoBucket) {
		t.Errorf("HEAD in a missing bucket: %v, want %v", err, ErrNoBucket)
	}
	for name, client := range map[string]*s3.Client{
		"wrong secret": gatewayClient(t, gw, versitygw.AccessKey, "not-the-secret"),
		"unknown key":  gatewayClient(t, gw, "nobody", "nothing"),
	} {
		err := open(once(client), "sales", "x.csv")
		if !errors.Is(err, ErrAccessDenied) || ClassifyFailure(err) != FailureDeterministic {
			t.Errorf("%s: %v (%s), want %v, deterministic", name, err, ClassifyFailure(err), ErrAccessDenied)
		}
	}

	for code, want := range map[string]FailureClass{
		"AccessDenied": FailureDeterministic, "InternalError": FailureTransient,
		"SlowDown": FailureTransient, "SomethingNew": FailureUnclassified,
	} {
		status := map[string]int{"AccessDenied": http.StatusForbidden, "InternalError": 500, "SlowDown": 503, "SomethingNew": 400}[code]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>refused</Message><RequestId>1</RequestId></Error>`, code)
		}))
		err := open(once(s3Client(t, srv.URL)), "sales", "x.csv")
		srv.Close()
		if got := ClassifyFailure(err); got != want {
			t.Errorf("%s (%d): %s, want %s: %v", code, status, got, want, err)
		}
	}

	st := startStack(t, devstack.Config{DisableKafka: true})
	down := s3Client(t, st.S3Endpoint())
	st.Close()
	err := open(once(down), "sales", "x.csv")
	if got := ClassifyFailure(err); got != FailureTransient || errors.Is(err, ErrGone) {
		t.Errorf("store down: %v (%s), want transient", err, got)
	}
	if !strings.Contains(err.Error(), "s3 get s3://sales/x.csv") {
		t.Errorf("the error does not name the object: %v", err)
	}
}
