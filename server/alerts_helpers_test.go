package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"salespulse/internal/poll"
	"salespulse/server/api"
)

// clearAlerts forgets every rule, event and delivery now and after the test, so that other
// tests' clients hear of no rules.
func clearAlerts(t *testing.T) {
	t.Helper()
	clear := func() {
		if _, err := testDB.Pool.Exec(context.Background(), "TRUNCATE alert_deliveries, alert_events, alert_rules RESTART IDENTITY"); err != nil {
			t.Errorf("clear alerts: %v", err)
		}
	}
	clear()
	t.Cleanup(clear)
}

// sendRule sends a rule with method to url and decodes the answer.
func sendRule(t *testing.T, method, url, token string, rule any) (int, api.AlertRule, api.ErrorResponse) {
	t.Helper()
	b, err := json.Marshal(rule)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var out api.AlertRule
	var e api.ErrorResponse
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %s", method, url, res.StatusCode, body)
		}
	} else if len(body) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, body)
		}
	}
	return res.StatusCode, out, e
}

// createRule creates a rule and returns it.
func createRule(t *testing.T, srv *Server, rule api.AlertRule) api.AlertRule {
	t.Helper()
	code, out, e := sendRule(t, "POST", srv.URL()+"/api/alerts", "", rule)
	if code != http.StatusCreated {
		t.Fatalf("create %+v: %d %+v", rule, code, e)
	}
	return out
}

// rules is GET /api/alerts, by id.
func rules(t *testing.T, srv *Server) map[int64]api.AlertRule {
	t.Helper()
	var page struct{ Rules []api.AlertRule }
	if code := getJSON(t, srv.URL()+"/api/alerts", &page); code != 200 {
		t.Fatalf("GET /api/alerts: %d", code)
	}
	out := map[int64]api.AlertRule{}
	for _, r := range page.Rules {
		out[r.ID] = r
	}
	return out
}

// events is GET /api/alerts/events, oldest first.
func events(t *testing.T, srv *Server) []api.AlertEvent {
	t.Helper()
	var page api.AlertEventsPage
	if code := getJSON(t, srv.URL()+"/api/alerts/events?limit=500", &page); code != 200 {
		t.Fatalf("GET /api/alerts/events: %d", code)
	}
	for i, j := 0, len(page.Events)-1; i < j; i, j = i+1, j-1 {
		page.Events[i], page.Events[j] = page.Events[j], page.Events[i]
	}
	return page.Events
}

// evaluatedAfter waits until every rule was evaluated on the ledger as it is now: after
// files the test loaded (or rules it changed), the state of every rule is settled.
func evaluatedAfter(t *testing.T, srv *Server) map[int64]api.AlertRule {
	t.Helper()
	attempts := testDB.Int(t, "SELECT count(*) FROM ingested_files")
	var out map[int64]api.AlertRule
	poll.Until(t, "every rule evaluated on the ledger's newest file", 10*time.Second, func() bool {
		if testDB.Int(t, "SELECT count(*) FROM alert_rules WHERE basis < $1", attempts) > 0 {
			return false
		}
		out = rules(t, srv)
		return true
	})
	return out
}

// hook is a webhook receiver: it records every POST and answers with the status given.
type hook struct {
	mu       sync.Mutex
	status   int
	received []received
	url      string
	block    chan struct{} // when not nil, requests wait for it to close
}

type received struct {
	body   api.AlertWebhook
	header http.Header
	at     time.Time
}

func newHook(t *testing.T, status int) *hook {
	t.Helper()
	h := &hook{status: status}
	ts := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body api.AlertWebhook
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("webhook body is not the event: %v: %s", err, b)
		}
		h.mu.Lock()
		h.received = append(h.received, received{body, r.Header.Clone(), time.Now()})
		status, block := h.status, h.block
		h.mu.Unlock()
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String() + "/hooks/salespulse?key=s3cret"
	go func() { _ = ts.Serve(ln) }()
	t.Cleanup(func() {
		h.mu.Lock()
		if h.block != nil {
			select {
			case <-h.block:
			default:
				close(h.block)
			}
		}
		h.mu.Unlock()
		_ = ts.Close()
	})
	return h
}

func (h *hook) posts() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.received...)
}
