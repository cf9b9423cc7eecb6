package alerts

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/slokit/slokit/slo"
)

// Runbook renders o's runbook page in Markdown: what its alerts mean, what to check
// first, the dashboard, how to silence them properly with amtool, and the budget maths of
// every tier. Alerts link to it through their runbook_url annotation (DefaultRunbookURL
// when the spec sets none). The page is deterministic.
func Runbook(o slo.Objective, opts Options) ([]byte, error) {
	data := rbData{
		O:            o,
		Alert:        o.AlertName(),
		Objective:    rbPercent(o.Target),
		Budget:       rbPercent(o.ErrorBudget()),
		Period:       slo.FormatWindow(o.Period),
		BudgetTime:   rbDuration(time.Duration(float64(o.Period) * o.ErrorBudget())),
		SLIKind:      o.SLI.Kind(),
		Short:        slo.FormatWindow(o.BurnWindows()[0]),
		Labels:       rbLabels(slo.RuleLabels(o)),
		NoDataSuffix: slo.NoDataSuffix,
	}
	if opts.GrafanaURL != "" {
		data.Dashboard = DashboardURL(opts.GrafanaURL, o)
	}
	data.BurnSel = slo.SeriesSelector(o, slo.MetricBurnRate, 0)
	if !o.Alerting.NoData.Disabled {
		data.NoData = o.NoDataAlertName()
		data.NoDataFor = slo.FormatWindow(o.NoDataFor())
		data.NoDataSels = slo.AbsentSelectors(o)
	}
	data.RemainingSel = slo.SeriesSelector(o, slo.MetricBudgetRemaining, 0)
	data.Silenced = slo.NoDataSuffix
	if o.IsGlobal() {
		data.Global = rbGlobalData(o)
		data.Silenced = slo.NoDataSuffix + "|" + slo.ClusterMissingSuffix + "|" + slo.NotEvaluatedSuffix
	}
	for _, sev := range slo.Severities() {
		if !o.Enabled(sev) {
			data.Disabled = append(data.Disabled, string(sev))
		}
	}
	tiers := 0
	for _, w := range o.Tiers() {
		tiers++
		p := Predict(o, w, 1)
		row := rbTier{
			N:         tiers,
			Severity:  string(w.Severity),
			Labels:    rbMatchers(o.SeverityLabels(w.Severity)),
			Long:      slo.FormatWindow(w.Long),
			Short:     slo.FormatWindow(w.Short),
			Burn:      slo.FormatFloat(w.BurnRate),
			Ratio:     rbPercent(o.Threshold(w)),
			Spent:     rbPercent(o.BudgetAtFire(w)),
			Exhausted: rbDuration(BudgetDuration(o, w.BurnRate)),
			Fires:     p.Fires,
		}
		if p.Fires {
			// The maths, then the latest time the rules should fire and reset: the
			// scrape and evaluation intervals and the long group's lag (Predict).
			row.Detect = rbDuration(p.Detect) + " (by " + rbDuration(p.DetectBy()) + ")"
			row.Reset = rbDuration(p.Reset) + " (by " + rbDuration(p.ResetBy()) + ")"
		}
		if n := OneFailurePagesBelow(o, w); n > 1 {
			row.OneFailure = fmt.Sprintf("%.0f", n)
		}
		data.Tiers = append(data.Tiers, row)
	}
	var b bytes.Buffer
	if err := rbTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("runbook %s: %w", o.ID(), err)
	}
	return b.Bytes(), nil
}

// RunbookFileName is the file a runbook is written to, matching DefaultRunbookURL.
func RunbookFileName(o slo.Objective) string { return DefaultRunbookURL(o) }

type rbData struct {
	O          slo.Objective
	Alert      string
	Objective  string
	Budget     string
	Period     string
	BudgetTime string
	SLIKind    string
	Short      string
	Labels     string
	Dashboard  string
	Disabled   []string
	Tiers      []rbTier
	// BurnSel and RemainingSel select o's burn rates and budget left.
	BurnSel, RemainingSel string
	// NoData is the no-data alert's name ("" when disabled), NoDataFor its duration and
	// NoDataSels the selectors it watches (none for raw SLIs).
	NoData, NoDataFor string
	NoDataSels        []string
	// NoDataSuffix ends the no-data alert's name.
	NoDataSuffix string
	// Silenced is the alternation of alert-name suffixes a silence of the SLO matches.
	Silenced string
	// Global is set for a global objective (evaluated by Thanos Ruler).
	Global *rbGlobal
}

