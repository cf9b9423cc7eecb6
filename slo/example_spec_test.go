package slo_test

import (
	"fmt"

	"github.com/slokit/slokit/slo"
)

// Parse turns a spec into domain Objectives: the objective becomes a ratio, the period a
// duration, and every default (period, alert name, severity labels, tiers) is filled in.
func ExampleParse() {
	spec := []byte(`
version: slokit/v1
service: shortlink
labels: {team: platform}
slos:
  - name: redirect-availability
    objective: 99.9
    sli:
      events:
        bad: http_requests_total{route="GET /{code}",code=~"5.."}
        total: http_requests_total{route="GET /{code}"}
  - name: redirect-latency
    objective: 99
    period: 7d
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: {route: "GET /{code}"}
        threshold: 100ms
scrapeInterval: 30s
`)
	svc, diags := slo.Parse("slos.yaml", spec)
	if err := diags.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range svc.Objectives {
		fmt.Printf("%s: %s SLI, target %v over %s, alert %s %v\n",
			o.Name, o.SLI.Kind(), o.Target, slo.FormatWindow(o.Period), o.Alerting.Name, o.Alerting.Page.Labels)
		for _, w := range o.Windows() {
			fmt.Printf("  %s %v× over %s and %s\n", w.Severity, w.BurnRate, slo.FormatWindow(w.Long), slo.FormatWindow(w.Short))
		}
	}
	// Output:
	// redirect-availability: events SLI, target 0.999 over 30d, alert ShortlinkRedirectAvailability map[severity:page]
	//   page 14.4× over 1h and 5m
	//   page 6× over 6h and 30m
	//   ticket 3× over 1d and 2h
	//   ticket 1× over 3d and 6h
	// redirect-latency: latency SLI, target 0.99 over 1w, alert ShortlinkRedirectLatency map[severity:page]
	//   page 14.4× over 14m and 2m
	//   page 6× over 1h24m and 7m
	//   ticket 3× over 5h36m and 28m
	//   ticket 1× over 16h48m and 1h24m
}

// Every problem of a file is reported at once, each with its position and field path.
func ExampleParse_errors() {
	spec := []byte(`
version: slokit/v1
service: shortlink
slos:
  - name: availability
    objective: "99,9"
    period: 30
    sli:
      events:
        bad: rate(http_requests_total{code=~"5.."}[5m])
  - name: availability
    objective: 100
    sli:
      latency: {histogram: http_request_duration_seconds, threshold: 0.1}
scrapeInterval: 30s
`)
	svc, diags := slo.Parse("slos.yaml", spec)
	fmt.Println(svc == nil)
	for _, d := range diags {
		fmt.Println(d)
	}
	// Output:
	// true
	// slos.yaml:6:16: slos[0].objective: "99,9" is not a number: use a decimal point, like 99.9
	// slos.yaml:7:13: slos[0].period: 30 has no unit: write a duration like 30d (units ms, s, m, h, d, w, y)
	// slos.yaml:10:9: slos[0].sli.events.total: required: a series selector like http_requests_total
	// slos.yaml:10:14: slos[0].sli.events.bad: must be a plain series selector like http_requests_total{code=~"5.."}, got a call to rate(); slokit builds the rate() itself (use sli.raw for a full expression)
	// slos.yaml:11:11: slos[1].name: duplicate SLO name "availability" (first used by slos[0]): names must be unique per service
	// slos.yaml:12:16: slos[1].objective: must be below 100, got 100: an objective of 100% leaves no error budget, so every burn rate divides by zero; use 99.99 or lower
	// slos.yaml:14:70: slos[1].sli.latency.threshold: 0.1 is not a duration: write the threshold with a unit, like 100ms or 1s (it must equal one of the histogram's bucket boundaries)
}

