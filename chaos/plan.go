package chaos

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// Defaults of a game day's optional fields, documented in docs/gameday.md.
const (
	DefaultPollInterval = time.Second
	DefaultTolerance    = 2 * time.Minute
	DefaultMaxBudget    = 0.2
	DefaultMaxBurnRate  = 1.0
	DefaultBurnBelow    = 1.0
	// timeoutMargin is added to the planned duration of a run for its default timeout.
	timeoutMargin = 5 * time.Minute
)

// Plan is a GameDay resolved against its objective: every default filled in, every
// deadline computed from the alert maths. The runner executes a Plan.
type Plan struct {
	GameDay   *GameDay
	Objective slo.Objective
	// ErrorRatio is the fault's expected error ratio; 0 when unknown.
	ErrorRatio float64
	// ErrorRatioSource says where ErrorRatio came from: "gameday", "backend" or "".
	ErrorRatioSource string
	Expect           []PlannedExpectation
	MustNotFire      []AlertSelector
	SteadyState      PlannedSteadyState
	Recovery         PlannedRecovery
	// Hold is how long the fault stays in place; 0 means until the expectations settle.
	Hold         time.Duration
	PollInterval time.Duration
	Tolerance    time.Duration
	MaxBudget    float64
	Timeout      time.Duration
	// ShortestWindow is the objective's shortest ratio window; its burn rate is
	// integrated into the budget the run spent.
	ShortestWindow time.Duration
	// HistoryNeeded is the longest long window of the tiers whose predictions the
	// verdict compares with: the signals must hold that much history before injection.
	HistoryNeeded time.Duration
	// Mitigation is the resolved mitigation step; nil without one.
	Mitigation *PlannedMitigation
}

// PlannedExpectation is one expected alert with its resolved deadline and predictions.
type PlannedExpectation struct {
	Selector AlertSelector
	// Tiers are the objective's tiers the selector matches.
	Tiers []slo.Window
	// Within is the deadline measured from injection.
	Within time.Duration
	// WithinPredicted is true when Within is the prediction plus the rules' lag
	// (alerts.Prediction.RulesLag: the long group's interval for a window or an alert
	// there) plus tolerance.
	WithinPredicted bool
	// Predicted is the fastest matching tier's predicted detection time; 0 when unknown.
	Predicted time.Duration
	// PredictedReset is the slowest predicted reset among the matching tiers predicted
	// to fire while the fault is held; 0 when unknown.
	PredictedReset time.Duration
}

// PlannedSteadyState is the resolved preflight check.
type PlannedSteadyState struct {
	Window      time.Duration
	MaxBurnRate float64
	NoAlerts    bool
	Wait        time.Duration
}

// PlannedRecovery is the resolved recovery check.
type PlannedRecovery struct {
	Within          time.Duration
	WithinPredicted bool
	BurnRateBelow   float64
	Window          time.Duration
}

// Estimator is implemented by backends that know the error ratio a fault causes (an
// HTTP abort of 50% of requests causes 0.5); Prepare uses it when the game day does not
// set expectedErrorRatio.
type Estimator interface {
	ExpectedErrorRatio(params FaultParams) (ratio float64, ok bool)
}

