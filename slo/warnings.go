package slo

import (
	"time"

	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// Warnings: valid specs whose alerts cannot work as the user expects. The numbers are
// those of /docs/spec.md "Warnings" and the SRE Workbook maths (ALERTING-MATH.md).

const (
	// MinOutageBudget is the shortest total-outage error budget (budget × period) slokit
	// accepts without a warning: scrape interval, rule evaluation interval and
	// Alertmanager grouping add one to two minutes before anyone is notified.
	MinOutageBudget = 5 * time.Minute
)

// objNodes locates one Objective's fields in the file so that warnings point at them.
type objNodes struct {
	slo, objective, period, alerting *yaml.Node
	// windows parallels Alerting.Windows when the tiers are overridden.
	windows                                             []*yaml.Node
	objectivePath, periodPath, windowPath, alertingPath string
}

// checkObjective appends the warnings of a converted, valid Objective.
func (w *walker) checkObjective(o Objective, at objNodes) {
	budget := o.ErrorBudget()
	pct := o.ObjectivePercent()
	override := len(o.Alerting.Windows) > 0
	objNode := at.objective
	if objNode == nil {
		objNode = at.slo
	}
	active := 0
	for i, win := range o.Windows() {
		if !o.Enabled(win.Severity) {
			continue
		}
		active++
		node, path := objNode, at.objectivePath
		if override && i < len(at.windows) {
			node, path = at.windows[i], strictyaml.Index(at.windowPath, i)
		}
		if o.Threshold(win) >= 1 {
			// A tier fires only when the error ratio exceeds B·b; a ratio cannot exceed 1.
			// Over L, a total outage spends L/(b·P) of the budget; the tier needs B·L/P.
			w.Warnf(node, path, "the %s can never fire: at %s%% even a total outage burns the budget only %s× as fast as allowed (a %s outage spends %s%% of the %s budget, the tier needs %s%%); raise the objective or %s",
				describeWindow(win), pct, formatFloat(roundTo(1/budget, 3)),
				FormatWindow(win.Long), formatFloat(roundTo(100*float64(win.Long)/(budget*float64(o.Period)), 2)),
				FormatWindow(o.Period), formatFloat(roundTo(100*o.BudgetAtFire(win), 2)),
				w.windowsHint("lower the tier's burnRate"))
		}
	}
	if active == 0 {
		node := at.alerting
		if node == nil {
			node = at.slo
		}
		w.Warnf(node, at.alertingPath, "no alert tier is left enabled: this SLO will have recording rules but no alerts")
	}
	w.warnSingleFailure(o, objNode, at.objectivePath)
	if outage := time.Duration(budget * float64(o.Period)); outage < MinOutageBudget {
		w.Warnf(objNode, at.objectivePath, "a total outage spends the whole %s error budget of %s%% in %s, before scrape and rule-evaluation delays let any alert reach someone; consider a lower objective or a longer period",
			FormatWindow(o.Period), pct, formatDuration(outage))
	}
}

// SingleFailureRate is the traffic (events per second) under which slokit warns that a
// single bad event fires a page: below it, the fastest page's short window holds so few
// events that one failure alone exceeds its burn-rate threshold.
const SingleFailureRate = 1.0

// warnSingleFailure warns when one bad event in the fastest enabled page tier's short
// window fires it unless traffic exceeds SingleFailureRate: the Workbook's low-traffic
// case, made concrete. One failure among n events is a ratio of 1/n; the tier fires when
// both windows exceed B·b, so the short window needs n > 1/(B·b) events.
func (w *walker) warnSingleFailure(o Objective, n *yaml.Node, path string) {
	var fastest *Window
	for _, win := range o.TiersOf(Page) {
		if fastest == nil || win.Short < fastest.Short {
			fastest = &win
		}
	}
	if fastest == nil {
		return
	}
	threshold := o.Threshold(*fastest)
	if threshold >= 1 {
		return // never fires at all; warned about above
	}
	events := 1 / threshold
	rate := events / fastest.Short.Seconds()
	if rate <= SingleFailureRate {
		return
	}
	w.Warnf(n, path, "a single failed event fires the %s unless the SLI sees more than %s events/s (%s in its %s short window); at %s%% a low-traffic service pages on every failure, so make sure the traffic is there or lower the objective",
		describeWindow(*fastest), formatFloat(roundTo(rate, 1)), formatFloat(roundTo(events, 0)), FormatWindow(fastest.Short), o.ObjectivePercent())
}

// windowsHint tells how to change the alert tiers in the file's format: slokit/v1 has
// alerting.windows; Sloth and OpenSLO files use the default tiers.
func (w *walker) windowsHint(action string) string {
	if w.format == formatV1 {
		return action + " in alerting.windows"
	}
	return "convert the file to slokit/v1 and " + action + " in alerting.windows"
}

// roundTo rounds f to n significant decimals for messages.
func roundTo(f float64, n int) float64 {
	p := 1.0
	for range n {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}
