package alerts

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/ruleyaml"
	"github.com/slokit/slokit/slo"
)

// Options tune the generated alerts. The zero value is ready to use.
type Options struct {
	// GrafanaURL is Grafana's base URL ("https://grafana.example"). When set, alerts carry
	// a dashboard_url annotation linking to the SLO's detail dashboard
	// (/d/<slo.DashboardUID>?var-service=…&var-slo=…). Empty: no dashboard_url.
	GrafanaURL string
	// RunbookURL returns the runbook_url of o's alerts when the spec sets none in its
	// annotations. Nil: DefaultRunbookURL.
	RunbookURL func(o slo.Objective) string
	// checkOnly is set by Check: the rules are built for their errors only, so the
	// annotations (which cannot fail) are left out.
	checkOnly bool
}

// DefaultRunbookURL is the runbook path used when neither the spec nor Options give one:
// the runbook page generated next to the rules, "runbooks/<service>-<slo>.md".
func DefaultRunbookURL(o slo.Objective) string { return "runbooks/" + o.ID() + ".md" }

// Annotation keys slokit writes on alerts (besides any from the spec).
const (
	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationRunbook     = "runbook_url"
	AnnotationDashboard   = "dashboard_url"
	AnnotationSLO         = "slo"
	AnnotationObjective   = "objective"
)

// Group returns o's complete rule group, for evaluating one SLO on its own (embedded
// engines, promtool tests): the recording rules of slo.RecordingRules followed by the
// alerting rules of Rules, evaluated in that order every o.Evaluation(). RuleFile splits
// the same rules into a service's groups.
func Group(o slo.Objective, opts Options) (slo.RuleGroup, error) {
	g, err := slo.RecordingGroup(o)
	if err != nil {
		return slo.RuleGroup{}, err
	}
	alerts, err := Rules(o, opts)
	if err != nil {
		return slo.RuleGroup{}, err
	}
	g.Rules = append(g.Rules, alerts...)
	return g, nil
}

// RuleFile returns one Prometheus rule file holding the groups of every service
// (ServiceGroups), in input order; services of the same name (split over files) share
// their groups. Global objectives (scope: global) are left out: their rules are for
// Thanos Ruler (ThanosRuleFile). Group names must be unique in a file, so a service whose
// name is another's group name (service "a-long" beside "a") is refused.
func RuleFile(services []*slo.Service, opts Options) (slo.RuleFile, error) {
	var f slo.RuleFile
	owner := map[string]string{}
	for _, s := range mergeByName(services) {
		gs, err := ServiceGroups(s, opts)
		if err != nil {
			return slo.RuleFile{}, err
		}
		for _, g := range gs {
			if other, ok := owner[g.Name]; ok {
				return slo.RuleFile{}, fmt.Errorf("services %s and %s both need a rule group named %s: rename one of them", other, s.Name, g.Name)
			}
			owner[g.Name] = s.Name
		}
		f.Groups = append(f.Groups, gs...)
	}
	return f, nil
}

// mergeByName returns services with those of the same name joined (objectives in input
// order), in order of first appearance; in is not modified.
func mergeByName(in []*slo.Service) []*slo.Service {
	var out []*slo.Service
	at := map[string]int{}
	for _, s := range in {
		i, ok := at[s.Name]
		if !ok {
			at[s.Name] = len(out)
			out = append(out, s)
			continue
		}
		merged := *out[i]
		merged.Objectives = append(append([]slo.Objective(nil), out[i].Objectives...), s.Objectives...)
		out[i] = &merged
	}
	return out
}

