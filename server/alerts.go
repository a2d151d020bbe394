package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"salespulse/queries/db"
	"salespulse/server/api"
)

// Limits of an alert rule as the API takes it.
const (
	maxRuleBody   = 16 << 10
	maxWebhookURL = 2048
	maxRules      = 1000 // every rule is evaluated after each file: a bound on that work
)

// alertRoutes registers /api/alerts: the rules (GET, POST; GET, PUT, DELETE of one) and their
// history. Each path answers the other methods with a JSON 405 naming the ones it takes.
func (s *Server) alertRoutes(mux *http.ServeMux) {
	for _, r := range []struct {
		path    string
		methods []string
		handler []handlerFunc
		// refused are the methods answered 405 when a pattern of the path alone would
		// overlap another route's (the events are also a rule id's shape)
		refused []string
	}{
		{"/api/alerts", []string{"GET", "POST"}, []handlerFunc{s.handleAlertRules, s.handleCreateAlertRule}, nil},
		{"/api/alerts/events", []string{"GET"}, []handlerFunc{s.handleAlertEvents}, []string{"POST", "PUT", "DELETE", "PATCH"}},
		{"/api/alerts/{id}", []string{"GET", "PUT", "DELETE"}, []handlerFunc{s.handleAlertRule, s.handleUpdateAlertRule, s.handleDeleteAlertRule}, nil},
	} {
		for i, m := range r.methods {
			mux.Handle(m+" "+r.path, s.handle(s.protect(r.handler[i])))
		}
		allow := strings.Join(r.methods, ", ")
		notAllowed := s.handle(func(w http.ResponseWriter, req *http.Request) error {
			w.Header().Set("Allow", allow)
			return &apiError{http.StatusMethodNotAllowed, api.Error{Code: api.CodeMethodNotAllowed, Message: r.path + " answers " + allow + " only"}}
		})
		if r.refused == nil {
			mux.Handle(r.path, notAllowed)
		}
		for _, m := range r.refused {
			mux.Handle(m+" "+r.path, notAllowed)
		}
	}
}

// handleAlertRules is GET /api/alerts: every rule with its state.
func (s *Server) handleAlertRules(w http.ResponseWriter, r *http.Request) error {
	rows, err := db.New(s.pool).ListAlertRules(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Rules []api.AlertRule `json:"rules"`
	}{rulesOf(rows)})
	return nil
}

// handleAlertRule is GET /api/alerts/{id}.
func (s *Server) handleAlertRule(w http.ResponseWriter, r *http.Request) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	row, err := db.New(s.pool).GetAlertRule(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("no alert rule %d", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ruleOf(row))
	return nil
}

// handleCreateAlertRule is POST /api/alerts: a new rule, evaluated at once.
func (s *Server) handleCreateAlertRule(w http.ResponseWriter, r *http.Request) error {
	p, err := readRule(w, r)
	if err != nil {
		return err
	}
	q := db.New(s.pool)
	rules, err := q.ListAlertRules(r.Context())
	if err != nil {
		return err
	}
	if len(rules) >= maxRules {
		return badParam("body", "there are %d alert rules already, as many as the server evaluates", len(rules))
	}
	row, err := q.CreateAlertRule(r.Context(), db.CreateAlertRuleParams(p))
	if err != nil {
		return err
	}
	s.log.Info("alerts: rule created", "rule", row.ID, "name", row.Name, "measure", row.Measure)
	s.alerts.changed()
	w.Header().Set("Location", "/api/alerts/"+strconv.FormatInt(row.ID, 10))
	writeJSON(w, http.StatusCreated, ruleOf(row))
	return nil
}

// handleUpdateAlertRule is PUT /api/alerts/{id}: the rule replaced, its state kept until
// the next evaluation decides on the new revision.
func (s *Server) handleUpdateAlertRule(w http.ResponseWriter, r *http.Request) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	p, err := readRule(w, r)
	if err != nil {
		return err
	}
	row, err := db.New(s.pool).UpdateAlertRule(r.Context(), db.UpdateAlertRuleParams{ID: id, Name: p.Name, Measure: p.Measure,
		WindowUnit: p.WindowUnit, WindowSize: p.WindowSize, Category: p.Category, Region: p.Region, Channel: p.Channel,
		Comparison: p.Comparison, Threshold: p.Threshold, Relative: p.Relative, WebhookUrl: p.WebhookUrl})
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("no alert rule %d", id)
	}
	if err != nil {
		return err
	}
	s.log.Info("alerts: rule changed", "rule", row.ID, "revision", row.Revision)
	s.alerts.changed()
	writeJSON(w, http.StatusOK, ruleOf(row))
	return nil
}

