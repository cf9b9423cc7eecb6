package slo

import (
	"slices"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// Sloth import: prometheus/v1 files and the Kubernetes PrometheusServiceLevel custom
// resource (the same spec with camelCase keys), read unchanged with strict validation.
// Sloth's queries are full PromQL templated with {{.window}}; events become a raw error
// ratio "(error_query) / (total_query)", which is what Sloth itself records, unless both
// are sum(rate(selector[{{.window}}])). Sloth has no period field: its default, 30d,
// applies. SLO plugins that change nothing Sloth generates (debug, noop, validate) are
// ignored with a warning; every other plugin is refused with the way to inline it.

// slothKeys are the field names that differ between the two Sloth dialects.
type slothKeys struct {
	errorQuery, totalQuery, errorRatioQuery, pageAlert, ticketAlert, sloPlugins string
}

// other returns the keys of the other dialect.
func (k slothKeys) other() slothKeys {
	if k == slothPromKeys {
		return slothK8sKeys
	}
	return slothPromKeys
}

// slothFields is fields for a Sloth mapping: a key of the other dialect (pageAlert in a
// prometheus/v1 file, page_alert in the CRD) is ignored with a warning, as Sloth itself
// ignores it (it decodes JSON, which drops unknown keys), instead of failing the file.
func (w *walker) slothFields(n *yaml.Node, path string, keys slothKeys, known ...string) (map[string]*yaml.Node, bool) {
	other := keys.other()
	alias := map[string]string{other.errorQuery: keys.errorQuery, other.totalQuery: keys.totalQuery,
		other.errorRatioQuery: keys.errorRatioQuery, other.pageAlert: keys.pageAlert,
		other.ticketAlert: keys.ticketAlert, other.sloPlugins: keys.sloPlugins}
	m := w.Resolve(n)
	if m == nil || m.Kind != yaml.MappingNode {
		return w.Fields(n, path, known...)
	}
	kept := *m
	kept.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if ours, ok := alias[k.Value]; ok && slices.Contains(known, ours) {
			w.Warnf(k, strictyaml.Join(path, k.Value), "ignored, as Sloth ignores it: this file's dialect spells it %s; rename it for it to apply", ours)
			continue
		}
		kept.Content = append(kept.Content, k, m.Content[i+1])
	}
	return w.Fields(&kept, path, known...)
}

var (
	slothPromKeys = slothKeys{"error_query", "total_query", "error_ratio_query", "page_alert", "ticket_alert", "slo_plugins"}
	slothK8sKeys  = slothKeys{"errorQuery", "totalQuery", "errorRatioQuery", "pageAlert", "ticketAlert", "sloPlugins"}
)

type slothSpec struct {
	Node     *yaml.Node
	Path     string // "" for prometheus/v1, "spec" (or "items[i].spec") for the CRD
	Service  scalar
	Labels   stringMap
	SLOs     []slothSLO
	SLOsNode *yaml.Node
}

type slothSLO struct {
	Node        *yaml.Node
	Path        string
	Name        scalar
	Description scalar
	Objective   scalar
	Labels      stringMap
	SLINode     *yaml.Node
	// Exactly one of these should be set.
	ErrorQuery, TotalQuery scalar
	EventsNode             *yaml.Node
	ErrorRatioQuery        scalar
	RawNode                *yaml.Node
	PluginID               scalar
	PluginNode             *yaml.Node
	Alerting               slothAlerting
	keys                   slothKeys
}

type slothAlerting struct {
	Node                   *yaml.Node
	Name                   scalar
	Labels, Annotations    stringMap
	PageAlert, TicketAlert slothAlert
}

type slothAlert struct {
	Disable             bool
	Labels, Annotations stringMap
}

// slothK8s reads a PrometheusServiceLevel object: its metadata is Kubernetes' (not
// used), its spec a Sloth spec with camelCase keys.
func (w *walker) slothK8s(root *yaml.Node, path string) *Service {
	f, ok := w.Fields(root, path, "apiVersion", "kind", "metadata", "spec", "status")
	if !ok {
		return nil
	}
	w.k8sMetadata(f["metadata"], strictyaml.Join(path, "metadata"))
	sp := strictyaml.Join(path, "spec")
	if strictyaml.IsNull(f["spec"]) {
		w.Missing(root, sp, "required: the Sloth spec (service, slos)")
		return nil
	}
	return w.convertSloth(w.decodeSlothBody(f["spec"], sp, slothK8sKeys, "service", "labels", "sloPlugins", "slos"))
}

