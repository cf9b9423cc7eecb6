package slo

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
)

// globalV1 is a `global:` block: the file's defaults for its global SLOs, or one SLO's
// own settings, which override the file's field by field.
type globalV1 struct {
	Node           *yaml.Node
	Path           string
	ClusterLabel   scalar
	ReplicaLabels  *yaml.Node
	PerClusterBurn *yaml.Node
	Delay          scalar
}

func (w *walker) decodeGlobalV1(n *yaml.Node, path string) *globalV1 {
	if strictyaml.IsNull(n) {
		return nil
	}
	g := &globalV1{Node: w.Resolve(n), Path: path}
	f, ok := w.Fields(n, path, "clusterLabel", "replicaLabels", "perClusterBurn", "delay")
	if !ok {
		return g
	}
	g.ClusterLabel = w.scalarAt(f["clusterLabel"], strictyaml.Join(path, "clusterLabel"))
	g.ReplicaLabels = f["replicaLabels"]
	g.PerClusterBurn = f["perClusterBurn"]
	g.Delay = w.scalarAt(f["delay"], strictyaml.Join(path, "delay"))
	return g
}

// globalSettings are the settings of one global block, validated: each field with
// whether the block sets it.
type globalSettings struct {
	cluster, replicas, perCluster, delay bool
	scope                                Scope
	// replicaNodes and replicaPath locate replicaLabels' items for later checks.
	replicaNodes []*yaml.Node
	replicaPath  string
}

// globalSettingsAt validates a global block (nil: nothing set).
func (w *walker) globalSettingsAt(g *globalV1) globalSettings {
	var out globalSettings
	if g == nil {
		return out
	}
	if out.cluster = g.ClusterLabel.set(); out.cluster {
		out.scope.ClusterLabel = w.scopeLabelAt(g.ClusterLabel, strictyaml.Join(g.Path, "clusterLabel"))
	}
	if out.replicas = !strictyaml.IsNull(g.ReplicaLabels); out.replicas {
		out.replicaPath = strictyaml.Join(g.Path, "replicaLabels")
		out.scope.ReplicaLabels, out.replicaNodes = w.replicaLabelsAt(g.ReplicaLabels, out.replicaPath)
	}
	if out.perCluster = !strictyaml.IsNull(g.PerClusterBurn); out.perCluster {
		out.scope.PerClusterBurn, _ = w.boolAt(g.PerClusterBurn, strictyaml.Join(g.Path, "perClusterBurn"))
	}
	if out.delay = g.Delay.set(); out.delay {
		out.scope.Delay, _ = w.durationAt(g.Delay, g.Node, strictyaml.Join(g.Path, "delay"), "1m", 0)
	}
	return out
}

// merge lays own's fields over file's, field by field.
func (file globalSettings) merge(own globalSettings) globalSettings {
	out := file
	if own.cluster {
		out.cluster, out.scope.ClusterLabel = true, own.scope.ClusterLabel
	}
	if own.replicas {
		out.replicas, out.scope.ReplicaLabels = true, own.scope.ReplicaLabels
		out.replicaNodes, out.replicaPath = own.replicaNodes, own.replicaPath
	}
	if own.perCluster {
		out.perCluster, out.scope.PerClusterBurn = true, own.scope.PerClusterBurn
	}
	if own.delay {
		out.delay, out.scope.Delay = true, own.scope.Delay
	}
	return out
}

// scopeAt reads an SLO's scope and, for a global SLO, its global settings (its own over
// file's, the file's global block validated once), and checks that o can be evaluated
// over every cluster.
func (w *walker) scopeAt(s sloV1, spec specV1, file globalSettings, o Objective) Scope {
	var sc Scope
	switch v := s.Scope; {
	case !v.set() || v.Value == "cluster":
	case v.Value == "global":
		sc.Global = true
	default:
		w.Errf(v.Node, strictyaml.Join(s.Path, "scope"), "must be cluster or global, got %q: cluster (the default) evaluates the SLO in each cluster's Prometheus, global once over every cluster in Thanos Ruler", v.Value)
		return sc
	}
	if !sc.Global {
		if s.Global != nil {
			w.Errf(s.Global.Node, strictyaml.Join(s.Path, "global"), "global settings on a per-cluster SLO: add scope: global, or remove global")
		}
		return sc
	}
	set := file.merge(w.globalSettingsAt(s.Global))
	sc = set.scope
	sc.Global = true
	o.Scope = sc
	for i, r := range sc.ReplicaLabels {
		if r == o.ClusterLabel() && i < len(set.replicaNodes) {
			w.Errf(set.replicaNodes[i], strictyaml.Index(set.replicaPath, i), "%s is the cluster label of SLO %s: replicas of one cluster differ by a replica label, clusters by the cluster label; they must be different labels", r, o.Name)
		}
	}
	w.checkGlobalSLI(s)
	w.checkGlobalLabels(s, spec, o)
	return sc
}

