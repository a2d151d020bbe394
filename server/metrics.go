package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"salespulse/queries/db"
)

// metrics are the server's Prometheus metrics, in a registry of its own (two servers in one
// process, as in the tests, do not collide).
type metrics struct {
	reg *prometheus.Registry

	loadSeconds     prometheus.Histogram   // finished_at − started_at of each file committed
	eventLag        prometheus.Histogram   // finished_at − event_time: from the S3 event to the commit
	pushLatency     prometheus.Histogram   // change noticed → snapshot frame written to a client
	snapshotSeconds prometheus.Histogram   // one snapshot computed
	snapshots       *prometheus.CounterVec // snapshots made, by how: computed, updated (a change folded in), restamped
	notifications   prometheus.Counter
	dropped         prometheus.Counter // WebSocket clients dropped for falling behind
}

func newMetrics(pool *pgxpool.Pool, clients func() int, log *slog.Logger) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.loadSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "salespulse_load_seconds", Help: "Time each loaded or failed file took from start to commit (ledger finished_at - started_at); skipped attempts are not announced.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
	})
	m.eventLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "salespulse_event_to_commit_seconds", Help: "Time from a file's object-created event to its load's commit (ledger finished_at - event_time).",
		Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
	})
	m.pushLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "salespulse_push_latency_seconds", Help: "Time from a change being noticed (NOTIFY) to a snapshot frame written to a WebSocket client.",
		Buckets: prometheus.ExponentialBucketsRange(0.001, 10, 24), // 1 ms to 10 s, about 1.5× apart
	})
	m.snapshotSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "salespulse_snapshot_compute_seconds", Help: "Time to compute one KPI snapshot from the KPI engine, or to update one with a change.",
		Buckets: prometheus.ExponentialBucketsRange(0.0005, 5, 24),
	})
	m.snapshots = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "salespulse_snapshots_total", Help: "Snapshots made, by how: computed from the engine's state, updated with a change's sums, or restamped (a change that left the view alone).",
	}, []string{"how"})
	m.notifications = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "salespulse_notifications_total", Help: "Notifications of committed files received on the LISTEN connection.",
	})
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "salespulse_ws_dropped_total", Help: "WebSocket clients dropped because their send queue was full or a write failed.",
	})
	m.reg.MustRegister(
		m.loadSeconds, m.eventLag, m.pushLatency, m.snapshotSeconds, m.snapshots, m.notifications, m.dropped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "salespulse_ws_clients", Help: "WebSocket clients connected.",
		}, func() float64 { return float64(clients()) }),
		&ledgerCollector{pool: pool, log: log},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// observeFiles feeds the load histograms from the ledger rows of files just committed.
func (m *metrics) observeFiles(rows []db.FileTimingsRow) {
	for _, r := range rows {
		if !r.StartedAt.Valid || !r.FinishedAt.Valid {
			continue
		}
		m.loadSeconds.Observe(r.FinishedAt.Time.Sub(r.StartedAt.Time).Seconds())
		if r.EventTime.Valid {
			m.eventLag.Observe(r.FinishedAt.Time.Sub(r.EventTime.Time).Seconds())
		}
	}
}

// ledgerCollector reads files and rows by status from the ledger at scrape time: one small
// aggregate over one row per file, so the figures are exact across replicas and restarts.
type ledgerCollector struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

var (
	filesDesc = prometheus.NewDesc("salespulse_files", "Files in the ingestion ledger, by status.", []string{"status"}, nil)
	rowsDesc  = prometheus.NewDesc("salespulse_rows", "Rows of the files in the ledger, by file status and row outcome (loaded, rejected, duplicate).", []string{"status", "outcome"}, nil)
	upDesc    = prometheus.NewDesc("salespulse_ledger_up", "1 when the ledger could be read for this scrape.", nil, nil)
)

func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- filesDesc
	ch <- rowsDesc
	ch <- upDesc
}

func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := db.New(c.pool).LedgerTotals(ctx)
	if err != nil {
		c.log.Warn("metrics: read the ledger", "err", err)
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Status] = true
		ch <- prometheus.MustNewConstMetric(filesDesc, prometheus.GaugeValue, float64(r.Files), r.Status)
		ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.GaugeValue, float64(r.RowsLoaded), r.Status, "loaded")
		ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.GaugeValue, float64(r.RowsRejected), r.Status, "rejected")
		ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.GaugeValue, float64(r.RowsDuplicate), r.Status, "duplicate")
	}
	// Every status always appears, so dashboards and alerts see 0 rather than nothing.
	for _, st := range []string{"loaded", "failed", "skipped"} {
		if !seen[st] {
			ch <- prometheus.MustNewConstMetric(filesDesc, prometheus.GaugeValue, 0, st)
		}
	}
}
