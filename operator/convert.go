package operator

import (
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/operator/api/v1alpha1"
	"github.com/slokit/slokit/slo"
)

// SpecYAML renders obj's spec as the slokit/v1 document it stands for (one service, one
// SLO, fields in docs/spec.md's order): the document slokit validates and generates
// rules from.
func SpecYAML(obj *v1alpha1.ServiceLevelObjective) ([]byte, error) {
	s := obj.Spec
	name := s.Name
	if name == "" {
		name = slo.V1Name(obj.Name) // Kubernetes names may hold dots; SLO names may not
	}
	entry := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, key string, v any) error {
		var val yaml.Node
		if err := val.Encode(v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &val)
		return nil
	}
	fields := []struct {
		key  string
		v    any
		skip bool
	}{
		{"name", name, false},
		{"objective", s.Objective, false},
		{"period", s.Period, s.Period == ""},
		{"description", s.Description, s.Description == ""},
		{"labels", s.Labels, len(s.Labels) == 0},
		{"scrapeInterval", s.ScrapeInterval, s.ScrapeInterval == ""},
		{"evaluationInterval", s.EvaluationInterval, s.EvaluationInterval == ""},
		{"sli", viaJSON(s.SLI), false},
		{"alerting", viaJSON(s.Alerting), s.Alerting == nil},
	}
	for _, f := range fields {
		if f.skip {
			continue
		}
		if err := add(entry, f.key, f.v); err != nil {
			return nil, err
		}
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, kv := range []struct {
		k string
		v any
	}{{"version", slo.VersionV1}, {"service", s.Service}, {"slos", []*yaml.Node{entry}}} {
		if err := add(root, kv.k, kv.v); err != nil {
			return nil, err
		}
	}
	return yaml.Marshal(root)
}

// viaJSON turns an API struct into plain maps under its json field names (the names
// slokit/v1 uses too).
func viaJSON(v any) any {
	b, err := sigsyaml.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := sigsyaml.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

// Parse validates obj with slokit's spec rules (package slo). On failure it returns
// every problem, each positioned by its field path in the object ("spec.objective: …").
func Parse(obj *v1alpha1.ServiceLevelObjective) (*slo.Service, []string) {
	data, err := SpecYAML(obj)
	if err != nil {
		return nil, []string{"spec: " + err.Error()}
	}
	svc, ds := slo.Parse(sourceName(obj), data)
	var problems []string
	for _, d := range ds {
		if d.Warning {
			continue
		}
		problems = append(problems, fieldPath(d.Path)+": "+d.Message)
	}
	if len(problems) > 0 || svc == nil {
		if len(problems) == 0 {
			problems = []string{"spec: not a valid SLO"}
		}
		return nil, problems
	}
	return svc, nil
}

// sourceName is the file name slo's diagnostics and rule origins carry.
func sourceName(obj *v1alpha1.ServiceLevelObjective) string {
	return "servicelevelobjective/" + obj.Namespace + "/" + obj.Name
}

// fieldPath maps a path in the slokit/v1 document to the object's field path.
func fieldPath(p string) string {
	switch {
	case p == "" || p == "slos" || p == "slos[0]" || p == "version":
		return "spec"
	case strings.HasPrefix(p, "slos[0]."):
		return "spec." + strings.TrimPrefix(p, "slos[0].")
	}
	return "spec." + p
}

// RuleName is the name of the PrometheusRule kept for the ServiceLevelObjective name.
func RuleName(sloObject string) string { return "slokit-" + sloObject }

// Rules generates the PrometheusRule for svc exactly as `slokit generate -o
// prometheusrule` does (alerts.RuleFile, alerts.NewPrometheusRule and its YAML), then
// names it after the object and decodes it strictly into the prometheus-operator type.
func Rules(svc *slo.Service, object, namespace string, labels map[string]string, opts alerts.Options) (*monitoringv1.PrometheusRule, error) {
	f, err := alerts.RuleFile([]*slo.Service{svc}, opts)
	if err != nil {
		return nil, err
	}
	obj := alerts.NewPrometheusRule(svc.Name, namespace, labels, f)
	obj.Metadata.Name = RuleName(object)
	data, err := alerts.MarshalPrometheusRules(obj)
	if err != nil {
		return nil, err
	}
	var out monitoringv1.PrometheusRule
	if err := sigsyaml.UnmarshalStrict(data, &out); err != nil {
		return nil, fmt.Errorf("decode generated PrometheusRule: %w", err)
	}
	return &out, nil
}
