package server

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel is the one loads NOTIFY on, with the ledger id of the committed file as payload.
const channel = "salespulse_files"

// listener holds the server's one LISTEN connection, dedicated (outside the pool, which
// would hand it to queries) and reconnecting by itself with backoff. Each replica has its
// own, so every replica hears every commit.
type listener struct {
	conn    *pgx.ConnConfig
	changed func(fileID int64) // a file committed (0: unknown, or a resync)
	log     *slog.Logger

	minBackoff, maxBackoff time.Duration
	idleCheck              time.Duration // after this long without a notification, ping

	connected atomic.Bool
}

// connect opens the connection and LISTENs. Open does it once before serving, so that no
// commit after Open returns goes unheard.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.conn)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	l.connected.Store(true)
	return conn, nil
}

// run waits for notifications on conn, and reconnects whenever the connection fails (or
// connects first, when conn is nil). After a reconnect it reports a change at once: commits
// made while it was away went unheard.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	backoff := l.minBackoff
	for {
		if conn != nil {
			err := l.wait(ctx, conn)
			_ = conn.Close(context.WithoutCancel(ctx))
			l.connected.Store(false)
			if ctx.Err() != nil {
				return
			}
			l.log.Warn("listen: connection lost; reconnecting", "err", err)
		}
		var err error
		for conn = nil; conn == nil; {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			if conn, err = l.connect(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				backoff = min(2*backoff, l.maxBackoff)
				l.log.Warn("listen: reconnect failed", "err", err, "next_in", backoff)
			}
		}
		backoff = l.minBackoff
		l.log.Info("listen: reconnected; pushing fresh snapshots")
		l.changed(0)
	}
}

// wait hands on notifications until the connection fails or ctx ends.
func (l *listener) wait(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, l.idleCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			id, _ := strconv.ParseInt(n.Payload, 10, 64) // a foreign payload still means "look again"
			l.changed(id)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Quiet for a while: make sure the connection is still there (a dead peer can
			// leave a socket waiting forever).
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}
