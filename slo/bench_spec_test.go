package slo_test

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// bigSpec returns a slokit/v1 file with n SLOs cycling through the three SLI kinds.
func bigSpec(n int) []byte {
	var b strings.Builder
	b.WriteString("version: slokit/v1\nservice: big\nlabels: {team: platform}\nslos:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: slo-%d\n    objective: 99.9\n    description: SLO number %d\n", i, i)
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "    sli:\n      events:\n        bad: http_requests_total{service=\"big\",route=\"GET /r%d\",code=~\"5..\"}\n        total: http_requests_total{service=\"big\",route=\"GET /r%d\"}\n", i, i)
		case 1:
			fmt.Fprintf(&b, "    sli:\n      latency:\n        histogram: http_request_duration_seconds\n        selector: {service: big, route: \"GET /r%d\"}\n        threshold: 100ms\n", i)
		default:
			fmt.Fprintf(&b, "    sli:\n      raw:\n        errorRatio: sum(rate(jobs_failed_total{queue=\"q%d\"}[{{.window}}])) / sum(rate(jobs_total{queue=\"q%d\"}[{{.window}}]))\n", i, i)
		}
		fmt.Fprintf(&b, "    alerting:\n      annotations: {runbook_url: https://runbooks.example/%d}\n", i)
	}
	return []byte(b.String())
}

// BenchmarkParse10000 validates a 10,000-SLO file: YAML decoding, strict structure,
// PromQL parsing of every selector and template, conversion and warnings.
func BenchmarkParse10000(b *testing.B) {
	data := bigSpec(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		svc, ds := slo.Parse("big.yaml", data)
		if svc == nil || len(ds) > 0 || len(svc.Objectives) != 10000 {
			b.Fatalf("want 10000 clean objectives, got %d diagnostics", len(ds))
		}
	}
}

// BenchmarkYAMLNodeDecode10000 is the anchor for BenchmarkParse10000: decoding the same
// file into yaml.v3 nodes only, the floor any position-preserving validator pays.
func BenchmarkYAMLNodeDecode10000(b *testing.B) {
	data := bigSpec(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			b.Fatal(err)
		}
	}
}
