// Package server is the KPI server between PostgreSQL and the dashboard: the REST API
// (snapshots, the ingestion ledger, uploads), the WebSocket that pushes a fresh snapshot to
// every dashboard moments after a file commits, health and metrics.
//
// Snapshots are computed from the KPI engine (server/kpi), which holds every loaded sale
// summed in memory: read from the database at start, then fed each committed file's sales.
// The server LISTENs for the commits of loads, coalesces bursts, adds the files to the
// engine, recomputes each distinct filter in use once and fans the result out; snapshots
// are cached per filter between changes, so viewers cost no database work.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"salespulse/server/kpi"
)

// Config is what a Server needs. Zero tuning fields take the defaults noted.
type Config struct {
	Addr           string        // host:port to listen on; port 0 picks a free one (see Server.Addr)
	Pool           *pgxpool.Pool // the database; its settings also open the LISTEN connection
	APIToken       string        // when set, /api/ and /ws require it
	AllowedOrigins []string      // browser origins besides the server's own; "*" for any
	// AllowedHosts are the names this server answers to in the Host header besides IP
	// addresses and loopback names: "example.com", ".example.com" for it and its
	// subdomains, "*" for any. Other names are refused (DNS rebinding).
	AllowedHosts []string
	UI           http.Handler // serves every path the API does not; nil answers a JSON 404
	Log          *slog.Logger

	// Uploads: files are put into Bucket under uploads/; without S3 or Bucket POST
	// /api/uploads answers 503 uploads_disabled.
	S3                *s3.Client
	Bucket            string
	UploadMaxBytes    int64         // default 100 MiB
	UploadTimeout     time.Duration // longest an upload's body may take to arrive; default 10 min
	UploadConcurrency int           // uploads received at once; more are answered 503; default 4

	Coalesce        time.Duration // how long a push waits for more commits; default 5 ms
	PushParallel    int           // snapshots computed at once during a push; default 2
	SendQueue       int           // frames a WebSocket client may have waiting; default 16
	WriteTimeout    time.Duration // longest a frame may take to write; default 10 s
	PingInterval    time.Duration // WebSocket keepalive; a client silent for two is gone; default 30 s
	ReadLimit       int64         // largest client message, once inflated; default 4 KiB
	MaxClients      int           // WebSocket connections at once; more are answered 503; default 20,000
	MessageRate     float64       // client messages a second, after a burst of MessageBurst; default 5
	MessageBurst    int           // default 10
	SnapshotTimeout time.Duration // longest a snapshot computation may take; default 30 s
	CacheEntries    int           // filters whose snapshot is kept (a few hundred KB each); default 4096, and every watched one beyond
	ListenIdleCheck time.Duration // ping the LISTEN connection after this long without news; default 30 s
	ListenBackoff   time.Duration // first delay before reconnecting it (doubling up to 10 s); default 100 ms
	ShutdownTimeout time.Duration // how long Close lets requests finish; default 10 s
	Alerts          AlertsConfig  // alert evaluation and webhooks
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Coalesce, 5*time.Millisecond)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.PingInterval, 30*time.Second)
	def(&c.SnapshotTimeout, 30*time.Second)
	def(&c.ListenIdleCheck, 30*time.Second)
	def(&c.ListenBackoff, 100*time.Millisecond)
	def(&c.ShutdownTimeout, 10*time.Second)
	if c.PushParallel <= 0 {
		c.PushParallel = 2
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 16
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = 4 << 10
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 20_000
	}
	if c.MessageRate <= 0 {
		c.MessageRate = 5
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 10
	}
	def(&c.UploadTimeout, 10*time.Minute)
	if c.UploadConcurrency <= 0 {
		c.UploadConcurrency = 4
	}
	if c.CacheEntries <= 0 {
		c.CacheEntries = 4096
	}
	if c.UploadMaxBytes <= 0 {
		c.UploadMaxBytes = 100 << 20
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Server is the KPI server. New it, Open it, Close it.
type Server struct {
	cfg     Config
	pool    *pgxpool.Pool
	log     *slog.Logger
	metrics *metrics
	hub     *hub
	cache   *snapshotCache
	engine  *kpi.Engine
	alerts  *alerter
	// engineReady is closed once the engine holds the sales read at start.
	engineReady chan struct{}
	listener    *listener
	upgrader    *websocket.Upgrader
	changes     changes
	handler     http.Handler

	// seq numbers snapshot computations: GET /api/kpis and WebSocket frames carry it, and it
	// only grows while the server runs.
	seq       atomic.Uint64
	uploads   chan struct{} // admits UploadConcurrency uploads
	wsClients atomic.Int64  // WebSocket connections, up to MaxClients
	pageCSP   pagePolicy    // the dashboard's Content-Security-Policy
	ln        net.Listener
	http      *http.Server
	ctx       context.Context // the server's lifetime: ends with Close
	cancel    context.CancelFunc
	running   sync.WaitGroup
}

// New prepares a server; nothing runs until Open.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{cfg: cfg, pool: cfg.Pool, log: cfg.Log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.changes.signal = make(chan struct{}, 1)
	s.hub = newHub(cfg.SendQueue, nil, cfg.Log)
	s.metrics = newMetrics(cfg.Pool, s.hub.count, cfg.Log)
	s.hub.metrics = s.metrics
	s.engine, s.engineReady = kpi.New(), make(chan struct{})
	s.alerts = newAlerter(s, cfg.Alerts)
	s.cache = newSnapshotCache(s.computeSnapshot, s.engine.Version, s.hub.watched, cfg.SnapshotTimeout, cfg.CacheEntries)
	s.uploads = make(chan struct{}, cfg.UploadConcurrency)
	s.pageCSP = newPagePolicy(cfg.UI)
	s.upgrader = s.newUpgrader()
	conn := cfg.Pool.Config().ConnConfig.Copy()
	conn.RuntimeParams["application_name"] = "salespulse-listen"
	s.listener = &listener{
		conn: conn, changed: s.changed, log: cfg.Log,
		minBackoff: cfg.ListenBackoff, maxBackoff: 10 * time.Second, idleCheck: cfg.ListenIdleCheck,
	}
	s.handler = s.routes()
	return s
}

