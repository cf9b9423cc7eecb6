// Command pyrrahelper prints, as JSON lines, the alerting rules Pyrra v0.10.1 itself
// generates for each ServiceLevelObjective in the YAML files given: the anchor of
// slokit's Pyrra import test. It is its own module (under testdata, so slokit's build
// ignores it) so that slokit's go.mod does not carry Pyrra's dependencies; .ci/pyrra.sh
// builds it once per machine.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/pyrra-dev/pyrra/kubernetes/api/v1alpha1"
	"github.com/pyrra-dev/pyrra/slo"
	"sigs.k8s.io/yaml"
)

type alert struct {
	Alert  string            `json:"alert"`
	Expr   string            `json:"expr"`
	For    string            `json:"for,omitempty"`
	Labels map[string]string `json:"labels"`
}

type out struct {
	File      string        `json:"file"`
	Name      string        `json:"name"`
	Namespace string        `json:"namespace"`
	Target    float64       `json:"target"`
	Window    time.Duration `json:"window"`
	Error     string        `json:"error,omitempty"`
	Alerts    []alert       `json:"alerts"`
}

func main() {
	enc := json.NewEncoder(os.Stdout)
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			var meta struct{ Kind string }
			if yaml.Unmarshal(doc, &meta) != nil || meta.Kind != "ServiceLevelObjective" {
				continue
			}
			_ = enc.Encode(rules(file, doc))
		}
	}
}

func rules(file string, doc []byte) out {
	var s v1alpha1.ServiceLevelObjective
	o := out{File: file}
	if err := yaml.Unmarshal(doc, &s); err != nil {
		o.Error = err.Error()
		return o
	}
	o.Name, o.Namespace = s.Name, s.Namespace
	obj, err := s.Internal()
	if err != nil {
		o.Error = err.Error()
		return o
	}
	o.Target, o.Window = obj.Target, time.Duration(obj.Window)
	g, err := obj.Burnrates(slo.GenerationOptions{})
	if err != nil {
		o.Error = err.Error()
		return o
	}
	for _, r := range g.Rules {
		if r.Alert == "" {
			continue
		}
		a := alert{Alert: r.Alert, Expr: r.Expr.String(), Labels: r.Labels}
		if r.For != nil {
			a.For = string(*r.For)
		}
		o.Alerts = append(o.Alerts, a)
	}
	return o
}
