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
// expression is valid PromQL in the Prometheus printer's canonical form.
//
// Expressions are assembled from parts already in that form: the SLI's selectors (each
// parsed once here and checked to print back unchanged), slokit's own series selectors,
// windows and numbers as the printer writes them. When a selector does not qualify, and
// for raw SLI templates, every expression is parsed and printed by the Prometheus parser
// instead. Tests assert that both ways give the same bytes and that every generated
// expression parses to itself.
func RecordingRules(o Objective) ([]Rule, error) {
	return recordingRules(o, false)
}

// recordingRules is RecordingRules; parseAll forces every expression through the parser.
func recordingRules(o Objective, parseAll bool) ([]Rule, error) {
	if err := checkGeneratable(o); err != nil {
		return nil, err
	}
	b := newRuleBuilder(o)
	windows := o.RatioWindows()
	base := windows[0]
	exactUpTo := fastestLong(o)
	nums := promNumber
	if parseAll {
		nums = FormatFloat
	}

	switch {
	case o.SLI.Events != nil || o.SLI.Latency != nil:
		parts := eventParts(o)
		b.canonical = !parseAll && canonicalSelector(b.p, parts.bad) && canonicalSelector(b.p, parts.total)
		bad, total := parts.rates(base)
		b.record(MetricBadRate, bad, base)
		b.record(MetricTotalRate, total, base)
		badSel, totalSel := b.sel(MetricBadRate, base), b.sel(MetricTotalRate, base)
		for _, w := range windows {
			switch {
			case w == base:
				b.record(MetricErrorRatio, badSel+" / "+totalSel, w)
			case w <= exactUpTo:
				b.record(MetricErrorRatio, parts.ratio(w), w)
			default:
				r := "[" + FormatWindow(w) + "]"
				b.record(MetricErrorRatio, "sum_over_time("+badSel+r+") / sum_over_time("+totalSel+r+")", w)
			}
		}
	case o.SLI.Raw != nil:
		for _, w := range windows {
			b.record(MetricErrorRatio, ExpandWindow(o.SLI.Raw.ErrorRatio, w), w)
		}
	}

	// What follows is built from slokit's own selectors and numbers only.
	b.canonical = !parseAll
	budget := nums(o.ErrorBudget())
	b.record(MetricObjective, "vector("+nums(o.Target)+")", 0)
	b.record(MetricErrorBudget, "vector("+budget+")", 0)
	b.record(MetricBurnRate, b.sel(MetricErrorRatio, 0)+" / "+budget, 0)
	b.record(MetricBudgetRemaining, "1 - ("+b.sel(MetricErrorRatio, o.Period)+" / "+budget+")", 0)
	if b.err != nil {
		return nil, b.err
	}
	return b.rules, nil
}

// PromNumber renders v as it appears in a generated expression: FormatFloat's 12
// significant digits, written the way the Prometheus printer writes a number literal.
func PromNumber(v float64) string { return promNumber(v) }

func promNumber(v float64) string {
	f, err := strconv.ParseFloat(FormatFloat(v), 64)
	if err != nil {
		return FormatFloat(v)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// canonicalSelector reports whether sel parses as a plain instant vector selector (no
// offset or @ modifier) that the Prometheus printer writes back unchanged, so that
// expressions may embed it as is.
func canonicalSelector(p parser.Parser, sel string) bool {
	e, err := p.ParseExpr(sel)
	if err != nil {
		return false
	}
	vs, ok := e.(*parser.VectorSelector)
	return ok && vs.OriginalOffset == 0 && vs.OriginalOffsetExpr == nil && vs.Timestamp == nil &&
		vs.StartOrEnd == 0 && !vs.Anchored && !vs.Smoothed && vs.String() == sel
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
	b := make([]byte, 0, len(metric)+len(o.Service)+len(o.Name)+64)
	b = append(b, metric...)
	b = append(b, '{')
	b = append(b, LabelService...)
	b = append(b, '=')
	b = strconv.AppendQuote(b, o.Service)
	b = append(b, ',')
	b = append(b, LabelSLO...)
	b = append(b, '=')
	b = strconv.AppendQuote(b, o.Name)
	if w > 0 {
		b = append(b, ',')
		b = append(b, LabelWindow...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, FormatWindow(w))
	}
	return string(append(b, '}'))
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

// eventSelectors are the two selectors an events or latency SLI reads: for events the
// bad and total selectors, for latency the bucket selector at the threshold (good
// events, stored in bad) and the _count selector (total).
type eventSelectors struct {
	latency    bool
	bad, total string
}

func eventParts(o Objective) eventSelectors {
	if e := o.SLI.Events; e != nil {
		return eventSelectors{bad: e.Bad, total: e.Total}
	}
	count, bucket := latencySelectors(*o.SLI.Latency)
	return eventSelectors{latency: true, bad: bucket, total: count}
}

// sumRate is "sum(rate(sel[w]))".
func sumRate(sel, w string) string { return "sum(rate(" + sel + "[" + w + "]))" }

// rates returns the bad and total per-second rate expressions over w.
func (p eventSelectors) rates(w time.Duration) (bad, total string) {
	r := FormatWindow(w)
	total = sumRate(p.total, r)
	if p.latency {
		return total + " - " + sumRate(p.bad, r), total
	}
	return sumRate(p.bad, r) + " or vector(0)", total
}

// ratio is the error ratio over w read straight from the raw series.
func (p eventSelectors) ratio(w time.Duration) string {
	r := FormatWindow(w)
	if p.latency {
		return "1 - (" + sumRate(p.bad, r) + " / " + sumRate(p.total, r) + ")"
	}
	return "(" + sumRate(p.bad, r) + " or vector(0)) / " + sumRate(p.total, r)
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
		ms = append(ms, k+"="+strconv.Quote(l.Selector[k]))
	}
	count = l.Histogram + "_count{" + strings.Join(ms, ",") + "}"
	le := l.ThresholdLE()
	if strings.ContainsAny(le, ".e") {
		ms = append(ms, "le="+strconv.Quote(le))
	} else {
		ms = append(ms, "le=~"+strconv.Quote(le+`(\.0)?`))
	}
	sort.Strings(ms) // the order the Prometheus printer writes matchers in
	bucket = l.Histogram + "_bucket{" + strings.Join(ms, ",") + "}"
	return count, bucket
}

// ruleBuilder collects rules and the first error.
type ruleBuilder struct {
	o     Objective
	p     parser.Parser
	rules []Rule
	// canonical is set while the expressions recorded are built from canonical parts
	// and need no parsing.
	canonical bool
	labels    map[string]string
	err       error
}

func newRuleBuilder(o Objective) *ruleBuilder {
	return &ruleBuilder{o: o, p: parser.NewParser(parser.Options{}), labels: RuleLabels(o),
		rules: make([]Rule, 0, 16)}
}

func (b *ruleBuilder) sel(metric string, w time.Duration) string {
	return SeriesSelector(b.o, metric, w)
}

// record appends a recording rule; w > 0 adds the window label.
func (b *ruleBuilder) record(metric, expr string, w time.Duration) {
	if b.err != nil {
		return
	}
	canon := expr
	if !b.canonical {
		var err error
		if canon, err = CanonicalExpr(b.p, expr); err != nil {
			b.err = fmt.Errorf("slo %s: %s: %w", b.o.ID(), metric, err)
			return
		}
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