// k8sMetadata checks that metadata is a mapping with a name; its other fields belong to
// Kubernetes and are not read.
func (w *walker) k8sMetadata(n *yaml.Node, path string) (name scalar, namespace scalar, labels *yaml.Node) {
	n = w.Resolve(n)
	if strictyaml.IsNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		w.Errf(n, path, "must be a mapping, got %s", strictyaml.KindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "name":
			name = w.scalarAt(n.Content[i+1], strictyaml.Join(path, "name"))
		case "namespace":
			namespace = w.scalarAt(n.Content[i+1], strictyaml.Join(path, "namespace"))
		case "labels":
			labels = n.Content[i+1]
		}
	}
	return
}

func (w *walker) decodeSloth(root *yaml.Node, path string, keys slothKeys) slothSpec {
	return w.decodeSlothBody(root, path, keys, "version", "service", "labels", keys.sloPlugins, "slos")
}

func (w *walker) decodeSlothBody(root *yaml.Node, path string, keys slothKeys, known ...string) slothSpec {
	spec := slothSpec{Node: w.Resolve(root), Path: path}
	f, ok := w.slothFields(root, path, keys, known...)
	if !ok {
		return spec
	}
	spec.Service = w.scalarAt(f["service"], strictyaml.Join(path, "service"))
	spec.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	w.slothPlugins(f[keys.sloPlugins], strictyaml.Join(path, keys.sloPlugins))
	sp := strictyaml.Join(path, "slos")
	items, list := w.seqAt(f["slos"], sp)
	spec.SLOsNode = list
	for i, item := range items {
		spec.SLOs = append(spec.SLOs, w.decodeSlothSLO(item, strictyaml.Index(sp, i), keys))
	}
	return spec
}

// harmlessSlothPlugins change nothing in what Sloth generates: their meaning is exactly
// slokit's behaviour without them.
var harmlessSlothPlugins = map[string]string{
	"sloth.dev/core/debug/v1":    "it only logs",
	"sloth.dev/core/noop/v1":     "it does nothing",
	"sloth.dev/core/validate/v1": "it validates the SLO, which slokit always does",
}

// slothPlugins reads an SLO plugin chain ({overridePrevious, chain: [{id, config,
// priority}]}): harmless plugins are ignored with a warning, the others refused.
func (w *walker) slothPlugins(n *yaml.Node, path string) {
	if strictyaml.IsNull(w.Resolve(n)) {
		return
	}
	f, ok := w.Fields(n, path, "overridePrevious", "chain")
	if !ok {
		return
	}
	if override, on := w.boolAt(f["overridePrevious"], strictyaml.Join(path, "overridePrevious")); override {
		w.Errf(on, strictyaml.Join(path, "overridePrevious"), "replacing Sloth's default plugin chain is not supported: slokit generates its own rules; remove overridePrevious")
	}
	cp := strictyaml.Join(path, "chain")
	items, _ := w.seqAt(f["chain"], cp)
	for i, item := range items {
		ip := strictyaml.Index(cp, i)
		g, ok := w.Fields(item, ip, "id", "config", "priority")
		if !ok {
			continue
		}
		id := w.scalarAt(g["id"], strictyaml.Join(ip, "id"))
		switch why, harmless := harmlessSlothPlugins[id.Value]; {
		case !id.set():
			w.Missing(w.Resolve(item), strictyaml.Join(ip, "id"), "required: the plugin id")
		case harmless:
			w.Warnf(id.Node, strictyaml.Join(ip, "id"), "plugin %s ignored: %s", id.Value, why)
		default:
			w.Errf(id.Node, strictyaml.Join(ip, "id"), "plugin %s is not supported: slokit runs no plugins; remove it and write what it adds in the spec itself (labels, alerting.windows, or the SLI as sli.events or sli.raw)", id.Value)
		}
	}
}

func (w *walker) decodeSlothSLO(n *yaml.Node, path string, keys slothKeys) slothSLO {
	s := slothSLO{Node: w.Resolve(n), Path: path, keys: keys}
	f, ok := w.Fields(n, path, "name", "description", "objective", "plugins", "labels", "sli", "alerting")
	if !ok {
		return s
	}
	s.Name = w.scalarAt(f["name"], strictyaml.Join(path, "name"))
	s.Description = w.scalarAt(f["description"], strictyaml.Join(path, "description"))
	s.Objective = w.scalarAt(f["objective"], strictyaml.Join(path, "objective"))
	s.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	w.slothPlugins(f["plugins"], strictyaml.Join(path, "plugins"))
	w.decodeSlothSLI(&s, f["sli"], strictyaml.Join(path, "sli"))
	ap := strictyaml.Join(path, "alerting")
	s.Alerting.Node = w.Resolve(f["alerting"])
	if g, ok := w.slothFields(f["alerting"], ap, keys, "name", "labels", "annotations", keys.pageAlert, keys.ticketAlert); ok {
		s.Alerting.Name = w.scalarAt(g["name"], strictyaml.Join(ap, "name"))
		s.Alerting.Labels = w.stringMapAt(g["labels"], strictyaml.Join(ap, "labels"))
		s.Alerting.Annotations = w.stringMapAt(g["annotations"], strictyaml.Join(ap, "annotations"))
		s.Alerting.PageAlert = w.decodeSlothAlert(g[keys.pageAlert], strictyaml.Join(ap, keys.pageAlert))
		s.Alerting.TicketAlert = w.decodeSlothAlert(g[keys.ticketAlert], strictyaml.Join(ap, keys.ticketAlert))
	}
	return s
}