// ServiceGroups returns the rule groups of s: per evaluation interval its SLOs use (most
// use one), a group named slo.ServiceGroupName evaluated at that interval holding, SLO
// after SLO, the fast recording rules (the raw windows the page and no-data alerts read,
// slo.WindowPlan) then the page and no-data alerts (so they read those burn rates of the
// same evaluation), and a group of the same name plus slo.LongGroupSuffix, evaluated
// every LongEvaluation (2m30s for 30s), holding the long recording rules (base-window
// rates, the base window's burn rate divided from them, the raw windows only ticket
// tiers read, derived windows, budget) then the ticket alert. A page tier reading a
// window of the long group sees it up to one long interval old (alerts.Predict adds it).
// When the two intervals are equal, one group holds everything. Two groups per service
// instead of one per SLO: each group costs Prometheus nine self-metric series and a
// goroutine. A rule that fails to evaluate does not stop the others of its group.
// RenderRuleFile (what `slokit generate` writes) lays out the same groups from the same
// per-SLO rules; TestRenderRuleFile compares the two: change both together.
func ServiceGroups(s *slo.Service, opts Options) ([]slo.RuleGroup, error) {
	built := buildObjectives(s.Objectives, opts, false)
	evals, byEval := byEvaluation(s.Objectives)
	var out []slo.RuleGroup
	for _, ev := range evals {
		idx := byEval[ev]
		first := s.Objectives[idx[0]]
		name := slo.ServiceGroupName(s.Name, ev, len(evals) > 1)
		fast := slo.RuleGroup{Name: name, Interval: slo.FormatWindow(ev)}
		long := slo.RuleGroup{Name: name + slo.LongGroupSuffix, Interval: slo.FormatWindow(first.LongEvaluation())}
		merge := first.LongEvaluation() == ev
		for _, i := range idx {
			b := built[i]
			if b.err != nil {
				return nil, b.err
			}
			fr, lr, as := b.fast, b.long, b.alerts
			if merge {
				fast.Rules = append(append(append(fast.Rules, fr...), lr...), as.all()...)
				continue
			}
			fast.Rules = append(append(append(fast.Rules, fr...), as.page...), as.noData...)
			long.Rules = append(append(long.Rules, lr...), as.ticket...)
		}
		out = append(out, fast)
		if len(long.Rules) > 0 {
			out = append(out, long)
		}
	}
	return out, nil
}

// Rules returns o's alerting rules: one per severity that is enabled and has tiers, page
// first. Each fires when any of its tiers does,
//
//	(burn{window=L1} > B1 and ignoring(slokit_window) burn{window=S1} > B1) or (… L2, S2, B2)
//
// over MetricBurnRate, so the alert carries slokit_window = the firing tier's long window
// and $value is that window's burn rate. There is no `for:` (it only delays detection and
// resets the wait on every dip; the short window already filters blips).
func Rules(o slo.Objective, opts Options) ([]slo.Rule, error) {
	return rules(o, opts, false)
}

// rules is Rules; with parseAll the expression is built in the pre-canonical form and
// printed by the Prometheus parser, which tests compare with the direct construction.
func rules(o slo.Objective, opts Options, parseAll bool) ([]slo.Rule, error) {
	as, err := alertSet(o, opts, parseAll)
	if err != nil {
		return nil, err
	}
	return as.all(), nil
}

// alertRules are an SLO's alerting rules by the group that evaluates them: page and no data
// in the fast group, ticket in the long one (ServiceGroups).
type alertRules struct{ page, ticket, noData []slo.Rule }

func (a alertRules) all() []slo.Rule {
	return append(append(append(make([]slo.Rule, 0, 3), a.page...), a.ticket...), a.noData...)
}

func alertSet(o slo.Objective, opts Options, parseAll bool) (alertRules, error) {
	var p parser.Parser
	if parseAll {
		p = parser.NewParser(parser.Options{})
	}
	var out alertRules
	var err error
	out.page, out.ticket, err = burnRuleSets(p, o, opts)
	if err != nil {
		return alertRules{}, err
	}
	if !o.Alerting.NoData.Disabled {
		r, err := noDataRule(p, o, opts)
		if err != nil {
			return alertRules{}, fmt.Errorf("slo %s: no-data alert: %w", o.ID(), err)
		}
		out.noData = append(out.noData, r)
	}
	return out, nil
}

// burnRules are o's burn-rate alerting rules, one per enabled severity with tiers, page
// first.
func burnRules(p parser.Parser, o slo.Objective, opts Options) ([]slo.Rule, error) {
	page, ticket, err := burnRuleSets(p, o, opts)
	return append(page, ticket...), err
}

