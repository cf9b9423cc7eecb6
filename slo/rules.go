package slo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// How the recording rules are built (docs/rules.md has the long form):
//
//   - Events and latency SLIs record the per-second rate of bad events (MetricBadRate) and
//     of all events (MetricTotalRate) over the shortest window only.
//   - Short windows, up to the fastest tier's long window (5m, 30m and 1h for a 30d period),
//     are exact: bad/total straight from rate() over the raw series. They decide when the
//     fast page fires and when every tier resets, so they pay the full read.
//   - Longer windows (2h, 6h, 1d, 3d and the period) are derived from the recorded
//     shortest-window rates: sum_over_time(bad[W]) / sum_over_time(total[W]). That is a
//     ratio of sums of traffic — bad events over all events — never an average of ratios, so
//     an hour of heavy traffic weighs more than an hour of light traffic, as it must. What it
//     costs is an edge smear of at most one shortest window: the first recorded rate inside
//     W also covers up to that much time before W. It reads one series per evaluation step
//     instead of every raw series for days.
//   - Raw SLIs have only a ratio template, so every window is the template evaluated over it.
//
// Absent data: a missing bad-event series counts as zero bad events (`or vector(0)`); a
// missing total series yields no ratio at all, and zero traffic yields NaN. Neither can fire
// an alert, since every comparison with NaN or with nothing is false.

// RecordingGroup returns o's recording rules as one rule group named RuleGroupName(o).
// Alerting rules are appended to the same group by the alerts package, so the group is
// evaluated in order and the alerts read ratios computed in the same evaluation.
func RecordingGroup(o Objective) (RuleGroup, error) {
	rules, err := RecordingRules(o)
	if err != nil {
		return RuleGroup{}, err
	}
	return RuleGroup{Name: RuleGroupName(o), Rules: rules}, nil
}

// RecordingRules returns o's recording rules in evaluation order: the shortest-window
// event rates (events and latency SLIs), MetricErrorRatio for every window in
// o.RatioWindows(), then MetricObjective, MetricErrorBudget, MetricBurnRate (one rule
// yielding every window's series) and MetricBudgetRemaining over the period. Every
// expression is re-parsed with the Prometheus parser and written in its canonical form.
func RecordingRules(o Objective) ([]Rule, error) {
	if err := checkGeneratable(o); err != nil {
		return nil, err
	}
	b := newRuleBuilder(o)
	windows := o.RatioWindows()
	base := windows[0]
	exactUpTo := fastestLong(o)

	switch {
	case o.SLI.Events != nil || o.SLI.Latency != nil:
		bad, total := eventExprs(o, base)
		b.record(MetricBadRate, bad, base)
		b.record(MetricTotalRate, total, base)
		for _, w := range windows {
			switch {
			case w == base:
				b.record(MetricErrorRatio, fmt.Sprintf("%s / %s",
					b.sel(MetricBadRate, base), b.sel(MetricTotalRate, base)), w)
			case w <= exactUpTo:
				b.record(MetricErrorRatio, exactRatioExpr(o, w), w)
			default:
				b.record(MetricErrorRatio, fmt.Sprintf("sum_over_time(%s[%s]) / sum_over_time(%s[%s])",
					b.sel(MetricBadRate, base), FormatWindow(w),
					b.sel(MetricTotalRate, base), FormatWindow(w)), w)
			}
		}
	case o.SLI.Raw != nil:
		for _, w := range windows {
			b.record(MetricErrorRatio, ExpandWindow(o.SLI.Raw.ErrorRatio, w), w)
		}
	}

	budget := FormatFloat(o.ErrorBudget())
	b.record(MetricObjective, "vector("+FormatFloat(o.Target)+")", 0)
	b.record(MetricErrorBudget, "vector("+budget+")", 0)
	b.record(MetricBurnRate, fmt.Sprintf("%s / %s", b.sel(MetricErrorRatio, 0), budget), 0)
	b.record(MetricBudgetRemaining, fmt.Sprintf("1 - (%s / %s)",
		b.sel(MetricErrorRatio, o.Period), budget), 0)
	if b.err != nil {
		return nil, b.err
	}
	return b.rules, nil
}

// ExpandWindow replaces the window placeholder of a raw SLI template ("{{.window}}", also
// written "{{ .window }}") with w in Prometheus duration syntax.
func ExpandWindow(template string, w time.Duration) string {
	s := FormatWindow(w)
	return strings.NewReplacer("{{.window}}", s, "{{ .window }}", s).Replace(template)
}

// FormatFloat renders v with at most 12 significant digits, so that 1 − 0.999 prints as
// 0.001 and not 0.0010000000000000009.
func FormatFloat(v float64) string { return strconv.FormatFloat(v, 'g', 12, 64) }

// RuleLabels returns the labels on o's rules that are not windowed: o.Labels plus
// LabelService and LabelSLO.
func RuleLabels(o Objective) map[string]string {
	m := make(map[string]string, len(o.Labels)+3)
	for k, v := range o.Labels {
		m[k] = v
	}
	m[LabelService] = o.Service
	m[LabelSLO] = o.Name
	return m
}

// SeriesSelector returns the PromQL selector of o's series of the recording rule metric
// over window w (w = 0 selects every window), like
// slokit:sli_error:ratio{slokit_service="shortlink",slokit_slo="redirect-availability",slokit_window="5m"}.
func SeriesSelector(o Objective, metric string, w time.Duration) string {
	s := fmt.Sprintf("%s{%s=%q,%s=%q", metric, LabelService, o.Service, LabelSLO, o.Name)
	if w > 0 {
		s += fmt.Sprintf(",%s=%q", LabelWindow, FormatWindow(w))
	}
	return s + "}"
}