func (w *walker) decodeSlothSLI(s *slothSLO, n *yaml.Node, sp string) {
	s.SLINode = w.Resolve(n)
	g, ok := w.Fields(n, sp, "events", "raw", "plugin")
	if !ok {
		return
	}
	if n, present := g["events"]; present {
		p := strictyaml.Join(sp, "events")
		s.EventsNode = w.Resolve(n)
		if h, ok := w.slothFields(n, p, s.keys, s.keys.errorQuery, s.keys.totalQuery); ok {
			s.ErrorQuery = w.scalarAt(h[s.keys.errorQuery], strictyaml.Join(p, s.keys.errorQuery))
			s.TotalQuery = w.scalarAt(h[s.keys.totalQuery], strictyaml.Join(p, s.keys.totalQuery))
		}
	}
	if n, present := g["raw"]; present {
		p := strictyaml.Join(sp, "raw")
		s.RawNode = w.Resolve(n)
		if h, ok := w.slothFields(n, p, s.keys, s.keys.errorRatioQuery); ok {
			s.ErrorRatioQuery = w.scalarAt(h[s.keys.errorRatioQuery], strictyaml.Join(p, s.keys.errorRatioQuery))
		}
	}
	if n, present := g["plugin"]; present {
		p := strictyaml.Join(sp, "plugin")
		s.PluginNode = w.Resolve(n)
		if h, ok := w.Fields(n, p, "id", "options"); ok {
			s.PluginID = w.scalarAt(h["id"], strictyaml.Join(p, "id"))
		}
	}
}

func (w *walker) decodeSlothAlert(n *yaml.Node, path string) slothAlert {
	var a slothAlert
	f, ok := w.Fields(n, path, "disable", "labels", "annotations")
	if !ok {
		return a
	}
	a.Disable, _ = w.boolAt(f["disable"], strictyaml.Join(path, "disable"))
	a.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	a.Annotations = w.stringMapAt(f["annotations"], strictyaml.Join(path, "annotations"))
	return a
}

func (w *walker) convertSloth(spec slothSpec) *Service {
	svc := &Service{
		Name:   w.looseNameAt(spec.Service, spec.Node, strictyaml.Join(spec.Path, "service"), "service"),
		Labels: w.labelsAt(spec.Labels, strictyaml.Join(spec.Path, "labels")),
	}
	w.convertSLOs(svc, spec.Node, spec.SLOsNode, strictyaml.Join(spec.Path, "slos"), len(spec.SLOs), func(i int) (Objective, bool, scalar, string) {
		s := spec.SLOs[i]
		o, ok := w.convertSlothSLO(svc, s)
		w.origin("name", s.Name.Node, strictyaml.Join(s.Path, "name"), "")
		w.origin("objective", s.Objective.Node, strictyaml.Join(s.Path, "objective"), "")
		w.origin("period", nil, "", "Sloth's default period")
		w.origin("sli", s.SLINode, strictyaml.Join(s.Path, "sli"), "")
		w.origin("labels", firstNode(s.Labels.Node, spec.Labels.Node), strictyaml.Join(s.Path, "labels"), "service labels merged with the SLO's")
		w.origin("alerting", s.Alerting.Node, strictyaml.Join(s.Path, "alerting"), "")
		withOrigins(svc, o.Name, w.takeOrigins())
		return o, ok, s.Name, s.Path
	})
	return svc
}