// handleDeleteAlertRule is DELETE /api/alerts/{id}; its history stays.
func (s *Server) handleDeleteAlertRule(w http.ResponseWriter, r *http.Request) error {
	id, err := ruleID(r)
	if err != nil {
		return err
	}
	n, err := db.New(s.pool).DeleteAlertRule(r.Context(), id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound("no alert rule %d", id)
	}
	s.log.Info("alerts: rule deleted", "rule", id)
	s.alerts.changed()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAlertEvents is GET /api/alerts/events?limit=N&before=ID&rule=ID: the firings and
// recoveries, newest first, with their webhook deliveries.
func (s *Server) handleAlertEvents(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", defaultPage, 1, maxPage)
	if err != nil {
		return err
	}
	before, err := intParam(r, "before", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	rule, err := intParam(r, "rule", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	rows, err := db.New(s.pool).ListAlertEvents(r.Context(), db.ListAlertEventsParams{Before: before, RuleID: rule, Lim: int32(limit + 1)})
	if err != nil {
		return err
	}
	page := api.AlertEventsPage{Events: make([]api.AlertEvent, 0, min(len(rows), int(limit)))}
	for i, row := range rows {
		if i == int(limit) {
			page.NextBefore = page.Events[len(page.Events)-1].ID
			break
		}
		page.Events = append(page.Events, eventOf(row))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func ruleID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, badParam("id", "the rule id must be a positive whole number, not %q", clip(r.PathValue("id")))
	}
	return id, nil
}

// readRule reads and checks the rule in a request body.
func readRule(w http.ResponseWriter, r *http.Request) (db.CreateAlertRuleParams, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRuleBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return db.CreateAlertRuleParams{}, &apiError{http.StatusRequestEntityTooLarge, api.Error{Code: api.CodeTooLarge,
				Message: fmt.Sprintf("an alert rule is at most %d bytes of JSON", maxRuleBody)}}
		}
		return db.CreateAlertRuleParams{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var rule api.AlertRule
	if err := dec.Decode(&rule); err != nil {
		return db.CreateAlertRuleParams{}, badParam("body", "the body must be an alert rule in JSON: %s", clip(err.Error()))
	}
	if dec.More() {
		return db.CreateAlertRuleParams{}, badParam("body", "the body must be one alert rule")
	}
	return checkRule(rule)
}

// checkRule validates a rule from the API; a client sets only the fields from Name to
// WebhookURL (the others are the server's and ignored).
func checkRule(r api.AlertRule) (db.CreateAlertRuleParams, error) {
	p := db.CreateAlertRuleParams{Name: strings.TrimSpace(r.Name), Measure: r.Measure, Category: r.Filter.Category,
		Region: r.Filter.Region, Channel: r.Filter.Channel, Comparison: r.Comparison, Threshold: r.Threshold,
		Relative: r.Relative, WebhookUrl: strings.TrimSpace(r.WebhookURL)}
	if p.Name == "" {
		return p, badParam("name", "name is required")
	}
	if err := checkValue("name", p.Name); err != nil {
		return p, err
	}
	if !slices.Contains(api.Measures, p.Measure) {
		return p, badParam("measure", "measure must be one of %s, not %q", strings.Join(api.Measures, ", "), clip(p.Measure))
	}
	win, err := api.ParseAlertWindow(r.Window)
	if err != nil {
		return p, badParam("window", "%s", err.Error())
	}
	switch {
	case p.Measure == api.MeasureHoursSinceFile && win.Unit != "":
		return p, badParam("window", "hours_since_file has no window: it counts the hours since the newest loaded file")
	case p.Measure != api.MeasureHoursSinceFile && win.Unit == "":
		return p, badParam("window", "window is required: latest_day, a number of days such as 7d, or of hours such as 24h")
	}
	p.WindowUnit, p.WindowSize = win.Unit, int32(win.Size)
	if r.Filter.From != "" || r.Filter.To != "" {
		return p, badParam("filter", "a rule's filter takes category, region and channel; its dates come from its window")
	}
	for _, f := range []struct{ name, value string }{{"filter.category", p.Category}, {"filter.region", p.Region}, {"filter.channel", p.Channel}} {
		if f.value != "" && api.FileMeasure(p.Measure) {
			return p, badParam(f.name, "%s is read from the files, which have no %s", p.Measure, strings.TrimPrefix(f.name, "filter."))
		}
		if err := checkValue(f.name, f.value); err != nil {
			return p, err
		}
	}
	if p.Comparison != api.Above && p.Comparison != api.Below {
		return p, badParam("comparison", "comparison must be above or below, not %q", clip(p.Comparison))
	}
	if math.IsNaN(p.Threshold) || math.IsInf(p.Threshold, 0) || math.Abs(p.Threshold) > 1e15 {
		return p, badParam("threshold", "threshold must be a number within ±1e15")
	}
	if p.Relative && p.Measure == api.MeasureHoursSinceFile {
		return p, badParam("relative", "hours_since_file has no previous window to compare with")
	}
	if p.WebhookUrl != "" {
		if err := checkWebhookURL(p.WebhookUrl); err != nil {
			return p, badParam("webhook_url", "%s", err.Error())
		}
	}
	return p, nil
}

// checkWebhookURL accepts an absolute http or https URL with a host.
func checkWebhookURL(s string) error {
	if len(s) > maxWebhookURL {
		return fmt.Errorf("webhook_url is at most %d characters", maxWebhookURL)
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f {
			return errors.New("webhook_url must not contain spaces or control characters")
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return errors.New("webhook_url must be an http:// or https:// URL with a host")
	}
	if u.Port() != "" {
		if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
			return errors.New("webhook_url has a bad port")
		}
	}
	return nil
}

func rulesOf(rows []db.AlertRule) []api.AlertRule {
	out := make([]api.AlertRule, 0, len(rows))
	for _, r := range rows {
		out = append(out, ruleOf(r))
	}
	return out
}

func ruleOf(r db.AlertRule) api.AlertRule {
	return api.AlertRule{
		ID: r.ID, Name: r.Name, Measure: r.Measure,
		Window:     api.AlertWindow{Unit: r.WindowUnit, Size: int(r.WindowSize)}.String(),
		Filter:     api.Filter{Category: r.Category, Region: r.Region, Channel: r.Channel},
		Comparison: r.Comparison, Threshold: r.Threshold, Relative: r.Relative, WebhookURL: r.WebhookUrl,
		Revision: int(r.Revision), CreatedAt: r.CreatedAt.Time.UTC(), UpdatedAt: r.UpdatedAt.Time.UTC(),
		State: api.AlertState{
			Firing: r.Firing, Since: timePtr(r.ChangedAt),
			Value: floatPtr(r.Value), Measured: floatPtr(r.Measured), Previous: floatPtr(r.Previous),
			Covered:     api.Window{From: r.CoveredFrom, To: r.CoveredTo},
			EvaluatedAt: finiteTime(r.EvaluatedAt),
		},
	}
}

func eventOf(e db.ListAlertEventsRow) api.AlertEvent {
	out := api.AlertEvent{
		ID: e.ID, RuleID: e.RuleID.Int64, RuleName: e.RuleName, Kind: e.Kind, Measure: e.Measure,
		Comparison: e.Comparison, Threshold: e.Threshold, Relative: e.Relative,
		Value: floatPtr(e.Value), Measured: floatPtr(e.Measured), Previous: floatPtr(e.Previous),
		Covered: api.Window{From: e.CoveredFrom, To: e.CoveredTo}, Message: e.Message, At: e.At.Time.UTC(),
	}
	if e.DeliveryUrl.Valid {
		out.Delivery = &api.Delivery{URL: e.DeliveryUrl.String, Status: e.DeliveryStatus.String,
			Attempts: int(e.DeliveryAttempts.Int32), LastStatus: int(e.DeliveryLastStatus.Int32),
			LastError: e.DeliveryLastError.String, FinishedAt: timePtr(e.DeliveryFinishedAt)}
	}
	return out
}

func floatPtr(f pgtype.Float8) *float64 {
	if !f.Valid {
		return nil
	}
	return &f.Float64
}

// finiteTime is a time that may be -infinity (never), as a pointer.
func finiteTime(t pgtype.Timestamptz) *time.Time {
	if t.InfinityModifier != pgtype.Finite {
		return nil
	}
	return timePtr(t)
}
