package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// webhookParallel bounds the POSTs one server makes at once: a slow webhook holds one.
const webhookParallel = 4

// wakeDeliveries tells the delivery loop that one may be due.
func (a *alerter) wakeDeliveries() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// deliverLoop POSTs the events of rules with a webhook. Deliveries are a queue in the
// database: a server leases the one due first (others skip it), POSTs it, and records the
// outcome; a failed POST is tried again after a delay doubling from WebhookBackoff, up to
// WebhookAttempts, then recorded failed. A server that stops mid-attempt leaves its lease to
// expire, and another tries again: a webhook sees an event at least once, twice only then
// (the event id in the body and the Idempotency-Key header tell the repeat).
func (a *alerter) deliverLoop(ctx context.Context) {
	client := &http.Client{
		Timeout: a.cfg.WebhookTimeout,
		// A redirect is an answer, not followed: a webhook is a URL people gave, not one a
		// server may send elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	select {
	case <-ctx.Done():
		return
	case <-a.tables:
	}
	sem := make(chan struct{}, webhookParallel)
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	for {
		for leased := true; leased && ctx.Err() == nil; {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			var d db.LeaseAlertDeliveryRow
			var err error
			d, leased, err = a.lease(ctx)
			if !leased {
				<-sem
				if err != nil {
					a.warn(ctx, "alerts: reading the webhook deliveries failed", err)
				}
				break
			}
			inFlight.Go(func() {
				defer func() { <-sem }()
				a.attempt(ctx, client, d)
			})
		}
		wait := a.cfg.Interval
		if next, err := db.New(a.s.pool).NextAlertDelivery(ctx); err == nil && next.Valid {
			wait = min(wait, max(time.Until(next.Time), 10*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-time.After(wait):
		}
	}
}

// lease takes the delivery due first; false when none is.
func (a *alerter) lease(ctx context.Context) (db.LeaseAlertDeliveryRow, bool, error) {
	lease := a.cfg.WebhookTimeout + 10*time.Second // outlasts the attempt, which the client's timeout ends
	d, err := db.New(a.s.pool).LeaseAlertDelivery(ctx, lease.Seconds())
	if errors.Is(err, pgx.ErrNoRows) {
		return d, false, nil
	}
	return d, err == nil, err
}

// attempt POSTs an event to its webhook once and records how it went.
func (a *alerter) attempt(ctx context.Context, client *http.Client, d db.LeaseAlertDeliveryRow) {
	q := db.New(a.s.pool)
	status, postErr := a.post(ctx, client, q, d)
	if ctx.Err() != nil {
		return // stopping: the lease expires and a server tries again
	}
	outcome := db.FinishAlertAttemptParams{EventID: d.EventID, Attempts: d.Attempts, Status: "delivered", LastStatus: int32(status)}
	switch {
	case postErr == nil:
	case int(d.Attempts) >= a.cfg.WebhookAttempts:
		outcome.Status, outcome.LastError = "failed", clipError(postErr)
	default:
		outcome.Status, outcome.LastError = "pending", clipError(postErr)
		outcome.RetrySeconds = min(a.cfg.WebhookBackoff<<(d.Attempts-1), 10*time.Minute).Seconds()
	}
	host := ""
	if u, err := url.Parse(d.Url); err == nil {
		host = u.Host // the rest of a webhook URL is often its secret
	}
	log := a.s.log.With("event", d.EventID, "webhook_host", host, "attempt", d.Attempts)
	switch outcome.Status {
	case "delivered":
		log.Info("alerts: webhook delivered", "status", status)
	case "failed":
		log.Warn("alerts: webhook failed for good", "err", postErr)
	default:
		log.Warn("alerts: webhook failed; trying again", "err", postErr, "in", time.Duration(outcome.RetrySeconds*float64(time.Second)))
	}
	if err := q.FinishAlertAttempt(ctx, outcome); err != nil {
		a.warn(ctx, "alerts: recording a webhook attempt failed", err, "event", d.EventID)
	}
	a.wakeDeliveries() // the next one may be due already
}

// post sends the event; an answer other than 2xx is an error. It returns the HTTP status (0
// when there was no answer).
func (a *alerter) post(ctx context.Context, client *http.Client, q *db.Queries, d db.LeaseAlertDeliveryRow) (int, error) {
	rows, err := q.ListAlertEvents(ctx, db.ListAlertEventsParams{After: d.EventID - 1, Before: d.EventID + 1, Lim: 1})
	if err != nil || len(rows) == 0 {
		return 0, fmt.Errorf("reading the event: %w", cmp.Or(err, pgx.ErrNoRows))
	}
	ev := eventOf(rows[0])
	ev.Delivery = nil
	body, _ := json.Marshal(api.AlertWebhook{Text: ev.Message, Event: ev})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "salespulse-alerts")
	req.Header.Set("Idempotency-Key", "salespulse-alert-"+strconv.FormatInt(ev.ID, 10))
	res, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a secret: the log and the API show the host only
		}
		return 0, err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode/100 != 2 {
		msg := "answered " + res.Status
		if loc := res.Header.Get("Location"); res.StatusCode/100 == 3 && loc != "" {
			msg += ", a redirect, which is not followed"
		}
		if len(bytes.TrimSpace(answer)) > 0 {
			msg += ": " + string(bytes.TrimSpace(answer))
		}
		return res.StatusCode, errors.New(msg)
	}
	return res.StatusCode, nil
}

func clipError(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
