package server

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
	"salespulse/schema"
	"salespulse/server/api"
	"salespulse/server/kpi"
)

// AlertsConfig tunes alert evaluation and webhooks. Zero fields take the defaults noted.
type AlertsConfig struct {
	// Interval: rules are evaluated this often besides after every committed file, for the
	// time since the last file, which grows by itself; default 1 min.
	Interval        time.Duration
	WebhookTimeout  time.Duration // longest one POST to a webhook may take; default 10 s
	WebhookAttempts int           // POSTs of an event before its delivery is recorded failed; default 5
	WebhookBackoff  time.Duration // wait after the first failed POST, doubling after each; default 2 s
}

func (c AlertsConfig) withDefaults() AlertsConfig {
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.WebhookTimeout <= 0 {
		c.WebhookTimeout = 10 * time.Second
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = 5
	}
	if c.WebhookBackoff <= 0 {
		c.WebhookBackoff = 2 * time.Second
	}
	return c
}

// alerter evaluates the alert rules on this server: after every committed file the push
// loop added to the engine, after a rule changed, and on a timer. Whether a rule fires is
// decided by the database, row-locked, on the data the evaluation stood on: with several
// servers evaluating the same file, one records the firing, the others find it recorded,
// and a server behind the others (or an evaluation that started earlier) decides nothing.
// Firings and recoveries go to this server's dashboards over the WebSocket, whichever
// server recorded them, and to the rule's webhook (webhook.go), never in the way of an
// evaluation.
type alerter struct {
	s      *Server
	cfg    AlertsConfig
	signal chan struct{} // an evaluation is wanted
	wake   chan struct{} // a delivery may be due
	tables chan struct{} // closed once the schema has the alert tables

	mu      sync.Mutex
	current []byte // the last "alerts" message, rules only: for clients that connect; nil without rules
	seen    int64  // the newest event told to this server's clients; -1 before the first look
}

func newAlerter(s *Server, cfg AlertsConfig) *alerter {
	return &alerter{s: s, cfg: cfg.withDefaults(), signal: make(chan struct{}, 1), wake: make(chan struct{}, 1),
		tables: make(chan struct{}), seen: -1}
}

// changed asks for an evaluation soon: files committed, or a rule changed.
func (a *alerter) changed() {
	select {
	case a.signal <- struct{}{}:
	default:
	}
}

// start runs the evaluations and the webhook deliveries until the server closes.
func (a *alerter) start(ctx context.Context) {
	a.s.running.Add(2)
	go func() { defer a.s.running.Done(); a.run(ctx) }()
	go func() { defer a.s.running.Done(); a.deliverLoop(ctx) }()
}

// run evaluates once the engine holds the sales and the schema is current (a server may
// start before its migrations are applied), then at every signal and tick.
func (a *alerter) run(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-a.s.engineReady:
	}
	for wait := a.s.cfg.ListenBackoff; ; wait = min(2*wait, 10*time.Second) {
		if pending, err := schema.Pending(ctx, a.s.pool); err == nil && !pending {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	close(a.tables)
	tick := time.NewTicker(a.cfg.Interval)
	defer tick.Stop()
	for {
		a.evaluate(ctx)
		select {
		case <-ctx.Done():
			return
		case <-a.signal:
		case <-tick.C:
		}
	}
}

// outcome is what an evaluation found of one rule.
type outcome struct {
	skip               bool     // the data cannot be evaluated now (the engine lacks files); nothing is recorded
	value              *float64 // compared with the threshold; nil when the data cannot tell
	measured, previous *float64
	covered            api.Window
}

// fires reports whether the value crosses the threshold.
func (o outcome) fires(r db.AlertRule) bool {
	if r.Comparison == api.Above {
		return *o.value > r.Threshold
	}
	return *o.value < r.Threshold
}

// reading is the data an evaluation stands on.
type reading struct {
	ledger  db.AlertLedgerRow
	inSync  bool   // the engine holds exactly the loaded files of the ledger as read
	version uint64 // the engine's, before anything was read
}

// evaluate evaluates every rule once and records what changed.
func (a *alerter) evaluate(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, a.s.cfg.SnapshotTimeout)
	defer cancel()
	rules, err := db.New(a.s.pool).ListAlertRules(ctx)
	if err != nil {
		a.warn(ctx, "alerts: reading the rules failed; trying again at the next file or tick", err)
		return
	}
	if len(rules) > 0 {
		outcomes, rd, err := a.measure(ctx, rules)
		if err != nil {
			a.warn(ctx, "alerts: reading the ledger failed; trying again at the next file or tick", err)
			return
		}
		if a.s.engine.Version() != rd.version {
			// Files were added meanwhile: the sales figures may mix two states. The push
			// loop asks again once it is done with them.
			for i, r := range rules {
				if !api.FileMeasure(r.Measure) {
					outcomes[i].skip = true
				}
			}
		}
		for i, r := range rules {
			if outcomes[i].skip {
				continue
			}
			if err := a.decide(ctx, r, outcomes[i], rd); err != nil {
				a.warn(ctx, "alerts: recording an evaluation failed", err, "rule", r.ID)
			}
		}
	}
	if err := a.publish(ctx); err != nil {
		a.warn(ctx, "alerts: reading the state to push failed", err)
	}
}

