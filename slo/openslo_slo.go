package slo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// openSLOTarget is one objective of an OpenSLO SLO, read.
type openSLOTarget struct {
	target float64
	node   *yaml.Node
	path   string
	sli    SLI // v1alpha: each objective has its own ratioMetrics
}

// openSLOSLO converts one kind SLO (v1 or v1alpha) into one Objective per objective, and
// returns the service name. It returns no Objective after an error.
func (w *walker) openSLOSLO(o openSLOObject, refs *openSLORefs) ([]Objective, []map[string]Origin, string) {
	before := w.Errs
	sp := strictyaml.Join(o.Path, "spec")
	known := []string{"description", "service", "indicator", "indicatorRef", "budgetingMethod", "timeWindow", "objectives", "alertPolicies"}
	if o.alpha() {
		known = []string{"description", "service", "indicator", "budgetingMethod", "timeWindows", "objectives"}
	}
	f, ok := w.Fields(o.Spec, sp, known...)
	if !ok {
		return nil, nil, ""
	}
	specNode := firstNode(w.Resolve(o.Spec), o.Node)
	name := w.looseNameAt(o.Name, firstNode(o.MetaNode, o.Node), strictyaml.Join(o.Path, "metadata.name"), "SLO")
	base := Objective{Name: name, Labels: w.openSLOLabels(o.Labels, strictyaml.Join(o.Path, "metadata.labels"))}
	base.Description = w.scalarAt(f["description"], strictyaml.Join(sp, "description")).Value
	if base.Description == "" {
		base.Description = o.Display.Value
	}
	service := w.scalarAt(f["service"], strictyaml.Join(sp, "service"))
	svcName := w.looseNameAt(service, specNode, strictyaml.Join(sp, "service"), "service")
	w.openSLOBudgeting(f["budgetingMethod"], strictyaml.Join(sp, "budgetingMethod"))

	sh := w.openSLOShape(o, f, &base, specNode, sp, refs)
	periodNode, periodPath, targets, windows := sh.periodNode, sh.periodPath, sh.targets, sh.windows
	if w.Errs > before {
		return nil, nil, ""
	}
	var out []Objective
	var origins []map[string]Origin
	for i, t := range targets {
		obj := base
		obj.Target = t.target
		if o.alpha() {
			obj.SLI = t.sli
		}
		if len(targets) > 1 || o.alpha() {
			// Sloth's naming for OpenSLO objectives: <name>-<index>.
			obj.Name = fmt.Sprintf("%s-%d", name, i)
		}
		obj.Alerting = Alerting{
			Name:        DefaultAlertName(svcName, obj.Name),
			Labels:      map[string]string{},
			Annotations: map[string]string{},
			Page:        severityDefaults(Severity{}, Page),
			Ticket:      severityDefaults(Severity{}, Ticket),
			Windows:     windows,
		}
		w.checkObjective(obj, objNodes{
			slo: o.Node, objective: t.node, period: periodNode,
			objectivePath: t.path, periodPath: periodPath, alertingPath: sp,
		})
		w.openSLOOrigins(o, f, t, periodNode, periodPath, sp, o.alpha())
		out = append(out, obj)
		origins = append(origins, w.takeOrigins())
	}
	return out, origins, svcName
}