func (w *walker) convertSlothSLO(svc *Service, s slothSLO) (Objective, bool) {
	before := w.Errs
	p := s.Path
	o := Objective{
		Service:     svc.Name,
		Name:        w.looseNameAt(s.Name, s.Node, strictyaml.Join(p, "name"), "SLO"),
		Description: s.Description.Value,
		Labels:      mergeLabels(svc.Labels, w.labelsAt(s.Labels, strictyaml.Join(p, "labels"))),
		Period:      DefaultPeriod,
	}
	o.Target, _ = w.objectiveAt(s.Objective, s.Node, strictyaml.Join(p, "objective"))
	o.SLI = w.convertSlothSLI(s, strictyaml.Join(p, "sli"))

	a, ap := s.Alerting, strictyaml.Join(p, "alerting")
	if !a.Name.set() || a.Name.Value == "" {
		if !a.PageAlert.Disable || !a.TicketAlert.Disable {
			w.Warnf(firstNode(a.Name.Node, a.Node, s.Node), strictyaml.Join(ap, "name"), "no alert name: Sloth refuses this SLO; slokit names its alerts %s", DefaultAlertName(svc.Name, o.Name))
		}
	}
	o.Alerting = Alerting{
		Name:        w.alertNameAt(a.Name, strictyaml.Join(ap, "name"), svc.Name, o.Name),
		Labels:      w.labelsAt(a.Labels, strictyaml.Join(ap, "labels")),
		Annotations: w.annotationsAt(a.Annotations, strictyaml.Join(ap, "annotations")),
		Page:        w.convertSlothAlert(a.PageAlert, strictyaml.Join(ap, s.keys.pageAlert), Page),
		Ticket:      w.convertSlothAlert(a.TicketAlert, strictyaml.Join(ap, s.keys.ticketAlert), Ticket),
	}
	if w.Errs > before {
		return o, false
	}
	w.checkObjective(o, objNodes{
		slo: s.Node, objective: s.Objective.Node, alerting: a.Node,
		objectivePath: strictyaml.Join(p, "objective"), periodPath: p, alertingPath: ap,
	})
	return o, true
}

func (w *walker) convertSlothAlert(a slothAlert, path string, name SeverityName) Severity {
	return w.severityAt(name, a.Disable, a.Labels, a.Annotations, path)
}

func (w *walker) convertSlothSLI(s slothSLO, path string) SLI {
	n := 0
	for _, set := range []bool{s.EventsNode != nil, s.RawNode != nil, s.PluginNode != nil} {
		if set {
			n++
		}
	}
	at := s.SLINode
	if at == nil {
		at = s.Node
	}
	switch {
	case n == 0:
		w.Missing(at, path, "required: one of events or raw")
		return SLI{}
	case n > 1:
		w.Errf(at, path, "sets more than one of events, raw and plugin: an SLO has exactly one SLI kind")
		return SLI{}
	case s.PluginNode != nil:
		w.Errf(s.PluginNode, strictyaml.Join(path, "plugin"), "plugin %s is not supported: slokit runs no plugins; write the queries it generates as sli.events or sli.raw", s.PluginID.Value)
		return SLI{}
	case s.RawNode != nil:
		q := w.templateAt(s.ErrorRatioQuery, s.RawNode, strictyaml.Join(path, "raw."+s.keys.errorRatioQuery), "the error ratio query")
		return SLI{Raw: &RawSLI{ErrorRatio: q}}
	}
	ep := strictyaml.Join(path, "events")
	bad, badExpr := w.templateExprAt(s.ErrorQuery, s.EventsNode, strictyaml.Join(ep, s.keys.errorQuery), "the bad events query")
	total, totalExpr := w.templateExprAt(s.TotalQuery, s.EventsNode, strictyaml.Join(ep, s.keys.totalQuery), "the total events query")
	if bad == "" || total == "" {
		return SLI{}
	}
	// sum(rate(S[{{.window}}])) over both counters is exactly an events SLI: the same
	// ratio, and slokit can then derive long windows from short recorded rates.
	if b, ok := sumRateSelector(badExpr); ok {
		if t, ok := sumRateSelector(totalExpr); ok {
			return SLI{Events: &EventsSLI{Bad: b, Total: t}}
		}
	}
	// (error_query) / (total_query), built on the PromQL AST and printed canonically.
	// Sloth accepts two queries grouped differently (their ratio is empty): warn.
	if msg := groupMismatch(badExpr, totalExpr); msg != "" {
		w.Warnf(s.EventsNode, ep, "the error query: %s", msg)
	}
	t, err := w.ratioTemplateCheck(bad, total, false, false)
	if err != nil {
		w.Errf(s.EventsNode, ep, "cannot build the error ratio: %v", err)
		return SLI{}
	}
	return SLI{Raw: &RawSLI{ErrorRatio: t}}
}

// sumRateSelector returns S when e (a template parsed with windowSentinel as its window)
// is sum(rate(S[{{.window}}])) or sum(increase(…)), optionally in parentheses, with S a
// plain series selector (increase instead of rate gives the same ratio).
func sumRateSelector(e parser.Expr) (string, bool) {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	agg, ok := e.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.SUM || agg.Without || len(agg.Grouping) > 0 || agg.Param != nil {
		return "", false
	}
	inner := agg.Expr
	for {
		p, ok := inner.(*parser.ParenExpr)
		if !ok {
			break
		}
		inner = p.Expr
	}
	call, ok := inner.(*parser.Call)
	if !ok || (call.Func.Name != "rate" && call.Func.Name != "increase") || len(call.Args) != 1 {
		return "", false
	}
	ms, ok := call.Args[0].(*parser.MatrixSelector)
	if !ok || ms.Range != sentinelRange {
		return "", false
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.OriginalOffsetExpr != nil || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return "", false
	}
	return vs.String(), true
}
