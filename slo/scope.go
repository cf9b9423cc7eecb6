package slo

import (
	"maps"
	"slices"
	"time"
)

// Scope says where an SLO is evaluated: in each cluster's own Prometheus (the default), or
// once over every cluster (Global) by Thanos Ruler through Thanos Query, which fans out to
// every cluster's Prometheus (docs/rules.md, "Global SLOs on Thanos").
type Scope struct {
	// Global evaluates the SLO over the events of every cluster: one error ratio, one
	// set of alerts. False: each Prometheus evaluates it over its own cluster.
	Global bool
	// ClusterLabel is the label that tells clusters apart, set by each Prometheus as an
	// external label. Empty means DefaultClusterLabel.
	ClusterLabel string
	// ReplicaLabels are the labels that tell the replicas of an HA Prometheus pair apart
	// (external labels too). Thanos Query removes them when it deduplicates
	// (--query.replica-label); the generated rules also collapse them with
	// max without(…) so that a Query without deduplication cannot double count. Nil means
	// DefaultReplicaLabels; an empty non-nil list relies on Query's deduplication only.
	ReplicaLabels []string
	// PerClusterBurn also records each cluster's burn rate over the raw windows
	// (MetricClusterBurnRate), for dashboards. Alerts never read it.
	PerClusterBurn bool
	// Delay is what the global path adds to detection and reset times beside one scrape
	// and one evaluation interval: Thanos Query's fan-out to every cluster and the phase
	// between the ruler and the Prometheus servers. Zero means one evaluation interval
	// (Objective.GlobalDelay).
	Delay time.Duration
}

// DefaultClusterLabel is the external label that names a cluster when the spec gives none.
const DefaultClusterLabel = "cluster"

// DefaultReplicaLabels are the HA replica labels collapsed when the spec gives none:
// prometheus-operator's prometheus_replica and Thanos' documented replica.
func DefaultReplicaLabels() []string { return []string{"prometheus_replica", "replica"} }

// IsGlobal reports whether o is evaluated over every cluster (Scope.Global).
func (o Objective) IsGlobal() bool { return o.Scope.Global }

// ClusterLabel is the label naming o's clusters: Scope.ClusterLabel, else
// DefaultClusterLabel.
func (o Objective) ClusterLabel() string {
	if o.Scope.ClusterLabel != "" {
		return o.Scope.ClusterLabel
	}
	return DefaultClusterLabel
}

// ReplicaLabels are the HA replica labels o's global rules collapse: Scope.ReplicaLabels,
// else DefaultReplicaLabels. Per-cluster objectives have none.
func (o Objective) ReplicaLabels() []string {
	if !o.IsGlobal() {
		return nil
	}
	if o.Scope.ReplicaLabels != nil {
		return slices.Clone(o.Scope.ReplicaLabels)
	}
	return DefaultReplicaLabels()
}

// GlobalDelay is what evaluating o through Thanos adds to its detection and reset
// times: Scope.Delay, else one evaluation interval. Zero for per-cluster objectives.
func (o Objective) GlobalDelay() time.Duration {
	switch {
	case !o.IsGlobal():
		return 0
	case o.Scope.Delay > 0:
		return o.Scope.Delay
	}
	return o.Evaluation()
}

// ClusterMemory is how far back o's ClusterMissing alert remembers a cluster that
// reported o's SLI: the longest burn window, so that a cluster missing from any window
// the burn-rate alerts read is reported.
func (o Objective) ClusterMemory() time.Duration {
	ws := o.BurnWindows()
	return ws[len(ws)-1]
}

// NotEvaluatedWindow is how long o's global burn rate may go unrecorded before its
// NotEvaluated alert's condition holds (and how long it must then hold): three
// evaluation intervals, at least a minute.
func (o Objective) NotEvaluatedWindow() time.Duration {
	return max(3*o.Evaluation(), time.Minute)
}

// ClusterMissingAlertName names o's alert on a cluster that stopped reporting its SLI.
func (o Objective) ClusterMissingAlertName() string { return o.AlertName() + ClusterMissingSuffix }

// NotEvaluatedAlertName names o's alert on a global burn rate that is not being recorded
// (the ruler's evaluation fails: a partial response, Query or a store unreachable).
func (o Objective) NotEvaluatedAlertName() string { return o.AlertName() + NotEvaluatedSuffix }

// ClusterMissingLabels are the labels of o's ClusterMissing alert: NoDataLabels with the
// ticket tier's SeverityLabels over them (a cluster drained on purpose is no emergency,
// and a cluster lost to the ruler also fires the NotEvaluated alert, a page), unless
// Alerting.NoData.Labels sets the severity itself.
func (o Objective) ClusterMissingLabels() map[string]string {
	out := o.NoDataLabels()
	if _, ok := o.Alerting.NoData.Labels[LabelSeverity]; !ok {
		maps.Copy(out, o.SeverityLabels(Ticket))
	}
	return out
}
