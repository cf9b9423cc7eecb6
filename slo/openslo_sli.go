package slo

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/slokit/slokit/internal/strictyaml"

	"go.yaml.in/yaml/v3"
)

// eventsQuery is one side of a ratio (good, bad or total), windowed.
type eventsQuery struct {
	tmpl     string // PromQL template with {{.window}}
	selector string // the bare series selector, when the query was one
	node     *yaml.Node
	path     string
}

// openSLOIndicator converts a v1 SLI spec holding a ratioMetric.
func (w *walker) openSLOIndicator(n, parent *yaml.Node, path string, refs *openSLORefs) SLI {
	f, ok := w.Fields(n, path, "description", "thresholdMetric", "ratioMetric")
	if !ok {
		return SLI{}
	}
	if t := f["thresholdMetric"]; t != nil {
		w.Errf(w.Resolve(t), strictyaml.Join(path, "thresholdMetric"), "thresholdMetric SLIs are not supported: burn-rate alerts need a ratioMetric of good (or bad) and total events")
		return SLI{}
	}
	rp := strictyaml.Join(path, "ratioMetric")
	rm := f["ratioMetric"]
	if rm == nil {
		w.Missing(firstNode(w.Resolve(n), parent), rp, "required: a ratioMetric with good (or bad) and total")
		return SLI{}
	}
	g, ok := w.Fields(rm, rp, "counter", "good", "bad", "total", "rawType", "raw")
	if !ok {
		return SLI{}
	}
	rmNode := w.Resolve(rm)
	counter, cn := w.boolAt(g["counter"], strictyaml.Join(rp, "counter"))
	if cn == nil {
		counter = true // OpenSLO's examples omit it for Prometheus counters
	}
	for _, k := range []string{"raw", "rawType"} {
		if v := g[k]; v != nil {
			w.Errf(w.Resolve(v), strictyaml.Join(rp, k), "precomputed ratios cannot be burn-rate alerted exactly (an average of ratios is not the traffic-weighted ratio over a window): give good (or bad) and total event counts")
			return SLI{}
		}
	}
	good, bad := g["good"], g["bad"]
	switch {
	case good != nil && bad != nil:
		w.Errf(w.Resolve(bad), strictyaml.Join(rp, "bad"), "set either good or bad, not both")
		return SLI{}
	case good == nil && bad == nil:
		w.Missing(rmNode, strictyaml.Join(rp, "good"), "required: good or bad, with total")
		return SLI{}
	}
	total := w.openSLOMetric(g["total"], rmNode, strictyaml.Join(rp, "total"), counter, refs)
	if bad != nil {
		return w.ratioSLI(false, w.openSLOMetric(bad, rmNode, strictyaml.Join(rp, "bad"), counter, refs), total, counter)
	}
	return w.ratioSLI(true, w.openSLOMetric(good, rmNode, strictyaml.Join(rp, "good"), counter, refs), total, counter)
}

// ratioSLI builds the SLI of good (or bad) and total events: bad and total counter
// selectors make an events SLI; anything else a raw error ratio of the windowed queries.
func (w *walker) ratioSLI(good bool, part, total eventsQuery, counter bool) SLI {
	if part.tmpl == "" || total.tmpl == "" {
		return SLI{}
	}
	if part.tmpl == total.tmpl {
		what := "no event could ever be bad: add the matcher that singles out good events, like code!~\"5..\""
		if !good {
			what = "every event would count as bad: add the matcher that singles out bad events, like code=~\"5..\""
		}
		w.Errf(part.node, part.path, "selects the same events as total, so %s", what)
		return SLI{}
	}
	if !good && counter && part.selector != "" && total.selector != "" {
		return SLI{Events: &EventsSLI{Bad: part.selector, Total: total.selector}}
	}
	t, err := w.ratioTemplate(part.tmpl, total.tmpl, good)
	if err != nil {
		w.Errf(part.node, part.path, "cannot build the error ratio: %v", err)
		return SLI{}
	}
	return SLI{Raw: &RawSLI{ErrorRatio: t}}
}

// ratioTemplate builds part / total (1 - good / total) on the PromQL AST, with
// parentheses only where precedence needs them. Two sides aggregated differently are an
// error.
func (w *walker) ratioTemplate(part, total string, good bool) (string, error) {
	return w.ratioTemplateCheck(part, total, good, true)
}

