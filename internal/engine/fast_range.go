package engine

import (
	"math"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"
)

// rangeSeries is one series of a range selector with staleness markers removed (the
// engine drops them from matrices), and the window bounds of the step being evaluated.
type rangeSeries struct {
	lset   labels.Labels
	ts     []int64
	vs     []float64
	lo, hi int // samples lo ≤ i < hi are in the current step's window (t−range, t]
	// resets and sums are built on first use (see rate and sumLike).
	resets []float64
	sums   *prefixSums
}

// series returns the clean samples of the series a selector matches, sorted by labels;
// they are cached per selector for the evaluator's life (a rule only reads series that
// earlier rules finished writing).
func (f *fastEval) series(vs *parser.VectorSelector) []*rangeSeries {
	key := vs.String()
	if c, ok := f.cache[key]; ok {
		return c
	}
	q := &querier{s: f.store, mint: math.MinInt64, maxt: math.MaxInt64}
	snaps := q.match(vs.LabelMatchers...)
	sort.Slice(snaps, func(i, j int) bool { return labels.Compare(snaps[i].lset, snaps[j].lset) < 0 })
	list := make([]*rangeSeries, 0, len(snaps))
	for _, sn := range snaps {
		rs := &rangeSeries{lset: sn.lset, ts: sn.ts, vs: sn.vs}
		for i, v := range sn.vs {
			if value.IsStaleNaN(v) {
				rs.ts, rs.vs = append([]int64{}, sn.ts[:i]...), append([]float64{}, sn.vs[:i]...)
				for k := i + 1; k < len(sn.vs); k++ {
					if !value.IsStaleNaN(sn.vs[k]) {
						rs.ts, rs.vs = append(rs.ts, sn.ts[k]), append(rs.vs, sn.vs[k])
					}
				}
				break
			}
		}
		list = append(list, rs)
	}
	if f.cache == nil {
		f.cache = map[string][]*rangeSeries{}
	}
	f.cache[key] = list
	return list
}

func (f *fastEval) rangeData(ms *parser.MatrixSelector) ([]*rangeSeries, error) {
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || !plain(vs) {
		return nil, errUnsupported
	}
	return f.series(vs), nil
}

// overTime evaluates fn over every series' window at every step.
func (f *fastEval) overTime(ms *parser.MatrixSelector, fn func(rs *rangeSeries, k int) (float64, bool)) (fval, error) {
	data, err := f.rangeData(ms)
	if err != nil {
		return fval{}, err
	}
	r := ms.Range.Milliseconds()
	off := ms.VectorSelector.(*parser.VectorSelector).OriginalOffset.Milliseconds()
	out := make([]fser, 0, len(data))
	for _, rs := range data {
		s := f.newSer(dropName(rs.lset))
		lo, hi := 0, 0
		for k := 0; k < f.n; k++ {
			t := f.at(k) - off
			for hi < len(rs.ts) && rs.ts[hi] <= t {
				hi++
			}
			for lo < hi && rs.ts[lo] <= t-r {
				lo++
			}
			rs.lo, rs.hi = lo, hi
			s.v[k], s.ok[k] = fn(rs, k)
		}
		out = append(out, s)
	}
	return mergeSame(fval{vec: out})
}

// extrapolatedRate is Prometheus' rate and increase (promql/functions.go) over the
// samples ts[lo:hi] of a window ending at t, with counter resets counted by the prefix
// array resets (resets[i]: the sum of the values before every drop up to sample i).
func extrapolatedRate(rs *rangeSeries, resets []float64, lo, hi int, t, rng int64, isRate bool) (float64, bool) {
	if hi-lo < 2 {
		return 0, false
	}
	first, last := lo, hi-1
	result := rs.vs[last] - rs.vs[first]
	if resets[last] != resets[first] {
		for i := first + 1; i <= last; i++ {
			if rs.vs[i] < rs.vs[i-1] {
				result += rs.vs[i-1]
			}
		}
	}
	durationToStart := float64(rs.ts[first]-(t-rng)) / 1000
	durationToEnd := float64(t-rs.ts[last]) / 1000
	sampled := float64(rs.ts[last]-rs.ts[first]) / 1000
	avg := sampled / float64(last-first)
	threshold := avg * 1.1
	if durationToStart >= threshold {
		durationToStart = avg / 2
	}
	durationToZero := durationToStart
	if result > 0 && rs.vs[first] >= 0 {
		durationToZero = sampled * (rs.vs[first] / result)
	}
	if durationToZero < durationToStart {
		durationToStart = durationToZero
	}
	if durationToEnd >= threshold {
		durationToEnd = avg / 2
	}
	factor := 1.0
	if sampled != 0 {
		factor = (sampled + durationToStart + durationToEnd) / sampled
	}
	if isRate {
		factor /= float64(rng) / 1000
	}
	return result * factor, true
}

