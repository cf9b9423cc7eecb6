package dashboards

import (
	"bytes"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// OperatorOptions places GrafanaDashboard objects. The zero value selects Grafana
// instances labelled dashboards=grafana and puts the dashboards in the folder "SLOs".
type OperatorOptions struct {
	// Namespace of the objects; "" leaves it to kubectl's context.
	Namespace string
	// InstanceLabels select the Grafana instances (spec.instanceSelector.matchLabels);
	// nil means {dashboards: grafana}, the grafana-operator examples' convention.
	InstanceLabels map[string]string
	// Folder is the Grafana folder; "" means "SLOs".
	Folder string
}

// GrafanaDashboard is the grafana-operator grafana.integreatly.org/v1beta1 object that
// makes the operator import one dashboard's JSON into the selected Grafana instances.
type GrafanaDashboard struct {
	APIVersion string               `yaml:"apiVersion"`
	Kind       string               `yaml:"kind"`
	Metadata   GrafanaDashboardMeta `yaml:"metadata"`
	Spec       GrafanaDashboardSpec `yaml:"spec"`
}

// GrafanaDashboardMeta is the object metadata slokit sets.
type GrafanaDashboardMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels"`
}

// GrafanaDashboardSpec is the part of the operator's spec slokit sets.
type GrafanaDashboardSpec struct {
	InstanceSelector LabelSelector `yaml:"instanceSelector"`
	Folder           string        `yaml:"folder,omitempty"`
	JSON             string        `yaml:"json"`
}

// LabelSelector is a Kubernetes label selector with matchLabels only.
type LabelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// Operator wraps each dashboard in a GrafanaDashboard object named after its uid.
func Operator(opts OperatorOptions, ds ...dashboard.Dashboard) ([]GrafanaDashboard, error) {
	if opts.InstanceLabels == nil {
		opts.InstanceLabels = map[string]string{"dashboards": "grafana"}
	}
	if opts.Folder == "" {
		opts.Folder = "SLOs"
	}
	out := make([]GrafanaDashboard, 0, len(ds))
	for _, d := range ds {
		j, err := JSON(d)
		if err != nil {
			return nil, err
		}
		out = append(out, GrafanaDashboard{
			APIVersion: "grafana.integreatly.org/v1beta1",
			Kind:       "GrafanaDashboard",
			Metadata: GrafanaDashboardMeta{
				Name:      deref(d.Uid),
				Namespace: opts.Namespace,
				Labels:    map[string]string{"app.kubernetes.io/managed-by": "slokit"},
			},
			Spec: GrafanaDashboardSpec{
				InstanceSelector: LabelSelector{MatchLabels: opts.InstanceLabels},
				Folder:           opts.Folder,
				JSON:             string(j),
			},
		})
	}
	return out, nil
}

// MarshalOperator renders objs as YAML documents separated by "---", after
// slo.GeneratedHeader.
func MarshalOperator(objs ...GrafanaDashboard) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(slo.GeneratedHeader)
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(o); err != nil {
			return nil, fmt.Errorf("encode GrafanaDashboard %s: %w", o.Metadata.Name, err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encode GrafanaDashboard %s: %w", o.Metadata.Name, err)
		}
	}
	return b.Bytes(), nil
}
