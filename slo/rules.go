package slo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// How the recording rules are built (docs/rules.md has the long form and the proofs):
//
//   - Every burn window up to the base window (BaseWindow: the longest tier window up to
//     RawWindowLimit, 6h for a 30d period) is read from the raw counters. Counters carry
//     the events of a scrape gap or a Prometheus restart, so those windows count them
//     exactly as soon as scraping resumes. Only the windows the fast group's alerts read
//     (page tiers, and a raw SLI's no-data window) are read there, at every evaluation;
//     the base window's burn rate divides the base rates the long group records, and the
//     windows only the ticket alert reads are read in the long group (WindowPlan).
//   - Bad-event series created lazily (the first error ever) are counted from their first
//     sample: rate() ignores a series' first value, so each raw window adds the first
//     value (min_over_time) of every bad series that did not exist a window ago.
//   - The long rules run in a slower group (LongEvaluation, 2m30s for a 30s evaluation):
//     events and latency SLIs record the bad and total per-second rates over the base
//     window (MetricBadRate, MetricTotalRate) there, and windows longer than the base, and
//     the period, are derived from them: sum_over_time(bad[W]) / sum_over_time(total[W]),
//     a ratio of sums of traffic (never an average of ratios). Each recorded base rate is
//     itself a raw read, so a gap shorter than the base window is carried into every long
//     window (at weight 1 − gap/base once it is older than the base window). Recording it
//     every 2m30s instead of every 30s makes the period window read a fifth of the
//     samples, a fifth as often; every event inside W is still counted once, whatever the
//     spacing. The sums smear events by up to one base window at W's edges, which would
//     delay detection, so the bad side is floored by the exact count of the last base
//     window (bad_base × the number of samples in the last base window).
//   - Raw SLIs have only a ratio template, so every window is the template over it; the
//     windows the fast group's alerts do not read, and those above the base, run in the
//     slower group.
//
// Absent data: a missing bad-event series counts as zero bad events (`or vector(0)`); a
// missing total series yields no burn rate at all (the no-data alert covers it), and zero
// traffic yields NaN; neither can fire a burn-rate alert.

// RecordingGroup returns o's recording rules as one rule group named RuleGroupName(o),
// evaluated every o.Evaluation(): the fast rules, then the long ones (RecordingRuleSets).
// Generated rule files put the long rules of a service in their own slower group
// (alerts.RuleFile); one group per SLO serves embedded engines, promtool (where every
// group is evaluated at every step) and global objectives, and gives the same burn rates
// without the slower group's lag. Alerting rules are appended to the same group by the
// alerts package. A global objective's group is for Thanos Ruler, with
// partial_response_strategy abort: a cluster missing from a query fails the evaluation
// rather than record a partial ratio.
func RecordingGroup(o Objective) (RuleGroup, error) {
	rules, err := RecordingRules(o)
	if err != nil {
		return RuleGroup{}, err
	}
	g := RuleGroup{Name: RuleGroupName(o), Interval: FormatWindow(o.Evaluation()), Rules: rules}
	if o.IsGlobal() {
		g.PartialResponseStrategy = PartialResponseAbort
	}
	return g, nil
}

// RecordingRules returns o's recording rules in evaluation order: the fast ones, then the
// long ones (see RecordingRuleSets).
func RecordingRules(o Objective) ([]Rule, error) {
	fast, long, err := recordingRules(o, false)
	return append(fast, long...), err
}

// RecordingRuleSets returns o's recording rules split by the group that evaluates them
// (WindowPlan). fast, every o.Evaluation(): MetricBurnRate over the FastRaw windows, read
// from the raw counters, in one rule (recordWindows). long, every o.LongEvaluation(): the
// base-window event rates (events and latency SLIs), MetricBurnRate over every other
// window, ascending (a rule each, with a static window label: the base window divides
// the recorded rates, longer windows are derived from them, shorter ones read the raw
// counters), then MetricBudgetRemaining over the period. Every expression is valid
// PromQL in the Prometheus printer's canonical form.
//
// Expressions are assembled from parts already in that form: the SLI's selectors (each
// parsed once here and checked to print back unchanged), slokit's own series selectors,
// windows and numbers as the printer writes them. When a selector does not qualify, and
// for raw SLI templates, every expression is parsed and printed by the Prometheus parser
// instead. Tests assert that both ways give the same bytes and that every generated
// expression parses to itself.
func RecordingRuleSets(o Objective) (fast, long []Rule, err error) {
	return recordingRules(o, false)
}

