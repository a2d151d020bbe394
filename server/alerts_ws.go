package server

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// publish tells this server's WebSocket clients what changed: the rules and their state
// when they differ from what was last sent, and the events recorded since, by any server.
func (a *alerter) publish(ctx context.Context) error {
	q := db.New(a.s.pool)
	a.mu.Lock()
	seen := a.seen
	a.mu.Unlock()
	if seen < 0 { // the first look: the history before this server started is not news
		last, err := q.LastAlertEvent(ctx)
		if err != nil {
			return err
		}
		seen = last
	}
	rows, err := q.ListAlertRules(ctx)
	if err != nil {
		return err
	}
	events, err := q.ListAlertEvents(ctx, db.ListAlertEventsParams{After: seen, Lim: 100})
	if err != nil {
		return err
	}
	msg := api.Alerts{Rules: rulesOf(rows)}
	current, _ := json.Marshal(api.Message{Type: api.TypeAlerts, Alerts: &msg})
	for _, e := range slices.Backward(events) {
		msg.Events = append(msg.Events, eventOf(e))
		seen = max(seen, e.ID)
	}
	if len(rows) == 0 {
		current = nil // clients that connect now have nothing to be told
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	changed := !bytes.Equal(current, a.current) // rules gone: sent once, empty
	a.current, a.seen = current, seen
	if !changed && len(msg.Events) == 0 {
		return nil
	}
	b, _ := json.Marshal(api.Message{Type: api.TypeAlerts, Alerts: &msg})
	a.s.hub.sendAll(b)
	return nil
}

// greet sends a client that just connected the rules and their state, when there are any.
func (a *alerter) greet(c *client) {
	a.mu.Lock()
	msg := a.current
	a.mu.Unlock()
	if msg != nil {
		a.s.hub.send(c, msg)
	}
}

// sendAll queues a message of the server's own for every client, whatever its filter.
func (h *hub) sendAll(raw []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.byFilter {
		for c := range set {
			if !c.gone {
				h.enqueueLocked(c, frame{raw: raw})
			}
		}
	}
}