// Open listens on the configured address and starts serving, listening for commits and
// pushing snapshots. The KPIs are read from the database in the background; until they are
// (Ready), snapshots answer 503 and /readyz says so. The database need not be up: its LISTEN
// connection then comes up by itself too.
func (s *Server) Open() error {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	conn, err := s.listener.connect(ctx)
	cancel()
	if err != nil {
		s.log.Warn("server: the database does not answer yet; serving meanwhile, /readyz says 503", "err", err)
		conn = nil // the listener connects when it can, and then resyncs
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Every request body within a minute; an upload moves its own deadline on as its
		// bytes come (pacedBody), and a WebSocket keeps deadlines of its own.
		ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.running.Add(4)
	go func() { defer s.running.Done(); s.loadEngine(s.ctx) }()
	go func() { defer s.running.Done(); s.listener.run(s.ctx, conn) }()
	go func() { defer s.running.Done(); s.pushLoop(s.ctx) }()
	s.alerts.start(s.ctx)
	go func() {
		defer s.running.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("server: serve", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on (with the port chosen when it asked for 0).
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is http://Addr, for tests and log lines.
func (s *Server) URL() string { return "http://" + s.Addr().String() }

// Handler is the server's routes, for embedding in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops accepting requests, lets those under way finish (up to ShutdownTimeout),
// closes every WebSocket with "going away" and stops listening for commits.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var err error
	if s.http != nil {
		if err = s.http.Shutdown(ctx); err != nil {
			err = fmt.Errorf("server: shutdown: %w", err)
			_ = s.http.Close()
		}
	}
	d, _ := ctx.Deadline()
	s.hub.close(max(time.Until(d), 100*time.Millisecond))
	s.cancel()
	s.running.Wait()
	return err
}
