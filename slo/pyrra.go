package slo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// Pyrra import: ServiceLevelObjective objects (pyrra.dev/v1alpha1), alone or in a List.
// The SLO keeps Pyrra's objective, window and alert tiers exactly (Pyrra's four windows,
// scaled from 28d and rounded to the minute, with factors 14, 7, 2 and 1), so alerts fire
// on the same conditions; Pyrra's `for:` waits are not kept (slokit's short windows
// confirm a burn instead). Pyrra has no service: the object's namespace is the service
// ("default" when absent). Labels prefixed "pyrra.dev/" are propagated to the rules, as
// Pyrra does; other metadata labels select the PrometheusRule object and are not read.

// pyrraPropagate is the label prefix Pyrra copies onto its rules.
const pyrraPropagate = "pyrra.dev/"

// pyrraWindows are Pyrra v0.10's tiers for a window: long and short windows fixed for
// 28d and scaled, rounded to the minute; page for the first two (severity critical),
// ticket for the others (severity warning).
func pyrraWindows(window time.Duration) []Window {
	r := func(d time.Duration) time.Duration { return d.Round(time.Minute) }
	return []Window{
		{Page, r(window / (28 * 24)), r(window / (28 * 24 * 12)), 14},
		{Page, r(window / (28 * 4)), r(window / (28 * 24 * 2)), 7},
		{Ticket, r(window / 28), r(window / (28 * 12)), 2},
		{Ticket, r(window / 7), r(window / (28 * 4)), 1},
	}
}

func (w *walker) convertPyrra(root *yaml.Node, path string) *Service {
	before := w.Errs
	f, ok := w.Fields(root, path, "apiVersion", "kind", "metadata", "spec", "status")
	if !ok {
		return nil
	}
	mp := strictyaml.Join(path, "metadata")
	name, ns, lbls := w.k8sMetadata(f["metadata"], mp)
	svcName := "default"
	if ns.set() {
		svcName = w.looseNameAt(ns, root, strictyaml.Join(mp, "namespace"), "namespace")
	}
	o := Objective{
		Service: svcName,
		Name:    w.looseNameAt(name, firstNode(w.Resolve(f["metadata"]), root), strictyaml.Join(mp, "name"), "SLO"),
		Labels:  w.pyrraLabels(lbls, strictyaml.Join(mp, "labels")),
	}
	sp := strictyaml.Join(path, "spec")
	g, ok := w.Fields(f["spec"], sp, "description", "target", "window", "indicator", "alerting",
		"partial_response_strategy", "performanceOverAccuracy", "ruleOutput", "shortRulesLabels", "longRulesLabels", "enableDescriptionAsLabel")
	if !ok {
		return nil
	}
	specNode := firstNode(w.Resolve(f["spec"]), root)
	for _, k := range []string{"partial_response_strategy", "performanceOverAccuracy", "ruleOutput", "shortRulesLabels", "longRulesLabels", "enableDescriptionAsLabel"} {
		if v := w.Resolve(g[k]); !strictyaml.IsNull(v) {
			w.Warnf(v, strictyaml.Join(sp, k), "ignored: it tunes Pyrra's own rule output, which slokit does not reproduce")
		}
	}
	o.Description = w.scalarAt(g["description"], strictyaml.Join(sp, "description")).Value
	target := w.scalarAt(g["target"], strictyaml.Join(sp, "target"))
	if target.set() {
		target.Tag = "!!float" // Pyrra writes the percentage as a string: "99.5"
		if _, err := strconv.ParseFloat(strings.TrimSpace(target.Value), 64); err != nil {
			target.Tag = "!!str"
		}
	}
	o.Target, _ = w.objectiveAt(target, specNode, strictyaml.Join(sp, "target"))
	var periodOK bool
	o.Period, periodOK = w.durationAt(w.scalarAt(g["window"], strictyaml.Join(sp, "window")), specNode, strictyaml.Join(sp, "window"), "28d", 0)
	o.SLI = w.pyrraIndicator(g["indicator"], specNode, strictyaml.Join(sp, "indicator"))
	o.Alerting = w.pyrraAlerting(g["alerting"], strictyaml.Join(sp, "alerting"))
	if periodOK {
		o.Alerting.Windows = pyrraWindows(o.Period)
		if o.Alerting.Windows[0].Short <= 0 {
			w.Errf(w.Resolve(g["window"]), strictyaml.Join(sp, "window"), "Pyrra's fastest tier for a %s window rounds to 0m: use a window of at least 3d", FormatWindow(o.Period))
		}
	}
	if w.Errs > before {
		return nil
	}
	w.checkObjective(o, objNodes{slo: root, objective: target.Node, period: w.Resolve(g["window"]),
		objectivePath: strictyaml.Join(sp, "target"), periodPath: strictyaml.Join(sp, "window"), alertingPath: strictyaml.Join(sp, "alerting")})
	w.origin("name", name.Node, strictyaml.Join(mp, "name"), "")
	w.origin("objective", target.Node, strictyaml.Join(sp, "target"), "")
	w.origin("period", w.Resolve(g["window"]), strictyaml.Join(sp, "window"), "")
	w.origin("sli", w.Resolve(g["indicator"]), strictyaml.Join(sp, "indicator"), "")
	w.origin("labels", w.Resolve(lbls), strictyaml.Join(mp, "labels"), "the pyrra.dev/ labels Pyrra propagates")
	w.origin("alerting", firstNode(w.Resolve(g["alerting"]), w.Resolve(g["window"])), strictyaml.Join(sp, "alerting"), "Pyrra's tiers for the window, severities critical and warning")
	svc := &Service{Name: svcName, Labels: map[string]string{}, Objectives: []Objective{o}}
	withOrigins(svc, o.Name, w.takeOrigins())
	return svc
}