func (w *walker) ratioTemplateCheck(part, total string, good, strict bool) (string, error) {
	parse := func(t string) (parser.Expr, error) {
		e, err := w.promql().ParseExpr(strings.ReplaceAll(t, WindowPlaceholder, windowSentinel))
		if _, bin := e.(*parser.BinaryExpr); err == nil && bin {
			e = &parser.ParenExpr{Expr: e}
		}
		return e, err
	}
	p, err := parse(part)
	if err != nil {
		return "", err
	}
	t, err := parse(total)
	if err != nil {
		return "", err
	}
	if msg := groupMismatch(p, t); msg != "" && strict {
		return "", errors.New(msg)
	}
	var e parser.Expr = &parser.BinaryExpr{Op: parser.DIV, LHS: p, RHS: t}
	if good {
		e = &parser.BinaryExpr{Op: parser.SUB, LHS: &parser.NumberLiteral{Val: 1}, RHS: &parser.ParenExpr{Expr: e}}
	}
	return strings.ReplaceAll(e.String(), windowSentinel, WindowPlaceholder), nil
}

// openSLOMetric reads {metricSource: {metricSourceRef?, type?, spec: {query: …}}}.
func (w *walker) openSLOMetric(n, parent *yaml.Node, path string, counter bool, refs *openSLORefs) eventsQuery {
	if n == nil {
		w.Missing(parent, path, "required: {metricSource: {type: Prometheus, spec: {query: <PromQL>}}}")
		return eventsQuery{}
	}
	f, ok := w.Fields(n, path, "metricSource")
	if !ok {
		return eventsQuery{}
	}
	mp := strictyaml.Join(path, "metricSource")
	ms := f["metricSource"]
	if ms == nil {
		w.Missing(w.Resolve(n), mp, "required: {type: Prometheus, spec: {query: <PromQL>}}")
		return eventsQuery{}
	}
	g, ok := w.Fields(ms, mp, "metricSourceRef", "type", "spec")
	if !ok {
		return eventsQuery{}
	}
	msNode := w.Resolve(ms)
	typ := w.scalarAt(g["type"], strictyaml.Join(mp, "type"))
	if !w.prometheusSource(typ, w.scalarAt(g["metricSourceRef"], strictyaml.Join(mp, "metricSourceRef")), msNode, mp, refs) {
		return eventsQuery{}
	}
	q := w.openSLOQueryKey(g["spec"], firstNode(w.Resolve(g["spec"]), msNode), strictyaml.Join(mp, "spec"))
	qp := strictyaml.Join(mp, "spec.query")
	if q.Node != nil && q.Node.Line > 0 {
		qp = strictyaml.Join(mp, "spec."+keyOf(w.Resolve(g["spec"]), q.Node))
	}
	return w.eventsQueryAt(q, qp, counter)
}

// prometheusSource checks that a metric source is Prometheus: its type, or the type of
// the DataSource its metricSourceRef names.
func (w *walker) prometheusSource(typ, ref scalar, at *yaml.Node, path string, refs *openSLORefs) bool {
	if typ.set() && !strings.EqualFold(typ.Value, "Prometheus") {
		w.Errf(typ.Node, strictyaml.Join(path, "type"), "metric source %q is not supported: slokit's rules run in Prometheus; give a Prometheus query", typ.Value)
		return false
	}
	if !ref.set() {
		if !typ.set() {
			w.Missing(at, strictyaml.Join(path, "type"), "required: Prometheus (or a metricSourceRef to a DataSource of type Prometheus)")
			return false
		}
		return true
	}
	ds, found := refs.get("DataSource", ref.Value)
	if !found {
		if typ.set() {
			return true // the type says Prometheus; the connection details are not needed
		}
		w.Errf(ref.Node, strictyaml.Join(path, "metricSourceRef"), "no kind: DataSource named %q in the files given: add its file, or write type: Prometheus", ref.Value)
		return false
	}
	ok := true
	w.inObject(ds, ref.Node, strictyaml.Join(path, "metricSourceRef"), "DataSource", func(ow *walker) {
		sp := strictyaml.Join(ds.Path, "spec")
		h, fine := ow.Fields(ds.Spec, sp, "description", "type", "connectionDetails")
		t := ow.scalarAt(h["type"], strictyaml.Join(sp, "type"))
		switch {
		case !fine:
			ok = false
		case !t.set():
			ow.Missing(firstNode(ow.Resolve(ds.Spec), ds.Node), strictyaml.Join(sp, "type"), "required: Prometheus")
			ok = false
		case !strings.EqualFold(t.Value, "Prometheus"):
			ow.Errf(t.Node, strictyaml.Join(sp, "type"), "data source type %q is not supported: slokit's rules run in Prometheus", t.Value)
			ok = false
		}
	})
	return ok
}

// openSLOQueryKeys are the keys of a free-form metricSource.spec that hold the query.
var openSLOQueryKeys = []string{"query", "promql"}