// rbGlobal is what the runbook of a global objective says about Thanos.
type rbGlobal struct {
	Cluster, Group, ClusterGroup, Delay string
	ClusterMissing, NotEvaluated        string
	Memory, Window, MissingFor          string
	// PresentSel selects the clusters reporting; ClusterBurnSel the per-cluster burn
	// rates ("" unless kept).
	PresentSel, ClusterBurnSel string
}

func rbGlobalData(o slo.Objective) *rbGlobal {
	g := &rbGlobal{
		Cluster: o.ClusterLabel(), Group: slo.RuleGroupName(o), ClusterGroup: slo.ClusterGroupName(o),
		Delay:          rbDuration(o.GlobalDelay()),
		ClusterMissing: o.ClusterMissingAlertName(), NotEvaluated: o.NotEvaluatedAlertName(),
		Memory: slo.FormatWindow(o.ClusterMemory()), Window: slo.FormatWindow(o.NotEvaluatedWindow()),
		MissingFor: slo.FormatWindow(o.NoDataFor()),
		PresentSel: slo.SeriesSelector(o, slo.MetricClusterPresent, 0),
	}
	if o.Scope.PerClusterBurn {
		g.ClusterBurnSel = slo.SeriesSelector(o, slo.MetricClusterBurnRate, o.BurnWindows()[0])
	}
	return g
}

type rbTier struct {
	N                                   int
	Severity, Labels, Long, Short, Burn string
	Ratio, Spent, Exhausted             string
	Fires                               bool
	Detect, Reset                       string
	OneFailure                          string
}

// rbPercent renders a ratio as a percentage without float noise (0.999 → "99.9%").
func rbPercent(r float64) string { return slo.FormatPercent(r) + "%" }

// rbDuration renders d rounded for reading: seconds under ten minutes, minutes under a
// day, hours beyond.
func rbDuration(d time.Duration) string {
	switch {
	case d < 10*time.Minute:
		d = d.Round(time.Second)
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
	default:
		d = d.Round(time.Hour)
	}
	return slo.FormatWindow(d)
}

func rbLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func rbMatchers(m map[string]string) string { return strings.Join(amLabelMatchers(m), " ") }

