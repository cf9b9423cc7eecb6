package chaosmesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/genericwebhook"
	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// Defaults of the fault parameters.
const (
	DefaultInjectTimeout = 2 * time.Minute
	DefaultRemoveTimeout = time.Minute
)

// Fault is a validated fault: one Chaos Mesh object to create, not yet labelled for a run.
type Fault struct {
	// Kind is the Chaos Mesh kind, like "NetworkChaos".
	Kind string
	// Action is the action the spec asks for ("delay", "pod-kill", "abort", "stress", …).
	Action string
	// Namespace is where the object is created and the only namespace it may select
	// pods in; "" means the kubeconfig context's namespace.
	Namespace string
	// Name is the object's name; "" means one derived from the run.
	Name string
	// Object holds the spec; its metadata is filled in for each run.
	Object chaosObject
	// InjectTimeout bounds the wait for Chaos Mesh to report AllInjected.
	InjectTimeout time.Duration
	// RemoveTimeout bounds the wait for the object to be gone after its deletion.
	RemoveTimeout time.Duration
}

// paramKeys are the keys of the fault parameters, in documentation order.
var paramKeys = []string{"kind", "namespace", "name", "spec", "injectTimeout", "removeTimeout"}

// ParseFault decodes and validates the fault parameters of a GameDay file strictly,
// reporting every problem with its position:
//
//	kind: NetworkChaos          # NetworkChaos | PodChaos | HTTPChaos | StressChaos
//	namespace: shortlink        # optional: the kubeconfig context's namespace
//	name: shortlink-delay       # optional: slokit-<gameday>-<run id>
//	injectTimeout: 2m           # optional: wait for AllInjected
//	removeTimeout: 1m           # optional: wait for the object to be gone
//	spec:                       # the Chaos Mesh spec, exactly as in the CR
//	  action: delay
//	  mode: all
//	  selector: {labelSelectors: {app: shortlink}}
//	  delay: {latency: 200ms}
//
// The Fault is nil when any error is found.
func ParseFault(file string, params *yaml.Node) (*Fault, slo.Diagnostics) {
	c := &checker{strictyaml.New(file, 0)}
	n := c.Resolve(resolve(params))
	if n == nil || n.Kind != yaml.MappingNode {
		c.errorf(n, "", "the chaosmesh fault parameters must be a mapping with kind and spec (and optionally namespace, name, injectTimeout, removeTimeout)")
		return nil, c.Diagnostics()
	}
	f := &Fault{InjectTimeout: DefaultInjectTimeout, RemoveTimeout: DefaultRemoveTimeout}
	var specNode, kindNode *yaml.Node
	fields, _ := c.Fields(n, paramsPath, paramKeys...)
	for _, key := range paramKeys {
		v, present := fields[key]
		if !present {
			continue
		}
		v = c.Resolve(v)
		switch key {
		case "kind":
			kindNode = v
			if c.str(v, "kind", &f.Kind) && !slices.Contains(kindNames(), f.Kind) {
				c.errorf(v, "kind", "unsupported kind %q; slokit supports %s", f.Kind, strings.Join(kindNames(), ", "))
			}
		case "namespace":
			if c.str(v, "namespace", &f.Namespace) {
				for _, msg := range validation.IsDNS1123Label(f.Namespace) {
					c.errorf(v, "namespace", "invalid namespace %q: %s", f.Namespace, msg)
				}
			}
		case "name":
			if c.str(v, "name", &f.Name) {
				for _, msg := range validation.IsDNS1123Subdomain(f.Name) {
					c.errorf(v, "name", "invalid name %q: %s", f.Name, msg)
				}
			}
		case "spec":
			specNode = v
		case "injectTimeout":
			c.duration(v, "injectTimeout", &f.InjectTimeout)
		case "removeTimeout":
			c.duration(v, "removeTimeout", &f.RemoveTimeout)
		}
	}
	if kindNode == nil {
		c.missing(n, "kind", "the Chaos Mesh kind, one of %s", strings.Join(kindNames(), ", "))
	}
	if specNode == nil {
		c.missing(n, "spec", "the Chaos Mesh spec inline, as in the custom resource")
	}
	k, ok := kindNamed(f.Kind)
	if !ok || specNode == nil {
		return nil, c.Diagnostics()
	}
	before := len(c.Diags)
	c.check(specNode, k.specType(), "spec")
	if len(c.Diags) > before {
		return nil, c.Diagnostics() // the spec's shape is wrong; decoding it would only repeat that
	}
	obj := k.newObj()
	if err := decodeStrict(specNode, k.spec(obj)); err != nil {
		c.errorf(specNode, "spec", "%v", err)
		return nil, c.Diagnostics()
	}
	f.Kind, f.Object, f.Action = k.name, obj, k.action(obj)
	c.semantics(k, f, specNode)
	if len(c.Diags.Errors()) > 0 {
		return nil, c.Diagnostics()
	}
	return f, c.Diagnostics()
}

