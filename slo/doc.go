// Package slo reads SLO specs, validates them strictly and turns them into domain
// Objectives and Prometheus recording rules.
//
// # Reading specs
//
// [Parse], [ParseFiles] and [LoadFiles] accept these formats, told apart by each
// document's first fields:
//
//   - version: slokit/v1, slokit's own format, annotated below;
//   - version: prometheus/v1, Sloth's spec files, and Sloth's Kubernetes
//     PrometheusServiceLevel objects, read unchanged;
//   - apiVersion: openslo/v1 or openslo/v1alpha, OpenSLO objects, resolved across files;
//   - apiVersion: pyrra.dev/v1alpha1, Pyrra ServiceLevelObjectives.
//
// A file may hold several documents; LoadFiles reads directories recursively.
// Validation is strict and reports every problem of a file in one pass as
// "file:line:col: path: message" ([Diagnostic]): unknown fields, values of the wrong
// kind, objectives outside (0,100), durations that are not Prometheus durations, PromQL
// the Prometheus parser rejects, duplicate names. Warnings ([Diagnostic.Warning]) flag
// valid specs whose alerts cannot work as intended, such as a tier that can never fire.
// A [Service] is returned only when there is no error.
//
// # The slokit/v1 format
//
// Every field, with its default; docs/spec.md has the full reference.
//
//	version: slokit/v1                 # required, first
//	service: shortlink                 # required; [a-z0-9-]+
//	labels:                            # optional; copied onto every rule and alert
//	  team: platform
//	scrapeInterval: 30s                # how often the SLI's series are scraped; default 30s, with a warning
//	evaluationInterval: 30s            # optional; the rule groups' interval, default scrapeInterval
//	slos:                              # required; at least one
//	  - name: redirect-availability    # required; [a-z0-9-]+, unique in the file
//	    objective: 99.9                # required; percent, 0 < x < 100 (99.9 → ratio 0.999)
//	    period: 30d                    # optional, default 30d; rolling window, Prometheus duration
//	    description: Redirects are served without a server error.   # optional
//	    labels: {category: availability}   # optional; merged over the service labels
//	    sli:                           # required; exactly one of events, latency, raw
//	      events:                      # bad and total counters; slokit builds the rate()s
//	        bad:   http_requests_total{service="shortlink",route="GET /{code}",code=~"5.."}
//	        total: http_requests_total{service="shortlink",route="GET /{code}"}
//	    alerting:                      # optional
//	      name: ShortlinkRedirectAvailability   # default: CamelCase of service and SLO names
//	      labels: {component: redirect}         # added to both severities' alerts
//	      annotations: {runbook_url: https://runbooks.example/shortlink}
//	      page:                        # the page severity; default labels {severity: page}
//	        labels: {severity: page}
//	      ticket:                      # the ticket severity; default labels {severity: ticket}
//	        disabled: true             # drops this severity's alert rule
//	      noData:                      # the alert on absent SLI series; on by default
//	        for: 5m                    # how long the series must be absent (default 5m)
//	        labels: {severity: page}   # default {severity: page}; disabled: true drops it
//	  - name: redirect-latency
//	    objective: 99
//	    scope: cluster                 # default: each cluster's Prometheus; global: once over every cluster, in Thanos Ruler
//	    sli:
//	      latency:                     # good = requests faster than threshold
//	        histogram: http_request_duration_seconds   # classic histogram base name
//	        selector: {service: shortlink, route: "GET /{code}"}   # equality matchers
//	        threshold: 100ms           # a duration; must be one of the histogram's le buckets
//	        buckets: [50ms, 100ms, 250ms]   # the histogram's le values; threshold must be one (warning when absent)
//	        native: false              # true: a native histogram, read with histogram_fraction
//	  - name: jobs
//	    objective: 99.5
//	    period: 1d
//	    scrapeInterval: 15s            # per SLO, overrides the file's (so does evaluationInterval)
//	    sli:
//	      raw:                         # an error ratio; {{.window}} is each window's range
//	        errorRatio: sum(rate(jobs_failed_total[{{.window}}])) / sum(rate(jobs_total[{{.window}}]))
//	    alerting:
//	      windows:                     # optional; replaces the default tiers (see DefaultWindows)
//	        - {severity: page, long: 1h, short: 5m, burnRate: 14.4}
//	        - {severity: ticket, long: 6h, short: 30m, burnRate: 3}
//
// Without alerting.windows the Google SRE Workbook tiers apply, scaled by period/30d:
// page 14.4× over 1h and 5m and 6× over 6h and 30m, ticket 3× over 1d and 2h and 1×
// over 3d and 6h ([DefaultWindows]).
package slo