// openSLOOrigins records where an OpenSLO objective's fields came from.
func (w *walker) openSLOOrigins(o openSLOObject, f map[string]*yaml.Node, t openSLOTarget, periodNode *yaml.Node, periodPath, sp string, alpha bool) {
	w.origin("name", o.Name.Node, strictyaml.Join(o.Path, "metadata.name"), "one SLO per objective")
	w.origin("objective", t.node, t.path, "")
	if periodNode == nil {
		w.origin("period", nil, "", "OpenSLO without a time window: slokit's default")
	} else {
		w.origin("period", periodNode, periodPath, "")
	}
	switch {
	case alpha:
		w.origin("sli", t.node, t.path, "the objective's ratioMetrics")
	case f["indicatorRef"] != nil:
		w.origin("sli", w.Resolve(f["indicatorRef"]), strictyaml.Join(sp, "indicatorRef"), "the referenced SLI")
	default:
		w.origin("sli", w.Resolve(f["indicator"]), strictyaml.Join(sp, "indicator"), "")
	}
	w.origin("labels", w.Resolve(o.Labels), strictyaml.Join(o.Path, "metadata.labels"), "")
	if n := w.Resolve(f["alertPolicies"]); n != nil {
		w.origin("alerting", n, strictyaml.Join(sp, "alertPolicies"), "burn-rate conditions as tiers")
	} else {
		w.origin("alerting", nil, "", "no alert policy: slokit's default tiers")
	}
}

// openSLOShape is what differs between v1 and v1alpha SLOs: the period, the objectives
// (each with its SLI in v1alpha) and the alert tiers (v1 only).
type openSLOShape struct {
	periodNode *yaml.Node
	periodPath string
	targets    []openSLOTarget
	windows    []Window
}

// openSLOShape reads the version-specific fields of o's spec f into base and the shape.
func (w *walker) openSLOShape(o openSLOObject, f map[string]*yaml.Node, base *Objective, specNode *yaml.Node, sp string, refs *openSLORefs) openSLOShape {
	var periodNode *yaml.Node
	var periodPath string
	var targets []openSLOTarget
	var windows []Window
	if o.alpha() {
		periodPath = strictyaml.Join(sp, "timeWindows")
		base.Period, periodNode = w.openSLOAlphaWindow(f["timeWindows"], periodPath)
		if ind := f["indicator"]; !strictyaml.IsNull(w.Resolve(ind)) {
			w.Errf(w.Resolve(ind), strictyaml.Join(sp, "indicator"), "thresholdMetric SLIs are not supported: burn-rate alerts need ratioMetrics of good and total events")
		}
		targets = w.openSLOAlphaObjectives(f["objectives"], specNode, strictyaml.Join(sp, "objectives"))
	} else {
		periodPath = strictyaml.Join(sp, "timeWindow")
		base.Period, periodNode = w.openSLOTimeWindow(f["timeWindow"], periodPath)
		base.SLI = w.openSLOSpecSLI(f["indicator"], w.scalarAt(f["indicatorRef"], strictyaml.Join(sp, "indicatorRef")), specNode, sp, refs)
		targets = w.openSLOObjectives(f["objectives"], specNode, strictyaml.Join(sp, "objectives"))
	}
	if base.Period > 0 {
		pp := periodPath
		if periodNode != nil {
			pp = strictyaml.Join(strictyaml.Index(periodPath, 0), map[bool]string{true: "count", false: "duration"}[o.alpha()])
		}
		w.periodFits(base.Period, false, periodNode, pp)
	}
	if !o.alpha() {
		windows = w.openSLOAlertPolicies(f["alertPolicies"], strictyaml.Join(sp, "alertPolicies"), refs, base.Period)
	}
	return openSLOShape{periodNode: periodNode, periodPath: periodPath, targets: targets, windows: windows}
}

// openSLOBudgeting accepts Occurrences (the default when absent).
func (w *walker) openSLOBudgeting(n *yaml.Node, path string) {
	bm := w.scalarAt(n, path)
	if bm.set() && bm.Value != "Occurrences" {
		w.Errf(bm.Node, path, "%q is not supported: slokit's burn-rate alerts count events, so only Occurrences applies (time slices cannot be summed over alert windows)", bm.Value)
	}
}

