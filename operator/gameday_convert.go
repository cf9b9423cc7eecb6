package operator

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/operator/api/v1alpha1"
	"github.com/slokit/slokit/slo"
)

// GameDayYAML renders gd as the game-day file it stands for (docs/gameday.md): the
// fault becomes a chaosmesh fault in gd's namespace, the SLO reference names the
// objective sloName of the ServiceLevelObjective object, and prometheus fills
// signals.prometheus when the spec leaves it empty. This is the document slokit's
// game-day parser validates, so an object and a file mean the same thing.
func GameDayYAML(gd *v1alpha1.GameDay, sloName, prometheus string) ([]byte, error) {
	s := gd.Spec
	signals := map[string]any{}
	if p := cmp(s.Signals.Prometheus, prometheus); p != "" {
		signals["prometheus"] = p
	}
	putStr(signals, "pollInterval", s.Signals.PollInterval)
	putStr(signals, "tolerance", s.Signals.Tolerance)
	params := map[string]any{"kind": s.Fault.Kind, "namespace": gd.Namespace}
	putStr(params, "name", s.Fault.Name)
	putStr(params, "injectTimeout", s.Fault.InjectTimeout)
	putStr(params, "removeTimeout", s.Fault.RemoveTimeout)
	if len(s.Fault.Spec.Raw) > 0 {
		var spec any
		if err := json.Unmarshal(s.Fault.Spec.Raw, &spec); err != nil {
			return nil, fmt.Errorf("spec.fault.spec: %w", err)
		}
		params["spec"] = spec
	}
	fault := map[string]any{"backend": chaosmesh.BackendName, "params": params}
	putStr(fault, "duration", s.Fault.Duration)
	doc := []kv{
		{"name", GameDayName(gd)},
		{"description", s.Description},
		{"slo", map[string]any{"file": gameDaySource(gd), "name": sloName}},
		{"signals", signals},
		{"fault", fault},
		{"expectedErrorRatio", s.ExpectedErrorRatio},
		{"steadyState", viaJSON(s.SteadyState)},
		{"expect", viaJSON(s.Expect)},
		{"mustNotFire", viaJSON(s.MustNotFire)},
		{"recovery", viaJSON(s.Recovery)},
		{"mitigation", viaJSON(s.Mitigation)},
		{"guardrails", viaJSON(s.Guardrails)},
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range doc {
		if isEmpty(e.v) {
			continue
		}
		var val yaml.Node
		if err := val.Encode(e.v); err != nil {
			return nil, fmt.Errorf("%s: %w", e.k, err)
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.k}, &val)
	}
	return yaml.Marshal(root)
}

type kv struct {
	k string
	v any
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func putStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// GameDayName is the game day's name in slokit's syntax (it labels the Chaos Mesh
// objects): metadata.name, with dots replaced.
func GameDayName(gd *v1alpha1.GameDay) string { return slo.V1Name(gd.Name) }

func gameDaySource(gd *v1alpha1.GameDay) string {
	return "gameday/" + gd.Namespace + "/" + gd.Name
}

// ParseGameDay validates gd with slokit's game-day rules against the objective of its
// ServiceLevelObjective sloObj and prepares the run's plan. On failure it returns every
// problem positioned by its field path in the GameDay ("spec.fault.spec.delay: …").
func ParseGameDay(gd *v1alpha1.GameDay, sloObj *v1alpha1.ServiceLevelObjective, prometheus string, backend *chaosmesh.Backend) (*chaos.Plan, []string) {
	svc, problems := Parse(sloObj)
	if problems != nil {
		return nil, []string{fmt.Sprintf("spec.slo.name: ServiceLevelObjective %s is invalid (see its status)", sloObj.Name)}
	}
	o := svc.Objectives[0]
	data, err := GameDayYAML(gd, o.Name, prometheus)
	if err != nil {
		return nil, []string{err.Error()}
	}
	g, ds := chaos.Parse(gameDaySource(gd), data, []chaos.Backend{backend})
	if g == nil {
		return nil, gameDayProblems(ds, prometheus)
	}
	plan, pds := chaos.Prepare(g, o, 0)
	if plan == nil {
		return nil, gameDayProblems(pds, prometheus)
	}
	return plan, nil
}

func gameDayProblems(ds slo.Diagnostics, prometheus string) []string {
	var out []string
	for _, d := range ds {
		if d.Warning {
			continue
		}
		msg := d.Message
		if d.Path == "signals.prometheus" && prometheus == "" {
			msg += " (set spec.signals.prometheus, or start the operator with --gameday-prometheus)"
		}
		out = append(out, gameDayPath(d.Path)+": "+msg)
	}
	if len(out) == 0 {
		out = []string{"spec: not a valid game day"}
	}
	return out
}

// gameDayPath maps a path in the game-day document to the GameDay's field path.
func gameDayPath(p string) string {
	switch {
	case p == "":
		return "spec"
	case p == "name":
		return "metadata.name"
	case strings.HasPrefix(p, "slo"):
		return "spec.slo.name"
	case strings.HasPrefix(p, "fault.params."):
		return "spec.fault." + strings.TrimPrefix(p, "fault.params.")
	}
	return "spec." + p
}
