package engine

import (
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func (f *fastEval) binary(x *parser.BinaryExpr) (fval, error) {
	lhs, err := f.eval(x.LHS)
	if err != nil {
		return fval{}, err
	}
	rhs, err := f.eval(x.RHS)
	if err != nil {
		return fval{}, err
	}
	switch {
	case lhs.sc != nil && rhs.sc != nil:
		out := make([]float64, f.n)
		for k := range out {
			v, keep, err := elemOp(x.Op, lhs.sc[k], rhs.sc[k])
			if err != nil {
				return fval{}, err
			}
			if x.Op.IsComparisonOperator() {
				v = 0
				if keep {
					v = 1
				}
			}
			out[k] = v
		}
		return fval{sc: out}, nil
	case lhs.sc != nil || rhs.sc != nil:
		return f.vectorScalar(x, lhs, rhs)
	}
	m := x.VectorMatching
	if m == nil || m.Card == parser.CardOneToMany || m.Card == parser.CardManyToOne || len(m.Include) > 0 {
		return fval{}, errUnsupported
	}
	switch x.Op {
	case parser.LAND, parser.LOR, parser.LUNLESS:
		return f.setOp(x.Op, m, lhs.vec, rhs.vec)
	}
	return f.vectorVector(x, m, lhs.vec, rhs.vec)
}

// vectorScalar applies op between every series and a scalar (Prometheus'
// VectorscalarBinop): comparisons keep the vector's value, arithmetic and bool drop the
// metric name.
func (f *fastEval) vectorScalar(x *parser.BinaryExpr, lhs, rhs fval) (fval, error) {
	vec, sc, swap := lhs.vec, rhs.sc, false
	if lhs.sc != nil {
		vec, sc, swap = rhs.vec, lhs.sc, true
	}
	cmp := x.Op.IsComparisonOperator()
	// The series are this evaluation's own: rewrite them in place.
	for i := range vec {
		s := &vec[i]
		if !cmp || x.ReturnBool {
			s.lset = dropName(s.lset)
		}
		for k := 0; k < f.n; k++ {
			if !s.ok[k] {
				continue
			}
			l, r := s.v[k], sc[k]
			if swap {
				l, r = r, l
			}
			v, keep, err := elemOp(x.Op, l, r)
			if err != nil {
				return fval{}, err
			}
			if cmp && swap {
				v = r
			}
			if x.ReturnBool {
				v, keep = 0, true
				if _, k2, _ := elemOp(x.Op, l, r); k2 {
					v = 1
				}
			}
			s.v[k], s.ok[k] = v, keep
		}
	}
	return mergeSame(fval{vec: vec})
}

// signature is a series' matching key under on/ignoring.
func signature(l labels.Labels, m *parser.VectorMatching) string {
	b := labels.NewBuilder(l)
	if m.On {
		b.Keep(m.MatchingLabels...)
	} else {
		b.Del(append([]string{labels.MetricName, "__type__", "__unit__"}, m.MatchingLabels...)...)
	}
	return b.Labels().String()
}

// setOp evaluates and, or and unless step by step over matching signatures.
func (f *fastEval) setOp(op parser.ItemType, m *parser.VectorMatching, lhs, rhs []fser) (fval, error) {
	lsig, rsig := make([]string, len(lhs)), make([]string, len(rhs))
	for i, s := range lhs {
		lsig[i] = signature(s.lset, m)
	}
	for i, s := range rhs {
		rsig[i] = signature(s.lset, m)
	}
	present := func(side []fser, sigs []string, sig string, k int) bool {
		for i, s := range side {
			if sigs[i] == sig && s.ok[k] {
				return true
			}
		}
		return false
	}
	if op == parser.LOR {
		// Decide the right-hand side first: it depends on the left one unchanged.
		for i := range rhs {
			s := &rhs[i]
			for k := 0; k < f.n; k++ {
				if s.ok[k] && present(lhs, lsig, rsig[i], k) {
					s.ok[k] = false
				}
			}
		}
		return mergeSame(fval{vec: append(lhs, rhs...)})
	}
	for i := range lhs {
		s := &lhs[i]
		for k := 0; k < f.n; k++ {
			if !s.ok[k] {
				continue
			}
			switch op {
			case parser.LAND:
				s.ok[k] = present(rhs, rsig, lsig[i], k)
			case parser.LUNLESS:
				s.ok[k] = !present(rhs, rsig, lsig[i], k)
			}
		}
	}
	return mergeSame(fval{vec: lhs})
}

// vectorVector applies an arithmetic or comparison operator with one-to-one matching.
// Two series of one side with the same signature present at one step is an error in the
// engine; such expressions are left to it.
func (f *fastEval) vectorVector(x *parser.BinaryExpr, m *parser.VectorMatching, lhs, rhs []fser) (fval, error) {
	bySig := map[string][]int{}
	for i, s := range rhs {
		sig := signature(s.lset, m)
		bySig[sig] = append(bySig[sig], i)
	}
	cmp := x.Op.IsComparisonOperator()
	var out []fser
	lhsSeen := map[string][]int{}
	for li, l := range lhs {
		sig := signature(l.lset, m)
		lhsSeen[sig] = append(lhsSeen[sig], li)
		lb := labels.NewBuilder(l.lset)
		if !cmp || x.ReturnBool {
			lb.Del(labels.MetricName, "__type__", "__unit__")
		}
		if m.On {
			lb.Keep(m.MatchingLabels...)
		} else {
			lb.Del(m.MatchingLabels...)
		}
		for _, ri := range bySig[sig] {
			o, err := f.pair(x, l, rhs[ri], lb.Labels())
			if err != nil {
				return fval{}, err
			}
			out = append(out, o)
		}
	}
	if duplicated(lhs, lhsSeen, f.n) || duplicated(rhs, bySig, f.n) {
		return fval{}, errUnsupported
	}
	return mergeSame(fval{vec: out})
}

func (f *fastEval) pair(x *parser.BinaryExpr, l, r fser, lset labels.Labels) (fser, error) {
	o := f.newSer(lset)
	for k := 0; k < f.n; k++ {
		if !l.ok[k] || !r.ok[k] {
			continue
		}
		v, keep, err := elemOp(x.Op, l.v[k], r.v[k])
		if err != nil {
			return fser{}, err
		}
		if x.ReturnBool {
			v, keep = 0, true
			if _, k2, _ := elemOp(x.Op, l.v[k], r.v[k]); k2 {
				v = 1
			}
		}
		if keep {
			o.v[k], o.ok[k] = v, true
		}
	}
	return o, nil
}

// duplicated reports whether two series sharing a signature are present at one step.
func duplicated(side []fser, bySig map[string][]int, n int) bool {
	for _, idx := range bySig {
		if len(idx) < 2 {
			continue
		}
		for k := 0; k < n; k++ {
			c := 0
			for _, i := range idx {
				if side[i].ok[k] {
					c++
				}
			}
			if c > 1 {
				return true
			}
		}
	}
	return false
}