// burnRuleSets are burnRules split by severity: the page alert (evaluated in the fast
// group) and the ticket alert (evaluated in the long group).
func burnRuleSets(p parser.Parser, o slo.Objective, opts Options) (page, ticket []slo.Rule, err error) {
	for _, sev := range slo.Severities() {
		tiers := o.TiersOf(sev)
		if len(tiers) == 0 {
			continue
		}
		expr, err := alertExpr(p, o, tiers)
		if err != nil {
			return nil, nil, fmt.Errorf("slo %s: %s alert: %w", o.ID(), sev, err)
		}
		r := slo.Rule{
			Alert:       o.AlertName(),
			Expr:        expr,
			Labels:      o.AlertLabels(sev),
			Annotations: annotations(o, o.Alerting.Severity(sev), tiers, opts),
		}
		if sev == slo.Ticket {
			ticket = append(ticket, r)
		} else {
			page = append(page, r)
		}
	}
	return page, ticket, nil
}

// noDataRule is the alert on absent SLI data: absent(total) (or absent() of the latency
// histogram's count and threshold bucket; of the shortest window's ratio for raw SLIs),
// held for NoDataFor. It carries the SLO's rule labels, so it is routed and inhibited like
// the burn-rate alerts, with severity page unless the spec says otherwise.
func noDataRule(p parser.Parser, o slo.Objective, opts Options) (slo.Rule, error) {
	sels := slo.AbsentSelectors(o)
	if len(sels) == 0 {
		sels = []string{slo.SeriesSelector(o, slo.MetricBurnRate, o.BurnWindows()[0])}
	}
	parts := make([]string, len(sels))
	for i, s := range sels {
		parts[i] = "absent(" + s + ")"
	}
	expr := strings.Join(parts, " or ")
	// The selectors are the SLI's, validated and printed by the Prometheus parser, or
	// slokit's own; only objectives built in code may need printing.
	if p != nil || (o.SLI.Events != nil && !printedAbsent(sels) && !isCanonical(expr)) {
		var err error
		if expr, err = slo.CanonicalExpr(parser.NewParser(parser.Options{}), expr); err != nil {
			return slo.Rule{}, err
		}
	}
	return slo.Rule{
		Alert:       o.NoDataAlertName(),
		Expr:        expr,
		For:         slo.FormatWindow(o.NoDataFor()),
		Labels:      o.NoDataLabels(),
		Annotations: noDataAnnotations(o, sels, opts),
	}, nil
}

// printedAbsent reports, without parsing, that absent() of sels prints back to itself:
// one selector in the printer's own form (slo.PrintedSelector).
func printedAbsent(sels []string) bool { return len(sels) == 1 && slo.PrintedSelector(sels[0]) }

// isCanonical reports whether expr prints back to itself.
func isCanonical(expr string) bool {
	out, err := slo.CanonicalExpr(parser.NewParser(parser.Options{}), expr)
	return err == nil && out == expr
}

// noDataAnnotations are the no-data alert's annotations; spec annotations win.
func noDataAnnotations(o slo.Objective, sels []string, opts Options) map[string]string {
	if opts.checkOnly {
		return nil
	}
	m := map[string]string{
		AnnotationSummary: o.Service + "/" + o.Name + ": no SLI data for " + slo.FormatWindow(o.NoDataFor()) +
			"; its burn-rate alerts cannot fire",
		AnnotationDescription: "None of these series exists in Prometheus: " + strings.Join(sels, ", ") +
			". Without them every error ratio of SLO " + o.Name + " is absent and no burn-rate alert can fire, " +
			"whatever the service is doing. Usual causes: the target is down or not scraped, the metric or a " +
			"label was renamed, a selector typo, or (latency) the threshold is not a bucket boundary or the " +
			"histogram became native.",
		AnnotationSLO:       o.Service + "/" + o.Name,
		AnnotationObjective: o.ObjectivePercent() + "% over " + slo.FormatWindow(o.Period),
	}
	if opts.GrafanaURL != "" {
		m[AnnotationDashboard] = DashboardURL(opts.GrafanaURL, o)
	}
	for _, src := range []map[string]string{o.Alerting.Annotations, o.Alerting.NoData.Annotations} {
		for k, v := range src {
			m[k] = v
		}
	}
	if m[AnnotationRunbook] == "" {
		rb := opts.RunbookURL
		if rb == nil {
			rb = DefaultRunbookURL
		}
		m[AnnotationRunbook] = rb(o) + "#no-data"
	}
	return m
}

