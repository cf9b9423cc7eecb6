package serve

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

// Detail is one SLO's page, also served as JSON by /api/slo/{service}/{slo}.
type Detail struct {
	Row
	GeneratedAt   time.Time         `json:"generatedAt"`
	Prometheus    string            `json:"prometheus"`
	Range         model.Duration    `json:"range"`
	Error         string            `json:"error,omitempty"`
	ObjectiveText string            `json:"objectiveText"`
	SLIKind       string            `json:"sliKind"`
	Labels        map[string]string `json:"labels"`
	// BurnRates are the tiers' windows over the range; BudgetRemaining covers the period;
	// SLI is the good-event ratio on the shortest window over the range.
	BurnRates     []NamedSeries `json:"burnRates"`
	BudgetHistory []Point       `json:"budgetHistory"`
	SLI           []Point       `json:"sli"`
	AlertHistory  []AlertSpan   `json:"alertHistory"`
	// AlertStep is the alert history's resolution: a span covers each step in which the
	// tier was seen pending or firing.
	AlertStep model.Duration `json:"alertStep"`
	// BudgetSpan is how far back BudgetHistory reaches: the period, or the history
	// Prometheus holds when that is shorter.
	BudgetSpan    model.Duration  `json:"budgetSpan"`
	Predictions   []PredictionRow `json:"predictions"`
	Rules         string          `json:"rules"`
	Runbook       string          `json:"runbook,omitempty"`
	Dashboard     string          `json:"dashboard,omitempty"`
	GameDays      []store.Run     `json:"gameDays"`
	GameDaysError string          `json:"gameDaysError,omitempty"`
	// LastBacktest is the SLO's latest backtest from the store (`slokit test --store`,
	// or run by this server), else the last one this server ran; nil when none.
	LastBacktest      *BacktestRun `json:"lastBacktest"`
	LastBacktestError string       `json:"lastBacktestError,omitempty"`
	Queries           int          `json:"queries"`

	BurnChart, BudgetChart, SLIChart template.HTML `json:"-"`
}

// NamedSeries is one line of a chart.
type NamedSeries struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// AlertSpan is one stretch of time an alert tier was pending or firing; To is nil while
// it still is (at the end of the range).
type AlertSpan struct {
	Alert string     `json:"alert"`
	Tier  string     `json:"tier"`
	State string     `json:"state"`
	From  time.Time  `json:"from"`
	To    *time.Time `json:"to,omitempty"`
}

// PredictionRow is what the alert maths predicts for one tier under a total outage.
type PredictionRow struct {
	Tier           string  `json:"tier"`
	BurnRate       float64 `json:"burnRate"`
	ErrorRatio     float64 `json:"thresholdErrorRatio"`
	Fires          bool    `json:"fires"`
	DetectSeconds  float64 `json:"detectSeconds"`
	ResetSeconds   float64 `json:"resetSeconds"`
	BudgetAtDetect float64 `json:"budgetAtDetect"`
}

func (s *Server) detailPage(r *http.Request) (string, any, int, error) {
	service, name := r.PathValue("service"), r.PathValue("slo")
	p := newParams(r.URL.Query(), "range")
	rng := p.duration("range", time.Hour, time.Minute, 90*24*time.Hour)
	e := s.cat.get(service, name)
	if e == nil {
		return "", nil, 0, s.unknownSLO(service, name)
	}
	if err := p.err(); err != nil {
		return "", nil, 0, err
	}
	d, err := s.buildDetail(r.Context(), e, rng)
	if err != nil {
		return "", nil, 0, err
	}
	return "detail", d, promStatus(d.Error), nil
}

func (s *Server) unknownSLO(service, name string) error {
	known := make([]string, 0, len(s.cat.entries))
	for _, e := range s.cat.entries {
		known = append(known, e.O.Service+"/"+e.O.Name)
	}
	msg := "the SLO files served define none by that name"
	if len(known) > 0 && len(known) <= 20 {
		msg = fmt.Sprintf("the SLOs served are %v", known)
	}
	return &httpError{status: http.StatusNotFound, title: "Unknown SLO",
		problems: []string{fmt.Sprintf("no SLO %q in service %q: %s", name, service, msg)}}
}

