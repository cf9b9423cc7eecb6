package backtest

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/slo"
)

// classifier maps alert transitions to the tiers of a result. For slokit's rules a tier
// is one window pair of o (alerts carry its long window label); for foreign rules (Sloth,
// Pyrra, hand-written) a tier is a severity class, from the alert's labels.
type classifier struct {
	o       slo.Objective
	foreign bool
	// noData holds the names of alerting rules on absent data.
	noData map[string]bool
	// classes are the severities the rules alert on (foreign rules).
	classes map[slo.SeverityName]bool
	// waits holds the longest `for:` of each severity's alerting rules.
	waits map[slo.SeverityName]time.Duration
}

func newClassifier(o slo.Objective, groups []slo.RuleGroup, foreign bool) classifier {
	c := classifier{o: o, foreign: foreign, noData: map[string]bool{}, classes: map[slo.SeverityName]bool{}, waits: map[slo.SeverityName]time.Duration{}}
	for _, g := range groups {
		for _, r := range g.Rules {
			if d, err := model.ParseDuration(r.For); err == nil && r.Alert != "" {
				sev := severityOf(r.Labels)
				c.waits[sev] = max(c.waits[sev], time.Duration(d))
			}
			switch {
			case r.Alert == "":
			case usesAbsent(r.Expr):
				c.noData[r.Alert] = true
			case foreign:
				c.classes[severityOf(r.Labels)] = true
			}
		}
	}
	return c
}

// usesAbsent reports whether expr calls absent or absent_over_time.
func usesAbsent(expr string) bool {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return false
	}
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && (c.Func.Name == "absent" || c.Func.Name == "absent_over_time") {
			found = true
		}
		return nil
	})
	return found
}

// key names the tier a transition belongs to: NoData for alerts on absent data, the
// severity class for foreign rules, else the window label slokit's alerts carry.
func (c classifier) key(t engine.Transition) string {
	switch {
	case c.noData[t.Name]:
		return string(NoData)
	case c.foreign:
		return string(severityOf(t.Labels))
	}
	return "w:" + t.Labels[slo.LabelWindow]
}

// tiers returns the empty results of every tier, in o's order (or page, ticket for
// foreign rules), then the no-data alert.
func (c classifier) tiers() []TierResult {
	var out []TierResult
	if c.foreign {
		for _, sev := range []slo.SeverityName{slo.Page, slo.Ticket} {
			if c.classes[sev] {
				out = append(out, TierResult{Severity: sev, key: string(sev)})
			}
		}
	} else {
		for _, w := range c.o.Tiers() {
			out = append(out, TierResult{Severity: w.Severity, Long: w.Long, Short: w.Short, BurnRate: w.BurnRate, key: "w:" + slo.FormatWindow(w.Long)})
		}
	}
	if len(c.noData) > 0 {
		out = append(out, TierResult{Severity: NoData, key: string(NoData)})
	}
	return out
}

// has reports whether the rules alert on sev at all.
func (c classifier) has(sev slo.SeverityName) bool {
	switch {
	case sev == NoData:
		return len(c.noData) > 0
	case c.foreign:
		return c.classes[sev]
	}
	return hasSeverity(c.o, sev)
}

// windowLag is the known lag of a window of o's rules: windows longer than the base
// window are derived from the rates recorded over it (slo.Objective.BaseWindow), which
// smears their edges by up to one base window (docs/rules.md); windows up to it are read
// from the raw counters and have none.
func windowLag(o slo.Objective, w time.Duration) time.Duration {
	if base := o.BaseWindow(); w > base {
		return base
	}
	return 0
}

