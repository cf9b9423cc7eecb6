// Package promsource reads an SLO's burn rates, error budget and alerts from a
// Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir or slokit's lab).
package promsource

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/slo"
)

// Source implements chaos.Signals and chaos.BudgetReader over the Prometheus HTTP API,
// reading the series and alert labels named in slo/names.go.
type Source struct {
	api v1.API
	url string
	// alerts lists the alerts: api, or the alerts API's own client (Thanos Ruler).
	alerts    v1.API
	alertsURL string
}

var (
	_ chaos.Signals       = (*Source)(nil)
	_ chaos.BudgetReader  = (*Source)(nil)
	_ chaos.Pinger        = (*Source)(nil)
	_ chaos.HistoryReader = (*Source)(nil)
)

// New returns a Source for the Prometheus at url (like http://127.0.0.1:9090).
func New(url string) (*Source, error) { return NewSplit(url, "") }

// NewSplit returns a Source that queries series at url and reads alerts from the
// /api/v1/alerts of alertsURL: Thanos Query and Thanos Ruler, whose alerts Query does
// not list. An empty alertsURL means url.
func NewSplit(url, alertsURL string) (*Source, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", url, err)
	}
	s := &Source{api: v1.NewAPI(c), url: url, alerts: v1.NewAPI(c), alertsURL: url}
	if alertsURL != "" && alertsURL != url {
		ac, err := api.NewClient(api.Config{Address: alertsURL})
		if err != nil {
			return nil, fmt.Errorf("alerts API client for %s: %w", alertsURL, err)
		}
		s.alerts, s.alertsURL = v1.NewAPI(ac), alertsURL
	}
	return s, nil
}

// selector matches o's series: {slokit_service="…",slokit_slo="…"}.
func selector(metric string, o slo.Objective) string {
	return fmt.Sprintf("%s{%s=%q,%s=%q}", metric, slo.LabelService, o.Service, slo.LabelSLO, o.Name)
}

func (s *Source) query(ctx context.Context, q string) (model.Vector, error) {
	v, _, _, err := s.api.Query(ctx, q, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("querying %s at %s: %w", q, s.url, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("querying %s at %s: want an instant vector, got %s", q, s.url, v.Type())
	}
	return vec, nil
}

// Ping runs a trivial query, and lists the alerts when they come from elsewhere: an
// error says which URL failed, how, and what to check.
func (s *Source) Ping(ctx context.Context) error {
	if _, _, _, err := s.api.Query(ctx, "vector(1)", time.Time{}); err != nil {
		return fmt.Errorf("prometheus at %s does not answer: %v; check signals.prometheus in the game day (or --prometheus) and that Prometheus runs and is reachable from here", s.url, err)
	}
	if s.alertsURL != s.url {
		if _, err := s.alerts.Alerts(ctx); err != nil {
			return fmt.Errorf("the alerts API at %s does not answer: %v; check signals.alertsURL in the game day (Thanos Ruler's HTTP address) and that it runs and is reachable from here", s.alertsURL, err)
		}
	}
	return nil
}

// HistoryCovers reports whether o's SLI was recorded d ago: the total-events rate of its
// base window (slokit:sli_total:rate, the one recorded series of it) read with offset d.
func (s *Source) HistoryCovers(ctx context.Context, o slo.Objective, d time.Duration) (bool, error) {
	w := slo.FormatWindow(o.BaseWindow())
	q := fmt.Sprintf("count(%s{%s=%q,%s=%q,%s=%q} offset %s)", slo.MetricTotalRate,
		slo.LabelService, o.Service, slo.LabelSLO, o.Name, slo.LabelWindow, w, model.Duration(d))
	vec, err := s.query(ctx, q)
	if err != nil {
		return false, err
	}
	return len(vec) > 0, nil
}

// BurnRates returns the latest slokit:slo_burn:rate of o per window (its slokit_window
// label, parsed). Windows without traffic (NaN: no events, so no ratio) and series
// without a window label slokit could have written are left out.
func (s *Source) BurnRates(ctx context.Context, o slo.Objective) (map[time.Duration]float64, error) {
	vec, err := s.query(ctx, selector(slo.MetricBurnRate, o))
	if err != nil {
		return nil, err
	}
	out := make(map[time.Duration]float64, len(vec))
	for _, smp := range vec {
		w, err := slo.ParseWindow(string(smp.Metric[slo.LabelWindow]))
		v := float64(smp.Value)
		if err != nil || w <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		out[w] = v
	}
	return out, nil
}

// BudgetRemaining returns slokit:slo_error_budget_remaining:ratio of o.
func (s *Source) BudgetRemaining(ctx context.Context, o slo.Objective) (float64, error) {
	q := selector(slo.MetricBudgetRemaining, o)
	vec, err := s.query(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(vec) == 0 || math.IsNaN(float64(vec[0].Value)) {
		return 0, fmt.Errorf("%s at %s: no value; are slokit's rules loaded?", q, s.url)
	}
	return float64(vec[0].Value), nil
}

// Alerts returns the pending and firing alerts labelled with o's service and SLO. The
// severity comes from the tier whose long window is the alert's slokit_window, so a
// relabelled severity (severity: critical) is still recognised; the severity label is
// the fallback.
func (s *Source) Alerts(ctx context.Context, o slo.Objective) ([]chaos.AlertState, error) {
	res, err := s.alerts.Alerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading alerts from %s: %w", s.alertsURL, err)
	}
	tiers := map[time.Duration]slo.SeverityName{}
	for _, w := range o.Windows() {
		tiers[w.Long] = w.Severity
	}
	var out []chaos.AlertState
	for _, a := range res.Alerts {
		l := a.Labels
		if string(l[slo.LabelService]) != o.Service || string(l[slo.LabelSLO]) != o.Name {
			continue
		}
		if a.State != v1.AlertStatePending && a.State != v1.AlertStateFiring {
			continue
		}
		w, _ := slo.ParseWindow(string(l[slo.LabelWindow])) // 0 when absent or not slokit's
		sev, ok := tiers[w]
		if !ok {
			sev = slo.SeverityName(l[slo.LabelSeverity])
		}
		labels := make(map[string]string, len(l))
		for k, v := range l {
			labels[string(k)] = string(v)
		}
		out = append(out, chaos.AlertState{Name: string(l[model.AlertNameLabel]), Severity: sev, Window: w,
			State: string(a.State), ActiveAt: a.ActiveAt, Labels: labels})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity < out[j].Severity
		}
		return out[i].Window < out[j].Window
	})
	return out, nil
}

// Series is one labelled timeline from a range query.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// Range runs a range query, for report timelines read after a run.
func (s *Source) Range(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]Series, error) {
	v, _, _, err := s.api.QueryRange(ctx, q, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("range query %s at %s: %w", q, s.url, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("range query %s: want a matrix, got %s", q, v.Type())
	}
	out := make([]Series, 0, len(m))
	for _, ss := range m {
		sr := Series{Labels: map[string]string{}}
		for k, v := range ss.Metric {
			sr.Labels[string(k)] = string(v)
		}
		for _, p := range ss.Values {
			sr.Points = append(sr.Points, Point{T: p.Timestamp.Time(), V: float64(p.Value)})
		}
		out = append(out, sr)
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i].Labels) < fmt.Sprint(out[j].Labels) })
	return out, nil
}

// String names the source for messages.
func (s *Source) String() string {
	if s.alertsURL != s.url {
		return "prometheus " + strings.TrimSuffix(s.url, "/") + ", alerts " + strings.TrimSuffix(s.alertsURL, "/")
	}
	return "prometheus " + strings.TrimSuffix(s.url, "/")
}