func (s *Server) buildDetail(ctx context.Context, e *entry, rng time.Duration) (*Detail, error) {
	now := s.now()
	prom := &counted{Prom: s.prom}
	since, _ := s.readCoverage(ctx)
	span := budgetSpan(e, since, now)
	inst, ranges, err := s.fetchDetail(ctx, prom, e, now, rng, span)
	inst.at, inst.since = now, since
	o := e.O
	d := &Detail{Row: newRow(e, inst), GeneratedAt: now, Prometheus: s.cfg.Prometheus, Range: model.Duration(rng),
		BudgetSpan:    model.Duration(span),
		ObjectiveText: e.objectiveText(), SLIKind: o.SLI.Kind(), Labels: o.Labels,
		Runbook: e.Runbook, Dashboard: e.Dashboard, GameDays: []store.Run{}}
	if err != nil {
		d.Error = err.Error()
	}
	d.BurnRates, d.BudgetHistory, d.SLI = ranges.burn, ranges.budget, ranges.sli
	d.AlertHistory, d.AlertStep = ranges.alerts, model.Duration(chartStep(rng))
	d.Predictions = predictions(o)
	rules, rerr := generatedRules(o, s.cfg.GrafanaURL)
	if rerr != nil {
		return nil, rerr
	}
	d.Rules = rules
	if s.cfg.Store != nil {
		runs, err := s.cfg.Store.List(ctx, store.Filter{Service: o.Service, SLO: o.Name, Limit: 20})
		if err != nil {
			d.GameDaysError = err.Error()
		} else {
			d.GameDays = runs
		}
	}
	d.LastBacktest, d.LastBacktestError = s.lastBacktest(ctx, e)
	d.charts(e, now, rng, span)
	d.Queries = int(prom.n.Load())
	return d, nil
}

// detailRanges are the detail page's timelines.
type detailRanges struct {
	burn   []NamedSeries
	budget []Point
	sli    []Point
	alerts []AlertSpan
}

// fetchDetail asks Prometheus seven things at once: the overview's three instant reads
// for this SLO, the burn rates, the budget over the period, the SLI and ALERTS.
func (s *Server) fetchDetail(ctx context.Context, prom Prom, e *entry, now time.Time, rng, span time.Duration) (overviewData, detailRanges, error) {
	o := e.O
	inst := overviewData{alerts: map[string]string{}}
	var rs detailRanges
	step := chartStep(rng)
	win := v1.Range{Start: now.Add(-rng), End: now, Step: step}
	period := v1.Range{Start: now.Add(-span), End: now, Step: chartStep(span)}
	var burnM, alertsM []Series
	err := runAll(
		func() (err error) {
			var v []Sample
			v, err = prom.Query(ctx, slo.SeriesSelector(o, slo.MetricBurnRate, 0), now)
			inst.burn = instant(v)
			return err
		},
		func() (err error) {
			var v []Sample
			v, err = prom.Query(ctx, slo.SeriesSelector(o, slo.MetricBudgetRemaining, 0), now)
			inst.budget = perSLO(v)
			return err
		},
		func() error {
			list, err := prom.Alerts(ctx)
			for _, a := range list {
				if k := alertKey(a); a.State == v1.AlertStateFiring || inst.alerts[k] == "" {
					inst.alerts[k] = string(a.State)
				}
			}
			return err
		},
		func() (err error) {
			burnM, err = prom.QueryRange(ctx, slo.SeriesSelector(o, slo.MetricBurnRate, 0), win)
			return err
		},
		func() (err error) {
			m, err := prom.QueryRange(ctx, slo.SeriesSelector(o, slo.MetricBudgetRemaining, 0), period)
			rs.budget = first(matrix(m))
			return err
		},
		func() (err error) {
			// The error ratio is the burn rate times the error budget.
			q := slo.SeriesSelector(o, slo.MetricBurnRate, e.shortest()) + " * " + slo.PromNumber(o.ErrorBudget())
			m, err := prom.QueryRange(ctx, q, win)
			for _, p := range first(matrix(m)) {
				rs.sli = append(rs.sli, Point{T: p.T, V: 1 - p.V})
			}
			return err
		},
		func() (err error) {
			// max_over_time over one step: an alert active for less than a step still shows.
			q := "max_over_time(" + slo.SeriesSelector(o, "ALERTS", 0) + "[" + model.Duration(step).String() + "])"
			alertsM, err = prom.QueryRange(ctx, q, win)
			return err
		},
	)
	byWindow := matrix(burnM)
	for _, t := range e.Tiers {
		for _, w := range []string{t.Long, t.Short} {
			if !hasSeries(rs.burn, w) {
				rs.burn = append(rs.burn, NamedSeries{Name: w, Points: byWindow[seriesKey(o.Service, o.Name, w)]})
			}
		}
	}
	rs.alerts = alertSpans(e, alertsM, step, now)
	return inst, rs, err
}

func hasSeries(ss []NamedSeries, name string) bool {
	for _, s := range ss {
		if s.Name == name {
			return true
		}
	}
	return false
}

// first returns the points of the only series of an indexed matrix (or none).
func first(m map[string][]Point) []Point {
	for _, pts := range m {
		return pts
	}
	return nil
}

// chartStep is the step of the range charts: 120 points over rng, at least a second.
func chartStep(rng time.Duration) time.Duration {
	return max(time.Second, (rng / 120).Round(time.Second))
}

