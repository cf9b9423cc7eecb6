package slo

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// OpenSLO alert policies → slokit tiers. A burn-rate AlertCondition (threshold B over
// lookbackWindow L) is the tier "B× over L and L/12", the Workbook's short window; its
// severity decides page or ticket. Everything else an AlertPolicy says (notification
// targets, alertAfter, alerting on no data or on resolution) is reported as ignored.

// pageSeverities are the AlertCondition severities that page; any other is a ticket.
var pageSeverities = []string{"page", "critical", "sev1", "sev-1", "p1", "high", "urgent", "emergency"}

// openSLOAlertPolicies reads spec.alertPolicies (names, {alertPolicyRef}, or inline
// AlertPolicy objects) into tiers; nil means slokit's default tiers.
func (w *walker) openSLOAlertPolicies(n *yaml.Node, path string, refs *openSLORefs, period time.Duration) []Window {
	items, _ := w.seqAt(n, path)
	var out []Window
	for i, item := range items {
		ip := strictyaml.Index(path, i)
		item = w.Resolve(item)
		if item == nil {
			continue
		}
		name := scalar{}
		if item.Kind == yaml.ScalarNode {
			name = w.scalarAt(item, ip)
		} else if v := lookup(item, "alertPolicyRef"); v != nil {
			if _, ok := w.Fields(item, ip, "alertPolicyRef"); ok {
				name = scalar{Value: v.Value, Tag: v.Tag, Node: v}
			}
		} else {
			out = append(out, w.alertPolicy(item, ip, refs, period)...)
			continue
		}
		if !name.set() {
			continue
		}
		pol, found := refs.get("AlertPolicy", name.Value)
		if !found {
			w.Errf(name.Node, ip, "no kind: AlertPolicy named %q in the files given: add its file, or remove the reference to use slokit's default tiers", name.Value)
			continue
		}
		w.inObject(pol, name.Node, ip, "AlertPolicy", func(ow *walker) {
			out = append(out, ow.alertPolicySpec(pol.Spec, pol.Node, strictyaml.Join(pol.Path, "spec"), refs, period)...)
		})
	}
	return dedupeWindows(out)
}

// alertPolicy reads an inline {kind: AlertPolicy, metadata, spec}.
func (w *walker) alertPolicy(n *yaml.Node, path string, refs *openSLORefs, period time.Duration) []Window {
	f, ok := w.Fields(n, path, "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return nil
	}
	if k := w.scalarAt(f["kind"], strictyaml.Join(path, "kind")); k.set() && k.Value != "AlertPolicy" {
		w.Errf(k.Node, strictyaml.Join(path, "kind"), "must be AlertPolicy, got %q", k.Value)
		return nil
	}
	return w.alertPolicySpec(f["spec"], n, strictyaml.Join(path, "spec"), refs, period)
}

func (w *walker) alertPolicySpec(n, parent *yaml.Node, path string, refs *openSLORefs, period time.Duration) []Window {
	f, ok := w.Fields(n, path, "description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions", "notificationTargets")
	if !ok {
		return nil
	}
	for _, k := range []string{"notificationTargets", "alertWhenNoData", "alertWhenResolved"} {
		if v := w.Resolve(f[k]); !strictyaml.IsNull(v) {
			w.Warnf(v, strictyaml.Join(path, k), "ignored: slokit's alerts fire on burn rates, resolve on their own and are routed by Alertmanager (slokit generate -o alertmanager)")
		}
	}
	cp := strictyaml.Join(path, "conditions")
	items, list := w.seqAt(f["conditions"], cp)
	if len(items) == 0 {
		w.Missing(firstNode(list, w.Resolve(n), parent), cp, "required: at least one burn-rate condition")
		return nil
	}
	var out []Window
	for i, item := range items {
		ip := strictyaml.Index(cp, i)
		item = w.Resolve(item)
		if v := lookup(item, "conditionRef"); v != nil {
			if _, ok := w.Fields(item, ip, "conditionRef"); !ok {
				continue
			}
			cond, found := refs.get("AlertCondition", v.Value)
			if !found {
				w.Errf(v, strictyaml.Join(ip, "conditionRef"), "no kind: AlertCondition named %q in the files given: add its file", v.Value)
				continue
			}
			w.inObject(cond, v, strictyaml.Join(ip, "conditionRef"), "AlertCondition", func(ow *walker) {
				out = append(out, ow.alertCondition(cond.Spec, cond.Node, strictyaml.Join(cond.Path, "spec"), period)...)
			})
			continue
		}
		g, ok := w.Fields(item, ip, "kind", "metadata", "spec")
		if ok {
			out = append(out, w.alertCondition(g["spec"], item, strictyaml.Join(ip, "spec"), period)...)
		}
	}
	return out
}

