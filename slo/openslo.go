package slo

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// OpenSLO v1 import. A file holds one or more documents (or lists) of OpenSLO objects;
// every kind SLO becomes one Objective of a single Service (all must name the same
// spec.service). Supported: an inline spec.indicator, or an indicatorRef to a kind SLI
// in the same file, with a ratioMetric of counters (good or bad, and total, each a
// Prometheus series selector) over one rolling timeWindow, budgetingMethod Occurrences
// and one objective. Everything else OpenSLO can say is reported with the reason
// slokit cannot honour it.

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

// openSLOShorthand is OpenSLO's duration shorthand: an integer and one unit.
var openSLOShorthand = regexp.MustCompile(`^([0-9]+)([a-zA-Z]+)$`)

// resolveOpenSLO converts every OpenSLO SLO object of every file, resolving its
// references across the files, into one Service per SLO in the SLO's file.
func (l *loader) resolveOpenSLO() {
	if len(l.openslo) == 0 {
		return
	}
	slis := map[string]openSLOObject{}
	var slos []openSLOObject
	for _, o := range l.openslo {
		w := o.lf.w
		switch o.Kind.Value {
		case "SLO":
			slos = append(slos, o)
		case "SLI":
			if first, dup := slis[o.Name.Value]; dup && o.Name.Value != "" {
				w.errf(o.Name.Node, joinPath(o.Path, "metadata.name"), "duplicate SLI name %q (first defined at %s:%d): indicatorRef would be ambiguous", o.Name.Value, first.lf.w.file, first.Name.Node.Line)
			} else if o.Name.Value != "" {
				slis[o.Name.Value] = o
			}
		case "Service":
			// Describes the service; slokit takes the name from each SLO's spec.service.
		case "":
		default:
			w.warnf(o.Kind.Node, joinPath(o.Path, "kind"), "kind %s is ignored: slokit reads kind SLO (and SLIs it references) and generates its own alerts", o.Kind.Value)
		}
	}
	if len(slos) == 0 {
		first := l.openslo[0]
		if !first.lf.w.failed() {
			first.lf.w.errf(first.Node, joinPath(first.Path, "kind"), "no kind: SLO object in the files given: slokit reads OpenSLO SLO objects")
		}
		return
	}
	for _, o := range slos {
		obj, service, ok := o.lf.w.convertOpenSLOSLO(o, slis)
		if ok && service.set() {
			obj.Service = service.Value
			o.lf.add(&Service{Name: service.Value, Labels: map[string]string{}, Objectives: []Objective{obj}})
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
	o := openSLOObject{Node: w.resolve(n), Path: path, lf: w.lf}
	w.scope = objectScope(o.Node)
	defer func() { w.scope = "" }()
	f, ok := w.fields(n, path, "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return o
	}
	o.APIVersion = w.scalarAt(f["apiVersion"], joinPath(path, "apiVersion"))
	switch {
	case !o.APIVersion.set():
		w.missing(o.Node, joinPath(path, "apiVersion"), "required: %s", APIVersionOpenSLO)
	case o.APIVersion.Value != APIVersionOpenSLO:
		w.errf(o.APIVersion.Node, joinPath(path, "apiVersion"), "unsupported OpenSLO version %q: slokit reads apiVersion: %s", o.APIVersion.Value, APIVersionOpenSLO)
	}
	o.Kind = w.scalarAt(f["kind"], joinPath(path, "kind"))
	if !o.Kind.set() {
		w.missing(o.Node, joinPath(path, "kind"), "required: the OpenSLO kind, like SLO")
	}
	mp := joinPath(path, "metadata")
	o.MetaNode = w.resolve(f["metadata"])
	if m, ok := w.fields(f["metadata"], mp, "name", "displayName", "labels", "annotations"); ok {
		o.Name = w.scalarAt(m["name"], joinPath(mp, "name"))
		o.Display = w.scalarAt(m["displayName"], joinPath(mp, "displayName"))
		o.Labels = m["labels"]
		_ = w.stringMapAt(m["annotations"], joinPath(mp, "annotations"))
	}
	o.Spec = f["spec"]
	return o
}

// openSLOLabels converts OpenSLO metadata.labels (values are strings or lists of
// strings) to Prometheus labels; names Prometheus cannot carry are dropped with a warning.
func (w *walker) openSLOLabels(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	n = w.resolve(n)
	if isNull(n) {
		return out
	}
	if n.Kind != yaml.MappingNode {
		w.errf(n, path, "must be a mapping of names to values, got %s", kindName(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := w.resolve(n.Content[i]), w.resolve(n.Content[i+1])
		if k == nil || v == nil {
			break
		}
		kp := joinPath(path, k.Value)
		if v.Kind == yaml.SequenceNode {
			if len(v.Content) != 1 || w.resolve(v.Content[0]) == nil || w.resolve(v.Content[0]).Kind != yaml.ScalarNode {
				w.errf(v, kp, "slokit needs exactly one value per label, got %d", len(v.Content))
				continue
			}
			v = w.resolve(v.Content[0])
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			w.errf(v, kp, "must be a string, got %s", kindName(v))
			continue
		}
		if !isLabelName(k.Value) {
			w.warnf(k, kp, "label %q dropped: Prometheus label names use letters, digits and '_' only", k.Value)
			continue
		}
		m := w.labelsAt(stringMap{Entries: []stringEntry{{Key: scalar{Value: k.Value, Node: k}, Value: scalar{Value: v.Value, Node: v}}}}, path)
		for lk, lv := range m {
			out[lk] = lv
		}
	}
	return out
}

func (w *walker) convertOpenSLOSLO(o openSLOObject, slis map[string]openSLOObject) (Objective, scalar, bool) {
	w.scope = objectScope(o.Node)
	defer func() { w.scope = "" }()
	before := w.nerr
	var service scalar
	obj := Objective{
		Name:   w.looseNameAt(o.Name, firstNode(o.MetaNode, o.Node), joinPath(o.Path, "metadata.name"), "SLO"),
		Labels: w.openSLOLabels(o.Labels, joinPath(o.Path, "metadata.labels")),
	}
	sp := joinPath(o.Path, "spec")
	f, ok := w.fields(o.Spec, sp, "description", "service", "indicator", "indicatorRef", "budgetingMethod", "timeWindow", "objectives", "alertPolicies")
	if !ok {
		return obj, service, false
	}
	specNode := firstNode(w.resolve(o.Spec), o.Node)
	obj.Description = w.scalarAt(f["description"], joinPath(sp, "description")).Value
	if obj.Description == "" {
		obj.Description = o.Display.Value
	}
	service = w.scalarAt(f["service"], joinPath(sp, "service"))
	w.looseNameAt(service, specNode, joinPath(sp, "service"), "service")

	// SLI: inline indicator or a reference to a kind SLI in this file.
	ind, ref := f["indicator"], w.scalarAt(f["indicatorRef"], joinPath(sp, "indicatorRef"))
	switch {
	case ind != nil && ref.set():
		w.errf(ref.Node, joinPath(sp, "indicatorRef"), "set either indicator or indicatorRef, not both")
	case ind != nil:
		ip := joinPath(sp, "indicator")
		if g, ok := w.fields(ind, ip, "metadata", "spec"); ok {
			obj.SLI = w.openSLOIndicator(g["spec"], firstNode(w.resolve(ind), specNode), joinPath(ip, "spec"))
		}
	case ref.set():
		sli, found := slis[ref.Value]
		if !found {
			w.errf(ref.Node, joinPath(sp, "indicatorRef"), "no kind: SLI named %q in this file: inline it under spec.indicator or add the SLI object to the file", ref.Value)
			break
		}
		obj.SLI = w.referencedSLI(sli, ref, joinPath(sp, "indicatorRef"))
	default:
		w.missing(specNode, joinPath(sp, "indicator"), "required: the SLI, inline under indicator (ratioMetric) or as indicatorRef")
	}

	bm := w.scalarAt(f["budgetingMethod"], joinPath(sp, "budgetingMethod"))
	switch {
	case !bm.set():
		w.missing(specNode, joinPath(sp, "budgetingMethod"), "required: Occurrences")
	case bm.Value != "Occurrences":
		w.errf(bm.Node, joinPath(sp, "budgetingMethod"), "%q is not supported: slokit's burn-rate alerts count events, so only Occurrences applies", bm.Value)
	}

	var periodNode *yaml.Node
	obj.Period, periodNode = w.openSLOTimeWindow(f["timeWindow"], specNode, joinPath(sp, "timeWindow"))
	if obj.Period > 0 {
		w.periodFits(obj.Period, false, periodNode, joinPath(sp, "timeWindow[0].duration"))
	}

	var objNode *yaml.Node
	objPath := joinPath(sp, "objectives")
	obj.Target, objNode, objPath = w.openSLOObjectives(f["objectives"], specNode, objPath)

	if policies, n := w.seqAt(f["alertPolicies"], joinPath(sp, "alertPolicies")); len(policies) > 0 {
		w.warnf(n, joinPath(sp, "alertPolicies"), "ignored: slokit generates its own multiwindow multi-burn-rate alerts")
	}
	obj.Alerting = Alerting{
		Name:        DefaultAlertName(service.Value, obj.Name),
		Labels:      map[string]string{},
		Annotations: map[string]string{},
		Page:        severityDefaults(Severity{}, Page),
		Ticket:      severityDefaults(Severity{}, Ticket),
	}
	if w.nerr > before {
		return obj, service, false
	}
	w.checkObjective(obj, objNodes{
		slo: o.Node, objective: objNode, period: periodNode,
		objectivePath: objPath, periodPath: joinPath(sp, "timeWindow"), alertingPath: sp,
	})
	return obj, service, true
}

// referencedSLI converts the SLI object sli (of any file) that ref names; its errors are
// reported in its own file, and once more at ref when that is another file.
func (w *walker) referencedSLI(sli openSLOObject, ref scalar, path string) SLI {
	sw := sli.lf.w
	if sw == w {
		saved := w.scope
		w.scope = objectScope(sli.Node)
		defer func() { w.scope = saved }()
		return w.openSLOIndicator(sli.Spec, sli.Node, joinPath(sli.Path, "spec"))
	}
	before := sw.nerr
	sw.scope = objectScope(sli.Node)
	out := sw.openSLOIndicator(sli.Spec, sli.Node, joinPath(sli.Path, "spec"))
	sw.scope = ""
	if sw.nerr > before {
		w.errf(ref.Node, path, "SLI %q (%s:%d) has errors, reported there", ref.Value, sw.file, sli.Node.Line)
	}
	return out
}

func firstNode(ns ...*yaml.Node) *yaml.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

// openSLOTimeWindow reads the single rolling window.
func (w *walker) openSLOTimeWindow(n, parent *yaml.Node, path string) (time.Duration, *yaml.Node) {
	items, list := w.seqAt(n, path)
	if len(items) == 0 {
		w.missing(firstNode(list, parent), path, "required: one rolling window, like [{duration: 28d, isRolling: true}]")
		return 0, nil
	}
	if len(items) > 1 {
		w.errf(items[1], indexPath(path, 1), "slokit reads exactly one timeWindow: split the SLO into one per window")
	}
	ip := indexPath(path, 0)
	f, ok := w.fields(items[0], ip, "duration", "isRolling", "calendar")
	if !ok {
		return 0, nil
	}
	item := w.resolve(items[0])
	if cal := f["calendar"]; cal != nil {
		w.errf(w.resolve(cal), joinPath(ip, "calendar"), "calendar-aligned windows are not supported: burn-rate alerts need a rolling window (isRolling: true)")
	}
	rolling, rn := w.boolAt(f["isRolling"], joinPath(ip, "isRolling"))
	if rn == nil {
		w.missing(item, joinPath(ip, "isRolling"), "required: true (slokit supports rolling windows only)")
	} else if !rolling {
		w.errf(rn, joinPath(ip, "isRolling"), "must be true: burn-rate alerts need a rolling window")
	}
	ds := w.scalarAt(f["duration"], joinPath(ip, "duration"))
	dp := joinPath(ip, "duration")
	if !ds.set() {
		w.missing(item, dp, "required: the window length, like 28d")
		return 0, nil
	}
	m := openSLOShorthand.FindStringSubmatch(strings.TrimSpace(ds.Value))
	if m == nil {
		w.errf(ds.Node, dp, "%q is not an OpenSLO duration: write a whole number and one unit (m, h, d or w), like 28d", ds.Value)
		return 0, ds.Node
	}
	units := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}
	unit, ok := units[m[2]]
	if !ok {
		if m[2] == "M" || m[2] == "Q" || m[2] == "Y" {
			w.errf(ds.Node, dp, "%s is a calendar unit with no fixed length: write the rolling window in days, like 30d", m[2])
		} else {
			w.errf(ds.Node, dp, "unknown unit %q: use m, h, d or w, like 28d", m[2])
		}
		return 0, ds.Node
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v <= 0 || v > int64(math.MaxInt64/int64(unit)) {
		w.errf(ds.Node, dp, "must be a positive duration that fits in 290 years, like 28d, got %q", ds.Value)
		return 0, ds.Node
	}
	return time.Duration(v) * unit, ds.Node
}

// openSLOObjectives reads the single objective's target as a ratio.
func (w *walker) openSLOObjectives(n, parent *yaml.Node, path string) (float64, *yaml.Node, string) {
	items, list := w.seqAt(n, path)
	if len(items) == 0 {
		w.missing(firstNode(list, parent), path, "required: one objective, like [{target: 0.999}]")
		return 0, nil, path
	}
	if len(items) > 1 {
		w.errf(items[1], indexPath(path, 1), "slokit reads one objective per SLO: split it into one SLO per objective")
	}
	ip := indexPath(path, 0)
	f, ok := w.fields(items[0], ip, "displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight")
	if !ok {
		return 0, nil, ip
	}
	item := w.resolve(items[0])
	for _, k := range []string{"op", "value"} {
		if v := f[k]; v != nil {
			w.errf(w.resolve(v), joinPath(ip, k), "%s applies to thresholdMetric SLIs, which slokit does not support: use a ratioMetric", k)
		}
	}
	for _, k := range []string{"timeSliceTarget", "timeSliceWindow"} {
		if v := f[k]; v != nil {
			w.errf(w.resolve(v), joinPath(ip, k), "%s applies to the Timeslices budgeting method, which slokit does not support", k)
		}
	}
	for _, k := range []string{"indicator", "indicatorRef", "compositeWeight"} {
		if v := f[k]; v != nil {
			w.errf(w.resolve(v), joinPath(ip, k), "composite objectives are not supported: give the SLI in spec.indicator")
		}
	}
	t, tp := w.scalarAt(f["target"], joinPath(ip, "target")), w.scalarAt(f["targetPercent"], joinPath(ip, "targetPercent"))
	switch {
	case t.set() && tp.set():
		w.errf(tp.Node, joinPath(ip, "targetPercent"), "set either target or targetPercent, not both")
	case tp.set():
		r, _ := w.objectiveAt(tp, item, joinPath(ip, "targetPercent"))
		return r, tp.Node, joinPath(ip, "targetPercent")
	case t.set():
		return w.ratioAt(t, joinPath(ip, "target")), t.Node, joinPath(ip, "target")
	default:
		w.missing(item, joinPath(ip, "target"), "required: the objective as a ratio, like 0.999 (or targetPercent: 99.9)")
	}
	return 0, nil, ip
}

// ratioAt reads an OpenSLO target ratio in (0,1).
func (w *walker) ratioAt(s scalar, path string) float64 {
	if s.Tag != "!!int" && s.Tag != "!!float" {
		w.errf(s.Node, path, "must be a ratio like 0.999, got %s", kindName(s.Node))
		return 0
	}
	var r float64
	if err := s.Node.Decode(&r); err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		w.errf(s.Node, path, "must be a ratio like 0.999, got %s", s.Value)
		return 0
	}
	switch {
	case r >= 1 && r < 100:
		w.errf(s.Node, path, "must be a ratio below 1, got %s: for %s%% write target: %s or targetPercent: %s", s.Value, s.Value, strconv.FormatFloat(r/100, 'g', 10, 64), s.Value)
		return 0
	case r >= 1:
		w.errf(s.Node, path, "must be a ratio below 1, got %s: a target of 1 leaves no error budget", s.Value)
		return 0
	case r <= 0:
		w.errf(s.Node, path, "must be a ratio above 0, like 0.999, got %s", s.Value)
		return 0
	}
	return r
}

// openSLOIndicator converts an SLI spec holding a ratioMetric.
func (w *walker) openSLOIndicator(n, parent *yaml.Node, path string) SLI {
	f, ok := w.fields(n, path, "description", "thresholdMetric", "ratioMetric")
	if !ok {
		return SLI{}
	}
	if t := f["thresholdMetric"]; t != nil {
		w.errf(w.resolve(t), joinPath(path, "thresholdMetric"), "thresholdMetric SLIs are not supported: burn-rate alerts need a ratioMetric of good (or bad) and total events")
		return SLI{}
	}
	rp := joinPath(path, "ratioMetric")
	rm := f["ratioMetric"]
	if rm == nil {
		w.missing(firstNode(w.resolve(n), parent), rp, "required: a ratioMetric with good (or bad) and total")
		return SLI{}
	}
	g, ok := w.fields(rm, rp, "counter", "good", "bad", "total", "rawType", "raw")
	if !ok {
		return SLI{}
	}
	rmNode := w.resolve(rm)
	counter, cn := w.boolAt(g["counter"], joinPath(rp, "counter"))
	switch {
	case cn == nil:
		w.missing(rmNode, joinPath(rp, "counter"), "required: true (slokit reads counters and builds rate() over each window)")
	case !counter:
		w.errf(cn, joinPath(rp, "counter"), "must be true: slokit supports counters only and builds rate() over each window")
	}
	for _, k := range []string{"raw", "rawType"} {
		if v := g[k]; v != nil {
			w.errf(w.resolve(v), joinPath(rp, k), "raw ratio metrics are not supported: give good (or bad) and total counters")
			return SLI{}
		}
	}
	good, bad := g["good"], g["bad"]
	switch {
	case good != nil && bad != nil:
		w.errf(w.resolve(bad), joinPath(rp, "bad"), "set either good or bad, not both")
		return SLI{}
	case good == nil && bad == nil:
		w.missing(rmNode, joinPath(rp, "good"), "required: good or bad, with total")
		return SLI{}
	}
	total := w.openSLOQuery(g["total"], rmNode, joinPath(rp, "total"))
	if bad != nil {
		b := w.openSLOQuery(bad, rmNode, joinPath(rp, "bad"))
		if b == "" || total == "" {
			return SLI{}
		}
		w.distinctEvents(b, total, w.resolve(bad), joinPath(rp, "bad"))
		return SLI{Events: &EventsSLI{Bad: b, Total: total}}
	}
	gd := w.openSLOQuery(good, rmNode, joinPath(rp, "good"))
	if gd == "" || total == "" {
		return SLI{}
	}
	if gd == total {
		w.errf(w.resolve(good), joinPath(rp, "good"), "selects the same series as total, so no event could ever be bad: add the matcher that singles out good events, like code!~\"5..\"")
	}
	return SLI{Raw: &RawSLI{ErrorRatio: "1 - (sum(rate(" + gd + "[" + WindowPlaceholder + "])) / sum(rate(" + total + "[" + WindowPlaceholder + "])))"}}
}

// openSLOQuery reads {metricSource: {type: Prometheus, spec: {query: SELECTOR}}}.
func (w *walker) openSLOQuery(n, parent *yaml.Node, path string) string {
	if n == nil {
		w.missing(parent, path, "required: {metricSource: {type: Prometheus, spec: {query: <series selector>}}}")
		return ""
	}
	f, ok := w.fields(n, path, "metricSource")
	if !ok {
		return ""
	}
	mp := joinPath(path, "metricSource")
	ms := f["metricSource"]
	if ms == nil {
		w.missing(w.resolve(n), mp, "required: {type: Prometheus, spec: {query: <series selector>}}")
		return ""
	}
	g, ok := w.fields(ms, mp, "metricSourceRef", "type", "spec")
	if !ok {
		return ""
	}
	msNode := w.resolve(ms)
	if ref := w.scalarAt(g["metricSourceRef"], joinPath(mp, "metricSourceRef")); ref.set() {
		w.errf(ref.Node, joinPath(mp, "metricSourceRef"), "DataSource references are not supported: slokit's rules run in Prometheus; write type: Prometheus and the query inline")
		return ""
	}
	if t := w.scalarAt(g["type"], joinPath(mp, "type")); t.set() && !strings.EqualFold(t.Value, "Prometheus") {
		w.errf(t.Node, joinPath(mp, "type"), "metric source %q is not supported: slokit reads Prometheus queries", t.Value)
		return ""
	}
	sp := joinPath(mp, "spec")
	h, ok := w.fields(g["spec"], sp, "query")
	if !ok {
		return ""
	}
	q := w.scalarAt(h["query"], joinPath(sp, "query"))
	return w.selectorAt(q, firstNode(w.resolve(g["spec"]), msNode), joinPath(sp, "query"), `http_requests_total{code!~"5.."}`)
}
