// Package backtest replays incident scenarios through an SLO's generated rules in the
// embedded PromQL engine and measures, per alert tier, detection, reset and budget spent.
package backtest

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/slo"
)

// Options configures a backtest. The zero value is ready to use.
type Options struct {
	// EvalInterval is the rule evaluation interval. Zero means 30s.
	EvalInterval time.Duration
	// ScrapeInterval is the spacing of the synthetic samples. Zero means 30s.
	ScrapeInterval time.Duration
	// Logger receives debug logs. Nil discards them.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.EvalInterval <= 0 {
		o.EvalInterval = 30 * time.Second
	}
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Epoch is the simulated time of a scenario's start (Unix 0, as promtool's tests use).
var Epoch = time.Unix(0, 0).UTC()

// Result is one scenario replayed against one SLO.
type Result struct {
	Service  string        `json:"service"`
	SLO      string        `json:"slo"`
	Scenario string        `json:"scenario"`
	Duration time.Duration `json:"duration_ns"`
	// FaultStart and FaultEnd are offsets from the scenario start (zero without a fault).
	FaultStart time.Duration `json:"fault_start_ns"`
	FaultEnd   time.Duration `json:"fault_end_ns"`
	Tiers      []TierResult  `json:"tiers"`
	Expect     Expect        `json:"expect"`
	// Violations lists broken expectations ("page did not fire", "ticket fired").
	Violations []string `json:"violations,omitempty"`
}

// TierResult is what one alert tier did during a scenario, beside the prediction.
type TierResult struct {
	Severity slo.SeverityName `json:"severity"`
	Long     time.Duration    `json:"long_ns"`
	Short    time.Duration    `json:"short_ns"`
	BurnRate float64          `json:"burn_rate"`
	Fired    bool             `json:"fired"`
	// Detect is the time from fault start to firing (HasDetect false when it did not fire
	// after the fault started).
	Detect    time.Duration `json:"detect_ns"`
	HasDetect bool          `json:"has_detect"`
	// Reset is the time from fault end until the alert resolved (HasReset false when it
	// was not firing at fault end or did not resolve before the scenario ended).
	Reset    time.Duration `json:"reset_ns"`
	HasReset bool          `json:"has_reset"`
	// BudgetAtDetect is the fraction of the period's error budget the fault spent
	// until detection.
	BudgetAtDetect float64 `json:"budget_at_detect"`
	// Predicted is the Workbook prediction for step faults; nil for other shapes.
	Predicted *alerts.Prediction `json:"predicted,omitempty"`
	// Mismatch says how measurement and prediction disagree; empty when they agree.
	Mismatch string `json:"mismatch,omitempty"`
}

// Fired reports whether any tier of severity sev fired.
func (r Result) Fired(sev slo.SeverityName) bool {
	for _, t := range r.Tiers {
		if t.Severity == sev && t.Fired {
			return true
		}
	}
	return false
}

// Tolerance is how far a measured time may be from the prediction: one scrape interval,
// two evaluation intervals and the shortest ratio window (the edge smear of windows
// derived from recorded rates).
func Tolerance(o slo.Objective, opts Options) time.Duration {
	opts.defaults()
	return opts.ScrapeInterval + 2*opts.EvalInterval + o.RatioWindows()[0]
}