// openSLOSpecSLI reads a v1 SLO's inline indicator or its indicatorRef.
func (w *walker) openSLOSpecSLI(ind *yaml.Node, ref scalar, specNode *yaml.Node, sp string, refs *openSLORefs) SLI {
	switch {
	case !strictyaml.IsNull(w.Resolve(ind)) && ref.set():
		w.Errf(ref.Node, strictyaml.Join(sp, "indicatorRef"), "set either indicator or indicatorRef, not both")
	case !strictyaml.IsNull(w.Resolve(ind)):
		ip := strictyaml.Join(sp, "indicator")
		if g, ok := w.Fields(ind, ip, "metadata", "spec"); ok {
			return w.openSLOIndicator(g["spec"], firstNode(w.Resolve(ind), specNode), strictyaml.Join(ip, "spec"), refs)
		}
	case ref.set():
		sli, found := refs.get("SLI", ref.Value)
		if !found {
			w.Errf(ref.Node, strictyaml.Join(sp, "indicatorRef"), "no kind: SLI named %q in the files given: add the file that defines it, or inline it under spec.indicator", ref.Value)
			return SLI{}
		}
		var out SLI
		w.inObject(sli, ref.Node, strictyaml.Join(sp, "indicatorRef"), "SLI", func(ow *walker) {
			out = ow.openSLOIndicator(sli.Spec, sli.Node, strictyaml.Join(sli.Path, "spec"), refs)
		})
		return out
	default:
		w.Missing(specNode, strictyaml.Join(sp, "indicator"), "required: the SLI, inline under indicator (ratioMetric) or as indicatorRef")
	}
	return SLI{}
}

// openSLOShorthand is OpenSLO's duration shorthand: an integer and one unit.
var openSLOShorthand = regexp.MustCompile(`^([0-9]+)([a-zA-Z]+)$`)

// openSLOTimeWindow reads the single rolling window; absent, the period is 30d.
func (w *walker) openSLOTimeWindow(n *yaml.Node, path string) (time.Duration, *yaml.Node) {
	items, _ := w.seqAt(n, path)
	if len(items) == 0 {
		return DefaultPeriod, nil
	}
	if len(items) > 1 {
		w.Errf(items[1], strictyaml.Index(path, 1), "slokit reads exactly one timeWindow: split the SLO into one per window")
	}
	ip := strictyaml.Index(path, 0)
	f, ok := w.Fields(items[0], ip, "duration", "isRolling", "calendar")
	if !ok {
		return 0, nil
	}
	item := w.Resolve(items[0])
	if cal := f["calendar"]; cal != nil {
		w.Errf(w.Resolve(cal), strictyaml.Join(ip, "calendar"), "calendar-aligned windows are not supported: the budget of a calendar month resets at its start, which burn-rate alerts over rolling windows cannot follow; use isRolling: true")
	}
	if rolling, rn := w.boolAt(f["isRolling"], strictyaml.Join(ip, "isRolling")); rn != nil && !rolling && f["calendar"] == nil {
		w.Errf(rn, strictyaml.Join(ip, "isRolling"), "must be true: a window that does not roll is calendar-aligned, which burn-rate alerts cannot follow")
	}
	ds := w.scalarAt(f["duration"], strictyaml.Join(ip, "duration"))
	dp := strictyaml.Join(ip, "duration")
	if !ds.set() {
		w.Missing(item, dp, "required: the window length, like 28d")
		return 0, nil
	}
	m := openSLOShorthand.FindStringSubmatch(strings.TrimSpace(ds.Value))
	if m == nil {
		w.Errf(ds.Node, dp, "%q is not an OpenSLO duration: write a whole number and one unit (m, h, d or w), like 28d", ds.Value)
		return 0, ds.Node
	}
	return w.windowLength(m[1], m[2], ds.Node, dp), ds.Node
}

// openSLOUnits are the fixed-length units of OpenSLO durations, shorthand and v1alpha
// spelled out.
var openSLOUnits = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
	"Second": time.Second, "Minute": time.Minute, "Hour": time.Hour, "Day": 24 * time.Hour, "Week": 7 * 24 * time.Hour,
}