// pyrraLabels keeps the metadata labels Pyrra propagates to its rules ("pyrra.dev/team"
// → team).
func (w *walker) pyrraLabels(n *yaml.Node, path string) map[string]string {
	m := w.stringMapAt(n, path)
	var kept stringMap
	for _, e := range m.Entries {
		if k, ok := strings.CutPrefix(e.Key.Value, pyrraPropagate); ok {
			e.Key.Value = k
			kept.Entries = append(kept.Entries, e)
		}
	}
	return w.labelsAt(kept, path)
}

// pyrraAlerting maps spec.alerting: name (default ErrorBudgetBurn), disabled and
// burnrates: false (no alert), severities (page = fastBurn, ticket = slowBurn).
func (w *walker) pyrraAlerting(n *yaml.Node, path string) Alerting {
	a := Alerting{Name: "ErrorBudgetBurn", Labels: map[string]string{}, Annotations: map[string]string{}}
	page, ticket := map[string]string{LabelSeverity: "critical"}, map[string]string{LabelSeverity: "warning"}
	f, ok := w.Fields(n, path, "disabled", "burnrates", "absent", "name", "absentName", "severities")
	if ok {
		if name := w.scalarAt(f["name"], strictyaml.Join(path, "name")); name.set() {
			a.Name = w.alertNameAt(name, strictyaml.Join(path, "name"), "", "")
		}
		disabled, _ := w.boolAt(f["disabled"], strictyaml.Join(path, "disabled"))
		burn, bn := w.boolAt(f["burnrates"], strictyaml.Join(path, "burnrates"))
		if disabled || (bn != nil && !burn) {
			a.Page.Disabled, a.Ticket.Disabled = true, true
		}
		_, _ = w.boolAt(f["absent"], strictyaml.Join(path, "absent")) // slokit's no-data handling is its own
		if v := w.scalarAt(f["absentName"], strictyaml.Join(path, "absentName")); v.set() {
			w.Warnf(v.Node, strictyaml.Join(path, "absentName"), "ignored: slokit names its own no-data alerts")
		}
		w.pyrraSeverities(f["severities"], strictyaml.Join(path, "severities"), page, ticket)
	}
	a.Page = severityDefaults(Severity{Disabled: a.Page.Disabled, Labels: page}, Page)
	a.Ticket = severityDefaults(Severity{Disabled: a.Ticket.Disabled, Labels: ticket}, Ticket)
	return a
}

