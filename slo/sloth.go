package slo

import (
	"regexp"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Sloth prometheus/v1 import. The file is read unchanged, with Sloth's field names
// (error_query, page_alert, disable, …) and strict validation. Sloth's queries are full
// PromQL templated with {{.window}}; events become a raw error ratio
// "(error_query) / (total_query)", which is what Sloth itself records. Sloth has no
// period field: its default, 30d, applies.

type slothSpec struct {
	Node     *yaml.Node
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

func (w *walker) decodeSloth(root *yaml.Node) slothSpec {
	spec := slothSpec{Node: root}
	f, ok := w.fields(root, "", "version", "service", "labels", "slos")
	if !ok {
		return spec
	}
	spec.Service = w.scalarAt(f["service"], "service")
	spec.Labels = w.stringMapAt(f["labels"], "labels")
	items, list := w.seqAt(f["slos"], "slos")
	spec.SLOsNode = list
	for i, item := range items {
		spec.SLOs = append(spec.SLOs, w.decodeSlothSLO(item, indexPath("slos", i)))
	}
	return spec
}

func (w *walker) decodeSlothSLO(n *yaml.Node, path string) slothSLO {
	s := slothSLO{Node: w.resolve(n), Path: path}
	f, ok := w.fields(n, path, "name", "description", "objective", "labels", "sli", "alerting")
	if !ok {
		return s
	}
	s.Name = w.scalarAt(f["name"], joinPath(path, "name"))
	s.Description = w.scalarAt(f["description"], joinPath(path, "description"))
	s.Objective = w.scalarAt(f["objective"], joinPath(path, "objective"))
	s.Labels = w.stringMapAt(f["labels"], joinPath(path, "labels"))
	sp := joinPath(path, "sli")
	s.SLINode = w.resolve(f["sli"])
	if g, ok := w.fields(f["sli"], sp, "events", "raw", "plugin"); ok {
		if n, present := g["events"]; present {
			p := joinPath(sp, "events")
			s.EventsNode = w.resolve(n)
			if h, ok := w.fields(n, p, "error_query", "total_query"); ok {
				s.ErrorQuery = w.scalarAt(h["error_query"], joinPath(p, "error_query"))
				s.TotalQuery = w.scalarAt(h["total_query"], joinPath(p, "total_query"))
			}
		}
		if n, present := g["raw"]; present {
			p := joinPath(sp, "raw")
			s.RawNode = w.resolve(n)
			if h, ok := w.fields(n, p, "error_ratio_query"); ok {
				s.ErrorRatioQuery = w.scalarAt(h["error_ratio_query"], joinPath(p, "error_ratio_query"))
			}
		}
		if n, present := g["plugin"]; present {
			p := joinPath(sp, "plugin")
			s.PluginNode = w.resolve(n)
			if h, ok := w.fields(n, p, "id", "options"); ok {
				s.PluginID = w.scalarAt(h["id"], joinPath(p, "id"))
			}
		}
	}
	ap := joinPath(path, "alerting")
	s.Alerting.Node = w.resolve(f["alerting"])
	if g, ok := w.fields(f["alerting"], ap, "name", "labels", "annotations", "page_alert", "ticket_alert"); ok {
		s.Alerting.Name = w.scalarAt(g["name"], joinPath(ap, "name"))
		s.Alerting.Labels = w.stringMapAt(g["labels"], joinPath(ap, "labels"))
		s.Alerting.Annotations = w.stringMapAt(g["annotations"], joinPath(ap, "annotations"))
		s.Alerting.PageAlert = w.decodeSlothAlert(g["page_alert"], joinPath(ap, "page_alert"))
		s.Alerting.TicketAlert = w.decodeSlothAlert(g["ticket_alert"], joinPath(ap, "ticket_alert"))
	}
	return s
}

func (w *walker) decodeSlothAlert(n *yaml.Node, path string) slothAlert {
	var a slothAlert
	f, ok := w.fields(n, path, "disable", "labels", "annotations")
	if !ok {
		return a
	}
	a.Disable, _ = w.boolAt(f["disable"], joinPath(path, "disable"))
	a.Labels = w.stringMapAt(f["labels"], joinPath(path, "labels"))
	a.Annotations = w.stringMapAt(f["annotations"], joinPath(path, "annotations"))
	return a
}

func (w *walker) convertSloth(spec slothSpec) *Service {
	svc := &Service{
		Name:   w.looseNameAt(spec.Service, spec.Node, "service", "service"),
		Labels: w.labelsAt(spec.Labels, "labels"),
	}
	w.convertSLOs(svc, spec.Node, spec.SLOsNode, len(spec.SLOs), func(i int) (Objective, bool, scalar, string) {
		s := spec.SLOs[i]
		o, ok := w.convertSlothSLO(svc, s)
		return o, ok, s.Name, s.Path
	})
	return svc
}

func (w *walker) convertSlothSLO(svc *Service, s slothSLO) (Objective, bool) {
	before := w.nerr
	p := s.Path
	o := Objective{
		Service:     svc.Name,
		Name:        w.looseNameAt(s.Name, s.Node, joinPath(p, "name"), "SLO"),
		Description: s.Description.Value,
		Labels:      mergeLabels(svc.Labels, w.labelsAt(s.Labels, joinPath(p, "labels"))),
		Period:      DefaultPeriod,
	}
	o.Target, _ = w.objectiveAt(s.Objective, s.Node, joinPath(p, "objective"))
	o.SLI = w.convertSlothSLI(s, joinPath(p, "sli"))

	a, ap := s.Alerting, joinPath(p, "alerting")
	o.Alerting = Alerting{
		Name:        w.alertNameAt(a.Name, joinPath(ap, "name"), svc.Name, o.Name),
		Labels:      w.labelsAt(a.Labels, joinPath(ap, "labels")),
		Annotations: w.annotationsAt(a.Annotations, joinPath(ap, "annotations")),
		Page:        w.convertSlothAlert(a.PageAlert, joinPath(ap, "page_alert"), Page),
		Ticket:      w.convertSlothAlert(a.TicketAlert, joinPath(ap, "ticket_alert"), Ticket),
	}
	if w.nerr > before {
		return o, false
	}
	w.checkObjective(o, objNodes{
		slo: s.Node, objective: s.Objective.Node, alerting: a.Node,
		objectivePath: joinPath(p, "objective"), periodPath: p, alertingPath: ap,
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
		w.missing(at, path, "required: one of events or raw")
		return SLI{}
	case n > 1:
		w.errf(at, path, "sets more than one of events, raw and plugin: an SLO has exactly one SLI kind")
		return SLI{}
	case s.PluginNode != nil:
		w.errf(s.PluginNode, joinPath(path, "plugin"), "Sloth SLI plugins (id %q) are not supported: write the plugin's queries as sli.events or sli.raw", s.PluginID.Value)
		return SLI{}
	case s.RawNode != nil:
		q := w.templateAt(s.ErrorRatioQuery, s.RawNode, joinPath(path, "raw.error_ratio_query"), "the error ratio query")
		return SLI{Raw: &RawSLI{ErrorRatio: q}}
	}
	ep := joinPath(path, "events")
	bad := w.templateAt(s.ErrorQuery, s.EventsNode, joinPath(ep, "error_query"), "the bad events query")
	total := w.templateAt(s.TotalQuery, s.EventsNode, joinPath(ep, "total_query"), "the total events query")
	if bad == "" || total == "" {
		return SLI{}
	}
	// sum(rate(S[{{.window}}])) over both counters is exactly an events SLI: the same
	// ratio, and slokit can then derive long windows from short recorded rates.
	if b, ok := w.sumRateSelector(bad); ok {
		if t, ok := w.sumRateSelector(total); ok {
			return SLI{Events: &EventsSLI{Bad: b, Total: t}}
		}
	}
	return SLI{Raw: &RawSLI{ErrorRatio: "(" + bad + ")\n/\n(" + total + ")"}}
}

// sumRateTemplate matches sum(rate(…[{{.window}}])) or sum(increase(…)), optionally in
// parentheses; the inner part must then parse as a plain selector.
var sumRateTemplate = regexp.MustCompile(`^\(?\s*sum\s*\(\s*(?:rate|increase)\s*\(\s*(.+?)\s*\[\{\{\.window\}\}\]\s*\)\s*\)\s*\)?$`)

// sumRateSelector returns S when query is sum(rate(S[{{.window}}])) with S a plain
// series selector (increase instead of rate gives the same ratio).
func (w *walker) sumRateSelector(query string) (string, bool) {
	q := strings.TrimSpace(query)
	// query already parsed as PromQL, so its parentheses balance.
	m := sumRateTemplate.FindStringSubmatch(q)
	if m == nil || strings.Count(q, "(") != strings.Count(q, ")") {
		return "", false
	}
	expr, err := w.promql().ParseExpr(m[1])
	if err != nil {
		return "", false
	}
	vs, ok := expr.(*parser.VectorSelector)
	if !ok || vs.OriginalOffset != 0 || vs.OriginalOffsetExpr != nil || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return "", false
	}
	return vs.String(), true
}