// Prepare resolves g against its objective o. estimated is the error ratio the backend
// derived from the fault parameters (0 when it cannot tell); the game day's own
// expectedErrorRatio wins over it. A game day whose fault cannot reach the burn rate of
// an expected tier is rejected here, before anything is injected, with the maths.
func Prepare(g *GameDay, o slo.Objective, estimated float64) (*Plan, slo.Diagnostics) {
	pl := &planner{d: newDecoder(g.Source), g: g, o: o}
	p := &Plan{
		GameDay:      g,
		Objective:    o,
		Hold:         g.Fault.Duration,
		PollInterval: cmp.Or(g.Signals.PollInterval, DefaultPollInterval),
		Tolerance:    cmp.Or(g.Signals.Tolerance, DefaultTolerance),
		MaxBudget:    cmp.Or(g.Guardrails.MaxBudget, DefaultMaxBudget),
		MustNotFire:  g.MustNotFire,
	}
	pl.p = p
	switch {
	case g.ExpectedErrorRatio > 0:
		p.ErrorRatio, p.ErrorRatioSource = g.ExpectedErrorRatio, "gameday"
	case estimated > 0:
		p.ErrorRatio, p.ErrorRatioSource = estimated, "backend"
	}
	p.ShortestWindow = o.RatioWindows()[0]
	p.SteadyState = PlannedSteadyState{
		Window:      pl.window(g.SteadyState.Window, "steadyState.window"),
		MaxBurnRate: cmp.Or(g.SteadyState.MaxBurnRate, DefaultMaxBurnRate),
		NoAlerts:    g.SteadyState.NoAlerts == nil || *g.SteadyState.NoAlerts,
		Wait:        g.SteadyState.Wait,
	}
	for i, e := range g.Expect {
		if pe, ok := pl.expectation(i, e); ok {
			p.Expect = append(p.Expect, pe)
		}
	}
	slowestReset := pl.resets()
	if g.SteadyState.Window == 0 {
		// The predictions assume the tier's long window held healthy traffic when the
		// fault began: check that window, of the expectation predicted to fire first.
		var first *PlannedExpectation
		for i := range p.Expect {
			if first == nil || p.Expect[i].Predicted < first.Predicted {
				first = &p.Expect[i]
			}
		}
		if first != nil {
			p.SteadyState.Window = fastestTier(o, *first, p.ErrorRatio).Long
		}
	}
	pl.mustNotFire()
	pl.recovery(slowestReset)
	planMitigation(pl.d, g, p, pl.window)
	pl.timeout()
	if len(pl.d.Diags.Errors()) > 0 {
		return nil, pl.d.Diagnostics()
	}
	return p, pl.d.Diagnostics()
}

// planner resolves one game day against its objective for Prepare.
type planner struct {
	d       *decoder
	g       *GameDay
	o       slo.Objective
	p       *Plan
	tierErr bool // a broken expectation makes the recovery default moot
}

// window checks a burn-rate window against the objective's windows; 0 is the shortest.
func (pl *planner) window(w time.Duration, path string) time.Duration {
	if w == 0 {
		return pl.p.ShortestWindow
	}
	windows := pl.o.RatioWindows()
	if !slices.Contains(windows, w) {
		pl.d.Errf(nil, path, "%s has no burn rate over %s; its windows are %s", pl.o.ID(), slo.FormatWindow(w), formatWindows(windows))
	}
	return w
}

// expectation resolves expect[i]: its tiers, the ones the fault can fire, the predicted
// detection and the deadline.
func (pl *planner) expectation(i int, e Expectation) (PlannedExpectation, bool) {
	d, o, p := pl.d, pl.o, pl.p
	path := fmt.Sprintf("expect[%d]", i)
	at := &yaml.Node{Line: e.at.line, Column: e.at.col}
	tiers := matchingTiers(o, e.AlertSelector)
	if len(tiers) == 0 {
		d.Errf(at, path, "%s has no %s alert tier; its tiers are %s", o.ID(), e.AlertSelector, formatTiers(o))
		pl.tierErr = true
		return PlannedExpectation{}, false
	}
	pe := PlannedExpectation{Selector: e.AlertSelector, Tiers: tiers, Within: e.Within}
	var deadline time.Duration
	if p.ErrorRatio > 0 {
		var reachable []slo.Window
		for _, w := range tiers {
			if alerts.Predict(o, w, p.ErrorRatio).Fires {
				reachable = append(reachable, w)
			}
		}
		if len(reachable) == 0 {
			budget := o.ErrorBudget()
			var why []string
			for _, w := range tiers {
				why = append(why, fmt.Sprintf("%s fires only when the error ratio over %s and %s exceeds %g × %g = %g",
					w.Name(), slo.FormatWindow(w.Long), slo.FormatWindow(w.Short), w.BurnRate, round(budget), round(o.Threshold(w))))
			}
			d.Errf(at, path, "the fault cannot fire %s: its expected error ratio %g (%s) is a burn rate of %.3g×, and %s; a tier fires only if e > B·b (raise the fault's error ratio or expect a slower tier)",
				e.AlertSelector, p.ErrorRatio, p.ErrorRatioSource, p.ErrorRatio/budget, strings.Join(why, "; "))
			pl.tierErr = true
			return PlannedExpectation{}, false
		}
		pe.Tiers = reachable
		for j, w := range reachable {
			pr := alerts.Predict(o, w, p.ErrorRatio)
			if j == 0 || pr.Detect < pe.Predicted {
				pe.Predicted = pr.Detect
			}
			// The deadline also waits for what the rules add beyond sampling (a window or
			// an alert in the long group): the tier that can fire first, lags included.
			if by := pr.Detect + pr.RulesLag; j == 0 || by < deadline {
				deadline = by
			}
		}
	}
	if pe.Within == 0 {
		if pe.Predicted == 0 {
			d.Errf(at, path+".within", "required when the fault's error ratio is unknown: set expectedErrorRatio so slokit can predict the detection time, or set within")
			return PlannedExpectation{}, false
		}
		pe.Within, pe.WithinPredicted = deadline+p.Tolerance, true
	}
	if p.Hold > 0 && pe.Predicted > 0 && pe.Predicted > p.Hold {
		d.Warnf(at, path, "predicted to fire after %s but fault.duration holds the fault only %s", fmtDur(pe.Predicted), fmtDur(p.Hold))
	}
	return pe, true
}

