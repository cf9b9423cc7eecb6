package engine

import (
	"errors"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// The fast evaluator computes a rule's range query over all steps at once, with
// cumulative sums and sliding windows instead of one window scan per step. It interprets
// the PromQL AST generically: number literals, vector selectors, rate/increase,
// sum/avg/count/min/max_over_time, absent, vector, sum/avg/count/min/max aggregations
// with by/without, arithmetic and comparison operators (one-to-one matching, bool) and
// and/or/unless. Anything else (offsets, @, subqueries, group_left, other functions,
// duplicate label sets) returns errUnsupported and the rule is evaluated by the PromQL
// engine instead. Its results equal the engine's (TestFastEvaluatorAgrees* and
// FuzzFastEvaluatorAgrees compare them), up to float rounding of the window sums.

// errUnsupported says an expression is outside what the fast evaluator handles.
var errUnsupported = errors.New("not supported by the fast evaluator")

// fser is one series of an instant vector over every step: its value and presence.
type fser struct {
	lset labels.Labels
	v    []float64
	ok   []bool
}

// fval is an expression's value over every step: a scalar (non-nil sc) or a vector.
type fval struct {
	sc  []float64
	vec []fser
}

// fastEval evaluates expressions at n steps: start, start+step, … (milliseconds).
type fastEval struct {
	store       *Store
	start, step int64
	n           int
	lookback    int64
	// cache holds the clean samples of each range selector read (see series).
	cache map[string][]*rangeSeries
}

func (f *fastEval) at(k int) int64 { return f.start + int64(k)*f.step }

func (f *fastEval) newSer(l labels.Labels) fser {
	return fser{lset: l, v: make([]float64, f.n), ok: make([]bool, f.n)}
}

// matrix evaluates expr and returns it as a range query's result, sorted by labels.
func (f *fastEval) matrix(expr parser.Expr) (promql.Matrix, error) {
	v, err := f.eval(expr)
	if err != nil {
		return nil, err
	}
	if v.sc != nil {
		s := f.newSer(labels.EmptyLabels())
		copy(s.v, v.sc)
		for k := range s.ok {
			s.ok[k] = true
		}
		v.vec = []fser{s}
	}
	out := make(promql.Matrix, 0, len(v.vec))
	for _, s := range v.vec {
		n := 0
		for _, ok := range s.ok {
			if ok {
				n++
			}
		}
		if n == 0 {
			continue
		}
		pts := make([]promql.FPoint, 0, n)
		for k, ok := range s.ok {
			if ok {
				pts = append(pts, promql.FPoint{T: f.at(k), F: s.v[k]})
			}
		}
		out = append(out, promql.Series{Metric: s.lset, Floats: pts})
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Metric, out[j].Metric) < 0 })
	return out, nil
}

func (f *fastEval) eval(e parser.Expr) (fval, error) {
	switch x := e.(type) {
	case *parser.NumberLiteral:
		sc := make([]float64, f.n)
		for k := range sc {
			sc[k] = x.Val
		}
		return fval{sc: sc}, nil
	case *parser.ParenExpr:
		return f.eval(x.Expr)
	case *parser.UnaryExpr:
		return f.unary(x)
	case *parser.VectorSelector:
		return f.selector(x)
	case *parser.Call:
		return f.call(x)
	case *parser.AggregateExpr:
		return f.aggregate(x)
	case *parser.BinaryExpr:
		return f.binary(x)
	}
	return fval{}, errUnsupported
}

func (f *fastEval) unary(x *parser.UnaryExpr) (fval, error) {
	v, err := f.eval(x.Expr)
	if err != nil || x.Op == parser.ADD {
		return v, err
	}
	if v.sc != nil {
		for k := range v.sc {
			v.sc[k] = -v.sc[k]
		}
		return v, nil
	}
	for i := range v.vec {
		v.vec[i].lset = dropName(v.vec[i].lset)
		for k := range v.vec[i].v {
			v.vec[i].v[k] = -v.vec[i].v[k]
		}
	}
	return mergeSame(v)
}

// plain reports whether vs reads the store as the fast evaluator can: at most a fixed
// offset, no @ modifier, no smoothing.
func plain(vs *parser.VectorSelector) bool {
	return vs.OriginalOffsetExpr == nil && vs.Timestamp == nil &&
		vs.StartOrEnd == 0 && !vs.Anchored && !vs.Smoothed
}

// selector evaluates an instant vector selector: at each step the newest sample within
// the lookback delta (left-open), none if it is a staleness marker.
func (f *fastEval) selector(vs *parser.VectorSelector) (fval, error) {
	if !plain(vs) {
		return fval{}, errUnsupported
	}
	off := vs.OriginalOffset.Milliseconds()
	q := &querier{s: f.store, mint: f.start - off - f.lookback + 1, maxt: f.at(f.n-1) - off}
	snaps := q.match(vs.LabelMatchers...)
	sort.Slice(snaps, func(i, j int) bool { return labels.Compare(snaps[i].lset, snaps[j].lset) < 0 })
	out := make([]fser, 0, len(snaps))
	for _, sn := range snaps {
		s := f.newSer(sn.lset)
		j := 0
		for k := 0; k < f.n; k++ {
			t := f.at(k) - off
			for j < len(sn.ts) && sn.ts[j] <= t {
				j++
			}
			if j == 0 || sn.ts[j-1] <= t-f.lookback || value.IsStaleNaN(sn.vs[j-1]) {
				continue
			}
			s.v[k], s.ok[k] = sn.vs[j-1], true
		}
		out = append(out, s)
	}
	return fval{vec: out}, nil
}

// dropName removes the metric name (and the other metadata labels), as functions and
// arithmetic do.
func dropName(l labels.Labels) labels.Labels {
	if l.Get(labels.MetricName) == "" && l.Get("__type__") == "" && l.Get("__unit__") == "" {
		return l
	}
	return labels.NewBuilder(l).Del(labels.MetricName, "__type__", "__unit__").Labels()
}

// mergeSame joins series of a vector that have the same labels (as "x or vector(0)"
// yields); when two are present at the same step the engine reports an error, so the
// expression is left to it.
func mergeSame(v fval) (fval, error) {
	if v.sc != nil || len(v.vec) < 2 {
		return v, nil
	}
	byHash := map[uint64]int{}
	out := v.vec[:0]
	for _, s := range v.vec {
		h := s.lset.Hash()
		i, seen := byHash[h]
		if !seen {
			byHash[h] = len(out)
			out = append(out, s)
			continue
		}
		if !labels.Equal(out[i].lset, s.lset) {
			return fval{}, errUnsupported
		}
		for k, ok := range s.ok {
			if !ok {
				continue
			}
			if out[i].ok[k] {
				return fval{}, errUnsupported
			}
			out[i].v[k], out[i].ok[k] = s.v[k], true
		}
	}
	return fval{vec: out}, nil
}