func (w *walker) pyrraSeverities(n *yaml.Node, path string, page, ticket map[string]string) {
	f, ok := w.Fields(n, path, "absent", "fastBurn", "mediumBurn", "slowBurn", "longTermBurn")
	if !ok {
		return
	}
	pair := func(first, second string, dst map[string]string) {
		a, b := w.scalarAt(f[first], strictyaml.Join(path, first)), w.scalarAt(f[second], strictyaml.Join(path, second))
		if a.set() && b.set() && a.Value != b.Value {
			w.Errf(b.Node, strictyaml.Join(path, second), "must equal %s (%q): slokit's %s and %s tiers share one alert", first, a.Value, first, second)
			return
		}
		for _, s := range []scalar{a, b} {
			if s.set() {
				dst[LabelSeverity] = s.Value
			}
		}
	}
	pair("fastBurn", "mediumBurn", page)
	pair("slowBurn", "longTermBurn", ticket)
}

// pyrraIndicator converts exactly one of ratio, latency, latencyNative and bool_gauge.
func (w *walker) pyrraIndicator(n, parent *yaml.Node, path string) SLI {
	f, ok := w.Fields(n, path, "ratio", "latency", "latencyNative", "bool_gauge", "boolGauge")
	if !ok {
		return SLI{}
	}
	if v, set := f["boolGauge"]; set {
		w.Warnf(w.Resolve(v), strictyaml.Join(path, "boolGauge"), "Pyrra spells it bool_gauge; read as such")
		if _, both := f["bool_gauge"]; !both {
			f["bool_gauge"] = v
		}
		delete(f, "boolGauge")
	}
	if len(f) != 1 {
		w.Errf(firstNode(w.Resolve(n), parent), path, "required: exactly one of ratio, latency, latencyNative or bool_gauge")
		return SLI{}
	}
	for kind, v := range f {
		p := strictyaml.Join(path, kind)
		g, ok := w.Fields(v, p, "errors", "success", "total", "grouping", "latency", "metric")
		if !ok {
			return SLI{}
		}
		return w.pyrraSLI(kind, g, firstNode(w.Resolve(v), parent), p)
	}
	return SLI{}
}

func (w *walker) pyrraSLI(kind string, g map[string]*yaml.Node, at *yaml.Node, p string) SLI {
	allowed := map[string][]string{"ratio": {"errors", "total", "grouping"}, "latency": {"success", "total", "grouping"},
		"latencyNative": {"total", "latency", "grouping"}, "bool_gauge": {"metric", "grouping"}}[kind]
	for k, v := range g {
		if !slices.Contains(allowed, k) {
			w.Errf(w.Resolve(v), strictyaml.Join(p, k), "%s", strictyaml.UnknownField(k, allowed))
			return SLI{}
		}
	}
	by := w.pyrraGrouping(g["grouping"], strictyaml.Join(p, "grouping"))
	switch kind {
	case "ratio":
		errs := w.pyrraMetric(g["errors"], at, strictyaml.Join(p, "errors"))
		total := w.pyrraMetric(g["total"], at, strictyaml.Join(p, "total"))
		if errs == nil || total == nil {
			return SLI{}
		}
		if by == "" {
			w.distinctEvents(errs.String(), total.String(), w.Resolve(g["errors"]), strictyaml.Join(p, "errors"))
			return SLI{Events: &EventsSLI{Bad: errs.String(), Total: total.String()}}
		}
		return w.pyrraRaw(fmt.Sprintf("sum%s (rate(%s[%s])) / sum%s (rate(%s[%s]))", by, errs, WindowPlaceholder, by, total, WindowPlaceholder), at, p)
	case "latency":
		return w.pyrraLatency(g, at, p, by)
	case "latencyNative":
		total := w.pyrraMetric(g["total"], at, strictyaml.Join(p, "total"))
		lat, ok := w.durationAt(w.scalarAt(g["latency"], strictyaml.Join(p, "latency")), at, strictyaml.Join(p, "latency"), "1s", 0)
		if total == nil || !ok {
			return SLI{}
		}
		return w.pyrraRaw(fmt.Sprintf("1 - histogram_fraction(0, %s, sum%s (rate(%s[%s])))", formatLE(lat.Seconds()), by, total, WindowPlaceholder), at, p)
	}
	m := w.pyrraMetric(g["metric"], at, strictyaml.Join(p, "metric"))
	if m == nil {
		return SLI{}
	}
	return w.pyrraRaw(fmt.Sprintf("1 - sum%s (sum_over_time(%s[%s])) / sum%s (count_over_time(%s[%s]))", by, m, WindowPlaceholder, by, m, WindowPlaceholder), at, p)
}