// resets fills each expectation's predicted reset and returns the slowest reset of any
// tier predicted to fire while the fault is held: the fault is held for Hold, or until
// every expectation fired, so slower tiers do not fire and their resets do not count.
func (pl *planner) resets() time.Duration {
	o, p := pl.o, pl.p
	holdEst := p.Hold
	if holdEst == 0 {
		for _, pe := range p.Expect {
			holdEst = max(holdEst, pe.Predicted)
		}
	}
	fires := func(w slo.Window) (time.Duration, bool) {
		pr := alerts.Predict(o, w, p.ErrorRatio)
		return pr.Reset, p.ErrorRatio > 0 && pr.Fires && pr.Detect <= holdEst
	}
	for i := range p.Expect {
		for j, w := range p.Expect[i].Tiers {
			if r, ok := fires(w); (ok || j == 0) && r > p.Expect[i].PredictedReset {
				p.Expect[i].PredictedReset = r
			}
		}
	}
	var slowest time.Duration
	for _, w := range o.Tiers() {
		if r, ok := fires(w); ok {
			slowest = max(slowest, r+alerts.Predict(o, w, p.ErrorRatio).ResetRulesLag)
		}
	}
	return slowest
}

// mustNotFire checks each forbidden selector names a tier, and warns when the fault is
// predicted to fire it while held.
func (pl *planner) mustNotFire() {
	d, o, p := pl.d, pl.o, pl.p
	for i, m := range pl.g.MustNotFire {
		at := &yaml.Node{Line: m.at.line, Column: m.at.col}
		path := fmt.Sprintf("mustNotFire[%d]", i)
		tiers := matchingTiers(o, m)
		if len(tiers) == 0 {
			d.Errf(at, path, "%s has no %s alert tier; its tiers are %s", o.ID(), m, formatTiers(o))
			continue
		}
		if p.ErrorRatio <= 0 || p.Hold == 0 {
			continue
		}
		for _, w := range tiers {
			if alerts.Predict(o, w, p.ErrorRatio).Fires {
				if det := detect(o, w, p.ErrorRatio); det < p.Hold {
					unless := ""
					if pl.g.Mitigation.Name != "" {
						unless = ", unless mitigation " + pl.g.Mitigation.Name + " prevents it"
					}
					d.Warnf(at, path, "%s is predicted to fire after %s, within the %s the fault is held%s", w.Name(), fmtDur(det), fmtDur(p.Hold), unless)
				}
			}
		}
	}
}

