package alerts

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/slo"
)

// Global objectives (scope: global) are evaluated by Thanos Ruler, whose queries go through
// Thanos Query to every cluster's Prometheus. Each gets two rule groups (docs/rules.md,
// "Global SLOs on Thanos"):
//
//   - RuleGroupName(o), partial_response_strategy abort: the global recording rules and
//     the burn-rate alerts. A cluster that does not answer fails the evaluation, so no
//     partial error ratio is ever recorded or alerted on: a partial view is never a
//     silent pass, it is a failed evaluation, which the second group reports.
//   - ClusterGroupName(o), partial_response_strategy warn: which clusters report the SLI
//     (and, optionally, each cluster's burn rate), the no-data alert, and two alerts that
//     work on whatever answers: ClusterMissing (a cluster that reported the SLI within
//     the longest burn window no longer does; it names the cluster) and NotEvaluated (the
//     global burn rate has not been recorded for a while: the first group is failing).

// ThanosGroups returns the two rule groups of global objective o for Thanos Ruler.
func ThanosGroups(o slo.Objective, opts Options) ([]slo.RuleGroup, error) {
	if !o.IsGlobal() {
		return nil, fmt.Errorf("slo %s: per-cluster SLO: its rules are for each cluster's Prometheus (Group), not Thanos Ruler", o.ID())
	}
	global, err := slo.RecordingGroup(o)
	if err != nil {
		return nil, err
	}
	burn, err := burnRules(nil, o, opts)
	if err != nil {
		return nil, err
	}
	global.Rules = append(global.Rules, burn...)
	clusters, err := slo.ClusterGroup(o)
	if err != nil {
		return nil, err
	}
	meta, err := globalMetaRules(o, opts)
	if err != nil {
		return nil, fmt.Errorf("slo %s: %w", o.ID(), err)
	}
	clusters.Rules = append(clusters.Rules, meta...)
	return []slo.RuleGroup{global, clusters}, nil
}

// Groups returns every rule group generated for o, wherever it runs: its Prometheus
// group (Group), or for a global objective its two Thanos Ruler groups (ThanosGroups).
func Groups(o slo.Objective, opts Options) ([]slo.RuleGroup, error) {
	if o.IsGlobal() {
		return ThanosGroups(o, opts)
	}
	g, err := Group(o, opts)
	if err != nil {
		return nil, err
	}
	return []slo.RuleGroup{g}, nil
}

// ThanosRuleFile returns one Thanos Ruler rule file holding the groups (ThanosGroups) of
// every global objective of every service, in input order. Per-cluster objectives are
// left out (RuleFile has them). It is not a Prometheus rule file: promtool refuses
// partial_response_strategy.
func ThanosRuleFile(services []*slo.Service, opts Options) (slo.RuleFile, error) {
	var f slo.RuleFile
	for _, s := range services {
		for _, o := range s.Objectives {
			if !o.IsGlobal() {
				continue
			}
			gs, err := ThanosGroups(o, opts)
			if err != nil {
				return slo.RuleFile{}, err
			}
			f.Groups = append(f.Groups, gs...)
		}
	}
	return f, nil
}

// HasGlobal reports whether any objective of services is global.
func HasGlobal(services []*slo.Service) bool {
	for _, s := range services {
		for _, o := range s.Objectives {
			if o.IsGlobal() {
				return true
			}
		}
	}
	return false
}

// HasPerCluster reports whether any objective of services is per cluster.
func HasPerCluster(services []*slo.Service) bool {
	for _, s := range services {
		for _, o := range s.Objectives {
			if !o.IsGlobal() {
				return true
			}
		}
	}
	return false
}

// globalMetaRules are the alerts of o's warn group: no-data (unless disabled),
// ClusterMissing and NotEvaluated.
func globalMetaRules(o slo.Objective, opts Options) ([]slo.Rule, error) {
	var out []slo.Rule
	p := parser.NewParser(parser.Options{})
	if !o.Alerting.NoData.Disabled {
		r, err := noDataRule(p, o, opts)
		if err != nil {
			return nil, fmt.Errorf("no-data alert: %w", err)
		}
		out = append(out, r)
	}
	missing, err := clusterMissingRule(p, o, opts)
	if err != nil {
		return nil, fmt.Errorf("cluster-missing alert: %w", err)
	}
	blind, err := notEvaluatedRule(p, o, opts)
	if err != nil {
		return nil, fmt.Errorf("not-evaluated alert: %w", err)
	}
	return append(out, missing, blind), nil
}

