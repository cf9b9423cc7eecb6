package operator

import (
	"strings"
	"testing"

	"github.com/slokit/slokit/alerts"
)

// FuzzParse feeds arbitrary field values through the object → slokit/v1 → slo path:
// it never panics, and it either returns problems, each positioned under spec, or a
// service whose rules generate and decode into a PrometheusRule.
func FuzzParse(f *testing.F) {
	f.Add("checkout", "availability", 99.9, "30d", `http_requests_total{code=~"5.."}`, "http_requests_total", "team")
	f.Add("", "Bad Name", 100.0, "30", `x{`, "", "__x")
	f.Add("a: b", "x\n- y", -1.0, "1.5h", "{{.window}}", "sum(", "")
	f.Fuzz(func(t *testing.T, service, name string, objective float64, period, bad, total, label string) {
		obj := sample("fuzz")
		obj.Spec.Service, obj.Spec.Name, obj.Spec.Objective, obj.Spec.Period = service, name, objective, period
		obj.Spec.SLI.Events.Bad, obj.Spec.SLI.Events.Total = bad, total
		obj.Spec.Labels = map[string]string{label: service}
		svc, problems := Parse(obj)
		if problems != nil {
			for _, p := range problems {
				if !strings.HasPrefix(p, "spec") {
					t.Fatalf("problem not positioned in the object: %q", p)
				}
			}
			return
		}
		if svc == nil {
			t.Fatal("no service and no problems")
		}
		if _, err := Rules(svc, obj.Name, "ns", nil, alerts.Options{}); err != nil {
			t.Fatalf("valid spec, rules fail: %v", err)
		}
	})
}
