package engine

import (
	"math"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func (f *fastEval) call(x *parser.Call) (fval, error) {
	name := x.Func.Name
	switch name {
	case "rate", "increase", "sum_over_time", "avg_over_time", "count_over_time", "min_over_time", "max_over_time":
		ms, ok := x.Args[0].(*parser.MatrixSelector)
		if !ok || len(x.Args) != 1 {
			return fval{}, errUnsupported
		}
		switch name {
		case "rate", "increase":
			return f.rate(ms, name == "rate")
		case "min_over_time", "max_over_time":
			return f.extremum(ms, name == "min_over_time")
		}
		return f.sumLike(ms, name)
	case "vector":
		v, err := f.eval(x.Args[0])
		if err != nil || v.sc == nil {
			return fval{}, errUnsupported
		}
		s := f.newSer(labels.EmptyLabels())
		copy(s.v, v.sc)
		for k := range s.ok {
			s.ok[k] = true
		}
		return fval{vec: []fser{s}}, nil
	case "absent":
		return f.absent(x.Args[0])
	case "label_replace":
		return f.labelSet(x.Args)
	}
	return fval{}, errUnsupported
}

// labelSet is label_replace(v, dst, repl, "", "") with a literal repl: the empty regex
// matches the empty source label of every series, so dst is set to repl (removed when
// repl is empty) everywhere; the metric name stays. slokit's burn-rate rules name their
// windows this way. Any other label_replace is left to the engine.
func (f *fastEval) labelSet(args parser.Expressions) (fval, error) {
	if len(args) != 5 {
		return fval{}, errUnsupported
	}
	var lit [4]string
	for i := range lit {
		s, ok := args[i+1].(*parser.StringLiteral)
		if !ok {
			return fval{}, errUnsupported
		}
		lit[i] = s.Val
	}
	dst, repl := lit[0], lit[1]
	if lit[2] != "" || lit[3] != "" || strings.Contains(repl, "$") || !model.LabelName(dst).IsValidLegacy() {
		return fval{}, errUnsupported
	}
	v, err := f.eval(args[0])
	if err != nil || v.sc != nil {
		return fval{}, errUnsupported
	}
	for i := range v.vec {
		b := labels.NewBuilder(v.vec[i].lset)
		if repl == "" {
			b.Del(dst)
		} else {
			b.Set(dst, repl)
		}
		v.vec[i].lset = b.Labels()
	}
	return mergeSame(v)
}

// absent is 1 where its argument has no series, labelled by the argument's equality
// matchers when it is a selector (Prometheus' createLabelsForAbsentFunction).
func (f *fastEval) absent(arg parser.Expr) (fval, error) {
	v, err := f.eval(arg)
	if err != nil || v.sc != nil {
		return fval{}, errUnsupported
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	if vs, ok := arg.(*parser.VectorSelector); ok {
		has := map[string]bool{}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName {
				continue
			}
			if m.Type == labels.MatchEqual && !has[m.Name] {
				b.Set(m.Name, m.Value)
				has[m.Name] = true
			} else {
				b.Del(m.Name)
			}
		}
	}
	s := f.newSer(b.Labels())
	for k := range s.ok {
		s.ok[k], s.v[k] = true, 1
		for _, in := range v.vec {
			if in.ok[k] {
				s.ok[k] = false
				break
			}
		}
	}
	return fval{vec: []fser{s}}, nil
}

// aggregate evaluates sum, avg, count, min and max, by or without labels.
func (f *fastEval) aggregate(x *parser.AggregateExpr) (fval, error) {
	if x.Param != nil {
		return fval{}, errUnsupported
	}
	switch x.Op {
	case parser.SUM, parser.AVG, parser.COUNT, parser.MIN, parser.MAX:
	default:
		return fval{}, errUnsupported
	}
	in, err := f.eval(x.Expr)
	if err != nil || in.sc != nil {
		return fval{}, errUnsupported
	}
	var groups []fser
	members := map[uint64][]int{}
	index := map[uint64]int{}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for i, s := range in.vec {
		lb.Reset(s.lset)
		if x.Without {
			lb.Del(append([]string{labels.MetricName, "__type__", "__unit__"}, x.Grouping...)...)
		} else {
			lb.Keep(x.Grouping...)
		}
		l := lb.Labels()
		h := l.Hash()
		if _, ok := index[h]; !ok {
			index[h] = len(groups)
			groups = append(groups, f.newSer(l))
		}
		members[h] = append(members[h], i)
	}
	for h, gi := range index {
		g := &groups[gi]
		for k := 0; k < f.n; k++ {
			g.v[k], g.ok[k] = aggregateStep(x.Op, in.vec, members[h], k)
		}
	}
	return fval{vec: groups}, nil
}

// aggregateStep aggregates the present members at step k (Kahan-summed like Prometheus).
func aggregateStep(op parser.ItemType, vec []fser, members []int, k int) (float64, bool) {
	var sum, c, acc float64
	n := 0
	for _, i := range members {
		if !vec[i].ok[k] {
			continue
		}
		v := vec[i].v[k]
		if n == 0 {
			acc = v
		}
		n++
		switch op {
		case parser.SUM, parser.AVG:
			t := sum + v
			if math.Abs(sum) >= math.Abs(v) {
				c += (sum - t) + v
			} else {
				c += (v - t) + sum
			}
			sum = t
		case parser.MIN:
			if acc > v || math.IsNaN(acc) {
				acc = v
			}
		case parser.MAX:
			if acc < v || math.IsNaN(acc) {
				acc = v
			}
		}
	}
	if n == 0 {
		return 0, false
	}
	switch op {
	case parser.SUM:
		if math.IsInf(sum, 0) {
			return sum, true
		}
		return sum + c, true
	case parser.AVG:
		if math.IsInf(sum, 0) {
			return sum / float64(n), true
		}
		return (sum + c) / float64(n), true
	case parser.COUNT:
		return float64(n), true
	}
	return acc, true
}

// elemOp is Prometheus' vectorElemBinop for floats: the value and whether to keep it.
func elemOp(op parser.ItemType, l, r float64) (float64, bool, error) {
	switch op {
	case parser.ADD:
		return l + r, true, nil
	case parser.SUB:
		return l - r, true, nil
	case parser.MUL:
		return l * r, true, nil
	case parser.DIV:
		return l / r, true, nil
	case parser.POW:
		return math.Pow(l, r), true, nil
	case parser.MOD:
		return math.Mod(l, r), true, nil
	case parser.EQLC:
		return l, l == r, nil
	case parser.NEQ:
		return l, l != r, nil
	case parser.GTR:
		return l, l > r, nil
	case parser.LSS:
		return l, l < r, nil
	case parser.GTE:
		return l, l >= r, nil
	case parser.LTE:
		return l, l <= r, nil
	}
	return 0, false, errUnsupported
}