// alertExpr is the condition of an alert over tiers, in the Prometheus printer's
// canonical form: built directly from canonical parts (slokit's series selectors and
// numbers as the printer writes them), or, when p is set, written the plain way and
// printed by the parser. Tests assert both give the same bytes.
func alertExpr(p parser.Parser, o slo.Objective, tiers []slo.Window) (string, error) {
	var b strings.Builder
	matching := " and ignoring (" + slo.LabelWindow + ") "
	num := slo.PromNumber
	if p != nil {
		matching = " and ignoring(" + slo.LabelWindow + ") "
		num = slo.FormatFloat
	}
	for i, w := range tiers {
		if i > 0 {
			b.WriteString(" or ")
		}
		burn := " > " + num(w.BurnRate)
		b.WriteByte('(')
		b.WriteString(slo.SeriesSelector(o, slo.MetricBurnRate, w.Long))
		b.WriteString(burn)
		b.WriteString(matching)
		b.WriteString(slo.SeriesSelector(o, slo.MetricBurnRate, w.Short))
		b.WriteString(burn)
		b.WriteByte(')')
	}
	if p == nil {
		return b.String(), nil
	}
	return slo.CanonicalExpr(p, b.String())
}

// annotations merges spec annotations (severity over SLO) over slokit's defaults.
func annotations(o slo.Objective, cfg slo.Severity, tiers []slo.Window, opts Options) map[string]string {
	if opts.checkOnly {
		return nil
	}
	period := slo.FormatWindow(o.Period)
	remaining := slo.SeriesSelector(o, slo.MetricBudgetRemaining, 0)
	tierText := make([]string, len(tiers))
	for i, w := range tiers {
		tierText[i] = fmt.Sprintf("%s× over %s and %s", slo.FormatFloat(w.BurnRate),
			slo.FormatWindow(w.Long), slo.FormatWindow(w.Short))
	}
	m := map[string]string{
		AnnotationSummary: `{{ $labels.slokit_service }}/{{ $labels.slokit_slo }}: error budget burning ` +
			`{{ printf "%.1f" $value }}× too fast over {{ $labels.slokit_window }}`,
		AnnotationDescription: fmt.Sprintf(`SLO {{ $labels.slokit_slo }} of {{ $labels.slokit_service }} (objective %s%% over %s) `+
			`is burning its error budget at {{ printf "%%.1f" $value }}× the rate that would spend it in exactly %s, `+
			`measured over the last {{ $labels.slokit_window }}. This alert fires at %s. `+
			`{{ with query "1 - %s" }}{{ . | first | value | humanizePercentage }} of the %s error budget is spent. {{ end }}`+
			`{{ with printf "clamp_min(%s, 0) * %d / %%f" $value | query }}At this rate the rest is gone in {{ . | first | value | humanizeDuration }}.{{ end }}`,
			o.ObjectivePercent(), period, period, strings.Join(tierText, ", or "),
			escapeQuotes(remaining), period,
			escapeQuotes(remaining), int64(o.Period/time.Second)),
		AnnotationSLO:       o.Service + "/" + o.Name,
		AnnotationObjective: o.ObjectivePercent() + "% over " + period,
	}
	if opts.GrafanaURL != "" {
		m[AnnotationDashboard] = DashboardURL(opts.GrafanaURL, o)
	}
	for _, src := range []map[string]string{o.Alerting.Annotations, cfg.Annotations} {
		for k, v := range src {
			m[k] = v
		}
	}
	if m[AnnotationRunbook] == "" {
		rb := opts.RunbookURL
		if rb == nil {
			rb = DefaultRunbookURL
		}
		m[AnnotationRunbook] = rb(o)
	}
	return m
}

// DashboardURL links to o's detail dashboard in the Grafana at base.
func DashboardURL(base string, o slo.Objective) string {
	q := url.Values{"var-service": {o.Service}, "var-slo": {o.Name}}
	return strings.TrimRight(base, "/") + "/d/" + slo.DashboardUID(o) + "?" + q.Encode()
}

// escapeQuotes makes s safe inside a double-quoted Go template string.
func escapeQuotes(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }

