package slo

import (
	"strings"
	"time"

	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// Spec format identifiers, as written in a file's version (or apiVersion) field.
const (
	// VersionV1 is slokit's own format.
	VersionV1 = "slokit/v1"
	// VersionSloth is Sloth's prometheus/v1 format, read unchanged.
	VersionSloth = "prometheus/v1"
	// APIVersionOpenSLO is the OpenSLO v1 apiVersion.
	APIVersionOpenSLO = "openslo/v1"
	// APIVersionOpenSLOAlpha is the OpenSLO v1alpha apiVersion (the one Sloth reads).
	APIVersionOpenSLOAlpha = "openslo/v1alpha"
	// APIVersionSlothK8s and KindSlothK8s name Sloth's Kubernetes custom resource.
	APIVersionSlothK8s = "sloth.slok.dev/v1"
	KindSlothK8s       = "PrometheusServiceLevel"
	// APIVersionPyrra and KindPyrra name Pyrra's custom resource.
	APIVersionPyrra = "pyrra.dev/v1alpha1"
	KindPyrra       = "ServiceLevelObjective"
)

// DefaultPeriod is the period of an SLO that does not set one.
const DefaultPeriod = 30 * 24 * time.Hour

// The slokit/v1 wire types: what the YAML says, each value kept with its node so that
// every diagnostic has a position. They are decoded structurally (unknown fields, wrong
// kinds), then validated and converted to domain types in one place (convertV1).

type specV1 struct {
	Node     *yaml.Node
	Version  scalar
	Service  scalar
	Labels   stringMap
	SLOs     []sloV1
	SLOsNode *yaml.Node
	// Scrape and Eval are the file-wide scrapeInterval and evaluationInterval.
	Scrape, Eval scalar
	// Global holds the file-wide defaults of global SLOs.
	Global *globalV1
}

type sloV1 struct {
	Node        *yaml.Node
	Path        string
	Name        scalar
	Objective   scalar
	Period      scalar
	Description scalar
	Labels      stringMap
	SLI         *sliV1
	Alerting    *alertingV1
	// Scrape and Eval override the file's scrapeInterval and evaluationInterval.
	Scrape, Eval scalar
	// Scope is "cluster" (the default) or "global"; Global overrides the file's block.
	Scope  scalar
	Global *globalV1
}

type sliV1 struct {
	Node    *yaml.Node
	Events  *eventsV1
	Latency *latencyV1
	Raw     *rawV1
}

type eventsV1 struct {
	Node       *yaml.Node
	Bad, Total scalar
}

type latencyV1 struct {
	Node      *yaml.Node
	Histogram scalar
	Selector  stringMap
	Threshold scalar
	Buckets   *yaml.Node
	Native    bool
}

type rawV1 struct {
	Node       *yaml.Node
	ErrorRatio scalar
}

type alertingV1 struct {
	Node         *yaml.Node
	Name         scalar
	Labels       stringMap
	Annotations  stringMap
	Page, Ticket *severityV1
	Windows      *yaml.Node
	NoData       *noDataV1
}

type noDataV1 struct {
	Node        *yaml.Node
	Disabled    bool
	For         scalar
	Labels      stringMap
	Annotations stringMap
}

type severityV1 struct {
	Node        *yaml.Node
	Disabled    bool
	Labels      stringMap
	Annotations stringMap
}

// decodeV1 reads the structure of a slokit/v1 document.
func (w *walker) decodeV1(root *yaml.Node) specV1 {
	spec := specV1{Node: root}
	f, ok := w.Fields(root, "", "version", "service", "labels", "scrapeInterval", "evaluationInterval", "global", "slos")
	if !ok {
		return spec
	}
	spec.Global = w.decodeGlobalV1(f["global"], "global")
	spec.Scrape = w.scalarAt(f["scrapeInterval"], "scrapeInterval")
	spec.Eval = w.scalarAt(f["evaluationInterval"], "evaluationInterval")
	spec.Version = w.scalarAt(f["version"], "version")
	spec.Service = w.scalarAt(f["service"], "service")
	spec.Labels = w.stringMapAt(f["labels"], "labels")
	items, list := w.seqAt(f["slos"], "slos")
	spec.SLOsNode = list
	for i, item := range items {
		spec.SLOs = append(spec.SLOs, w.decodeSLOV1(item, strictyaml.Index("slos", i)))
	}
	return spec
}

func (w *walker) decodeSLOV1(n *yaml.Node, path string) sloV1 {
	s := sloV1{Node: w.Resolve(n), Path: path}
	f, ok := w.Fields(n, path, "name", "objective", "period", "description", "labels", "scrapeInterval", "evaluationInterval", "scope", "global", "sli", "alerting")
	if !ok {
		return s
	}
	s.Scope = w.scalarAt(f["scope"], strictyaml.Join(path, "scope"))
	s.Global = w.decodeGlobalV1(f["global"], strictyaml.Join(path, "global"))
	s.Scrape = w.scalarAt(f["scrapeInterval"], strictyaml.Join(path, "scrapeInterval"))
	s.Eval = w.scalarAt(f["evaluationInterval"], strictyaml.Join(path, "evaluationInterval"))
	s.Name = w.scalarAt(f["name"], strictyaml.Join(path, "name"))
	s.Objective = w.scalarAt(f["objective"], strictyaml.Join(path, "objective"))
	s.Period = w.scalarAt(f["period"], strictyaml.Join(path, "period"))
	s.Description = w.scalarAt(f["description"], strictyaml.Join(path, "description"))
	s.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	if n := f["sli"]; !strictyaml.IsNull(n) {
		s.SLI = w.decodeSLIV1(n, strictyaml.Join(path, "sli"))
	}
	if n := f["alerting"]; !strictyaml.IsNull(n) {
		s.Alerting = w.decodeAlertingV1(n, strictyaml.Join(path, "alerting"))
	}
	return s
}

func (w *walker) decodeSLIV1(n *yaml.Node, path string) *sliV1 {
	s := &sliV1{Node: w.Resolve(n)}
	f, ok := w.Fields(n, path, "events", "latency", "raw")
	if !ok {
		return s
	}
	if n, present := f["events"]; present {
		p := strictyaml.Join(path, "events")
		e := &eventsV1{Node: w.Resolve(n)}
		if g, ok := w.Fields(n, p, "bad", "total"); ok {
			e.Bad = w.scalarAt(g["bad"], strictyaml.Join(p, "bad"))
			e.Total = w.scalarAt(g["total"], strictyaml.Join(p, "total"))
		}
		s.Events = e
	}
	if n, present := f["latency"]; present {
		p := strictyaml.Join(path, "latency")
		l := &latencyV1{Node: w.Resolve(n)}
		if g, ok := w.Fields(n, p, "histogram", "selector", "threshold", "buckets", "native"); ok {
			l.Histogram = w.scalarAt(g["histogram"], strictyaml.Join(p, "histogram"))
			l.Selector = w.stringMapAt(g["selector"], strictyaml.Join(p, "selector"))
			l.Threshold = w.scalarAt(g["threshold"], strictyaml.Join(p, "threshold"))
			l.Buckets = g["buckets"]
			l.Native, _ = w.boolAt(g["native"], strictyaml.Join(p, "native"))
		}
		s.Latency = l
	}
	if n, present := f["raw"]; present {
		p := strictyaml.Join(path, "raw")
		r := &rawV1{Node: w.Resolve(n)}
		if g, ok := w.Fields(n, p, "errorRatio"); ok {
			r.ErrorRatio = w.scalarAt(g["errorRatio"], strictyaml.Join(p, "errorRatio"))
		}
		s.Raw = r
	}
	return s
}

func (w *walker) decodeAlertingV1(n *yaml.Node, path string) *alertingV1 {
	a := &alertingV1{Node: w.Resolve(n)}
	f, ok := w.Fields(n, path, "name", "labels", "annotations", "page", "ticket", "windows", "noData")
	if !ok {
		return a
	}
	a.NoData = w.decodeNoDataV1(f["noData"], strictyaml.Join(path, "noData"))
	a.Name = w.scalarAt(f["name"], strictyaml.Join(path, "name"))
	a.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	a.Annotations = w.stringMapAt(f["annotations"], strictyaml.Join(path, "annotations"))
	a.Page = w.decodeSeverityV1(f["page"], strictyaml.Join(path, "page"))
	a.Ticket = w.decodeSeverityV1(f["ticket"], strictyaml.Join(path, "ticket"))
	a.Windows = f["windows"]
	return a
}

func (w *walker) decodeNoDataV1(n *yaml.Node, path string) *noDataV1 {
	if strictyaml.IsNull(n) {
		return nil
	}
	d := &noDataV1{Node: w.Resolve(n)}
	f, ok := w.Fields(n, path, "disabled", "for", "labels", "annotations")
	if !ok {
		return d
	}
	d.Disabled, _ = w.boolAt(f["disabled"], strictyaml.Join(path, "disabled"))
	d.For = w.scalarAt(f["for"], strictyaml.Join(path, "for"))
	d.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	d.Annotations = w.stringMapAt(f["annotations"], strictyaml.Join(path, "annotations"))
	return d
}

func (w *walker) decodeSeverityV1(n *yaml.Node, path string) *severityV1 {
	if strictyaml.IsNull(n) {
		return nil
	}
	s := &severityV1{Node: w.Resolve(n)}
	f, ok := w.Fields(n, path, "disabled", "labels", "annotations")
	if !ok {
		return s
	}
	s.Disabled, _ = w.boolAt(f["disabled"], strictyaml.Join(path, "disabled"))
	s.Labels = w.stringMapAt(f["labels"], strictyaml.Join(path, "labels"))
	s.Annotations = w.stringMapAt(f["annotations"], strictyaml.Join(path, "annotations"))
	return s
}

// convertV1 validates a decoded slokit/v1 spec and converts it to domain types.
func (w *walker) convertV1(spec specV1) *Service {
	svc := &Service{
		Name:   w.nameAt(spec.Service, spec.Node, "service", "service"),
		Labels: w.labelsAt(spec.Labels, "labels"),
	}
	w.scrapeDefaultWarning(spec)
	global := w.globalSettingsAt(spec.Global)
	w.convertSLOs(svc, spec.Node, spec.SLOsNode, "slos", len(spec.SLOs), func(i int) (Objective, bool, scalar, string) {
		s := spec.SLOs[i]
		o, ok := w.convertSLOV1(svc, s, spec, global)
		if ok && svc.Positions[o.Name] == nil {
			if svc.Positions == nil {
				svc.Positions = map[string]map[string]Origin{}
			}
			svc.Positions[o.Name] = w.positionsV1(s, spec)
		}
		return o, ok, s.Name, s.Path
	})
	return svc
}

// convertSLOs converts the n SLOs of a slokit/v1 or Sloth spec in order with convert
// (which returns the SLO's name field and path too) and appends the valid ones to svc.
// No SLO at all is an error at slosNode (specNode when the list is absent), and so is a
// name used twice in the service.
func (w *walker) convertSLOs(svc *Service, specNode, slosNode *yaml.Node, slosPath string, n int,
	convert func(i int) (o Objective, ok bool, name scalar, path string)) {
	if n == 0 {
		at := slosNode
		if at == nil {
			at = specNode
		}
		w.Missing(at, slosPath, "required: at least one SLO")
	}
	seen := map[string]string{}
	for i := range n {
		o, ok, name, path := convert(i)
		if o.Name != "" {
			if first, dup := seen[o.Name]; dup {
				w.Errf(name.Node, strictyaml.Join(path, "name"), "duplicate SLO name %q (first used by %s): names must be unique per service", o.Name, first)
				ok = false
			} else {
				seen[o.Name] = path
			}
		}
		if ok {
			svc.Objectives = append(svc.Objectives, o)
		}
	}
}

func (w *walker) convertSLOV1(svc *Service, s sloV1, spec specV1, global globalSettings) (Objective, bool) {
	before := w.Errs
	p := s.Path
	o := Objective{
		Service:     svc.Name,
		Name:        w.nameAt(s.Name, s.Node, strictyaml.Join(p, "name"), "SLO"),
		Description: s.Description.Value,
		Labels:      mergeLabels(svc.Labels, w.labelsAt(s.Labels, strictyaml.Join(p, "labels"))),
	}
	o.Target, _ = w.objectiveAt(s.Objective, s.Node, strictyaml.Join(p, "objective"))
	var periodOK bool
	o.Period, periodOK = w.durationAt(s.Period, s.Node, strictyaml.Join(p, "period"), "30d", DefaultPeriod)

	o.ScrapeInterval, o.EvaluationInterval = w.intervalsAt(s, spec)
	o.SLI = w.convertSLIV1(s, strictyaml.Join(p, "sli"))
	o.Scope = w.scopeAt(s, spec, global, o)

	a := s.Alerting
	if a == nil {
		a = &alertingV1{}
	}
	ap := strictyaml.Join(p, "alerting")
	o.Alerting = Alerting{
		Name:        w.alertNameAt(a.Name, strictyaml.Join(ap, "name"), svc.Name, o.Name),
		Labels:      w.labelsAt(a.Labels, strictyaml.Join(ap, "labels")),
		Annotations: w.annotationsAt(a.Annotations, strictyaml.Join(ap, "annotations")),
		Page:        w.convertSeverityV1(a.Page, strictyaml.Join(ap, "page"), Page),
		Ticket:      w.convertSeverityV1(a.Ticket, strictyaml.Join(ap, "ticket"), Ticket),
		NoData:      w.convertNoDataV1(a.NoData, strictyaml.Join(ap, "noData")),
	}
	var windowNodes []*yaml.Node
	o.Alerting.Windows, windowNodes = w.windowsAt(a.Windows, strictyaml.Join(ap, "windows"), o.Period, periodOK)
	if periodOK {
		w.periodFits(o.Period, a.Windows != nil && !strictyaml.IsNull(w.Resolve(a.Windows)), s.Period.Node, strictyaml.Join(p, "period"))
	}

	if w.Errs > before {
		return o, false
	}
	w.checkSafety(o, s, a, windowNodes)
	w.checkObjective(o, objNodes{
		slo: s.Node, objective: s.Objective.Node, period: s.Period.Node, alerting: a.Node,
		windows: windowNodes, objectivePath: strictyaml.Join(p, "objective"), periodPath: strictyaml.Join(p, "period"),
		windowPath: strictyaml.Join(ap, "windows"), alertingPath: ap,
	})
	return o, true
}

func (w *walker) convertSeverityV1(s *severityV1, path string, name SeverityName) Severity {
	if s == nil {
		return severityDefaults(Severity{}, name)
	}
	return w.severityAt(name, s.Disabled, s.Labels, s.Annotations, path)
}

// severityAt validates an alert tier's labels and annotations (under path) and fills in
// its defaults.
func (w *walker) severityAt(name SeverityName, disabled bool, labels, annotations stringMap, path string) Severity {
	return severityDefaults(Severity{
		Disabled:    disabled,
		Labels:      w.labelsAt(labels, strictyaml.Join(path, "labels")),
		Annotations: w.annotationsAt(annotations, strictyaml.Join(path, "annotations")),
	}, name)
}

func (w *walker) convertSLIV1(s sloV1, path string) SLI {
	if s.SLI == nil {
		w.Missing(s.Node, path, "required: one of events, latency or raw")
		return SLI{}
	}
	var kinds []string
	if s.SLI.Events != nil {
		kinds = append(kinds, "events")
	}
	if s.SLI.Latency != nil {
		kinds = append(kinds, "latency")
	}
	if s.SLI.Raw != nil {
		kinds = append(kinds, "raw")
	}
	switch len(kinds) {
	case 0:
		w.Missing(s.SLI.Node, path, "required: one of events, latency or raw")
		return SLI{}
	case 1:
	default:
		w.Errf(s.SLI.Node, path, "sets %s: an SLO has exactly one SLI kind; split it into one SLO per kind", strings.Join(kinds, " and "))
		return SLI{}
	}
	switch {
	case s.SLI.Events != nil:
		e, p := s.SLI.Events, strictyaml.Join(path, "events")
		bad := w.selectorAt(e.Bad, e.Node, strictyaml.Join(p, "bad"), `http_requests_total{code=~"5.."}`)
		total := w.selectorAt(e.Total, e.Node, strictyaml.Join(p, "total"), `http_requests_total`)
		w.distinctEvents(bad, total, e.Bad.Node, strictyaml.Join(p, "bad"))
		return SLI{Events: &EventsSLI{Bad: bad, Total: total}}
	case s.SLI.Latency != nil:
		return SLI{Latency: w.convertLatencyV1(s.SLI.Latency, strictyaml.Join(path, "latency"))}
	default:
		r, p := s.SLI.Raw, strictyaml.Join(path, "raw")
		return SLI{Raw: &RawSLI{ErrorRatio: w.templateAt(r.ErrorRatio, r.Node, strictyaml.Join(p, "errorRatio"), "the error ratio")}}
	}
}

func (w *walker) convertLatencyV1(l *latencyV1, path string) *LatencySLI {
	out := &LatencySLI{Selector: map[string]string{}}
	hp := strictyaml.Join(path, "histogram")
	switch h := l.Histogram; {
	case !h.set() || h.Value == "":
		w.Missing(l.Node, hp, "required: the histogram's metric name, like http_request_duration_seconds")
	case !isMetricName(h.Value):
		w.Errf(h.Node, hp, "%q is not a metric name: give the histogram's base name, like http_request_duration_seconds", h.Value)
	case hasHistogramSuffix(h.Value):
		w.Errf(h.Node, hp, "give the histogram's base name without the %s suffix: %s", histogramSuffix(h.Value), strings.TrimSuffix(h.Value, histogramSuffix(h.Value)))
	default:
		out.Histogram = h.Value
	}
	for _, e := range l.Selector.Entries {
		kp := strictyaml.Join(strictyaml.Join(path, "selector"), e.Key.Value)
		switch e.Key.Value {
		case "le":
			w.Errf(e.Key.Node, kp, "le is set by slokit from threshold: remove it from the selector")
			continue
		case "__name__":
			w.Errf(e.Key.Node, kp, "the metric name comes from histogram: remove __name__ from the selector")
			continue
		}
		if !isLabelName(e.Key.Value) {
			w.Errf(e.Key.Node, kp, "%q is not a valid label name: use letters, digits and '_', not starting with a digit", e.Key.Value)
			continue
		}
		out.Selector[e.Key.Value] = e.Value.Value
	}
	th := l.Threshold
	tp := strictyaml.Join(path, "threshold")
	if th.set() && (th.Tag == "!!int" || th.Tag == "!!float") && th.Value != "0" {
		w.Errf(th.Node, tp, "%s is not a duration: write the threshold with a unit, like 100ms or 1s (it must equal one of the histogram's bucket boundaries)", th.Value)
		return out
	}
	out.Threshold, _ = w.durationAt(th, l.Node, tp, "100ms", 0)
	out.Native = l.Native
	out.Buckets = w.bucketsAt(l.Buckets, strictyaml.Join(path, "buckets"))
	return out
}

var histogramSuffixes = []string{"_bucket", "_count", "_sum"}

func histogramSuffix(name string) string {
	for _, s := range histogramSuffixes {
		if strings.HasSuffix(name, s) {
			return s
		}
	}
	return ""
}

func hasHistogramSuffix(name string) bool { return histogramSuffix(name) != "" }