func (a *alerter) warn(ctx context.Context, msg string, err error, args ...any) {
	if ctx.Err() != nil && a.s.ctx.Err() != nil {
		return // stopping
	}
	a.s.log.Warn(msg, append([]any{"err", err}, args...)...)
}

// measure evaluates the rules against the engine and the ledger. The ledger is read in one
// snapshot; the engine must hold exactly its loaded files for the sales rules to be
// evaluated (files it lacks are on their way through the push loop, which asks again).
func (a *alerter) measure(ctx context.Context, rules []db.AlertRule) ([]outcome, reading, error) {
	rd := reading{version: a.s.engine.Version()}
	// Read before the ledger: the engine only adds files that committed, so it holds a
	// subset of the ledger's loaded files as read next, and the same count means the same files.
	held := len(a.s.engine.Files())
	tx, err := a.s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, rd, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := db.New(tx)
	if rd.ledger, err = q.AlertLedger(ctx); err != nil {
		return nil, rd, err
	}
	rd.inSync = int64(held) == rd.ledger.Loaded
	if !rd.inSync {
		a.s.log.Debug("alerts: the engine does not hold every loaded file yet; sales rules wait", "held", held, "loaded", rd.ledger.Loaded)
	}
	dataRange := a.s.engine.DataRange()
	out := make([]outcome, len(rules))
	for i, r := range rules {
		switch {
		case r.Measure == api.MeasureHoursSinceFile:
			out[i] = staleness(rd.ledger)
		case r.Measure == api.MeasureRejectedShare:
			if out[i], err = rejectedShare(ctx, q, r, rd.ledger); err != nil {
				return nil, rd, err
			}
		case !rd.inSync:
			out[i].skip = true
		default:
			out[i] = a.salesMeasure(r, dataRange)
		}
	}
	return out, rd, tx.Commit(ctx)
}

// salesMeasure evaluates a rule on the sales: its window ends with the newest sale date
// loaded; a window of hours covers as many whole days as it takes (sale dates are days).
func (a *alerter) salesMeasure(r db.AlertRule, dataRange api.Window) outcome {
	if dataRange.To == "" {
		return outcome{} // no sales at all: nothing to tell
	}
	last, _ := time.Parse(time.DateOnly, dataRange.To)
	days := int(r.WindowSize)
	switch r.WindowUnit {
	case api.WindowLatestDay:
		days = 1
	case api.WindowHours:
		days = (days + 23) / 24
	}
	f := api.Filter{From: last.AddDate(0, 0, 1-days).Format(time.DateOnly), To: dataRange.To,
		Category: r.Category, Region: r.Region, Channel: r.Channel}
	q, err := kpi.ParseQuery(f)
	if err != nil {
		return outcome{} // cannot happen: the dates were written just above
	}
	sum := a.s.engine.Summarize(q)
	o := outcome{covered: sum.Window}
	cur, ok := salesValue(r.Measure, sum.Totals)
	if ok {
		o.measured = &cur
	}
	if r.Relative && sum.Previous.Reason == "" {
		if prev, ok := salesValue(r.Measure, sum.Previous.Totals); ok {
			o.previous = &prev
		}
	}
	o.value = compared(r, o.measured, o.previous)
	return o
}

// salesValue is a sales measure of totals; false when it is not defined (an average of no
// orders, a share of no sales).
func salesValue(measure string, t api.Totals) (float64, bool) {
	switch measure {
	case api.MeasureSales:
		return float64(t.Sales) / 100, true
	case api.MeasureOrders:
		return float64(t.Orders), true
	case api.MeasureAvgTicket:
		return float64(t.AvgTicket) / 100, t.Orders > 0
	case api.MeasureMarginPct:
		return t.MarginPct, t.Sales != 0
	case api.MeasureCanceledShare:
		return kpi.Percent(int64(t.CanceledSales), int64(t.Sales)), t.Sales != 0
	}
	return 0, false
}

// compared is what a rule compares with its threshold: the measure, or its change in %
// against the previous window.
func compared(r db.AlertRule, measured, previous *float64) *float64 {
	if !r.Relative {
		return measured
	}
	if measured == nil || previous == nil {
		return nil
	}
	change, ok := api.ChangePct(*measured, *previous)
	if !ok {
		return nil
	}
	return &change
}

// staleness is the hours since the newest loaded file finished, by the database's clock, to
// four decimals (a third of a second).
func staleness(l db.AlertLedgerRow) outcome {
	if !l.LastLoaded.Valid {
		return outcome{} // nothing loaded yet: no file is late
	}
	hours := math.Round(l.Now.Time.Sub(l.LastLoaded.Time).Hours()*1e4) / 1e4
	return outcome{value: &hours, measured: &hours,
		covered: api.Window{From: l.LastLoaded.Time.UTC().Format(time.RFC3339), To: l.Now.Time.UTC().Format(time.RFC3339)}}
}

