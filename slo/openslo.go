package slo

import (
	"slices"
	"strconv"
	"strings"

	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// OpenSLO import, v1 and v1alpha. The objects of every file given are read first; then
// every kind SLO is converted, resolving its references (indicatorRef to an SLI,
// metricSourceRef to a DataSource, alertPolicies to AlertPolicy and AlertCondition
// objects) across all the files. Each objective of an SLO becomes one slokit SLO. Queries
// that are PromQL expressions over counters are rewritten on the PromQL AST (see
// rewrite.go); everything slokit cannot honour exactly is refused with the reason.

// openSLOObject is one OpenSLO object with its location.
type openSLOObject struct {
	Node       *yaml.Node
	Path       string
	Kind       scalar
	Name       scalar
	Display    scalar
	Labels     *yaml.Node
	Spec       *yaml.Node
	MetaNode   *yaml.Node
	APIVersion scalar
	// lf is the file the object was read from.
	lf *loadedFile
}

func (o openSLOObject) alpha() bool { return o.APIVersion.Value == APIVersionOpenSLOAlpha }

// openSLORefs indexes the referenceable objects of every file by kind and name.
type openSLORefs struct {
	byKind map[string]map[string]openSLOObject
}

func (r *openSLORefs) get(kind, name string) (openSLOObject, bool) {
	o, ok := r.byKind[kind][name]
	return o, ok
}

// referenceable are the kinds an SLO can name; other kinds but SLO and Service are
// skipped with a warning.
var referenceable = []string{"SLI", "DataSource", "AlertPolicy", "AlertCondition"}

// resolveOpenSLO converts every OpenSLO SLO object of every file into Services of the
// SLO's file, one SLO per objective.
func (l *loader) resolveOpenSLO() {
	if len(l.openslo) == 0 {
		return
	}
	refs := &openSLORefs{byKind: map[string]map[string]openSLOObject{}}
	var slos []openSLOObject
	for _, o := range l.openslo {
		w := o.lf.w
		switch k := o.Kind.Value; {
		case k == "SLO":
			slos = append(slos, o)
		case slices.Contains(referenceable, k):
			m := refs.byKind[k]
			if m == nil {
				m = map[string]openSLOObject{}
				refs.byKind[k] = m
			}
			if first, dup := m[o.Name.Value]; dup && o.Name.Value != "" {
				w.Errf(o.Name.Node, strictyaml.Join(o.Path, "metadata.name"), "duplicate %s name %q (first defined at %s:%d): references to it would be ambiguous", k, o.Name.Value, first.lf.w.File, first.Name.Node.Line)
			} else if o.Name.Value != "" {
				m[o.Name.Value] = o
			}
		case k == "Service", k == "":
			// A Service describes the service; slokit takes the name from spec.service.
		case k == "AlertNotificationTarget":
			w.Warnf(o.Kind.Node, strictyaml.Join(o.Path, "kind"), "ignored: slokit routes alerts with Alertmanager (slokit generate -o alertmanager)")
		default:
			w.Warnf(o.Kind.Node, strictyaml.Join(o.Path, "kind"), "kind %s is ignored: slokit reads SLO objects and the SLI, DataSource, AlertPolicy and AlertCondition objects they reference", k)
		}
	}
	if len(slos) == 0 {
		first := l.openslo[0]
		if !first.lf.w.Failed() {
			first.lf.w.Errf(first.Node, strictyaml.Join(first.Path, "kind"), "no kind: SLO object in the files given: slokit reads OpenSLO SLO objects")
		}
		return
	}
	for _, o := range slos {
		w := o.lf.w
		w.Scope = objectScope(o.Node)
		objs, origins, service := w.openSLOSLO(o, refs)
		w.Scope = ""
		for i, obj := range objs {
			obj.Service = service
			s := &Service{Name: service, Labels: map[string]string{}, Objectives: []Objective{obj}}
			withOrigins(s, obj.Name, origins[i])
			o.lf.add(s)
		}
	}
}

// objectScope names an OpenSLO object for walker.scope: documents repeat field paths.
func objectScope(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(n.Line) + ":" + strconv.Itoa(n.Column) + "/"
}

func (w *walker) decodeOpenSLOObject(n *yaml.Node, path string) openSLOObject {
	o := openSLOObject{Node: w.Resolve(n), Path: path, lf: w.lf}
	w.Scope = objectScope(o.Node)
	defer func() { w.Scope = "" }()
	f, ok := w.Fields(n, path, "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return o
	}
	o.APIVersion = w.scalarAt(f["apiVersion"], strictyaml.Join(path, "apiVersion"))
	switch v := o.APIVersion.Value; {
	case !o.APIVersion.set():
		w.Missing(o.Node, strictyaml.Join(path, "apiVersion"), "required: %s", APIVersionOpenSLO)
	case v != APIVersionOpenSLO && v != APIVersionOpenSLOAlpha:
		w.Errf(o.APIVersion.Node, strictyaml.Join(path, "apiVersion"), "unsupported OpenSLO version %q: slokit reads apiVersion: %s and %s", v, APIVersionOpenSLO, APIVersionOpenSLOAlpha)
	}
	o.Kind = w.scalarAt(f["kind"], strictyaml.Join(path, "kind"))
	if !o.Kind.set() {
		w.Missing(o.Node, strictyaml.Join(path, "kind"), "required: the OpenSLO kind, like SLO")
	}
	mp := strictyaml.Join(path, "metadata")
	o.MetaNode = w.Resolve(f["metadata"])
	if m, ok := w.Fields(f["metadata"], mp, "name", "displayName", "labels", "annotations", "namespace"); ok {
		o.Name = w.scalarAt(m["name"], strictyaml.Join(mp, "name"))
		o.Display = w.scalarAt(m["displayName"], strictyaml.Join(mp, "displayName"))
		o.Labels = m["labels"]
		_ = w.stringMapAt(m["annotations"], strictyaml.Join(mp, "annotations"))
	}
	if o.Kind.Value != "SLO" && o.Kind.Value != "" && !o.Name.set() {
		w.Missing(firstNode(o.MetaNode, o.Node), strictyaml.Join(mp, "name"), "required: the object's name")
	}
	o.Spec = f["spec"]
	return o
}

// openSLOLabels converts OpenSLO metadata.labels to Prometheus labels. A list value
// becomes its elements joined by ","; a name Prometheus cannot carry has every other
// character replaced by '_', with a warning.
func (w *walker) openSLOLabels(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	n = w.Resolve(n)
	if strictyaml.IsNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		w.Errf(n, path, "must be a mapping of names to values, got %s", strictyaml.KindName(n))
		return out
	}
	var entries []stringEntry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := w.Resolve(n.Content[i]), w.Resolve(n.Content[i+1])
		if k == nil || v == nil {
			break
		}
		kp := strictyaml.Join(path, k.Value)
		value, ok := w.labelValue(v, kp)
		if !ok {
			continue
		}
		name := k.Value
		if !isLabelName(name) {
			name = labelNameFrom(name)
			w.Warnf(k, kp, "label %q is written %q: Prometheus label names use letters, digits and '_' only", k.Value, name)
		}
		entries = append(entries, stringEntry{Key: scalar{Value: name, Node: k}, Value: scalar{Value: value, Node: v}})
	}
	for lk, lv := range w.labelsAt(stringMap{Node: n, Entries: entries}, path) {
		out[lk] = lv
	}
	return out
}