// alertCondition reads an AlertCondition spec: {severity, condition: {kind: burnrate,
// op, threshold, lookbackWindow, alertAfter}}.
func (w *walker) alertCondition(n, parent *yaml.Node, path string, period time.Duration) []Window {
	f, ok := w.Fields(n, path, "description", "severity", "condition")
	if !ok {
		return nil
	}
	at := firstNode(w.Resolve(n), parent)
	sev := w.scalarAt(f["severity"], strictyaml.Join(path, "severity"))
	cp := strictyaml.Join(path, "condition")
	g, ok := w.Fields(f["condition"], cp, "kind", "op", "threshold", "lookbackWindow", "alertAfter")
	if !ok {
		return nil
	}
	cn := firstNode(w.Resolve(f["condition"]), at)
	kind := w.scalarAt(g["kind"], strictyaml.Join(cp, "kind"))
	if !strings.EqualFold(kind.Value, "burnrate") {
		w.Errf(firstNode(kind.Node, cn), strictyaml.Join(cp, "kind"), "only burnrate conditions can be mapped to slokit's tiers, got %q", kind.Value)
		return nil
	}
	if op := w.scalarAt(g["op"], strictyaml.Join(cp, "op")); op.set() && op.Value != "gt" && op.Value != "gte" {
		w.Errf(op.Node, strictyaml.Join(cp, "op"), "a burn-rate alert fires when the rate is above the threshold: use gt or gte, got %q", op.Value)
		return nil
	}
	if a := w.scalarAt(g["alertAfter"], strictyaml.Join(cp, "alertAfter")); a.set() {
		w.Warnf(a.Node, strictyaml.Join(cp, "alertAfter"), "ignored: slokit's tiers confirm a burn with a short window (lookbackWindow/12) instead of waiting")
	}
	th := w.scalarAt(g["threshold"], strictyaml.Join(cp, "threshold"))
	var rate float64
	if !th.set() || th.Node.Decode(&rate) != nil || math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0 {
		w.Errf(firstNode(th.Node, cn), strictyaml.Join(cp, "threshold"), "required: the burn-rate threshold, a number above 0 like 14.4")
		return nil
	}
	lw := w.scalarAt(g["lookbackWindow"], strictyaml.Join(cp, "lookbackWindow"))
	long, err := model.ParseDuration(strings.TrimSpace(lw.Value))
	switch {
	case !lw.set():
		w.Missing(cn, strictyaml.Join(cp, "lookbackWindow"), "required: the window the burn rate is measured over, like 1h")
		return nil
	case err != nil || long <= 0:
		w.Errf(lw.Node, strictyaml.Join(cp, "lookbackWindow"), "%q is not a duration like 1h", lw.Value)
		return nil
	case period > 0 && time.Duration(long) > period:
		w.Errf(lw.Node, strictyaml.Join(cp, "lookbackWindow"), "%s is longer than the SLO's time window (%s)", lw.Value, FormatWindow(period))
		return nil
	}
	win := Window{Severity: Ticket, Long: time.Duration(long), Short: (time.Duration(long) / 12).Round(time.Second), BurnRate: rate}
	if win.Short < time.Second {
		win.Short = time.Second
	}
	if slices.Contains(pageSeverities, strings.ToLower(sev.Value)) {
		win.Severity = Page
	}
	return []Window{win}
}

func dedupeWindows(in []Window) []Window {
	var out []Window
	seen := map[Window]bool{}
	for _, w := range in {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