// alertSpans turns ALERTS samples into spans of pending or firing per tier, newest first.
// A sample at t is max_over_time over (t − step, t], so a span starts one step before
// its first sample: an alert seen at one step only is a span of one step, not an instant.
func alertSpans(e *entry, m []Series, step time.Duration, now time.Time) []AlertSpan {
	tiers := map[string]string{}
	for _, t := range e.Tiers {
		tiers[t.Long] = t.Name
	}
	out := []AlertSpan{}
	for _, ss := range m {
		w := ss.Labels.Window
		tierName := tiers[w]
		if tierName == "" {
			tierName = ss.Labels.Severity + "/" + w
		}
		base := AlertSpan{Alert: ss.Labels.AlertName, Tier: tierName, State: ss.Labels.AlertState}
		var cur *AlertSpan
		var last time.Time
		for _, p := range ss.Points {
			t := p.T
			if cur != nil && t.Sub(last) > step*3/2 {
				end := last
				cur.To = &end
				out = append(out, *cur)
				cur = nil
			}
			if cur == nil {
				span := base
				span.From = t.Add(-step)
				cur = &span
			}
			last = t
		}
		if cur != nil {
			if now.Sub(last) > step*3/2 {
				end := last
				cur.To = &end
			}
			out = append(out, *cur)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From.After(out[j].From) })
	return out
}

func predictions(o slo.Objective) []PredictionRow {
	var out []PredictionRow
	for _, p := range alerts.TierPredictions(o) {
		out = append(out, PredictionRow{Tier: p.Window.Name(),
			BurnRate: p.Window.BurnRate, ErrorRatio: p.Threshold, Fires: p.Fires, DetectSeconds: p.Detect.Seconds(),
			ResetSeconds: p.Reset.Seconds(), BudgetAtDetect: p.BudgetAtDetect})
	}
	return out
}

// generatedRules is the rule file `slokit generate` writes for o alone.
func generatedRules(o slo.Objective, grafana string) (string, error) {
	g, err := alerts.Group(o, alerts.Options{GrafanaURL: grafana})
	if err != nil {
		return "", fmt.Errorf("generating the rules of %s/%s: %w", o.Service, o.Name, err)
	}
	b, err := alerts.MarshalRuleFile(slo.RuleFile{Groups: []slo.RuleGroup{g}})
	if err != nil {
		return "", fmt.Errorf("generating the rules of %s/%s: %w", o.Service, o.Name, err)
	}
	return string(b), nil
}

// budgetSpan is how far back the budget chart reaches: the period, or when Prometheus
// holds less history, the history read by the coverage ladder up to its next rung (the
// reading is a lower bound within a factor 1.5), so that the chart shows the budget's
// course rather than a dot at the right edge of an empty period.
func budgetSpan(e *entry, since map[string]time.Time, now time.Time) time.Duration {
	if c := coverageOf(e, since, now); c != nil && c.Partial {
		return min(e.O.Period, max(time.Minute, (c.History*3/2).Round(time.Second)))
	}
	return e.O.Period
}

// charts draws the three timelines; the budget's over span.
func (d *Detail) charts(e *entry, now time.Time, rng, span time.Duration) {
	from := now.Add(-rng)
	burn := &chart{ID: "burn", Title: "Burn rate per window", From: from, To: now,
		Desc: fmt.Sprintf("Burn rate of %s/%s over the last %s for windows %s; dashed lines are each tier's threshold.",
			d.Service, d.SLO, model.Duration(rng), seriesNames(d.BurnRates))}
	for _, s := range d.BurnRates {
		burn.Series = append(burn.Series, series{Name: s.Name, Points: s.Points})
	}
	for _, t := range e.Tiers {
		burn.HLines = append(burn.HLines, hline{Y: t.W.BurnRate, Label: fmt.Sprintf("%s %s×", t.Name, slo.FormatFloat(t.W.BurnRate))})
	}
	for _, a := range d.AlertHistory {
		if a.State == "firing" {
			burn.Marks = append(burn.Marks, mark{T: a.From, Label: a.Tier + " firing"})
		}
	}
	d.BurnChart = burn.SVG()
	one := 1.0
	budget := &chart{ID: "budget", Title: "Error budget remaining over the period", From: now.Add(-span), To: now,
		Desc:   fmt.Sprintf("Fraction of the %s error budget left, traffic-weighted over the period; below 0 it is overspent.", d.Period),
		Series: []series{{Name: "budget remaining", Points: d.BudgetHistory}},
		HLines: []hline{{Y: 0, Label: "budget exhausted"}},
		YMax:   &one, YFormat: percentTick}
	d.BudgetChart = budget.SVG()
	sli := &chart{ID: "sli", Title: "SLI against the objective", From: from, To: now, YMax: &one, YFormat: percentTick,
		Desc:   fmt.Sprintf("Good-event ratio over %s windows against the %s objective.", slo.FormatWindow(e.shortest()), d.ObjectiveText),
		Series: []series{{Name: "SLI (" + slo.FormatWindow(e.shortest()) + ")", Points: d.SLI}},
		HLines: []hline{{Y: e.O.Target, Label: "objective " + d.ObjectiveText}}}
	d.SLIChart = sli.SVG()
}

func seriesNames(ss []NamedSeries) string {
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	return fmt.Sprint(names)
}

func percentTick(v float64) string { return slo.FormatFloat(v*100) + "%" }
