package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"salespulse/server/api"
)

func TestAlertRulesAPI(t *testing.T) {
	clearAlerts(t)
	srv := startServer(t, Config{})
	base := srv.URL() + "/api/alerts"
	rule := api.AlertRule{Name: "Technology drop", Measure: api.MeasureSales, Window: "7d",
		Filter: api.Filter{Category: "Technology"}, Comparison: api.Below, Threshold: -20, Relative: true,
		WebhookURL: "https://127.0.0.1:1/hooks/abc?token=x"}
	code, created, e := sendRule(t, "POST", base, "", rule)
	if code != http.StatusCreated || created.ID == 0 {
		t.Fatalf("POST: %d %+v %+v", code, created, e)
	}
	if created.Name != rule.Name || created.Measure != rule.Measure || created.Window != "7d" || created.Filter != rule.Filter ||
		created.Comparison != rule.Comparison || created.Threshold != -20 || !created.Relative || created.WebhookURL != rule.WebhookURL ||
		created.Revision != 1 || created.CreatedAt.IsZero() || created.State.Firing {
		t.Errorf("created %+v from %+v", created, rule)
	}
	one := base + "/" + strconv.FormatInt(created.ID, 10)
	var got api.AlertRule
	if code := getJSON(t, one, &got); code != 200 || got.ID != created.ID || got.Name != rule.Name {
		t.Errorf("GET %s: %d %+v", one, code, got)
	}
	if all := rules(t, srv); len(all) != 1 {
		t.Errorf("GET /api/alerts: %d rules, want 1", len(all))
	}

	changed := rule
	changed.Window, changed.Threshold, changed.WebhookURL = "latest_day", 15.5, ""
	code, updated, e := sendRule(t, "PUT", one, "", changed)
	if code != 200 || updated.Revision != 2 || updated.Window != "latest_day" || updated.Threshold != 15.5 || updated.WebhookURL != "" {
		t.Errorf("PUT: %d %+v %+v", code, updated, e)
	}

	for _, c := range []struct {
		name  string
		rule  func(r *api.AlertRule)
		param string
	}{
		{"no name", func(r *api.AlertRule) { r.Name = " " }, "name"},
		{"unknown measure", func(r *api.AlertRule) { r.Measure = "profit" }, "measure"},
		{"no window", func(r *api.AlertRule) { r.Window = "" }, "window"},
		{"a window of weeks", func(r *api.AlertRule) { r.Window = "2w" }, "window"},
		{"a window of no days", func(r *api.AlertRule) { r.Window = "0d" }, "window"},
		{"a window of staleness", func(r *api.AlertRule) { r.Measure, r.Relative = api.MeasureHoursSinceFile, false }, "window"},
		{"dates in the filter", func(r *api.AlertRule) { r.Filter.From = "2024-01-01" }, "filter"},
		{"a category of files", func(r *api.AlertRule) { r.Measure = api.MeasureRejectedShare }, "filter.category"},
		{"a control character", func(r *api.AlertRule) { r.Filter.Region = "a\x01b" }, "filter.region"},
		{"no comparison", func(r *api.AlertRule) { r.Comparison = "" }, "comparison"},
		{"a relative staleness", func(r *api.AlertRule) {
			r.Measure, r.Window, r.Filter = api.MeasureHoursSinceFile, "", api.Filter{}
		}, "relative"},
		{"an ftp webhook", func(r *api.AlertRule) { r.WebhookURL = "ftp://example.com/x" }, "webhook_url"},
		{"a webhook without a host", func(r *api.AlertRule) { r.WebhookURL = "https:///x" }, "webhook_url"},
		{"a relative webhook", func(r *api.AlertRule) { r.WebhookURL = "/hooks/x" }, "webhook_url"},
		{"a webhook with a space", func(r *api.AlertRule) { r.WebhookURL = "https://example.com/a b" }, "webhook_url"},
		{"a webhook with a bad port", func(r *api.AlertRule) { r.WebhookURL = "https://example.com:99999/" }, "webhook_url"},
	} {
		r := rule
		c.rule(&r)
		code, _, e := sendRule(t, "POST", base, "", r)
		if code != http.StatusBadRequest || e.Error.Code != api.CodeBadParameter || e.Error.Param != c.param {
			t.Errorf("%s: %d %+v, want 400 bad_parameter on %s", c.name, code, e, c.param)
		}
	}
	for _, body := range []any{"not a rule", map[string]any{"name": "x", "colour": "red"}} {
		if code, _, e := sendRule(t, "POST", base, "", body); code != http.StatusBadRequest || e.Error.Param != "body" {
			t.Errorf("body %v: %d %+v, want 400 on body", body, code, e)
		}
	}
	staleness := api.AlertRule{Name: "No files", Measure: api.MeasureHoursSinceFile, Comparison: api.Above, Threshold: 24}
	if code, _, e := sendRule(t, "POST", base, "", staleness); code != http.StatusCreated {
		t.Errorf("a staleness rule: %d %+v", code, e)
	}

	if code, e := do(t, "PATCH", one); code != http.StatusMethodNotAllowed || e.Error.Code != api.CodeMethodNotAllowed {
		t.Errorf("PATCH: %d %+v", code, e)
	}
	if code, e := do(t, "GET", base+"/x"); code != http.StatusBadRequest || e.Error.Param != "id" {
		t.Errorf("GET a rule x: %d %+v", code, e)
	}
	if code, _ := do(t, "DELETE", one); code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if code, e := do(t, m, one); code != http.StatusNotFound || e.Error.Code != api.CodeNotFound {
			t.Errorf("%s a deleted rule: %d %+v", m, code, e)
		}
	}
	if code, _, _ := sendRule(t, "PUT", one, "", rule); code != http.StatusNotFound {
		t.Errorf("PUT a deleted rule: %d", code)
	}
	var page api.AlertEventsPage
	if code := getJSON(t, base+"/events", &page); code != 200 || page.Events == nil {
		t.Errorf("GET events: %d %+v", code, page)
	}
	if code, e := do(t, "GET", base+"/events?limit=0"); code != http.StatusBadRequest || e.Error.Param != "limit" {
		t.Errorf("events?limit=0: %d %+v", code, e)
	}
}