// clusterMissingRule fires, per cluster, when a cluster that reported o's SLI within
// ClusterMemory no longer does:
//
//	group by (cluster) (max_over_time(present[memory])) unless on (cluster) present
//
// The present series is recorded on partial responses (warn), so a cluster whose store
// does not answer drops out of it at once.
func clusterMissingRule(p parser.Parser, o slo.Objective, opts Options) (slo.Rule, error) {
	c := o.ClusterLabel()
	present := slo.SeriesSelector(o, slo.MetricClusterPresent, 0)
	expr, err := slo.CanonicalExpr(p, "group by ("+c+") (max_over_time("+present+"["+
		slo.FormatWindow(o.ClusterMemory())+"])) unless on ("+c+") "+present)
	if err != nil {
		return slo.Rule{}, err
	}
	m := metaAnnotations(o, opts, "cluster-missing")
	m[AnnotationSummary] = o.Service + "/" + o.Name + ": cluster {{ $labels." + c + " }} no longer reports the SLI; the global SLO is evaluated without it"
	m[AnnotationDescription] = "Cluster {{ $labels." + c + " }} reported the SLI of global SLO " + o.Name +
		" within the last " + slo.FormatWindow(o.ClusterMemory()) + " but does not now. If its Prometheus or sidecar does not " +
		"answer Thanos Query, the global burn rates are not evaluated at all (partial_response_strategy abort) and " +
		o.NotEvaluatedAlertName() + " fires too. If the service was drained or removed from that cluster on purpose, " +
		"this alert resolves " + slo.FormatWindow(o.ClusterMemory()) + " later; silence it until then."
	overrideAnnotations(m, o)
	return slo.Rule{Alert: o.ClusterMissingAlertName(), Expr: expr, For: slo.FormatWindow(o.NoDataFor()),
		Labels: o.ClusterMissingLabels(), Annotations: m}, nil
}

// notEvaluatedRule fires when o's global burn rate over its shortest window has not been
// recorded for NotEvaluatedWindow, unless the SLI has no data at all (the no-data alert's
// case): the abort group is failing, so no burn-rate alert can fire.
func notEvaluatedRule(p parser.Parser, o slo.Objective, opts Options) (slo.Rule, error) {
	w := slo.FormatWindow(o.NotEvaluatedWindow())
	burn := slo.SeriesSelector(o, slo.MetricBurnRate, o.BurnWindows()[0])
	sels := slo.AbsentSelectors(o)
	absent := make([]string, len(sels))
	for i, s := range sels {
		absent[i] = "absent(" + s + ")"
	}
	expr, err := slo.CanonicalExpr(p, "absent_over_time("+burn+"["+w+"]) unless on () ("+strings.Join(absent, " or ")+")")
	if err != nil {
		return slo.Rule{}, err
	}
	m := metaAnnotations(o, opts, "not-evaluated")
	m[AnnotationSummary] = o.Service + "/" + o.Name + ": the global burn rate is not being evaluated; its burn-rate alerts cannot fire"
	m[AnnotationDescription] = "Thanos Ruler has recorded no global burn rate of SLO " + o.Name + " for " + w +
		" although the SLI has data. Rule group " + slo.RuleGroupName(o) + " runs with partial_response_strategy abort, so " +
		"its evaluation fails whenever a store does not answer Thanos Query: a cluster's Prometheus or sidecar down or " +
		"unreachable (" + o.ClusterMissingAlertName() + " names it), Thanos Query down, or the ruler missing from Query's " +
		"endpoints (the alerts read the burn rates the ruler records). See the ruler's /rules page and " +
		"prometheus_rule_evaluation_failures_total{rule_group=~\".*;" + slo.RuleGroupName(o) + "\"}."
	overrideAnnotations(m, o)
	return slo.Rule{Alert: o.NotEvaluatedAlertName(), Expr: expr, For: w, Labels: o.NoDataLabels(), Annotations: m}, nil
}

// metaAnnotations are the annotations shared by a global objective's meta-alerts; the
// runbook links to the section anchor of the generated runbook.
func metaAnnotations(o slo.Objective, opts Options, anchor string) map[string]string {
	m := map[string]string{
		AnnotationSLO:       o.Service + "/" + o.Name,
		AnnotationObjective: o.ObjectivePercent() + "% over " + slo.FormatWindow(o.Period),
	}
	if opts.GrafanaURL != "" {
		m[AnnotationDashboard] = DashboardURL(opts.GrafanaURL, o)
	}
	rb := opts.RunbookURL
	if rb == nil {
		rb = DefaultRunbookURL
	}
	m[AnnotationRunbook] = rb(o) + "#" + anchor
	return m
}

// overrideAnnotations lays the spec's alerting and noData annotations over m, all but
// summary and description (these alerts say something else than the burn-rate alerts).
func overrideAnnotations(m map[string]string, o slo.Objective) {
	for _, src := range []map[string]string{o.Alerting.Annotations, o.Alerting.NoData.Annotations} {
		for k, v := range src {
			if k == AnnotationSummary || k == AnnotationDescription {
				continue
			}
			m[k] = v
		}
	}
}