// recovery resolves the recovery check; its default deadline is the slowest predicted
// reset (or the recovery window, when longer) plus the tolerance.
func (pl *planner) recovery(slowestReset time.Duration) {
	g, p := pl.g, pl.p
	p.Recovery = PlannedRecovery{
		Within:        g.Recovery.Within,
		BurnRateBelow: cmp.Or(g.Recovery.BurnRateBelow, DefaultBurnBelow),
		Window:        pl.window(g.Recovery.Window, "recovery.window"),
	}
	if p.Recovery.Within != 0 {
		return
	}
	if p.ErrorRatio > 0 && slowestReset > 0 {
		// The short-window burn rate falls under 1 no later than the short window
		// empties; the alert resets before that (S·(1−B·b/e) < S).
		p.Recovery.Within, p.Recovery.WithinPredicted = slowestReset+p.Tolerance, true
		if p.Recovery.Window > slowestReset {
			p.Recovery.Within = p.Recovery.Window + p.Tolerance
		}
	} else if !pl.tierErr {
		pl.d.Errf(&yaml.Node{Line: g.Recovery.at.line, Column: g.Recovery.at.col}, "recovery.within",
			"required when the fault's error ratio is unknown: set expectedErrorRatio so slokit can predict the reset time, or set recovery.within")
	}
}

// timeout resolves the run's timeout and the history the predictions need.
func (pl *planner) timeout() {
	g, o, p, d := pl.g, pl.o, pl.p, pl.d
	hold := p.Hold
	for _, e := range p.Expect {
		hold = max(hold, e.Within)
		if len(e.Tiers) > 0 {
			p.HistoryNeeded = max(p.HistoryNeeded, fastestTier(o, e, p.ErrorRatio).Long)
		}
	}
	if m := p.Mitigation; m != nil && p.Hold == 0 {
		hold = max(hold, m.Within+m.ReliefWithin)
	}
	planned := p.SteadyState.Wait + hold + p.Recovery.Within
	p.Timeout = g.Guardrails.Timeout
	if p.Timeout == 0 {
		p.Timeout = planned + timeoutMargin
	} else if p.Timeout < planned && len(d.Diags.Errors()) == 0 {
		d.Warnf(nil, "guardrails.timeout", "%s is shorter than the planned run (steady-state wait %s + fault %s + recovery %s = %s): the run may abort before its verdict",
			fmtDur(p.Timeout), fmtDur(p.SteadyState.Wait), fmtDur(hold), fmtDur(p.Recovery.Within), fmtDur(planned))
	}
}

// detect and reset are alerts.Predict's detection and reset times of tier w for o under
// a step fault of error ratio e; zero when the tier cannot fire.
func detect(o slo.Objective, w slo.Window, e float64) time.Duration {
	return alerts.Predict(o, w, e).Detect
}

func reset(o slo.Objective, w slo.Window, e float64) time.Duration {
	return alerts.Predict(o, w, e).Reset
}

// fastestTier is the tier of e predicted to fire first (its first tier when the error
// ratio is unknown).
func fastestTier(o slo.Objective, e PlannedExpectation, ratio float64) slo.Window {
	for _, w := range e.Tiers {
		if ratio > 0 && detect(o, w, ratio) == e.Predicted {
			return w
		}
	}
	return e.Tiers[0]
}

func matchingTiers(o slo.Objective, s AlertSelector) []slo.Window {
	var out []slo.Window
	for _, w := range o.Tiers() {
		if s.matches(w.Severity, w.Long) {
			out = append(out, w)
		}
	}
	return out
}

func formatTiers(o slo.Objective) string {
	var names []string
	for _, w := range o.Tiers() {
		names = append(names, fmt.Sprintf("%s (%g× over %s and %s)", w.Name(), w.BurnRate, slo.FormatWindow(w.Long), slo.FormatWindow(w.Short)))
	}
	if len(names) == 0 {
		return "none (both severities are disabled)"
	}
	return strings.Join(names, ", ")
}

func formatWindows(ws []time.Duration) string {
	var s []string
	for _, w := range ws {
		s = append(s, slo.FormatWindow(w))
	}
	return strings.Join(s, ", ")
}

// round trims float noise like 0.0010000000000000009 for messages.
func round(f float64) float64 {
	var r float64
	_, _ = fmt.Sscanf(fmt.Sprintf("%.6g", f), "%g", &r)
	return r
}

// fmtDur renders d rounded to the second, like "1m44s".
func fmtDur(d time.Duration) string {
	return d.Round(time.Second).String()
}
