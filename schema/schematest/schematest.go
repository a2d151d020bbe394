// Package schematest gives each test package a throwaway PostgreSQL database, migrated, and drops
// it afterwards. The server is PG_TEST_URL, by default the local one.
package schematest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	neturl "net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/schema"
)

// DefaultURL is the server the tests use unless PG_TEST_URL says otherwise.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres"

// DB is a throwaway database.
type DB struct {
	Name  string
	URL   string
	Pool  *pgxpool.Pool
	admin string
}

// New creates a migrated database named after prefix. It panics with a clear message when
// the server cannot be reached: database tests never skip silently.
func New(prefix string) *DB {
	admin := os.Getenv("PG_TEST_URL")
	if admin == "" {
		admin = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("salespulse_test_%s_%s", prefix, hex.EncodeToString(suffix))
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		panic(fmt.Sprintf("pgtest: PostgreSQL is not reachable at %s (set PG_TEST_URL): %v", redact(admin), err))
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		panic(fmt.Sprintf("pgtest: create database %s: %v", name, err))
	}
	u, err := neturl.Parse(admin)
	if err != nil {
		panic("pgtest: PG_TEST_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	url := u.String()
	pool, err := schema.Open(ctx, url)
	if err != nil {
		panic(fmt.Sprintf("pgtest: %v", err))
	}
	if _, err := schema.Migrate(ctx, pool); err != nil {
		panic(fmt.Sprintf("pgtest: %v", err))
	}
	return &DB{Name: name, URL: url, Pool: pool, admin: admin}
}

// Drop closes the pool and drops the database.
func (d *DB) Drop() {
	d.Pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop %s: %v\n", d.Name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)"); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop %s: %v\n", d.Name, err)
	}
}

// Run is a TestMain body: one database for the package, dropped after its tests.
func Run(m *testing.M, prefix string, db **DB) int {
	*db = New(prefix)
	defer (*db).Drop()
	return m.Run()
}

// Reset empties every table, for tests that need a clean slate inside the package database.
func (d *DB) Reset(t testing.TB) {
	t.Helper()
	_, err := d.Pool.Exec(context.Background(),
		"TRUNCATE sales, rejected_rows, ingested_files, alert_deliveries, alert_events, alert_rules RESTART IDENTITY")
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
}

// Int runs a query of one integer, failing the test on error.
func (d *DB) Int(t testing.TB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// Digest is the row count and MD5 of a query's rows, each as its text form, in a fixed
// order: two digests are equal when the rows are.
func Digest(t testing.TB, pool *pgxpool.Pool, query string, args ...any) string {
	t.Helper()
	var n int64
	var sum string
	err := pool.QueryRow(context.Background(), `SELECT count(*), md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), ''))
		FROM (`+query+`) r`, args...).Scan(&n, &sum)
	if err != nil {
		t.Fatalf("digest of %s: %v", query, err)
	}
	return fmt.Sprintf("%d:%s", n, sum[:16])
}

func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "(malformed PG_TEST_URL)"
	}
	return fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
}