// Run replays sc through group (o's generated recording and alerting rules).
func Run(ctx context.Context, o slo.Objective, group slo.RuleGroup, sc Scenario, opts Options) (Result, error) {
	opts.defaults()
	res := Result{Service: o.Service, SLO: o.Name, Scenario: sc.Name, Duration: sc.Duration(), Expect: sc.Expect}
	counters, err := seriesFor(o)
	if err != nil {
		return res, err
	}
	type edge struct {
		at time.Duration
		to engine.State
	}
	byWindow := map[string][]edge{}
	eng := engine.New(engine.Options{
		Interval:  opts.EvalInterval,
		Retention: -1,
		Logger:    opts.Logger,
		OnTransition: func(t engine.Transition) {
			w := t.Labels[slo.LabelWindow]
			byWindow[w] = append(byWindow[w], edge{t.At.Sub(Epoch), t.To})
		},
	})
	if err := eng.LoadGroups([]slo.RuleGroup{group}); err != nil {
		return res, fmt.Errorf("%s: %w", o.ID(), err)
	}
	dur := sc.Duration()
	for at := time.Duration(0); at <= dur; at += opts.ScrapeInterval {
		if sc.missingAt(at) {
			continue
		}
		good, bad := sc.events(at)
		for _, c := range counters {
			if err := eng.Append(c.labels, Epoch.Add(at), c.inc(good, bad)); err != nil {
				return res, err
			}
		}
	}
	if err := eng.Run(ctx, Epoch, Epoch.Add(dur)); err != nil {
		return res, fmt.Errorf("%s, scenario %s: %w", o.ID(), sc.Name, err)
	}

	fs, fe, hasFault := sc.FaultWindow()
	res.FaultStart, res.FaultEnd = fs, fe
	e, step := sc.StepFault()
	tol := Tolerance(o, opts)
	baseTraffic := sc.traffic(sc.Segments[0])
	for _, w := range o.Tiers() {
		tr := TierResult{Severity: w.Severity, Long: w.Long, Short: w.Short, BurnRate: w.BurnRate}
		firingAtEnd := false
		for _, ed := range byWindow[slo.FormatWindow(w.Long)] {
			if ed.to == engine.StateFiring {
				tr.Fired = true
				if hasFault && !tr.HasDetect && ed.at >= fs {
					tr.Detect, tr.HasDetect = ed.at-fs, true
				}
			}
			if hasFault && ed.at < fe {
				firingAtEnd = ed.to == engine.StateFiring
			}
			if hasFault && firingAtEnd && !tr.HasReset && ed.at >= fe && ed.to == engine.StateInactive {
				tr.Reset, tr.HasReset = ed.at-fe, true
			}
		}
		if tr.HasDetect {
			_, b0 := sc.events(fs)
			_, b1 := sc.events(fs + tr.Detect)
			tr.BudgetAtDetect = (b1 - b0) / (o.ErrorBudget() * baseTraffic * o.Period.Seconds())
		}
		if hasFault && step {
			p := alerts.Predict(o, w, e)
			tr.Predicted = &p
			tr.Mismatch = mismatch(tr, p, fe-fs, tol)
		}
		res.Tiers = append(res.Tiers, tr)
	}
	for _, sev := range sc.Expect.MustFire {
		if hasSeverity(o, sev) && !res.Fired(sev) {
			res.Violations = append(res.Violations, fmt.Sprintf("%s must fire but did not", sev))
		}
	}
	for _, sev := range sc.Expect.MustNotFire {
		if res.Fired(sev) {
			res.Violations = append(res.Violations, fmt.Sprintf("%s must not fire but did", sev))
		}
	}
	return res, nil
}

func hasSeverity(o slo.Objective, sev slo.SeverityName) bool {
	for _, w := range o.Tiers() {
		if w.Severity == sev {
			return true
		}
	}
	return false
}

// mismatch compares a tier's measurement with its prediction for a fault lasting dur.
func mismatch(tr TierResult, p alerts.Prediction, dur, tol time.Duration) string {
	// The maths predicts firing only if the fault outlasts the detection time.
	willFire := p.Fires && dur >= p.Detect
	switch {
	case willFire && !tr.HasDetect:
		return fmt.Sprintf("did not fire; predicted to fire after %s", fmtDur(p.Detect))
	case !willFire && tr.Fired:
		return "fired; predicted not to fire"
	case !willFire:
		return ""
	}
	if d := tr.Detect - p.Detect; math.Abs(float64(d)) > float64(tol) {
		return fmt.Sprintf("detected after %s, predicted %s (±%s)", fmtDur(tr.Detect), fmtDur(p.Detect), fmtDur(tol))
	}
	if dur >= tr.Short && tr.HasReset {
		if d := tr.Reset - p.Reset; math.Abs(float64(d)) > float64(tol) {
			return fmt.Sprintf("reset after %s, predicted %s (±%s)", fmtDur(tr.Reset), fmtDur(p.Reset), fmtDur(tol))
		}
	}
	return ""
}

// fmtDur renders d compactly in Prometheus style ("52s", "1h5m", "2d3h").
func fmtDur(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(-d)
	}
	return slo.FormatWindow(d.Round(time.Second))
}