// recordingRules is RecordingRuleSets; parseAll forces every expression through the parser.
func recordingRules(o Objective, parseAll bool) (fast, long []Rule, err error) {
	if err := checkGeneratable(o); err != nil {
		return nil, nil, err
	}
	b := newRuleBuilder(o)
	nums := promNumber
	if parseAll {
		nums = FormatFloat
	}
	budget := nums(o.ErrorBudget())
	plan := o.WindowPlan()
	if o.SLI.Raw != nil {
		raw := func(w time.Duration) string { return "(" + ExpandWindow(o.SLI.Raw.ErrorRatio, w) + ") / " + budget }
		b.recordWindows(plan.Fast, raw)
		b.setLong(true)
		b.recordEach(plan.Long, raw)
		b.record(MetricBudgetRemaining, "1 - (("+ExpandWindow(o.SLI.Raw.ErrorRatio, o.Period)+") / "+budget+")", 0)
		return b.done()
	}
	parts := eventParts(o)
	// Global expressions (max without …) are printed by the parser.
	b.canonical = !parseAll && !o.IsGlobal() && (parts.native || canonicalSelector(b.p, parts.bad) && canonicalSelector(b.p, parts.total))
	burn := func(w time.Duration) string { return parts.ratio(w) + " / " + budget }
	b.recordWindows(plan.Fast, burn)
	b.setLong(true)
	if !plan.Rates {
		b.recordEach(plan.Long, burn)
		b.record(MetricBudgetRemaining, "1 - ("+parts.ratio(o.Period)+" / "+budget+")", 0)
		return b.done()
	}
	bad, total := parts.rates(plan.Base)
	b.record(MetricBadRate, bad, plan.Base)
	b.record(MetricTotalRate, total, plan.Base)
	d := derived{bad: b.sel(MetricBadRate, plan.Base), total: b.sel(MetricTotalRate, plan.Base), base: FormatWindow(plan.Base)}
	for _, w := range plan.Long {
		switch plan.Source[w] {
		case BaseRates:
			b.record(MetricBurnRate, d.bad+" / "+d.total+" / "+budget, w)
		case Derived:
			b.record(MetricBurnRate, d.ratio(w)+" / "+budget, w)
		default:
			b.record(MetricBurnRate, burn(w), w)
		}
	}
	b.record(MetricBudgetRemaining, "1 - ("+d.ratio(o.Period)+" / "+budget+")", 0)
	return b.done()
}

// recordWindows records MetricBurnRate over every window of ws with ONE rule:
//
//	label_replace(<burn over w1>, "slokit_window", "w1", "", "") or label_replace(<burn over w2>, …) or …
//
// Each series still carries its window in LabelWindow, exactly as one rule per window
// would write it; one rule instead of one per window spares Prometheus a query, an
// appender commit and a rule-evaluation wait per window, which is most of what a cheap
// rule costs. Nothing is recorded for no windows. Only one rule of an SLO may be written
// this way: two rules recording the same metric with the same static labels are
// duplicates to `promtool check rules` (its lint compares names and static labels, not
// what the expressions produce), so the long windows use recordEach.
func (b *ruleBuilder) recordWindows(ws []time.Duration, burn func(time.Duration) string) {
	if len(ws) == 0 {
		return
	}
	var e strings.Builder
	for i, w := range ws {
		if i > 0 {
			e.WriteString(" or ")
		}
		e.WriteString("label_replace(")
		e.WriteString(burn(w))
		e.WriteString(`, "` + LabelWindow + `", "` + FormatWindow(w) + `", "", "")`)
	}
	b.record(MetricBurnRate, e.String(), 0)
}

// recordEach records MetricBurnRate over every window of ws with one rule per window,
// its window a static label (the long group's windows: evaluated a fifth as often, so a
// rule each costs little).
func (b *ruleBuilder) recordEach(ws []time.Duration, burn func(time.Duration) string) {
	for _, w := range ws {
		b.record(MetricBurnRate, burn(w), w)
	}
}