// openSLOQueryKey reads the query of a free-form metricSource.spec: the value of "query"
// (or "promql"); other keys are ignored with a warning.
func (w *walker) openSLOQueryKey(n, parent *yaml.Node, path string) scalar {
	n = w.Resolve(n)
	if strictyaml.IsNull(n) || n.Kind != yaml.MappingNode {
		if !strictyaml.IsNull(n) {
			w.Errf(n, path, "must be a mapping with the query, like {query: 'http_requests_total{code=~\"5..\"}'}, got %s", strictyaml.KindName(n))
		} else {
			w.Missing(parent, strictyaml.Join(path, "query"), "required: the PromQL query")
		}
		return scalar{}
	}
	var q scalar
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		kp := strictyaml.Join(path, k.Value)
		switch {
		case slices.Contains(openSLOQueryKeys, k.Value) && q.set():
			w.Errf(k, kp, "the query is already given by %s: keep one", q.Node.Value)
		case slices.Contains(openSLOQueryKeys, k.Value):
			q = w.scalarAt(n.Content[i+1], kp)
		default:
			w.Warnf(k, kp, "ignored: slokit reads the query from %s only", strings.Join(openSLOQueryKeys, " or "))
		}
	}
	if !q.set() {
		w.Missing(n, strictyaml.Join(path, "query"), "required: the PromQL query")
	}
	return q
}

// eventsQueryAt windows a query at path: a Sloth-style template with {{.window}} is
// kept; any other PromQL is rewritten (rewrite.go), or refused with the reason.
func (w *walker) eventsQueryAt(q scalar, path string, counter bool) eventsQuery {
	out := eventsQuery{node: q.Node, path: path}
	if !q.set() {
		return out
	}
	if q.Tag != "!!str" || strings.TrimSpace(q.Value) == "" {
		w.Errf(q.Node, path, "must be a PromQL query, got %s", strictyaml.KindName(q.Node))
		return out
	}
	if strings.Contains(q.Value, "{{") {
		out.tmpl = w.templateAt(q, q.Node, path, "the query")
		return out
	}
	tmpl, sel, err := w.windowed(strings.TrimSpace(q.Value), counter)
	if err != nil {
		w.Errf(q.Node, path, "cannot be turned into events per window: %v", err)
		return out
	}
	out.tmpl, out.selector = tmpl, sel
	return out
}

// openSLOAlphaRatio reads v1alpha ratioMetrics: {counter, good, total}, each {source:
// prometheus (or sloth), queryType: promql, query}.
func (w *walker) openSLOAlphaRatio(n *yaml.Node, path string) SLI {
	f, ok := w.Fields(n, path, "counter", "good", "total", "incremental")
	if !ok {
		return SLI{}
	}
	counter, cn := w.boolAt(f["counter"], strictyaml.Join(path, "counter"))
	if cn == nil {
		counter = true
	}
	at := w.Resolve(n)
	good := w.alphaQuery(f["good"], at, strictyaml.Join(path, "good"), counter)
	total := w.alphaQuery(f["total"], at, strictyaml.Join(path, "total"), counter)
	return w.ratioSLI(true, good, total, counter)
}

func (w *walker) alphaQuery(n, parent *yaml.Node, path string, counter bool) eventsQuery {
	if strictyaml.IsNull(w.Resolve(n)) {
		w.Missing(parent, path, "required: {source: prometheus, queryType: promql, query: <PromQL>}")
		return eventsQuery{}
	}
	f, ok := w.Fields(n, path, "source", "queryType", "query", "metadata")
	if !ok {
		return eventsQuery{}
	}
	src, qt := w.scalarAt(f["source"], strictyaml.Join(path, "source")), w.scalarAt(f["queryType"], strictyaml.Join(path, "queryType"))
	if src.set() && !strings.EqualFold(src.Value, "prometheus") && src.Value != "sloth" {
		w.Errf(src.Node, strictyaml.Join(path, "source"), "source %q is not supported: slokit's rules run in Prometheus", src.Value)
		return eventsQuery{}
	}
	if qt.set() && !strings.EqualFold(qt.Value, "promql") {
		w.Errf(qt.Node, strictyaml.Join(path, "queryType"), "query type %q is not supported: give PromQL (queryType: promql)", qt.Value)
		return eventsQuery{}
	}
	q := w.scalarAt(f["query"], strictyaml.Join(path, "query"))
	if !q.set() {
		w.Missing(w.Resolve(n), strictyaml.Join(path, "query"), "required: the PromQL query")
		return eventsQuery{}
	}
	return w.eventsQueryAt(q, strictyaml.Join(path, "query"), counter)
}

// keyOf returns the key under which value sits in mapping n.
func keyOf(n, value *yaml.Node) string {
	if n != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i+1] == value {
				return n.Content[i].Value
			}
		}
	}
	return "query"
}

// groupMismatch explains why part / total would match no series, or returns "".
func groupMismatch(p, t parser.Expr) string {
	if gp, gt := groupings(p), groupings(t); gp != gt {
		return fmt.Sprintf("it aggregates with %s but total with %s: their ratio would match no series; group both alike", cmp.Or(gp, "nothing"), cmp.Or(gt, "nothing"))
	}
	return ""
}