// semantics checks what the shape cannot: supported action, selector and namespace,
// and Chaos Mesh's own admission-webhook validation (which a cluster may not run).
func (c *checker) semantics(k kind, f *Fault, spec *yaml.Node) {
	actionAt, actionPath := spec, "spec"
	if v := mapValue(spec, "action"); v != nil {
		actionAt, actionPath = v, "spec.action"
	}
	switch {
	case f.Action == "":
		c.errorf(actionAt, actionPath, "%s names no action; slokit supports %s", k.name, strings.Join(k.actions, ", "))
	case !slices.Contains(k.actions, f.Action):
		c.errorf(actionAt, actionPath, "%s action %q is not supported by slokit; use one of %s", k.name, f.Action, strings.Join(k.actions, ", "))
	}

	sel := podSelector(f.Object)
	selNode := mapValue(spec, "selector")
	if selNode == nil {
		c.missing(spec, "spec.selector", "a selector of the target pods (labelSelectors, expressionSelectors or pods)")
	} else {
		s := sel.Selector
		if len(s.LabelSelectors) == 0 && len(s.ExpressionSelectors) == 0 && len(s.Pods) == 0 &&
			len(s.FieldSelectors) == 0 && len(s.AnnotationSelectors) == 0 {
			c.errorf(selNode, "spec.selector", "selects every pod of the namespace; narrow it with labelSelectors, expressionSelectors or pods")
		}
		for i, ns := range s.Namespaces {
			if f.Namespace == "" || ns != f.Namespace {
				at := selNode
				if v := mapValue(selNode, "namespaces"); v != nil && i < len(v.Content) {
					at = v.Content[i]
				}
				c.errorf(at, fmt.Sprintf("spec.selector.namespaces[%d]", i),
					"%q: a game day selects pods only in the fault's namespace (set namespace: %s in the fault, and slokit's RBAC Role there)", ns, ns)
			}
		}
		for pns := range sel.Selector.Pods {
			if f.Namespace == "" || pns != f.Namespace {
				c.errorf(mapValue(selNode, "pods"), "spec.selector.pods", "namespace %q: a game day selects pods only in the fault's namespace", pns)
			}
		}
	}
	if mapValue(spec, "mode") == nil {
		c.missing(spec, "spec.mode", "one of one, all, fixed, fixed-percent, random-max-percent")
	}
	if v := mapValue(spec, "remoteCluster"); v != nil {
		c.errorf(v, "spec.remoteCluster", "remote clusters are not supported by slokit's chaosmesh backend")
	}
	if oneShot(f.Kind, f.Action) {
		if v := mapValue(spec, "duration"); v != nil {
			c.errorf(v, "spec.duration", "pod-kill happens once; a duration has no effect (remove it)")
		}
	}

	// Chaos Mesh's admission webhook checks (durations, percentages, modes, ports):
	// run them here so that a cluster without the webhook cannot accept a bad spec.
	// The webhook defaults before it validates, as the cluster's mutating webhook does.
	obj := f.Object.DeepCopyObject().(chaosObject)
	obj.SetNamespace(f.Namespace)
	genericwebhook.Default(obj)
	reported := map[string]bool{}
	for _, e := range genericwebhook.Validate(obj) {
		at, path := locate(spec, k.specType(), e.Field)
		// Validators promoted through embedded selectors can report the same problem twice.
		if key := fmt.Sprintf("%d:%d:%s", at.Line, at.Column, e.ErrorBody()); !reported[key] {
			reported[key] = true
			c.errorf(at, path, "%s", e.ErrorBody())
		}
	}
	if f.Kind == v1alpha1.KindPodChaos && f.Action == string(v1alpha1.PodFailureAction) {
		if v := mapValue(spec, "duration"); v == nil {
			c.missing(spec, "spec.duration", "Chaos Mesh requires a duration for pod-failure; make it longer than the game day's inject phase, slokit removes the fault earlier")
		}
	}
}

func (c *checker) str(n *yaml.Node, path string, dst *string) bool {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		c.errorf(n, path, "must be a string, got %s", strictyaml.KindName(n))
		return false
	}
	*dst = n.Value
	return true
}

func (c *checker) duration(n *yaml.Node, path string, dst *time.Duration) {
	var s string
	if !c.str(n, path, &s) {
		return
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		c.errorf(n, path, "must be a positive duration like 90s or 2m, got %q", s)
		return
	}
	*dst = d
}

// decodeStrict decodes n into dst as the apiserver would decode its JSON form.
func decodeStrict(n *yaml.Node, dst any) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}