func TestAlertRulesNeedTheToken(t *testing.T) {
	clearAlerts(t)
	srv := startServer(t, Config{APIToken: "s3cret"})
	rule := api.AlertRule{Name: "No files", Measure: api.MeasureHoursSinceFile, Comparison: api.Above, Threshold: 24}
	for _, m := range []string{"POST"} {
		if code, _, e := sendRule(t, m, srv.URL()+"/api/alerts", "", rule); code != http.StatusUnauthorized || e.Error.Code != api.CodeUnauthorized {
			t.Errorf("%s without the token: %d %+v", m, code, e)
		}
	}
	code, created, _ := sendRule(t, "POST", srv.URL()+"/api/alerts", "s3cret", rule)
	if code != http.StatusCreated {
		t.Fatalf("POST with the token: %d", code)
	}
	one := srv.URL() + "/api/alerts/" + strconv.FormatInt(created.ID, 10)
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		if code, _, _ := sendRule(t, m, one, "", rule); code != http.StatusUnauthorized {
			t.Errorf("%s without the token: %d", m, code)
		}
	}
	if code, _ := do(t, "GET", srv.URL()+"/api/alerts/events"); code != http.StatusUnauthorized {
		t.Errorf("events without the token: %d", code)
	}
	if code, _, _ := sendRule(t, "DELETE", one, "s3cret", nil); code != http.StatusNoContent {
		t.Errorf("DELETE with the token: %d", code)
	}
	// A page of another origin may not change rules, even with the token.
	req, _ := http.NewRequest("DELETE", one, strings.NewReader(""))
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Authorization", "Bearer s3cret")
	if res := send(t, req); res.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE from another origin: %d", res.StatusCode)
	}
}