// rejectedShare is the share of rows rejected by the files that finished in the rule's
// window: the last hours before now, or whole days (UTC) ending with the newest file's.
func rejectedShare(ctx context.Context, q *db.Queries, r db.AlertRule, l db.AlertLedgerRow) (outcome, error) {
	if !l.LastAttempt.Valid {
		return outcome{}, nil
	}
	var till time.Time
	var span time.Duration
	if r.WindowUnit == api.WindowHours {
		till, span = l.Now.Time, time.Duration(r.WindowSize)*time.Hour
	} else {
		y, m, d := l.LastAttempt.Time.UTC().Date()
		days := max(int(r.WindowSize), 1)
		till, span = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC), time.Duration(days)*24*time.Hour
	}
	share := func(since, till time.Time) (*float64, error) {
		row, err := q.AlertRejectedRows(ctx, db.AlertRejectedRowsParams{
			Since: pgtype.Timestamptz{Time: since, Valid: true}, Till: pgtype.Timestamptz{Time: till, Valid: true}})
		if err != nil || row.Total == 0 {
			return nil, err
		}
		v := kpi.Percent(row.Rejected, row.Total)
		return &v, nil
	}
	var o outcome
	var err error
	if o.measured, err = share(till.Add(-span), till); err != nil {
		return o, err
	}
	if r.Relative {
		if o.previous, err = share(till.Add(-2*span), till.Add(-span)); err != nil {
			return o, err
		}
	}
	o.value = compared(r, o.measured, o.previous)
	if r.WindowUnit == api.WindowHours {
		o.covered = api.Window{From: till.Add(-span).UTC().Format(time.RFC3339), To: till.UTC().Format(time.RFC3339)}
	} else {
		o.covered = api.Window{From: till.Add(-span).Format(time.DateOnly), To: till.AddDate(0, 0, -1).Format(time.DateOnly)}
	}
	return o, nil
}

// decide records an evaluation of a rule, and its firing or recovery when the value
// crossed the threshold: in one transaction, with the rule's row locked, so that servers
// evaluating at once take turns and the later ones find the transition made. An evaluation
// of an older revision of the rule, on fewer ledger rows, or earlier by the database's
// clock than the one recorded, changes nothing.
func (a *alerter) decide(ctx context.Context, r db.AlertRule, o outcome, rd reading) error {
	tx, err := a.s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	q := db.New(tx)
	st, err := q.LockAlertRule(ctx, r.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	at := rd.ledger.Now
	if st.Revision != r.Revision || rd.ledger.Attempts < st.Basis ||
		(rd.ledger.Attempts == st.Basis && st.EvaluatedAt.InfinityModifier == pgtype.Finite && at.Time.Before(st.EvaluatedAt.Time)) {
		return nil
	}
	firing, transitions := st.Firing, st.Transitions
	if o.value != nil && o.fires(r) != st.Firing {
		firing, transitions = !st.Firing, st.Transitions+1
	}
	err = q.RecordAlertEvaluation(ctx, db.RecordAlertEvaluationParams{
		ID: r.ID, Firing: firing, Transitions: transitions, EvaluatedAt: at,
		Value: float8(o.value), Measured: float8(o.measured), Previous: float8(o.previous),
		CoveredFrom: o.covered.From, CoveredTo: o.covered.To, Basis: rd.ledger.Attempts,
	})
	if err != nil {
		return err
	}
	if transitions != st.Transitions {
		kind := api.AlertResolved
		if firing {
			kind = api.AlertFiring
		}
		id, err := q.InsertAlertEvent(ctx, db.InsertAlertEventParams{
			RuleID: pgtype.Int8{Int64: r.ID, Valid: true}, Transition: transitions, RuleName: r.Name, Kind: kind,
			Measure: r.Measure, Comparison: r.Comparison, Threshold: r.Threshold, Relative: r.Relative,
			Value: float8(o.value), Measured: float8(o.measured), Previous: float8(o.previous),
			CoveredFrom: o.covered.From, CoveredTo: o.covered.To, Message: alertMessage(r, kind, o), At: at,
		})
		if err != nil {
			return err
		}
		if r.WebhookUrl != "" {
			if err := q.InsertAlertDelivery(ctx, db.InsertAlertDeliveryParams{EventID: id, Url: r.WebhookUrl}); err != nil {
				return err
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		a.s.log.Info("alerts: "+kind, "rule", r.ID, "name", r.Name, "event", id, "value", *o.value, "threshold", r.Threshold)
		a.wakeDeliveries()
		return nil
	}
	return tx.Commit(ctx)
}

func float8(v *float64) pgtype.Float8 {
	if v == nil {
		return pgtype.Float8{}
	}
	return pgtype.Float8{Float64: *v, Valid: true}
}
