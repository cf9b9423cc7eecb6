package slo

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// Every name slokit writes into Prometheus lives here: recording rules, labels and alert
// labels. Dashboards, the game-day runner and the embedded engine read these names; do not
// spell them anywhere else.

// Label names added to every generated series and alert.
const (
	// LabelService carries Objective.Service.
	LabelService = "slokit_service"
	// LabelSLO carries Objective.Name.
	LabelSLO = "slokit_slo"
	// LabelWindow carries the range of a windowed series, in Prometheus duration
	// syntax ("5m", "1h", "30d"); on alerts it names the tier's long window.
	LabelWindow = "slokit_window"
	// LabelSeverity is the default severity label on alerts ("page" or "ticket").
	LabelSeverity = "severity"
)

// Recording rule names.
const (
	// MetricBadRate is the per-second rate of bad events over the base window (only for
	// events and latency SLIs), read from the raw counters. Carries LabelWindow.
	MetricBadRate = "slokit:sli_bad:rate"
	// MetricTotalRate is the per-second rate of all events over the base window (only for
	// events and latency SLIs). Carries LabelWindow.
	MetricTotalRate = "slokit:sli_total:rate"
	// MetricBurnRate is the traffic-weighted error ratio (bad/total) over the window named
	// by LabelWindow divided by the error budget; one series per window in BurnWindows.
	// The error ratio is burn × (1 − objective).
	MetricBurnRate = "slokit:slo_burn:rate"
	// MetricBudgetRemaining is the fraction of the period's error budget left:
	// 1 − (error ratio over the period / error budget). Negative once overspent. It
	// carries no window label; the period's burn rate is 1 − its value.
	MetricBudgetRemaining = "slokit:slo_error_budget_remaining:ratio"
)

// NoDataSuffix ends the name of an SLO's no-data alert: "<alerting.name>NoData".
const NoDataSuffix = "NoData"

// FormatWindow renders d in Prometheus duration syntax, as used in LabelWindow values
// and range selectors ("5m", "1h", "30d", "1h30m"): exactly model.Duration(d).String()
// (tests compare them), without its fmt.Sprintf per unit; rule building calls it for
// every window of every rule.
func FormatWindow(d time.Duration) string {
	ms := int64(d / time.Millisecond)
	if ms == 0 {
		return "0s"
	}
	var buf [40]byte
	b := buf[:0]
	if ms < 0 {
		b, ms = append(b, '-'), -ms
	}
	for _, u := range windowUnits {
		if u.exact && ms%u.ms != 0 {
			continue
		}
		if v := ms / u.ms; v > 0 {
			b = strconv.AppendInt(b, v, 10)
			b = append(b, u.name...)
			ms -= v * u.ms
		}
	}
	return string(b)
}

// windowUnits are model.Duration's units, largest first; years and weeks only when they
// divide the rest exactly ("90d", not "12w6d").
var windowUnits = [...]struct {
	name  string
	ms    int64
	exact bool
}{
	{"y", 1000 * 60 * 60 * 24 * 365, true},
	{"w", 1000 * 60 * 60 * 24 * 7, true},
	{"d", 1000 * 60 * 60 * 24, false},
	{"h", 1000 * 60 * 60, false},
	{"m", 1000 * 60, false},
	{"s", 1000, false},
	{"ms", 1, false},
}

// ParseWindow reads a window in Prometheus duration syntax, as FormatWindow writes it
// and LabelWindow values carry it ("5m", "1d12h"): the one inverse of FormatWindow.
func ParseWindow(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// RuleGroupName is the name of the one rule group holding all of o's rules, used where
// one SLO is evaluated on its own (embedded engines, promtool tests, the web UI). Generated
// rule files group by service instead (ServiceGroupName).
func RuleGroupName(o Objective) string { return "slokit-" + o.ID() }

// ServiceGroupName is the name of the rule group that evaluates, every eval, the fast
// recording rules and the alerts of the SLOs of service evaluated at that interval:
// "slokit-<service>", or "slokit-<service>-<eval>" when the service's SLOs use several
// evaluation intervals (byInterval). The group of their long rules adds LongGroupSuffix.
func ServiceGroupName(service string, eval time.Duration, byInterval bool) string {
	if byInterval {
		return "slokit-" + service + "-" + FormatWindow(eval)
	}
	return "slokit-" + service
}

// LongGroupSuffix ends the name of the group holding a service's long rules (the
// base-window rates, the windows derived from them and the budget), evaluated every
// Objective.LongEvaluation.
const LongGroupSuffix = "-long"

// DashboardUID is the uid of o's Grafana detail dashboard; alert annotations link to
// /d/<uid>?var-service=<service>&var-slo=<slo>. It is "slokit-<service>-<slo>", or, when
// that exceeds the 40 characters Grafana allows, its first 31 characters, a dash and 8 hex
// digits of its FNV-1a hash, so that long names stay distinct.
func DashboardUID(o Objective) string {
	uid := "slokit-" + o.ID()
	if len(uid) <= maxDashboardUID {
		return uid
	}
	h := fnv.New32a()
	h.Write([]byte(uid))
	return fmt.Sprintf("%s-%08x", uid[:maxDashboardUID-9], h.Sum32())
}

// maxDashboardUID is the longest dashboard uid Grafana accepts.
const maxDashboardUID = 40

// Names of the rules and alerts of global objectives (Scope.Global), evaluated by Thanos
// Ruler (docs/rules.md, "Global SLOs on Thanos").
const (
	// MetricClusterPresent is 1 for every cluster whose Prometheus currently reports the
	// SLI's total series; it carries the cluster label (Objective.ClusterLabel).
	MetricClusterPresent = "slokit:slo_cluster:present"
	// MetricClusterBurnRate is one cluster's burn rate over the window named by
	// LabelWindow (raw windows only), recorded when Scope.PerClusterBurn is set, for
	// dashboards; it carries the cluster label. Alerts never read it.
	MetricClusterBurnRate = "slokit:slo_cluster_burn:rate"
	// ClusterMissingSuffix ends the name of the alert on a cluster that stopped
	// reporting the SLI: "<alerting.name>ClusterMissing".
	ClusterMissingSuffix = "ClusterMissing"
	// NotEvaluatedSuffix ends the name of the alert on a global burn rate that is not
	// being recorded: "<alerting.name>NotEvaluated".
	NotEvaluatedSuffix = "NotEvaluated"
	// ClusterGroupSuffix ends the name of a global objective's second rule group, the
	// one evaluated on partial responses: "slokit-<service>-<slo>-clusters".
	ClusterGroupSuffix = "-clusters"
)

// ClusterGroupName is the name of the rule group of global objective o that Thanos Ruler
// evaluates with partial_response_strategy warn.
func ClusterGroupName(o Objective) string { return RuleGroupName(o) + ClusterGroupSuffix }