func (f *fastEval) rate(ms *parser.MatrixSelector, isRate bool) (fval, error) {
	rng := ms.Range.Milliseconds()
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok {
		return fval{}, errUnsupported
	}
	off := vs.OriginalOffset.Milliseconds()
	return f.overTime(ms, func(rs *rangeSeries, k int) (float64, bool) {
		if rs.resets == nil {
			rs.resets = make([]float64, len(rs.vs))
			for i := 1; i < len(rs.vs); i++ {
				rs.resets[i] = rs.resets[i-1]
				if rs.vs[i] < rs.vs[i-1] {
					rs.resets[i] += rs.vs[i-1]
				}
			}
		}
		return extrapolatedRate(rs, rs.resets, rs.lo, rs.hi, f.at(k)-off, rng, isRate)
	})
}

// prefixSums holds compensated cumulative sums of a series' finite values and counts of
// its NaN and infinite values, so any window's sum costs O(1).
type prefixSums struct {
	sum, comp       []float64
	nan, pinf, ninf []int32
}

func newPrefixSums(vs []float64) prefixSums {
	n := len(vs) + 1
	p := prefixSums{sum: make([]float64, n), comp: make([]float64, n)}
	finite := true
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			finite = false
			break
		}
	}
	if finite {
		for i, v := range vs {
			p.add(i, v)
		}
		return p
	}
	p.nan, p.pinf, p.ninf = make([]int32, n), make([]int32, n), make([]int32, n)
	for i, v := range vs {
		p.sum[i+1], p.comp[i+1] = p.sum[i], p.comp[i]
		p.nan[i+1], p.pinf[i+1], p.ninf[i+1] = p.nan[i], p.pinf[i], p.ninf[i]
		switch {
		case math.IsNaN(v):
			p.nan[i+1]++
		case math.IsInf(v, 1):
			p.pinf[i+1]++
		case math.IsInf(v, -1):
			p.ninf[i+1]++
		default:
			p.add(i, v)
		}
	}
	return p
}

// add sets entry i+1 to entry i plus v, with Neumaier's compensated summation.
func (p prefixSums) add(i int, v float64) {
	s := p.sum[i] + v
	c := p.comp[i]
	if math.Abs(p.sum[i]) >= math.Abs(v) {
		c += (p.sum[i] - s) + v
	} else {
		c += (v - s) + p.sum[i]
	}
	p.sum[i+1], p.comp[i+1] = s, c
}

// window returns the sum of values lo ≤ i < hi.
func (p prefixSums) window(lo, hi int) float64 {
	if p.nan == nil {
		return (p.sum[hi] - p.sum[lo]) + (p.comp[hi] - p.comp[lo])
	}
	switch nan, pinf, ninf := p.nan[hi]-p.nan[lo], p.pinf[hi]-p.pinf[lo], p.ninf[hi]-p.ninf[lo]; {
	case nan > 0 || pinf > 0 && ninf > 0:
		return math.NaN()
	case pinf > 0:
		return math.Inf(1)
	case ninf > 0:
		return math.Inf(-1)
	}
	return (p.sum[hi] - p.sum[lo]) + (p.comp[hi] - p.comp[lo])
}

// sumLike evaluates sum_over_time, avg_over_time and count_over_time.
func (f *fastEval) sumLike(ms *parser.MatrixSelector, name string) (fval, error) {
	return f.overTime(ms, func(rs *rangeSeries, k int) (float64, bool) {
		lo, hi := rs.lo, rs.hi
		if hi == lo {
			return 0, false
		}
		if name == "count_over_time" {
			return float64(hi - lo), true
		}
		if rs.sums == nil {
			ps := newPrefixSums(rs.vs)
			rs.sums = &ps
		}
		s := rs.sums.window(lo, hi)
		if name == "avg_over_time" {
			return s / float64(hi-lo), true
		}
		return s, true
	})
}

// extremum evaluates min_over_time and max_over_time with a monotonic deque (windows
// only move forward). NaN loses to any number, as in Prometheus.
func (f *fastEval) extremum(ms *parser.MatrixSelector, isMin bool) (fval, error) {
	better := func(a, b float64) bool { // a replaces b
		if isMin {
			return a < b || math.IsNaN(b)
		}
		return a > b || math.IsNaN(b)
	}
	var dq []int
	var cur *rangeSeries
	next := 0
	return f.overTime(ms, func(rs *rangeSeries, k int) (float64, bool) {
		if rs != cur {
			cur, dq, next = rs, dq[:0], 0
		}
		lo, hi := rs.lo, rs.hi
		for ; next < hi; next++ {
			for len(dq) > 0 && !better(rs.vs[dq[len(dq)-1]], rs.vs[next]) {
				dq = dq[:len(dq)-1]
			}
			dq = append(dq, next)
		}
		for len(dq) > 0 && dq[0] < lo {
			dq = dq[1:]
		}
		if len(dq) == 0 {
			return 0, false
		}
		return rs.vs[dq[0]], true
	})
}