// MarshalRuleFile renders f as a Prometheus rule file: slo.GeneratedHeader, then exactly
// one YAML document (Prometheus reads only the first document of a rule file).
func MarshalRuleFile(f slo.RuleFile) ([]byte, error) {
	if len(f.Groups) == 0 {
		return marshal(f)
	}
	// Groups are written by ruleyaml.AppendRuleGroupYAML, which gives the bytes yaml.v3 would
	// write; a group it does not handle is encoded on its own with yaml.v3 (group by group
	// keeps the YAML emitter's event queue small). The bytes are those of one Encode.
	size := len(slo.GeneratedHeader) + 8
	for _, g := range f.Groups {
		size += ruleyaml.RuleGroupYAMLSize(g)
	}
	out := make([]byte, 0, size)
	out = append(out, slo.GeneratedHeader+"groups:\n"...)
	for _, g := range f.Groups {
		var ok bool
		if out, ok = ruleyaml.AppendRuleGroupYAML(out, g, 2); ok {
			continue
		}
		rest, err := groupYAMLv3(g)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// PrometheusRule is the prometheus-operator monitoring.coreos.com/v1 PrometheusRule
// object, written field for field as the operator's CRD defines it.
type PrometheusRule struct {
	APIVersion string             `yaml:"apiVersion"`
	Kind       string             `yaml:"kind"`
	Metadata   PrometheusMetadata `yaml:"metadata"`
	Spec       slo.RuleFile       `yaml:"spec"`
}

// PrometheusMetadata is the object metadata slokit sets on a PrometheusRule.
type PrometheusMetadata struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

// NewPrometheusRule wraps f for service in a PrometheusRule named "slokit-<service>",
// labelled app.kubernetes.io/managed-by=slokit plus extraLabels (which a Prometheus
// resource's ruleSelector usually matches, like {release: prometheus}).
func NewPrometheusRule(service, namespace string, extraLabels map[string]string, f slo.RuleFile) PrometheusRule {
	labels := map[string]string{"app.kubernetes.io/managed-by": "slokit", "app.kubernetes.io/part-of": service}
	for k, v := range extraLabels {
		labels[k] = v
	}
	return PrometheusRule{
		APIVersion: "monitoring.coreos.com/v1",
		Kind:       "PrometheusRule",
		Metadata:   PrometheusMetadata{Name: "slokit-" + service, Namespace: namespace, Labels: labels},
		Spec:       f,
	}
}

// MarshalPrometheusRules renders rules as YAML documents separated by "---", after
// slo.GeneratedHeader (kubectl reads every document; this is not a Prometheus rule file).
func MarshalPrometheusRules(rules ...PrometheusRule) ([]byte, error) {
	var b strings.Builder
	b.WriteString(slo.GeneratedHeader)
	for i, r := range rules {
		if i > 0 {
			b.WriteString("---\n")
		}
		out, ok := appendPrometheusRule(nil, r)
		if !ok {
			var err error
			if out, err = marshalYAML(r); err != nil {
				return nil, err
			}
		}
		b.Write(out)
	}
	return []byte(b.String()), nil
}

// appendPrometheusRule appends r as yaml.v3 writes it: the small head (apiVersion, kind,
// metadata) by yaml.v3, the rule groups under spec by ruleyaml.AppendRuleGroupYAML. It
// reports false, for the caller to encode all of r with yaml.v3, when a group is not
// handled or the head does not end as expected.
func appendPrometheusRule(dst []byte, r PrometheusRule) ([]byte, bool) {
	if len(r.Spec.Groups) == 0 {
		return dst, false
	}
	head := r
	head.Spec = slo.RuleFile{}
	hb, err := marshalYAML(head)
	if err != nil {
		return dst, false
	}
	hb, ok := bytes.CutSuffix(hb, []byte("spec:\n  groups: []\n"))
	if !ok {
		return dst, false
	}
	size := len(hb) + 32
	for _, g := range r.Spec.Groups {
		size += ruleyaml.RuleGroupYAMLSize(g)
	}
	out := append(make([]byte, 0, size), hb...)
	out = append(out, "spec:\n  groups:\n"...)
	for _, g := range r.Spec.Groups {
		if out, ok = ruleyaml.AppendRuleGroupYAML(out, g, 4); !ok {
			return dst, false
		}
	}
	return append(dst, out...), true
}

func marshal(v any) ([]byte, error) {
	out, err := marshalYAML(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(slo.GeneratedHeader), out...), nil
}

// marshalYAML encodes v as one YAML document indented by two spaces.
func marshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
