package alerts_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// specOf returns a slokit/v1 spec of n SLOs alternating events and latency SLIs.
func specOf(n int) []byte {
	var b strings.Builder
	b.WriteString("version: slokit/v1\nservice: bench\nlabels: {team: perf}\nslos:\n")
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			fmt.Fprintf(&b, `  - name: availability-%d
    objective: 99.9
    sli:
      events:
        bad: http_requests_total{job="bench",route="/r%d",code=~"5.."}
        total: http_requests_total{job="bench",route="/r%d"}
`, i, i, i)
		} else {
			fmt.Fprintf(&b, `  - name: latency-%d
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds
        selector: {job: bench, route: /r%d}
        threshold: 250ms
`, i, i)
		}
	}
	return []byte(b.String())
}

// BenchmarkGenerate10kSLOs parses and validates a spec of 10,000 SLOs, generates their
// recording and alerting rules (expressions built from canonical parts, the SLIs' selectors
// parsed once each) and renders the rule file.
func BenchmarkGenerate10kSLOs(b *testing.B) {
	spec := specOf(10000)
	b.SetBytes(int64(len(spec)))
	b.ReportAllocs()
	var rules int
	for b.Loop() {
		svc, ds := slo.Parse("bench.yaml", spec)
		if err := ds.Err(); err != nil {
			b.Fatal(err)
		}
		f, err := alerts.RuleFile([]*slo.Service{svc}, alerts.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := alerts.MarshalRuleFile(f); err != nil {
			b.Fatal(err)
		}
		rules = 0
		for _, g := range f.Groups {
			rules += len(g.Rules)
		}
	}
	b.ReportMetric(float64(rules)/10000, "rules/SLO")
}
