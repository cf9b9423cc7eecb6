package slo

import (
	"maps"
	"time"
)

// NoDataAlertName is the name of o's no-data alert: AlertName() + NoDataSuffix.
func (o Objective) NoDataAlertName() string { return o.AlertName() + NoDataSuffix }

// NoDataFor is how long o's SLI series must be absent before its no-data alert fires:
// Alerting.NoData.For, else DefaultNoDataFor.
func (o Objective) NoDataFor() time.Duration {
	if o.Alerting.NoData.For > 0 {
		return o.Alerting.NoData.For
	}
	return DefaultNoDataFor
}

// NoDataLabels are the labels o's no-data alert sets: RuleLabels (absent() yields none of
// them), severity=page, then Alerting.Labels and Alerting.NoData.Labels over them, so that
// it is routed and inhibited like the burn-rate alerts of its severity.
func (o Objective) NoDataLabels() map[string]string {
	out := RuleLabels(o)
	out[LabelSeverity] = string(Page)
	maps.Copy(out, o.Alerting.Labels)
	maps.Copy(out, o.Alerting.NoData.Labels)
	return out
}
