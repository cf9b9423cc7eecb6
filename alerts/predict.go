package alerts

import (
	"math"
	"time"

	"github.com/slokit/slokit/slo"
)

// Prediction is what the alerting maths (docs/rules.md, the SRE Workbook ch. 5) says one
// tier does for a step fault of constant error ratio under constant traffic.
type Prediction struct {
	// Window is the tier.
	Window slo.Window
	// ErrorRatio is the fault's error ratio e in (0,1].
	ErrorRatio float64
	// Threshold is the error ratio the tier fires above: BurnRate × error budget.
	Threshold float64
	// Fires reports whether the tier can fire at all: e > Threshold.
	Fires bool
	// Detect is the time from fault start until both windows exceed the threshold:
	// Threshold × Long / e. Zero when Fires is false.
	Detect time.Duration
	// Reset is the time from fault end until the condition is false again, once the
	// fault has lasted at least Short: Short × (1 − Threshold/e). Zero when Fires is false.
	Reset time.Duration
	// BudgetAtDetect is the fraction of the period's budget spent when the tier fires:
	// BurnRate × Long / Period, whatever e is. Zero when Fires is false.
	BudgetAtDetect float64
	// Lag is the most the generated rules add to Detect, beside the maths: one scrape
	// interval (the counter's sample), one evaluation interval, for a global objective
	// its GlobalDelay (Thanos Query's fan-out and the ruler's phase), one interval of the
	// long group (LongGroupLag, 2m30s for 30s; none when one group holds every rule and
	// for a global objective) for a ticket tier (its alert runs in that group) or a page
	// tier reading a window computed there (slo.Objective.WindowLag: the base window,
	// divided from the recorded base rates, a derived window, or a raw window only
	// ticket tiers read), and, for a derived window when Detect exceeds the base window,
	// half the base window (the recorded rates smear the count by up to one base window).
	// Zero when Fires is false.
	Lag time.Duration
	// ResetLag is the most the generated rules add to Reset: one scrape and one
	// evaluation interval, plus GlobalDelay for a global objective, plus one interval of
	// the long group for a ticket tier or for a page tier whose short window (the one
	// that ends the condition) is computed in the long group.
	ResetLag time.Duration
	// GlobalDelay is the part of Lag and ResetLag that Thanos adds (Objective.GlobalDelay);
	// zero for per-cluster objectives.
	GlobalDelay time.Duration
	// Derived reports whether the tier's long window is derived from the base window.
	Derived bool
	// Source is how the tier's long window is computed (slo.Objective.WindowPlan).
	Source slo.WindowSource
	// RulesLag and ResetRulesLag are the parts of Lag and ResetLag beyond one scrape and
	// one evaluation interval (which a game day's tolerance covers): what the rules'
	// construction adds (the long group's interval, half the base window, Thanos' delay).
	RulesLag, ResetRulesLag time.Duration
}

// DetectBy is the latest time the tier should fire after the fault starts: Detect + Lag.
func (p Prediction) DetectBy() time.Duration { return p.Detect + p.Lag }

// ResetBy is the latest time the tier should reset after the fault ends: Reset + ResetLag.
func (p Prediction) ResetBy() time.Duration { return p.Reset + p.ResetLag }

// Predict returns the prediction for tier w of o under a step fault of error ratio e.
// Measured times add up to one scrape interval, one rule-evaluation interval and the
// rate() extrapolation at window edges.
func Predict(o slo.Objective, w slo.Window, e float64) Prediction {
	th := o.Threshold(w)
	p := Prediction{Window: w, ErrorRatio: e, Threshold: th}
	if !(e > th) {
		return p
	}
	p.Fires = true
	p.Detect = scale(w.Long, th/e)
	p.Reset = scale(w.Short, 1-th/e)
	p.BudgetAtDetect = o.BudgetAtFire(w)
	base := o.BaseWindow()
	p.Source = o.WindowSourceOf(w.Long)
	p.Derived = p.Source == slo.Derived
	p.GlobalDelay = o.GlobalDelay()
	p.ResetLag = o.Scrape() + o.Evaluation() + p.GlobalDelay
	p.Lag = p.ResetLag
	if w.Severity == slo.Ticket {
		// The ticket alert runs in the long group, after every window it reads.
		p.Lag += o.LongGroupLag()
		p.ResetLag += o.LongGroupLag()
	} else {
		// The page alert reads a window computed in the long group as that group last
		// recorded it. The short window ends the condition, so only its lag delays the reset.
		p.Lag += max(o.WindowLag(w.Long), o.WindowLag(w.Short))
		p.ResetLag += o.WindowLag(w.Short)
	}
	if p.Derived && p.Detect > base {
		p.Lag += base / 2
	}
	p.RulesLag = p.Lag - o.Scrape() - o.Evaluation()
	p.ResetRulesLag = p.ResetLag - o.Scrape() - o.Evaluation()
	return p
}

// LowestBurnCaught is the lowest sustained burn rate tier w fires on: any burn strictly
// above it. The tier can catch nothing when its threshold error ratio is 1 or more
// (then ok is false).
func LowestBurnCaught(o slo.Objective, w slo.Window) (burn float64, ok bool) {
	return w.BurnRate, o.Threshold(w) < 1
}

// BudgetDuration is how long the period's budget lasts at a constant burn rate r: P / r.
func BudgetDuration(o slo.Objective, r float64) time.Duration {
	if r <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return scale(o.Period, 1/r)
}

// OneFailurePagesBelow is the traffic, in events per long window, below which a single
// bad event makes tier w fire (when it also lands in the short window): with n events in
// the window one failure is an error ratio of 1/n, above the threshold when n < 1/threshold.
func OneFailurePagesBelow(o slo.Objective, w slo.Window) float64 {
	return 1 / o.Threshold(w)
}

// TierPredictions returns, per tier of o that is not disabled, the prediction for a total
// outage (e = 1), fastest tier first.
func TierPredictions(o slo.Objective) []Prediction {
	var out []Prediction
	for _, w := range o.Tiers() {
		out = append(out, Predict(o, w, 1))
	}
	return out
}

func scale(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * f).Round(time.Second)
}