var rbTemplate = template.Must(template.New("runbook").Funcs(template.FuncMap{
	"window": slo.FormatWindow,
}).Parse(`<!-- Code generated by slokit; DO NOT EDIT. -->
# {{.Alert}} — {{.O.Service}} / {{.O.Name}}

**Objective:** {{.Objective}} of events good over a rolling {{.Period}}
(error budget {{.Budget}}: about {{.BudgetTime}} of total outage per period).
{{- with .O.Description}}

{{.}}
{{- end}}

**Alert:** ` + "`{{.Alert}}`" + ` with labels {{.Labels}}.
{{- with .Global}}

**Scope:** global — one error ratio over every cluster (label ` + "`{{.Cluster}}`" + `), evaluated by
Thanos Ruler through Thanos Query. Detection and reset times include {{.Delay}} for Thanos.
{{- end}}
{{- with .Dashboard}}

**Dashboard:** [{{$.O.Service}} / {{$.O.Name}}]({{.}})
{{- end}}

## What the alert means

The service is spending its error budget faster than it can afford. The **burn rate** is
the error ratio divided by the error budget: at 1× the budget lasts exactly {{.Period}}; at
10× it is gone in a tenth of that. Each alert tier watches a long and a short window and
fires only while **both** burn faster than its threshold, so it fires on a real, ongoing
problem and resets soon after the problem stops. The ` + "`slokit_window`" + ` label of a firing alert
names the tier's long window; ` + "`severity`" + ` says whether it pages or files a ticket.
{{- if .Disabled}}

Disabled tiers: {{range $i, $s := .Disabled}}{{if $i}}, {{end}}{{$s}}{{end}}.
{{- end}}

| tier | severity (labels) | windows (long / short) | burn rate above | error ratio above | budget spent when it fires | budget gone at that rate in | total outage: fires after | total outage: resets after |
|---|---|---|---|---|---|---|---|---|
{{- range .Tiers}}
| {{.N}} | {{.Severity}} (` + "`{{.Labels}}`" + `) | {{.Long}} / {{.Short}} | {{.Burn}}× | {{.Ratio}} | {{.Spent}} | {{.Exhausted}} | {{if .Fires}}{{.Detect}}{{else}}never{{end}} | {{if .Fires}}{{.Reset}}{{else}}—{{end}} |
{{- end}}

A page means the budget will be gone within days if nothing changes: act now. A ticket
means a slower leak that will breach the objective before the period ends: fix it within
working hours.
{{- range .Tiers}}{{if .OneFailure}}

Low traffic: with fewer than {{.OneFailure}} events per {{.Long}}, a single failure is enough to
fire tier {{.N}} ({{.Severity}}). If that is what happened, look at the event rates before
anything else.
{{- break}}{{end}}{{end}}

## What to check first

1. **Is it real and ongoing?** Open the dashboard{{with .Dashboard}} ([link]({{.}})){{end}} and read the
   burn rate of the short window. If it is already below the threshold the problem has
   stopped; the alert resets within the short window.
2. **How big is it?** The burn rate per window (error ratio = burn rate × {{.Budget}}):
   ` + "```promql" + `
   {{.BurnSel}}
   ` + "```" + `
   and the budget left over the period:
   ` + "```promql" + `
   {{.RemainingSel}}
   ` + "```" + `
{{- if eq .SLIKind "events"}}
3. **Where do the bad events come from?** The SLI counts bad events with
   ` + "`{{.O.SLI.Events.Bad}}`" + ` out of ` + "`{{.O.SLI.Events.Total}}`" + `.
   Break the bad ones down by route, status code and instance:
   ` + "```promql" + `
   sum by (route, code, instance) (rate({{.O.SLI.Events.Bad}}[{{.Short}}]))
   ` + "```" + `
{{- else if eq .SLIKind "latency"}}
3. **Which requests are slow?** The SLI counts requests slower than {{window .O.SLI.Latency.Threshold}} in the
   histogram ` + "`{{.O.SLI.Latency.Histogram}}`" + `. Look at the slow share by route and instance, and
   at the 99th percentile:
   ` + "```promql" + `
   histogram_quantile(0.99, sum by (le, route) (rate({{.O.SLI.Latency.Histogram}}_bucket[{{.Short}}])))
   ` + "```" + `
{{- else}}
3. **What does the SLI say?** The error ratio is computed by
   ` + "`{{.O.SLI.Raw.ErrorRatio}}`" + `. Run it with a short window and break it down by the
   labels of its series.
{{- end}}
{{- with .Global}}{{if .ClusterBurnSel}}
   **Which cluster burns?** The burn rate of each cluster:
   ` + "```promql" + `
   {{.ClusterBurnSel}}
   ` + "```" + `
{{- end}}{{end}}
4. **What changed?** Deploys, configuration and feature-flag changes, traffic shifts and
   the health of dependencies around the time the burn started. Roll back first, debug later.
5. **Is traffic normal?** A drop of good traffic makes the same bad events a larger
   ratio; a surge of bad traffic (a client retrying) can be the cause.

{{- with .NoData}}

## No data

` + "`{{.}}`" + ` fires when the SLI's series have been absent for {{$.NoDataFor}}: without them every
burn rate of this SLO is absent and **no burn-rate alert can fire**, whatever the service
is doing. It is not a burn alert; it says the SLO is blind.
{{- with $.NoDataSels}} It watches:
{{range .}}
- ` + "`{{.}}`" + `
{{- end}}
{{- else}} It watches the shortest window's burn rate.{{end}}

Check, in this order: is the target up (` + "`up`" + ` for its job) and scraped; was the metric
or one of the selector's labels renamed in a deploy; does the selector have a typo (run it
in Prometheus); for latency, is the threshold one of the histogram's bucket boundaries and
is the histogram still classic (a switch to native histograms removes ` + "`_bucket`" + ` series).
` + "`slokit validate --prometheus <url> <spec>`" + ` answers all of these at once: it names a
selector that matches nothing (and the label value that does not exist), a threshold that
is not a bucket (with the nearest ones), and a histogram of the other kind.
{{- end}}

{{- with .Global}}

## Cluster missing

` + "`{{.ClusterMissing}}`" + ` (a ticket) fires, per cluster, {{.MissingFor}} after a cluster that reported this
SLI within the last {{.Memory}} stops reporting it. Its ` + "`{{.Cluster}}`" + ` label names the cluster. The
global burn rates are then either not evaluated at all (the cluster's Prometheus or sidecar
does not answer Thanos Query: ` + "`{{.NotEvaluated}}`" + ` pages too) or evaluated without it (the
service no longer runs there, or its series were renamed there). Which clusters report now:
` + "```promql" + `
{{.PresentSel}}
` + "```" + `
Check the cluster's Prometheus and sidecar (Thanos Query's Stores page lists them with
their last error), then the service's targets in that cluster. If the service was drained
from the cluster on purpose, silence this alert; it resolves {{.Memory}} after the last data.

## Not evaluated

` + "`{{.NotEvaluated}}`" + ` pages when Thanos Ruler has recorded no global burn rate for {{.Window}} although
the SLI has data: rule group ` + "`{{.Group}}`" + ` runs with ` + "`partial_response_strategy: abort`" + `, so each
evaluation fails while any store does not answer, and **no burn-rate alert of this SLO can
fire** — a partial view is never passed off as a healthy one. Causes: a cluster's
Prometheus or sidecar down or unreachable (` + "`{{.ClusterMissing}}`" + ` names it), Thanos Query down or
timing out, or the ruler missing from Query's endpoints (the alerts read the burn rates the
ruler records). Look at the ruler's Rules page for the group's last error and at
` + "`prometheus_rule_evaluation_failures_total`" + ` of the ruler. While it fires, judge the SLO from
the per-cluster data that still answers (group ` + "`{{.ClusterGroup}}`" + ` keeps being evaluated).
{{- end}}

## How to silence it properly

Silence only while someone is working on the cause, for as long as that takes, and say
who and why. Match the SLO exactly — never silence a whole severity or service:

` + "```sh" + `
amtool silence add --alertmanager.url=http://alertmanager:9093 \
  --duration=2h --author="$USER" --comment="INC-123: <what is being done>" \
  alertname=~"{{.Alert}}({{.Silenced}})?" slokit_service="{{.O.Service}}" slokit_slo="{{.O.Name}}"
amtool silence query alertname=~"{{.Alert}}({{.Silenced}})?" slokit_slo="{{.O.Name}}"
amtool silence expire <id>    # as soon as the fix is out
` + "```" + `

Add ` + "`severity=\"ticket\"`" + ` to silence only the ticket. A page of this SLO already inhibits
its ticket, and a faster tier inhibits the slower tiers of the same severity, so you are
notified once per SLO; a silenced page still inhibits its ticket. Do not silence to make
a flapping alert quiet: a burn rate that keeps crossing the threshold is spending budget.

## The maths

- Error budget: 1 − {{.Objective}} = {{.Budget}} of the events over {{.Period}}.
- Burn rate r = error ratio / {{.Budget}}; at rate r the budget lasts {{.Period}} / r.
- A tier with threshold B over long window L fires after B × {{.Budget}} × L / e for a fault
  of error ratio e (a total outage is e = 1), having spent B × L / {{.Period}} of the budget,
  whatever e is; it never fires when e ≤ B × {{.Budget}}.
- Once the fault stops it resets after S × (1 − B × {{.Budget}} / e), S being the short
  window. Measured times add one scrape and one rule-evaluation interval{{with .Global}}, and
  {{.Delay}} for Thanos{{end}}, and, for a tier whose alert or windows run in the slower long
  rule group, up to one interval of that group: the table's "by" times include them.
`))
