// Command pyrrarules prints, as a Prometheus rule file (JSON, which rule-file parsers
// read as YAML), the rule groups Pyrra v0.10.1's own Go packages generate for each
// ServiceLevelObjective in the files given: its increase group (with the absent alerts)
// and its burn-rate group (recording rules and multi-window alerts), as Pyrra's
// Kubernetes operator installs them. slokit's backtest replays them (`slokit test
// --rules`) for the three-tool comparison in docs/backtest.md. It is its own module
// (under testdata, so slokit's build ignores it) so that slokit's go.mod does not carry
// Pyrra's dependencies; .ci/pyrra-rules.sh builds it once per machine.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/pyrra-dev/pyrra/kubernetes/api/v1alpha1"
	"github.com/pyrra-dev/pyrra/slo"
	"sigs.k8s.io/yaml"
)

type rule struct {
	Record string            `json:"record,omitempty"`
	Alert  string            `json:"alert,omitempty"`
	Expr   string            `json:"expr"`
	For    string            `json:"for,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

type group struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Rules    []rule `json:"rules"`
}

func main() {
	var groups []group
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fail(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			var meta struct{ Kind string }
			if yaml.Unmarshal(doc, &meta) != nil || meta.Kind != "ServiceLevelObjective" {
				continue
			}
			gs, err := generate(doc)
			if err != nil {
				fail(fmt.Errorf("%s: %w", file, err))
			}
			groups = append(groups, gs...)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"groups": groups}); err != nil {
		fail(err)
	}
}

func generate(doc []byte) ([]group, error) {
	var s v1alpha1.ServiceLevelObjective
	if err := yaml.Unmarshal(doc, &s); err != nil {
		return nil, err
	}
	obj, err := s.Internal()
	if err != nil {
		return nil, err
	}
	opts := slo.GenerationOptions{}
	inc, err := obj.IncreaseRules(opts)
	if err != nil {
		return nil, err
	}
	burn, err := obj.Burnrates(opts)
	if err != nil {
		return nil, err
	}
	return []group{convert(inc), convert(burn)}, nil
}

func convert(g monitoringv1.RuleGroup) group {
	out := group{Name: g.Name}
	if g.Interval != nil {
		out.Interval = string(*g.Interval)
	}
	for _, r := range g.Rules {
		x := rule{Record: r.Record, Alert: r.Alert, Expr: r.Expr.String(), Labels: r.Labels}
		if r.For != nil {
			x.For = string(*r.For)
		}
		out.Rules = append(out.Rules, x)
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pyrrarules:", err)
	os.Exit(1)
}