// derived builds the ratio over a window longer than the base from the recorded base rates.
type derived struct {
	bad, total string
	// base is the base window, as written in a range selector.
	base string
}

// ratio is (sum_over_time(bad[w]) > floor or floor) / sum_over_time(total[w]) with
// floor = bad * count_over_time(bad[base]). Each sum, times the recording interval, is a
// count of events (smeared by one base window at w's edges); bad × base is the exact
// count of the last base window, which in the sum's units is bad times the number of
// samples in the last base window: a floor the bad side never drops below, whatever
// interval the rules are evaluated at (promtool and the embedded engine evaluate every
// group at every step).
func (d derived) ratio(w time.Duration) string {
	r := "[" + FormatWindow(w) + "]"
	floor := d.bad + " * count_over_time(" + d.bad + "[" + d.base + "])"
	return "(sum_over_time(" + d.bad + r + ") > " + floor + " or " + floor + ") / sum_over_time(" + d.total + r + ")"
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
// expressions may embed it as is. The usual printed form is recognised without parsing.
func canonicalSelector(p parser.Parser, sel string) bool {
	return printedSelector(sel) || parsedCanonical(p, sel)
}

// parsedCanonical is canonicalSelector by the Prometheus parser and printer.
func parsedCanonical(p parser.Parser, sel string) bool {
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
	if o.IsGlobal() && (o.SLI.Raw != nil || o.SLI.Latency != nil && o.SLI.Latency.Native) {
		probs = append(probs, "a global SLO needs an events or classic latency SLI")
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

// eventSelectors are the selectors an events or latency SLI reads: for events the bad
// and total selectors, for a classic latency histogram the bucket selector at the
// threshold (good events, stored in bad) and the _count selector (total), for a native
// histogram its selector (total) and the threshold in seconds (le).
type eventSelectors struct {
	latency, native bool
	bad, total, le  string
	// dedup lists the replica labels collapsed (max without) before summing, and by the
	// labels summed by; both empty for per-cluster objectives ("sum(…)").
	dedup, by string
}

func eventParts(o Objective) eventSelectors {
	p := eventSelectorsOf(o)
	if o.IsGlobal() {
		p.dedup = strings.Join(o.ReplicaLabels(), ", ")
	}
	return p
}

func eventSelectorsOf(o Objective) eventSelectors {
	if e := o.SLI.Events; e != nil {
		return eventSelectors{bad: e.Bad, total: e.Total}
	}
	l := *o.SLI.Latency
	if l.Native {
		return eventSelectors{latency: true, native: true, total: nativeSelector(l), le: promNumber(l.Threshold.Seconds())}
	}
	count, bucket := latencySelectors(l)
	return eventSelectors{latency: true, bad: bucket, total: count}
}

// sum is "sum(inner)"; for a global objective the HA replicas are collapsed first,
// "sum(max without (replica, …) (inner))", and with by set the sum keeps those labels.
// max, not sum, so that two replicas scraping the same target count once.
func (p eventSelectors) sum(inner string) string {
	if p.dedup != "" {
		inner = "max without (" + p.dedup + ") (" + inner + ")"
	}
	if p.by != "" {
		return "sum by (" + p.by + ") (" + inner + ")"
	}
	return "sum(" + inner + ")"
}

// sumRate is p.sum of "rate(sel[w])".
func (p eventSelectors) sumRate(sel, w string) string { return p.sum("rate(" + sel + "[" + w + "])") }

// badRate is the per-second rate of bad events over w for an events SLI: rate() over the
// bad series, plus the first value of each bad series born within w (rate() needs two
// samples and ignores it), zero when there are none.
func (p eventSelectors) badRate(w time.Duration) string {
	r := FormatWindow(w)
	born := p.sum("min_over_time("+p.bad+"["+r+"]) unless "+p.bad+" offset "+r) + " / " +
		promNumber(w.Seconds())
	return "(" + p.sumRate(p.bad, r) + " or vector(0)) + (" + born + " or vector(0))"
}

// rates returns the bad and total per-second rate expressions over w.
func (p eventSelectors) rates(w time.Duration) (bad, total string) {
	r := FormatWindow(w)
	switch {
	case p.native:
		total = "histogram_count(" + p.sumRate(p.total, r) + ")"
		return total + " * (1 - " + p.fraction(r) + ")", total
	case p.latency:
		total = p.sumRate(p.total, r)
		return total + " - " + p.sumRate(p.bad, r), total
	}
	return p.badRate(w), p.sumRate(p.total, r)
}

// fraction is the native histogram's share of observations at or below the threshold.
func (p eventSelectors) fraction(r string) string {
	return "histogram_fraction(0, " + p.le + ", " + p.sumRate(p.total, r) + ")"
}

// ratio is the error ratio over w read straight from the raw series.
func (p eventSelectors) ratio(w time.Duration) string {
	r := FormatWindow(w)
	switch {
	case p.native:
		return "(1 - " + p.fraction(r) + ")"
	case p.latency:
		return "(1 - (" + p.sumRate(p.bad, r) + " / " + p.sumRate(p.total, r) + "))"
	}
	return "(" + p.badRate(w) + ") / " + p.sumRate(p.total, r)
}

// AbsentSelectors are the selectors whose absence blinds o's burn rates: the total
// series, and for a classic latency histogram the threshold bucket too. Raw SLIs have
// none (their no-data alert watches the shortest window's ratio).
func AbsentSelectors(o Objective) []string {
	switch {
	case o.SLI.Events != nil:
		return []string{o.SLI.Events.Total}
	case o.SLI.Latency != nil && o.SLI.Latency.Native:
		return []string{nativeSelector(*o.SLI.Latency)}
	case o.SLI.Latency != nil:
		count, bucket := latencySelectors(*o.SLI.Latency)
		return []string{count, bucket}
	}
	return nil
}

// nativeSelector is the native histogram's series selector.
func nativeSelector(l LatencySLI) string { return l.Series("") }

// Series is the selector of the histogram's series with suffix ("_count", "_bucket", or
// "" for a native histogram) and the SLI's matchers, without le.
func (l LatencySLI) Series(suffix string) string {
	return l.Histogram + suffix + "{" + strings.Join(sortedMatchers(l.Selector), ",") + "}"
}

func sortedMatchers(sel map[string]string) []string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ms := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		ms = append(ms, k+"="+strconv.Quote(sel[k]))
	}
	return ms
}

// latencySelectors returns the _count selector and the _bucket selector at the threshold.
// Prometheus 3 rewrites integral le values to float form at scrape ("1" becomes "1.0")
// while Prometheus 2 keeps what the client wrote, so integral thresholds match both.
func latencySelectors(l LatencySLI) (count, bucket string) {
	ms := sortedMatchers(l.Selector)
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
	o          Objective
	p          parser.Parser
	fast, long []Rule
	// inLong sends the next rules to long.
	inLong bool
	// canonical is set while the expressions recorded are built from canonical parts
	// and need no parsing.
	canonical bool
	labels    map[string]string
	err       error
}

func newRuleBuilder(o Objective) *ruleBuilder {
	return &ruleBuilder{o: o, p: parser.NewParser(parser.Options{}), labels: RuleLabels(o),
		fast: make([]Rule, 0, 8), long: make([]Rule, 0, 8)}
}

// setLong sends the rules recorded next to the long group (or back to the fast one).
func (b *ruleBuilder) setLong(long bool) { b.inLong = long }

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
	r := Rule{Record: metric, Expr: canon, Labels: labels}
	if b.inLong {
		b.long = append(b.long, r)
	} else {
		b.fast = append(b.fast, r)
	}
}

// done returns the rules recorded, or the first error.
func (b *ruleBuilder) done() (fast, long []Rule, err error) {
	if b.err != nil {
		return nil, nil, b.err
	}
	return b.fast, b.long, nil
}

// CanonicalExpr parses expr with p and returns it as the Prometheus printer writes it.
func CanonicalExpr(p parser.Parser, expr string) (string, error) {
	e, err := p.ParseExpr(expr)
	if err != nil {
		return "", fmt.Errorf("invalid PromQL %q: %w", expr, err)
	}
	return e.String(), nil
}