// windowLength is count × unit, or 0 after an error at n.
func (w *walker) windowLength(count, unit string, n *yaml.Node, path string) time.Duration {
	u, ok := openSLOUnits[unit]
	if !ok {
		switch unit {
		case "M", "Q", "Y", "Month", "Quarter", "Year":
			w.Errf(n, path, "%s is a calendar unit with no fixed length: write the rolling window in days, like 30d", unit)
		default:
			w.Errf(n, path, "unknown unit %q: use m, h, d or w, like 28d", unit)
		}
		return 0
	}
	v, err := strconv.ParseInt(count, 10, 64)
	if err != nil || v <= 0 || v > int64(math.MaxInt64/int64(u)) {
		w.Errf(n, path, "must be a positive duration that fits in 290 years, like 28d, got %s", count)
		return 0
	}
	return time.Duration(v) * u
}

// openSLOAlphaWindow reads a v1alpha timeWindows list: [{count, unit, isRolling}];
// absent, the period is 30d.
func (w *walker) openSLOAlphaWindow(n *yaml.Node, path string) (time.Duration, *yaml.Node) {
	items, _ := w.seqAt(n, path)
	if len(items) == 0 {
		return DefaultPeriod, nil
	}
	if len(items) > 1 {
		w.Errf(items[1], strictyaml.Index(path, 1), "slokit reads exactly one time window: split the SLO into one per window")
	}
	ip := strictyaml.Index(path, 0)
	f, ok := w.Fields(items[0], ip, "count", "unit", "isRolling", "calendar")
	if !ok {
		return 0, nil
	}
	item := w.Resolve(items[0])
	if cal := f["calendar"]; cal != nil {
		w.Errf(w.Resolve(cal), strictyaml.Join(ip, "calendar"), "calendar-aligned windows are not supported: burn-rate alerts need a rolling window")
	}
	if rolling, rn := w.boolAt(f["isRolling"], strictyaml.Join(ip, "isRolling")); rn != nil && !rolling {
		w.Errf(rn, strictyaml.Join(ip, "isRolling"), "must be true: burn-rate alerts need a rolling window")
	}
	count, unit := w.scalarAt(f["count"], strictyaml.Join(ip, "count")), w.scalarAt(f["unit"], strictyaml.Join(ip, "unit"))
	if !count.set() || !unit.set() {
		w.Missing(item, strictyaml.Join(ip, "count"), "required: count and unit, like {count: 30, unit: Day}")
		return 0, nil
	}
	return w.windowLength(count.Value, unit.Value, count.Node, strictyaml.Join(ip, "count")), count.Node
}

// openSLOObjectives reads v1 objectives: each a target ratio (or targetPercent).
func (w *walker) openSLOObjectives(n, parent *yaml.Node, path string) []openSLOTarget {
	items, list := w.seqAt(n, path)
	if len(items) == 0 {
		w.Missing(firstNode(list, parent), path, "required: at least one objective, like [{target: 0.999}]")
		return nil
	}
	var out []openSLOTarget
	for i, item := range items {
		ip := strictyaml.Index(path, i)
		f, ok := w.Fields(item, ip, "displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight")
		if !ok {
			continue
		}
		w.objectiveExtras(f, ip)
		if t, ok := w.openSLOTargetAt(f, w.Resolve(item), ip); ok {
			out = append(out, t)
		}
	}
	return out
}

// objectiveExtras refuses the objective fields slokit cannot honour.
func (w *walker) objectiveExtras(f map[string]*yaml.Node, ip string) {
	for _, k := range []string{"op", "value"} {
		if v := f[k]; v != nil {
			w.Warnf(w.Resolve(v), strictyaml.Join(ip, k), "ignored: %s applies to thresholdMetric SLIs only", k)
		}
	}
	for _, k := range []string{"timeSliceTarget", "timeSliceWindow"} {
		if v := f[k]; v != nil {
			w.Errf(w.Resolve(v), strictyaml.Join(ip, k), "%s applies to the Timeslices budgeting method, which slokit does not support", k)
		}
	}
	for _, k := range []string{"indicator", "indicatorRef", "compositeWeight"} {
		if v := f[k]; v != nil {
			w.Errf(w.Resolve(v), strictyaml.Join(ip, k), "composite objectives are not supported: give the SLI in spec.indicator")
		}
	}
}