// predict sets the prediction of a step fault (the Workbook's) or of a fault hidden in a
// scrape gap (predictGap), and the tolerances: one scrape interval plus jitter (the
// crossing shows in the next scrape), one evaluation interval (and is seen at the next
// evaluation) and the window's known lag.
func predict(tr *TierResult, o slo.Objective, sc Scenario, m scrapeModel, opts Options) {
	fs, fe, hasFault := sc.FaultWindow()
	if tr.Severity == NoData || !hasFault || tr.Long == 0 {
		return // no fault, or a severity class of foreign rules: no windows to predict from
	}
	if lat := o.SLI.Latency; lat != nil && !hasBucket(bucketLayout(o, sc), lat.Threshold.Seconds()) {
		return // the SLI cannot see the fault: nothing to predict
	}
	w := slo.Window{Severity: tr.Severity, Long: tr.Long, Short: tr.Short, BurnRate: tr.BurnRate}
	var p alerts.Prediction
	seen := fe - fs // how long the fault is seen: until the gap ends for a hidden one
	if e, ok := sc.StepFault(); ok {
		p = alerts.Predict(o, w, e)
	} else if e, d, g, ok := sc.gapFault(); ok {
		p, seen = predictGap(o, w, e, d, g, m.Interval), g
	} else {
		return
	}
	tr.Predicted = &p
	sampling := m.Interval + m.Jitter + opts.EvalInterval
	tr.DetectTolerance = sampling + windowLag(o, tr.Long)
	tr.ResetTolerance = sampling + windowLag(o, tr.Short)
	tr.Mismatch = mismatch(*tr, p, seen)
}

// mismatch compares a tier's measurement with its prediction for a fault lasting dur.
func mismatch(tr TierResult, p alerts.Prediction, dur time.Duration) string {
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
	if d := tr.Detect - p.Detect; math.Abs(float64(d)) > float64(tr.DetectTolerance) {
		return fmt.Sprintf("detected after %s, predicted %s (±%s)", fmtDur(tr.Detect), fmtDur(p.Detect), fmtDur(tr.DetectTolerance))
	}
	if dur >= tr.Short && tr.HasReset {
		if d := tr.Reset - p.Reset; math.Abs(float64(d)) > float64(tr.ResetTolerance) {
			return fmt.Sprintf("reset after %s, predicted %s (±%s)", fmtDur(tr.Reset), fmtDur(p.Reset), fmtDur(tr.ResetTolerance))
		}
	}
	return ""
}

// judge checks the expectations: a must-fire severity that did not fire is silent, with
// the reasons diagnose finds.
func judge(res *Result, o slo.Objective, sc Scenario, m scrapeModel, opts Options, cl classifier) {
	for _, sev := range sc.Expect.MustFire {
		if sev != NoData && !cl.has(sev) || res.Fired(sev) {
			continue
		}
		reasons := diagnose(o, sc, m, opts, cl, sev)
		res.Silent = append(res.Silent, Silence{Severity: sev, Reasons: reasons})
		res.Violations = append(res.Violations, fmt.Sprintf("%s must fire but stayed SILENT: %s", sev, strings.Join(reasons, "; ")))
	}
	for _, sev := range sc.Expect.MustNotFire {
		if res.Fired(sev) {
			res.Violations = append(res.Violations, fmt.Sprintf("%s must not fire but did", sev))
		}
	}
}

// diagnose names why sev stayed silent, from what the scenario did to the data.
func diagnose(o slo.Objective, sc Scenario, m scrapeModel, opts Options, cl classifier, sev slo.SeverityName) []string {
	var out []string
	fs, fe, _ := sc.FaultWindow()
	if sev == NoData && !cl.has(NoData) {
		out = append(out, "no alert watches for absent data (no alerting rule uses absent() or absent_over_time())")
	}
	if lat := o.SLI.Latency; lat != nil {
		if layout := bucketLayout(o, sc); !hasBucket(layout, lat.Threshold.Seconds()) {
			out = append(out, fmt.Sprintf("bucket missing: the histogram has no le=%q bucket (layout %s), so the SLI's bucket selector matches no series",
				lat.ThresholdLE(), fmtBuckets(layout)))
		}
	}
	for _, s := range sc.spans(func(g Segment) bool { return g.Absent || g.Renamed || g.Missing }) {
		if s.To <= fs || s.From >= max(fe, sc.Duration()) {
			continue
		}
		out = append(out, dataReason(o, sc, cl, s, fs, fe, sev)...)
	}
	out = append(out, tooFewSamples(o, sc, m, opts, cl, sev, fs, fe)...)
	if len(out) == 0 {
		out = append(out, "no cause found in the scrape model: the rules saw the data and did not trip")
	}
	return out
}