// pyrraLatency maps success (a _bucket selector with le) and total (the _count
// selector): a latency SLI when the matchers are equalities shared by both, else the
// raw ratio Pyrra computes.
func (w *walker) pyrraLatency(g map[string]*yaml.Node, at *yaml.Node, p, by string) SLI {
	succ := w.pyrraMetric(g["success"], at, strictyaml.Join(p, "success"))
	total := w.pyrraMetric(g["total"], at, strictyaml.Join(p, "total"))
	if succ == nil || total == nil {
		return SLI{}
	}
	if l, ok := latencyOf(succ, total); ok && by == "" {
		return SLI{Latency: l}
	}
	if !strings.HasSuffix(succ.Name, "_bucket") {
		w.Errf(w.Resolve(g["success"]), strictyaml.Join(p, "success"), "must select a histogram's _bucket series with an le matcher, got %s", succ.Name)
		return SLI{}
	}
	return w.pyrraRaw(fmt.Sprintf("1 - sum%s (rate(%s[%s])) / sum%s (rate(%s[%s]))", by, succ, WindowPlaceholder, by, total, WindowPlaceholder), at, p)
}

// latencyOf reads X_bucket{m…, le="T"} and X_count{m…} with equality matchers only.
func latencyOf(succ, total *parser.VectorSelector) (*LatencySLI, bool) {
	base, ok := strings.CutSuffix(succ.Name, "_bucket")
	if !ok || total.Name != base+"_count" {
		return nil, false
	}
	l := &LatencySLI{Histogram: base, Selector: map[string]string{}}
	le := ""
	for _, m := range succ.LabelMatchers {
		switch {
		case m.Name == labels.MetricName:
		case m.Type != labels.MatchEqual:
			return nil, false
		case m.Name == "le":
			le = m.Value
		default:
			l.Selector[m.Name] = m.Value
		}
	}
	n := 0
	for _, m := range total.LabelMatchers {
		if m.Name == labels.MetricName {
			continue
		}
		if m.Type != labels.MatchEqual || l.Selector[m.Name] != m.Value {
			return nil, false
		}
		n++
	}
	secs, err := strconv.ParseFloat(le, 64)
	if n != len(l.Selector) || err != nil || secs <= 0 {
		return nil, false
	}
	l.Threshold = time.Duration(secs * float64(time.Second))
	if formatLE(l.Threshold.Seconds()) != le {
		return nil, false // the le text would not round-trip: keep Pyrra's raw ratio
	}
	return l, true
}

func (w *walker) pyrraRaw(t string, at *yaml.Node, p string) SLI {
	return SLI{Raw: &RawSLI{ErrorRatio: w.templateAt(scalar{Value: t, Tag: "!!str", Node: at}, at, p, "the error ratio")}}
}

// pyrraMetric reads {metric: <series selector>}.
func (w *walker) pyrraMetric(n, parent *yaml.Node, path string) *parser.VectorSelector {
	var m scalar
	if v := w.Resolve(n); v != nil && v.Kind == yaml.ScalarNode {
		m = w.scalarAt(v, path) // bool_gauge: metric is inline
	} else if f, ok := w.Fields(n, path, "metric"); ok {
		m = w.scalarAt(f["metric"], strictyaml.Join(path, "metric"))
		path = strictyaml.Join(path, "metric")
	}
	sel := w.selectorAt(m, firstNode(w.Resolve(n), parent), path, `http_requests_total{code=~"5.."}`)
	if sel == "" {
		return nil
	}
	e, err := w.promql().ParseExpr(sel)
	if err != nil {
		return nil
	}
	return e.(*parser.VectorSelector)
}

// pyrraGrouping renders grouping as " by (a, b)", or "" when absent.
func (w *walker) pyrraGrouping(n *yaml.Node, path string) string {
	items, _ := w.seqAt(n, path)
	var names []string
	for i, item := range items {
		s := w.scalarAt(item, strictyaml.Index(path, i))
		if !model.LegacyValidation.IsValidLabelName(s.Value) {
			w.Errf(firstNode(s.Node, w.Resolve(item)), strictyaml.Index(path, i), "%q is not a label name", s.Value)
			continue
		}
		names = append(names, s.Value)
	}
	if len(names) == 0 {
		return ""
	}
	return " by (" + strings.Join(names, ", ") + ")"
}