func (w *walker) openSLOTargetAt(f map[string]*yaml.Node, item *yaml.Node, ip string) (openSLOTarget, bool) {
	t, tp := w.scalarAt(f["target"], strictyaml.Join(ip, "target")), w.scalarAt(f["targetPercent"], strictyaml.Join(ip, "targetPercent"))
	switch {
	case t.set() && tp.set():
		w.Errf(tp.Node, strictyaml.Join(ip, "targetPercent"), "set either target or targetPercent, not both")
	case tp.set():
		r, ok := w.objectiveAt(tp, item, strictyaml.Join(ip, "targetPercent"))
		return openSLOTarget{target: r, node: tp.Node, path: strictyaml.Join(ip, "targetPercent")}, ok
	case t.set():
		r := w.ratioAt(t, strictyaml.Join(ip, "target"))
		return openSLOTarget{target: r, node: t.Node, path: strictyaml.Join(ip, "target")}, r > 0
	default:
		w.Missing(item, strictyaml.Join(ip, "target"), "required: the objective as a ratio, like 0.999 (or targetPercent: 99.9)")
	}
	return openSLOTarget{}, false
}

// ratioAt reads an OpenSLO target ratio in (0,1).
func (w *walker) ratioAt(s scalar, path string) float64 {
	if s.Tag != "!!int" && s.Tag != "!!float" {
		w.Errf(s.Node, path, "must be a ratio like 0.999, got %s", strictyaml.KindName(s.Node))
		return 0
	}
	var r float64
	if err := s.Node.Decode(&r); err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		w.Errf(s.Node, path, "must be a ratio like 0.999, got %s", s.Value)
		return 0
	}
	switch {
	case r >= 1 && r < 100:
		w.Errf(s.Node, path, "must be a ratio below 1, got %s: for %s%% write target: %s or targetPercent: %s", s.Value, s.Value, strconv.FormatFloat(r/100, 'g', 10, 64), s.Value)
		return 0
	case r >= 1:
		w.Errf(s.Node, path, "must be a ratio below 1, got %s: a target of 1 leaves no error budget", s.Value)
		return 0
	case r <= 0:
		w.Errf(s.Node, path, "must be a ratio above 0, like 0.999, got %s", s.Value)
		return 0
	}
	return r
}

// openSLOAlphaObjectives reads v1alpha objectives: each a target with its own
// ratioMetrics ({good, total, counter}, each {source, queryType, query}).
func (w *walker) openSLOAlphaObjectives(n, parent *yaml.Node, path string) []openSLOTarget {
	items, list := w.seqAt(n, path)
	if len(items) == 0 {
		w.Missing(firstNode(list, parent), path, "required: at least one objective with ratioMetrics and target")
		return nil
	}
	var out []openSLOTarget
	for i, item := range items {
		ip := strictyaml.Index(path, i)
		f, ok := w.Fields(item, ip, "displayName", "op", "value", "target", "timeSliceTarget", "ratioMetrics")
		if !ok {
			continue
		}
		w.objectiveExtras(f, ip)
		t, ok := w.openSLOTargetAt(f, w.Resolve(item), ip)
		rp := strictyaml.Join(ip, "ratioMetrics")
		if strictyaml.IsNull(w.Resolve(f["ratioMetrics"])) {
			w.Missing(w.Resolve(item), rp, "required: ratioMetrics with good and total queries")
			continue
		}
		t.sli = w.openSLOAlphaRatio(f["ratioMetrics"], rp)
		if ok {
			out = append(out, t)
		}
	}
	return out
}