// dataReason explains what span s of unseen data did.
func dataReason(o slo.Objective, sc Scenario, cl classifier, s span, fs, fe time.Duration, sev slo.SeverityName) []string {
	i, _ := sc.segmentAt(s.From)
	g := sc.Segments[i]
	switch {
	case g.Renamed:
		return []string{fmt.Sprintf("series absent: the SLI's metrics were renamed (%s) for %s from %s", renamedExample(o), fmtDur(s.To-s.From), fmtDur(s.From))}
	case g.Absent:
		return []string{fmt.Sprintf("series absent: the SLI's series were not exposed for %s from %s", fmtDur(s.To-s.From), fmtDur(s.From))}
	case sev == NoData:
		return []string{fmt.Sprintf("series absent: every scrape failed for %s from %s", fmtDur(s.To-s.From), fmtDur(s.From))}
	}
	from, to := max(s.From, fs), min(s.To, fe)
	if to <= from {
		return nil
	}
	_, b0 := sc.events(from)
	_, b1 := sc.events(to)
	budget := o.ErrorBudget() * sc.traffic(sc.Segments[0]) * o.Period.Seconds()
	msg := fmt.Sprintf("events lost in a gap: %.0f bad events (%.1f%% of the budget) happened during a %s scrape gap; no tier counted them long enough to fire (a window summed from short rates recorded during the gap never sees them, a short window forgets them one window after the gap)",
		b1-b0, 100*(b1-b0)/budget, fmtDur(s.To-s.From))
	if w := cl.waits[sev]; w > 0 {
		msg += fmt.Sprintf("; the %s alerts also wait up to for: %s", sev, fmtDur(w))
	}
	return []string{msg}
}

func renamedExample(o slo.Objective) string {
	name := ""
	switch {
	case o.SLI.Events != nil:
		if e, err := parser.NewParser(parser.Options{}).ParseMetricSelector(o.SLI.Events.Total); err == nil {
			for _, m := range e {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
		}
	case o.SLI.Latency != nil:
		name = o.SLI.Latency.Histogram + "_bucket"
	}
	if name == "" {
		return "new names"
	}
	return name + " → " + RenamedMetric(name)
}

// tooFewSamples reports the windows of sev's tiers that held fewer than two scrapes at
// most evaluations during the fault: rate() over them is empty.
func tooFewSamples(o slo.Objective, sc Scenario, m scrapeModel, opts Options, cl classifier, sev slo.SeverityName, fs, fe time.Duration) []string {
	times := m.times(0)
	var out []string
	seen := map[time.Duration]bool{}
	for _, w := range o.Tiers() {
		for _, win := range []time.Duration{w.Short, w.Long} {
			if w.Severity != sev || seen[win] {
				continue
			}
			seen[win] = true
			few, evals := 0, 0
			for t := fs.Truncate(opts.EvalInterval) + opts.EvalInterval; t <= fe; t += opts.EvalInterval {
				lo := sort.Search(len(times), func(i int) bool { return times[i] > t-win })
				hi := sort.Search(len(times), func(i int) bool { return times[i] > t })
				evals++
				if hi-lo < 2 {
					few++
				}
			}
			if evals > 0 && few*2 >= evals {
				out = append(out, fmt.Sprintf("too few samples in window: the %s window held fewer than two scrapes at %d of %d evaluations (scrape every %s, %s out of phase), so rate() over it is empty",
					fmtDur(win), few, evals, fmtDur(m.Interval), fmtDur(m.Offset)))
			}
		}
	}
	return out
}

func fmtBuckets(layout []float64) string {
	parts := make([]string, len(layout))
	for i, b := range layout {
		parts[i] = strconv.FormatFloat(b, 'g', -1, 64)
	}
	return strings.Join(parts, ", ")
}