// Warnings do not stop generation but point at alerts that cannot work as intended.
func ExampleDiagnostics_Warnings() {
	spec := []byte(`
version: slokit/v1
service: batch
slos:
  - name: success
    objective: 90
    sli:
      raw:
        errorRatio: sum(rate(jobs_failed_total[{{.window}}])) / sum(rate(jobs_total[{{.window}}]))
scrapeInterval: 30s
`)
	svc, diags := slo.Parse("slos.yaml", spec)
	fmt.Println(svc != nil, len(diags.Errors()))
	for _, d := range diags.Warnings() {
		fmt.Println(d)
	}
	// Output:
	// true 0
	// slos.yaml:6:16: slos[0].objective: warning: the page tier 14.4× over 1h/5m can never fire: at 90% even a total outage burns the budget only 10× as fast as allowed (a 1h outage spends 1.39% of the 30d budget, the tier needs 2%); raise the objective or lower the tier's burnRate in alerting.windows
}

// Sloth prometheus/v1 files are read unchanged. Events queries that are exactly
// sum(rate(<selector>[{{.window}}])) become an events SLI (the same ratio, cheaper
// rules); any other PromQL becomes the raw error ratio "(error_query) / (total_query)",
// as Sloth records it.
func ExampleParse_sloth() {
	spec := []byte(`
version: "prometheus/v1"
service: "myservice"
slos:
  - name: "requests-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      page_alert:
        labels: {severity: critical}
      ticket_alert:
        disable: true
  - name: "requests-latency"
    objective: 99
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count[{{.window}}])) - sum(rate(http_request_duration_seconds_bucket{le="0.4"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count[{{.window}}]))
`)
	svc, diags := slo.Parse("sloth.yaml", spec)
	if err := diags.Err(); err != nil {
		fmt.Println(err)
		return
	}
	avail, latency := svc.Objectives[0], svc.Objectives[1]
	fmt.Println(avail.SLI.Kind(), avail.Target, slo.FormatWindow(avail.Period))
	fmt.Println(avail.SLI.Events.Bad, avail.SLI.Events.Total)
	fmt.Println(avail.Alerting.Name, avail.Alerting.Page.Labels, avail.Alerting.Ticket.Disabled)
	fmt.Println(latency.SLI.Kind(), latency.Alerting.Name)
	fmt.Println(latency.SLI.Raw.ErrorRatio)
	// Output:
	// events 0.999 30d
	// http_requests_total{code=~"5.."} http_requests_total
	// MyServiceHighErrorRate map[severity:critical] true
	// raw MyserviceRequestsLatency
	// (sum(rate(http_request_duration_seconds_count[{{.window}}])) - sum(rate(http_request_duration_seconds_bucket{le="0.4"}[{{.window}}]))) / sum(rate(http_request_duration_seconds_count[{{.window}}]))
}

// OpenSLO v1 SLO objects with a ratioMetric of Prometheus counters are read too: bad and
// total become an events SLI, the rolling timeWindow the period, target the objective.
func ExampleParse_openslo() {
	spec := []byte(`
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  labels: {team: [storefront]}
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{target: 0.999}]
  indicator:
    metadata: {name: checkout-errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{route="POST /checkout",code=~"5.."}'}}
        total:
          metricSource: {type: Prometheus, spec: {query: 'http_requests_total{route="POST /checkout"}'}}
`)
	svc, diags := slo.Parse("openslo.yaml", spec)
	if err := diags.Err(); err != nil {
		fmt.Println(err)
		return
	}
	o := svc.Objectives[0]
	fmt.Println(svc.Name, o.Name, o.Target, slo.FormatWindow(o.Period), o.Labels, o.Alerting.Name)
	fmt.Println(o.SLI.Events.Bad)
	fmt.Println(o.SLI.Events.Total)
	// Output:
	// checkout checkout-availability 0.999 4w map[team:storefront] CheckoutCheckoutAvailability
	// http_requests_total{code=~"5..",route="POST /checkout"}
	// http_requests_total{route="POST /checkout"}
}
