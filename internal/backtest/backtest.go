// Package backtest replays incident scenarios through an SLO's alerting rules in the
// embedded PromQL engine, under a realistic scrape model, and measures per alert tier
// detection, reset and budget spent, naming the reason when an alert stays silent.
package backtest

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/slo"
)

// Options configures a backtest. The zero value is ready to use.
type Options struct {
	// EvalInterval is the rule evaluation interval. Zero means 30s.
	EvalInterval time.Duration
	// ScrapeInterval is the scrape interval of scenarios that set none. Zero means 30s.
	ScrapeInterval time.Duration
	// Engine is EngineFast (the zero value: rules the fast evaluator understands are
	// evaluated by it, the rest by the PromQL engine) or EnginePromQL (every rule by the
	// PromQL engine).
	Engine string
	// ForeignRules says the rules are not slokit's (Sloth's, Pyrra's, hand-written):
	// alerts are grouped by severity class (labels) and absent(), not by window tier.
	ForeignRules bool
	// Logger receives debug logs. Nil discards them.
	Logger *slog.Logger
}

// Engines Options.Engine accepts.
const (
	EngineFast   = "fast"
	EnginePromQL = "promql"
)

func (o *Options) defaults() {
	o.EvalInterval = cmp.Or(o.EvalInterval, 30*time.Second)
	o.ScrapeInterval = cmp.Or(o.ScrapeInterval, 30*time.Second)
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
	// Silent lists every must-fire severity that did not fire, with the reasons found.
	Silent []Silence `json:"silent,omitempty"`
	// Violations lists broken expectations ("page must not fire but did", "page SILENT: …").
	Violations []string `json:"violations,omitempty"`
}

// Silence is a must-fire severity that stayed silent and why.
type Silence struct {
	Severity slo.SeverityName `json:"severity"`
	Reasons  []string         `json:"reasons"`
}

// TierResult is what one alert tier did during a scenario, beside the prediction.
type TierResult struct {
	// Severity is page, ticket or NoData (the alert on absent data, which has no windows).
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
	// DetectTolerance and ResetTolerance are how far measurement may be from Predicted.
	DetectTolerance time.Duration `json:"detect_tolerance_ns,omitempty"`
	ResetTolerance  time.Duration `json:"reset_tolerance_ns,omitempty"`
	// Mismatch says how measurement and prediction disagree; empty when they agree.
	Mismatch string `json:"mismatch,omitempty"`
	// key identifies the tier's alert transitions (see classify).
	key string
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

// Run replays sc through group (o's generated recording and alerting rules).
func Run(ctx context.Context, o slo.Objective, group slo.RuleGroup, sc Scenario, opts Options) (Result, error) {
	return RunGroups(ctx, o, []slo.RuleGroup{group}, sc, opts)
}

// RunGroups replays sc through groups, evaluated in order at every step.
func RunGroups(ctx context.Context, o slo.Objective, groups []slo.RuleGroup, sc Scenario, opts Options) (Result, error) {
	opts.defaults()
	res := Result{Service: o.Service, SLO: o.Name, Scenario: sc.Name, Duration: sc.Duration(), Expect: sc.Expect}
	input, err := inputFor(o, sc, opts)
	if err != nil {
		return res, err
	}
	cl := newClassifier(o, groups, opts.ForeignRules)
	edges, err := replay(ctx, groups, input, sc.Duration(), opts, cl)
	if err != nil {
		return res, fmt.Errorf("%s, scenario %s: %w", o.ID(), sc.Name, err)
	}
	res.FaultStart, res.FaultEnd, _ = sc.FaultWindow()
	m := newScrapeModel(sc, opts)
	for _, tr := range cl.tiers() {
		measure(&tr, edges[tr.key], o, sc)
		predict(&tr, o, sc, m, opts)
		res.Tiers = append(res.Tiers, tr)
	}
	judge(&res, o, sc, m, opts, cl)
	return res, nil
}

// inputFor scrapes o's synthetic counters under sc's scrape model.
func inputFor(o slo.Objective, sc Scenario, opts Options) ([]inputSeries, error) {
	counters, err := seriesFor(o, sc)
	if err != nil {
		return nil, err
	}
	m := newScrapeModel(sc, opts)
	if m.Jitter >= m.Interval {
		return nil, fmt.Errorf("scenario %s: scrape jitter %s must be below the interval %s", sc.Name, fmtDur(m.Jitter), fmtDur(m.Interval))
	}
	return m.series(counters), nil
}

// edge is one alert state change at an offset from the scenario start; id tells the
// alert instances of one tier apart.
type edge struct {
	at time.Duration
	to engine.State
	id string
}

// replay evaluates group over input for dur and returns the alert transitions by tier key.
func replay(ctx context.Context, groups []slo.RuleGroup, input []inputSeries, dur time.Duration, opts Options, cl classifier) (map[string][]edge, error) {
	edges := map[string][]edge{}
	eng := engine.New(engine.Options{
		Interval:   opts.EvalInterval,
		Retention:  -1,
		Logger:     opts.Logger,
		PromQLOnly: opts.Engine == EnginePromQL,
		OnTransition: func(t engine.Transition) {
			k := cl.key(t)
			edges[k] = append(edges[k], edge{t.At.Sub(Epoch), t.To, fmt.Sprint(t.Name, t.Labels)})
		},
	})
	if err := eng.LoadGroups(groups); err != nil {
		return nil, err
	}
	st := eng.Store()
	for _, s := range input {
		ts := make([]int64, len(s.ts))
		for i, t := range s.ts {
			ts[i] = Epoch.Add(t).UnixMilli()
		}
		if err := st.AppendSeries(s.labels, ts, s.vs); err != nil {
			return nil, err
		}
	}
	if err := eng.Run(ctx, Epoch, Epoch.Add(dur)); err != nil {
		return nil, err
	}
	return edges, nil
}

// measure fills tr's firing, detection, reset and budget from its transitions: the tier
// fires while any of its alert instances does.
func measure(tr *TierResult, edges []edge, o slo.Objective, sc Scenario) {
	fs, fe, hasFault := sc.FaultWindow()
	firing := map[string]bool{}
	firingAtEnd := false
	for _, ed := range edges {
		was := len(firing) > 0
		if ed.to == engine.StateFiring {
			firing[ed.id] = true
		} else {
			delete(firing, ed.id)
		}
		now := len(firing) > 0
		if now && !was {
			tr.Fired = true
			if hasFault && !tr.HasDetect && ed.at >= fs {
				tr.Detect, tr.HasDetect = ed.at-fs, true
			}
		}
		if hasFault && ed.at < fe {
			firingAtEnd = now
		}
		if hasFault && firingAtEnd && !tr.HasReset && ed.at >= fe && was && !now {
			tr.Reset, tr.HasReset = ed.at-fe, true
		}
	}
	if tr.HasDetect {
		_, b0 := sc.events(fs)
		_, b1 := sc.events(fs + tr.Detect)
		tr.BudgetAtDetect = (b1 - b0) / (o.ErrorBudget() * sc.traffic(sc.Segments[0]) * o.Period.Seconds())
	}
}

// fmtDur renders d compactly in Prometheus style ("52s", "1h5m", "2d3h").
func fmtDur(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(-d)
	}
	return slo.FormatWindow(d.Round(time.Second))
}
