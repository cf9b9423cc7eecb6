package operator

import (
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/operator/api/v1alpha1"
	"github.com/slokit/slokit/slo"
)

func sample(name string) *v1alpha1.ServiceLevelObjective {
	return &v1alpha1.ServiceLevelObjective{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: v1alpha1.ServiceLevelObjectiveSpec{
			Service: "checkout", Objective: 99.9, Period: "30d", Labels: map[string]string{"team": "payments"},
			SLI: v1alpha1.SLI{Events: &v1alpha1.EventsSLI{
				Bad:   `http_requests_total{service="checkout",code=~"5.."}`,
				Total: `http_requests_total{service="checkout"}`,
			}},
			Alerting: &v1alpha1.Alerting{Page: &v1alpha1.Severity{Labels: map[string]string{"team": "payments"}}},
		},
	}
}

// The object's rules are the bytes `slokit generate -o prometheusrule` writes for the
// same SLO as a slokit/v1 file, but for the object name.
func TestRulesMatchGenerate(t *testing.T) {
	obj := sample("availability")
	svc, problems := Parse(obj)
	if problems != nil {
		t.Fatal(problems)
	}
	got, err := Rules(svc, obj.Name, obj.Namespace, map[string]string{"release": "kps"}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file := `version: slokit/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    period: 30d
    labels: {team: payments}
    sli:
      events:
        bad: http_requests_total{service="checkout",code=~"5.."}
        total: http_requests_total{service="checkout"}
    alerting:
      page: {labels: {team: payments}}
`
	want, ds := slo.Parse("checkout.yaml", []byte(file))
	if ds.Err() != nil {
		t.Fatal(ds)
	}
	f, err := alerts.RuleFile([]*slo.Service{want}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Groups) != len(f.Groups) || len(got.Spec.Groups) == 0 {
		t.Fatalf("%d groups, want %d", len(got.Spec.Groups), len(f.Groups))
	}
	for i, g := range f.Groups {
		gg := got.Spec.Groups[i]
		if gg.Name != g.Name || len(gg.Rules) != len(g.Rules) {
			t.Fatalf("group %d: %s with %d rules, want %s with %d", i, gg.Name, len(gg.Rules), g.Name, len(g.Rules))
		}
		for j, r := range g.Rules {
			if gg.Rules[j].Expr.String() != r.Expr || gg.Rules[j].Record != r.Record || gg.Rules[j].Alert != r.Alert {
				t.Errorf("rule %d/%d differs:\n%+v\nwant %+v", i, j, gg.Rules[j], r)
			}
		}
	}
	if got.Name != "slokit-availability" || got.Labels["release"] != "kps" || got.Labels["app.kubernetes.io/managed-by"] != "slokit" {
		t.Errorf("metadata %+v", got.ObjectMeta)
	}
}

// Every problem comes back at once, positioned by its field path in the object.
func TestParseInvalidPositions(t *testing.T) {
	obj := sample("bad")
	obj.Spec.Name = "Bad Name"
	obj.Spec.Objective = 100
	obj.Spec.Period = "30"
	obj.Spec.SLI.Events.Bad = `http_requests_total{code=~"5..}`
	_, problems := Parse(obj)
	text := strings.Join(problems, "\n")
	t.Log(text)
	for _, want := range []string{"spec.name: ", "spec.objective: ", "spec.period: ", "spec.sli.events.bad: "} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	if len(problems) < 4 {
		t.Errorf("%d problems, want at least 4:\n%s", len(problems), text)
	}
}

// The bundled example decodes strictly into the API type and is a valid SLO.
func TestExampleObject(t *testing.T) {
	data, err := os.ReadFile("../examples/kubernetes/servicelevelobjective.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var obj v1alpha1.ServiceLevelObjective
	if err := sigsyaml.UnmarshalStrict(data, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.APIVersion != "slokit.dev/v1alpha1" || obj.Kind != "ServiceLevelObjective" {
		t.Fatalf("%s %s", obj.APIVersion, obj.Kind)
	}
	if _, problems := Parse(&obj); problems != nil {
		t.Fatal(problems)
	}
}
