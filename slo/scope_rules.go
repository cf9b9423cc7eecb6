package slo

import "time"

// ClusterGroup returns the second rule group of global objective o, named
// ClusterGroupName(o), for Thanos Ruler with partial_response_strategy warn: the rules
// that must keep working when a cluster does not answer (ClusterRecordingRules). The
// alerts package appends the alerts that tell a lost cluster or a blind global SLO.
func ClusterGroup(o Objective) (RuleGroup, error) {
	rules, err := ClusterRecordingRules(o)
	if err != nil {
		return RuleGroup{}, err
	}
	return RuleGroup{Name: ClusterGroupName(o), Interval: FormatWindow(o.Evaluation()),
		PartialResponseStrategy: PartialResponseWarn, Rules: rules}, nil
}

// ClusterRecordingRules returns the per-cluster recording rules of global objective o:
// MetricClusterPresent (1 per cluster reporting the SLI's total series), then, with
// Scope.PerClusterBurn, MetricClusterBurnRate per cluster over every burn window up to
// the base window (read from the raw counters, like the global windows; longer windows
// are not recorded per cluster). Every expression is printed by the Prometheus parser.
func ClusterRecordingRules(o Objective) ([]Rule, error) {
	if err := checkGeneratable(o); err != nil {
		return nil, err
	}
	if !o.IsGlobal() {
		return nil, nil
	}
	b := newRuleBuilder(o)
	parts := eventParts(o)
	parts.by = o.ClusterLabel()
	b.record(MetricClusterPresent, "group by ("+parts.by+") ("+parts.total+")", 0)
	if o.Scope.PerClusterBurn {
		budget := FormatFloat(o.ErrorBudget())
		for _, w := range o.BurnWindows() {
			if w > o.BaseWindow() {
				break
			}
			b.record(MetricClusterBurnRate, parts.clusterRatio(w)+" / "+budget, w)
		}
	}
	rules, _, err := b.done() // all recorded in the one (fast) set
	return rules, err
}

// clusterRatio is the error ratio over w per cluster (p.by set). A cluster with traffic
// but no bad series yet has ratio 0 (not absent); the first value of a bad series born
// within w is not added (these series are for dashboards, never alerted on).
func (p eventSelectors) clusterRatio(w time.Duration) string {
	r := FormatWindow(w)
	total := p.sumRate(p.total, r)
	if p.latency {
		return "(1 - (" + p.sumRate(p.bad, r) + " / " + total + "))"
	}
	return "((" + p.sumRate(p.bad, r) + " or on (" + p.by + ") 0 * " + total + ") / " + total + ")"
}