// labelValue reads a label value: a string, or a list of strings joined by ",".
func (w *walker) labelValue(v *yaml.Node, path string) (string, bool) {
	if v.Kind == yaml.ScalarNode && !strictyaml.IsNull(v) {
		return v.Value, true
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		w.Errf(v, path, "must be a string or a list of strings, got %s", strictyaml.KindName(v))
		return "", false
	}
	parts := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		item = w.Resolve(item)
		if item == nil || item.Kind != yaml.ScalarNode || strictyaml.IsNull(item) {
			w.Errf(firstNode(item, v), strictyaml.Index(path, i), "must be a string")
			return "", false
		}
		parts = append(parts, item.Value)
	}
	return strings.Join(parts, ","), true
}

// labelNameFrom turns s into a Prometheus label name ("app.kubernetes.io/name" →
// "app_kubernetes_io_name").
func labelNameFrom(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0)) {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// inObject runs f with the walker of obj's file, scoped to obj. When obj is in another
// file and f reported errors there, ref gets an error pointing at them.
func (w *walker) inObject(obj openSLOObject, ref *yaml.Node, path, what string, f func(ow *walker)) {
	ow := obj.lf.w
	saved := ow.Scope
	ow.Scope = objectScope(obj.Node)
	before := ow.Errs
	f(ow)
	ow.Scope = saved
	if ow != w && ow.Errs > before {
		w.Errf(ref, path, "%s %q (%s:%d) has errors, reported there", what, obj.Name.Value, ow.File, obj.Node.Line)
	}
}

func firstNode(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}