// checkGeneratable reports what stops o from being turned into rules; the spec
// validator reports the same problems with file positions, so this only guards
// Objectives built in code.
func checkGeneratable(o Objective) error {
	var probs []string
	if o.Service == "" || o.Name == "" {
		probs = append(probs, "service and name must be set")
	}
	if !(o.Target > 0 && o.Target < 1) {
		probs = append(probs, fmt.Sprintf("target must be a ratio in (0,1), got %g", o.Target))
	}
	if o.Period <= 0 {
		probs = append(probs, "period must be positive")
	}
	kinds := 0
	for _, set := range []bool{o.SLI.Events != nil, o.SLI.Latency != nil, o.SLI.Raw != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		probs = append(probs, fmt.Sprintf("exactly one SLI kind must be set, got %d", kinds))
	}
	for k := range o.Labels {
		if k == "__name__" || strings.HasPrefix(k, "slokit_") {
			probs = append(probs, fmt.Sprintf("label %q is reserved for slokit", k))
		}
	}
	for _, w := range o.Windows() {
		if w.Long <= 0 || w.Short <= 0 || w.Short > w.Long || w.BurnRate <= 0 {
			probs = append(probs, fmt.Sprintf("window %s/%s ×%g: need 0 < short ≤ long and a positive burn rate",
				FormatWindow(w.Short), FormatWindow(w.Long), w.BurnRate))
		}
	}
	if len(probs) == 0 {
		return nil
	}
	sort.Strings(probs)
	return fmt.Errorf("slo %s: cannot generate rules: %s", o.ID(), strings.Join(probs, "; "))
}

// fastestLong is the long window of the fastest tier; windows up to it are computed exactly.
func fastestLong(o Objective) time.Duration {
	var m time.Duration
	for _, w := range o.Windows() {
		if m == 0 || w.Long < m {
			m = w.Long
		}
	}
	return m
}

// eventExprs returns the bad and total per-second rate expressions over w.
func eventExprs(o Objective, w time.Duration) (bad, total string) {
	r := FormatWindow(w)
	if e := o.SLI.Events; e != nil {
		return fmt.Sprintf("sum(rate(%s[%s])) or vector(0)", e.Bad, r),
			fmt.Sprintf("sum(rate(%s[%s]))", e.Total, r)
	}
	count, bucket := latencySelectors(*o.SLI.Latency)
	return fmt.Sprintf("sum(rate(%s[%s])) - sum(rate(%s[%s]))", count, r, bucket, r),
		fmt.Sprintf("sum(rate(%s[%s]))", count, r)
}

// exactRatioExpr is the error ratio over w read straight from the raw series.
func exactRatioExpr(o Objective, w time.Duration) string {
	r := FormatWindow(w)
	if e := o.SLI.Events; e != nil {
		return fmt.Sprintf("(sum(rate(%s[%s])) or vector(0)) / sum(rate(%s[%s]))", e.Bad, r, e.Total, r)
	}
	count, bucket := latencySelectors(*o.SLI.Latency)
	return fmt.Sprintf("1 - (sum(rate(%s[%s])) / sum(rate(%s[%s])))", bucket, r, count, r)
}

// latencySelectors returns the _count selector and the _bucket selector at the threshold.
// Prometheus 3 rewrites integral le values to float form at scrape ("1" becomes "1.0")
// while Prometheus 2 keeps what the client wrote, so integral thresholds match both.
func latencySelectors(l LatencySLI) (count, bucket string) {
	keys := make([]string, 0, len(l.Selector))
	for k := range l.Selector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ms := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		ms = append(ms, fmt.Sprintf("%s=%q", k, l.Selector[k]))
	}
	count = l.Histogram + "_count{" + strings.Join(ms, ",") + "}"
	le := l.ThresholdLE()
	if strings.ContainsAny(le, ".e") {
		ms = append(ms, fmt.Sprintf("le=%q", le))
	} else {
		ms = append(ms, fmt.Sprintf("le=~%q", le+`(\.0)?`))
	}
	bucket = l.Histogram + "_bucket{" + strings.Join(ms, ",") + "}"
	return count, bucket
}

// ruleBuilder collects rules and the first error.
type ruleBuilder struct {
	o      Objective
	p      parser.Parser
	rules  []Rule
	labels map[string]string
	err    error
}

func newRuleBuilder(o Objective) *ruleBuilder {
	return &ruleBuilder{o: o, p: parser.NewParser(parser.Options{}), labels: RuleLabels(o)}
}

func (b *ruleBuilder) sel(metric string, w time.Duration) string {
	return SeriesSelector(b.o, metric, w)
}

// record appends a recording rule; w > 0 adds the window label.
func (b *ruleBuilder) record(metric, expr string, w time.Duration) {
	if b.err != nil {
		return
	}
	canon, err := CanonicalExpr(b.p, expr)
	if err != nil {
		b.err = fmt.Errorf("slo %s: %s: %w", b.o.ID(), metric, err)
		return
	}
	labels := make(map[string]string, len(b.labels)+1)
	for k, v := range b.labels {
		labels[k] = v
	}
	if w > 0 {
		labels[LabelWindow] = FormatWindow(w)
	}
	b.rules = append(b.rules, Rule{Record: metric, Expr: canon, Labels: labels})
}

// CanonicalExpr parses expr with p and returns it as the Prometheus printer writes it.
func CanonicalExpr(p parser.Parser, expr string) (string, error) {
	e, err := p.ParseExpr(expr)
	if err != nil {
		return "", fmt.Errorf("invalid PromQL %q: %w", expr, err)
	}
	return e.String(), nil
}