// scopeLabelAt validates a cluster or replica label name.
func (w *walker) scopeLabelAt(v scalar, path string) string {
	switch name := strings.TrimSpace(v.Value); {
	case !isLabelName(name):
		w.Errf(v.Node, path, "%q is not a valid label name: use letters, digits and '_', not starting with a digit", v.Value)
	case strings.HasPrefix(name, "__"), strings.HasPrefix(name, "slokit_"), name == "le":
		w.Errf(v.Node, path, "%s is reserved (by Prometheus or slokit): name the external label your Prometheus servers set", name)
	default:
		return name
	}
	return ""
}

// replicaLabelsAt reads replicaLabels: a list of distinct label names, with the node of
// each. An empty list is kept (non-nil): no defensive deduplication.
func (w *walker) replicaLabelsAt(n *yaml.Node, path string) ([]string, []*yaml.Node) {
	items, _ := w.seqAt(n, path)
	out, nodes := []string{}, []*yaml.Node{}
	seen := map[string]bool{}
	for i, item := range items {
		p := strictyaml.Index(path, i)
		v := w.scalarAt(item, p)
		if !v.set() {
			w.Errf(w.Resolve(item), p, "empty: give a label name like prometheus_replica")
			continue
		}
		name := w.scopeLabelAt(v, p)
		switch {
		case name == "":
		case seen[name]:
			w.Errf(v.Node, p, "%s is listed twice: keep one", name)
		default:
			seen[name] = true
			out = append(out, name)
			nodes = append(nodes, v.Node)
		}
	}
	return out, nodes
}

// checkGlobalSLI refuses SLI kinds whose counters slokit cannot aggregate across
// clusters itself.
func (w *walker) checkGlobalSLI(s sloV1) {
	if s.SLI == nil {
		return
	}
	p := strictyaml.Join(s.Path, "sli")
	switch {
	case s.SLI.Raw != nil:
		w.Errf(s.SLI.Raw.Node, strictyaml.Join(p, "raw"), "scope: global needs an events or latency SLI: slokit sums every cluster's counters itself, collapsing HA replicas, which it cannot do inside a raw errorRatio template; write the SLI as events, or keep the SLO per cluster")
	case s.SLI.Latency != nil && s.SLI.Latency.Native:
		w.Errf(s.SLI.Latency.Node, strictyaml.Join(strictyaml.Join(p, "latency"), "native"), "scope: global does not support native histograms yet: HA replicas are collapsed with max, which PromQL does not apply to native histograms; use the classic histogram, or keep the SLO per cluster")
	}
}

// checkGlobalLabels refuses SLO labels named like the cluster or a replica label: they
// would end up on the global series and alerts, which belong to no cluster.
func (w *walker) checkGlobalLabels(s sloV1, spec specV1, o Objective) {
	reserved := map[string]string{o.ClusterLabel(): "the cluster label"}
	for _, r := range o.ReplicaLabels() {
		reserved[r] = "a replica label"
	}
	for _, src := range []struct {
		m    stringMap
		path string
	}{{s.Labels, strictyaml.Join(s.Path, "labels")}, {spec.Labels, "labels"}} {
		for _, e := range src.m.Entries {
			if what, ok := reserved[e.Key.Value]; ok {
				w.Errf(e.Key.Node, strictyaml.Join(src.path, e.Key.Value), "%s is %s of global SLO %s: its rules and alerts cover every cluster and carry no such label; rename the label, or set global.clusterLabel/replicaLabels to the labels your Prometheus servers use", e.Key.Value, what, o.Name)
			}
		}
	}
}
