// Package engine evaluates Prometheus recording and alerting rules with the real PromQL
// engine over an in-memory store, in simulated time (backtests) or wall-clock time (the lab).
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/slokit/slokit/slo"
)

// Options configures an Engine. Every zero value has a documented default.
type Options struct {
	// Interval is the rule evaluation interval used by Run. Zero means 30s.
	Interval time.Duration
	// LookbackDelta is how far back an instant selector looks for a sample, as in
	// Prometheus' --query.lookback-delta. Zero means 5m.
	LookbackDelta time.Duration
	// Retention is how much history is kept behind the newest evaluation. Zero means
	// what the loaded rules need (their longest range plus the lookback delta and two
	// intervals); a negative value keeps every sample.
	Retention time.Duration
	// MaxSamples bounds the samples one query may hold in memory. Zero means 50,000,000,
	// Prometheus' default.
	MaxSamples int
	// StepByStep disables the range evaluation Run uses when rules only read series
	// recorded before them, forcing one instant query per rule and step. Results are the
	// same; it exists to prove that and for debugging.
	StepByStep bool
	// PromQLOnly evaluates every rule with the PromQL engine. By default Run evaluates
	// the rules the fast evaluator understands (see fast.go) with it, which gives the
	// same results much faster, and the others with the PromQL engine.
	PromQLOnly bool
	// OnTransition is called for every alert state change, in time order. Nil means none.
	OnTransition func(Transition)
	// Logger receives debug logs. Nil discards them.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.LookbackDelta <= 0 {
		o.LookbackDelta = 5 * time.Minute
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = 50_000_000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Engine evaluates loaded rule groups over the samples of its Store.
// Query, QueryRange and Alerts may be called concurrently with evaluations.
type Engine struct {
	opts  Options
	store *Store
	prom  *promql.Engine

	mu        sync.Mutex // guards rules, lastEval, retention and alert state
	rules     []*rule
	rangeOK   bool
	retention time.Duration
	lastEval  time.Time
	// fastRules and promqlRules count range evaluations by evaluator.
	fastRules, promqlRules int
}

// New returns an Engine with an empty Store and no rules.
func New(opts Options) *Engine {
	opts.defaults()
	return &Engine{
		opts:  opts,
		store: NewStore(),
		prom: promql.NewEngine(promql.EngineOpts{
			Logger:               opts.Logger,
			MaxSamples:           opts.MaxSamples,
			Timeout:              10 * time.Minute,
			LookbackDelta:        opts.LookbackDelta,
			EnableAtModifier:     true,
			EnableNegativeOffset: true,
		}),
		retention: opts.Retention,
	}
}

// Store returns the engine's sample store, for appending input series.
func (e *Engine) Store() *Store { return e.store }

// Interval returns the evaluation interval in force.
func (e *Engine) Interval() time.Duration { return e.opts.Interval }

// Append adds one input sample; it is Store().Append with a time.Time.
func (e *Engine) Append(lset labels.Labels, t time.Time, v float64) error {
	return e.store.Append(lset, t.UnixMilli(), v)
}

// LoadGroups parses and installs rule groups, replacing any loaded before and resetting
// alert state. Every invalid rule is reported, each naming its group and index.
func (e *Engine) LoadGroups(groups []slo.RuleGroup) error {
	var (
		rules []*rule
		errs  []error
	)
	p := parser.NewParser(parser.Options{})
	for _, g := range groups {
		for i, r := range g.Rules {
			cr, err := compileRule(p, g.Name, i, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rules = append(rules, cr)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rules = rules
	e.rangeOK = rangeEvaluable(rules)
	e.retention = e.opts.Retention
	if e.retention == 0 {
		var longest time.Duration
		for _, r := range rules {
			longest = max(longest, r.lookback)
		}
		e.retention = longest + e.opts.LookbackDelta + 2*e.opts.Interval
	}
	e.lastEval = time.Time{}
	return nil
}

// Retention returns the history kept behind the newest evaluation (negative: all).
func (e *Engine) Retention() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.retention
}

// RangeEvaluable reports whether Run can evaluate the loaded rules one range query per
// rule (every rule reads only series that rules before it record).
func (e *Engine) RangeEvaluable() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rangeOK
}

// EvalAt evaluates every rule once at ts, in group and rule order, appending recorded
// series to the store and advancing alert state. ts must be after the previous evaluation.
func (e *Engine) EvalAt(ctx context.Context, ts time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.lastEval.IsZero() && !ts.After(e.lastEval) {
		return fmt.Errorf("evaluation at %s is not after the previous one at %s", ts.UTC().Format(time.RFC3339), e.lastEval.UTC().Format(time.RFC3339))
	}
	for _, r := range e.rules {
		vec, err := e.instantVector(ctx, r.exprString, ts)
		if err != nil {
			return fmt.Errorf("%s at %s: %w", r.where(), ts.UTC().Format(time.RFC3339), err)
		}
		if err := e.applyStep(r, ts, vec, e.emit); err != nil {
			return err
		}
	}
	e.lastEval = ts
	e.truncate()
	return nil
}

func (e *Engine) emit(t Transition) {
	if e.opts.OnTransition != nil {
		e.opts.OnTransition(t)
	}
}

func (e *Engine) truncate() {
	if e.retention > 0 {
		e.store.Truncate(e.lastEval.Add(-e.retention).UnixMilli())
	}
}

// Run evaluates every rule at from, from+Interval, … up to and including to. When the
// rules allow it (see RangeEvaluable) each rule is evaluated as one range query, which
// gives the same samples and alert transitions as stepping, much faster.
func (e *Engine) Run(ctx context.Context, from, to time.Time) error {
	if to.Before(from) {
		return fmt.Errorf("run from %s to %s: the end is before the start", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	e.mu.Lock()
	rangeOK := e.rangeOK && !e.opts.StepByStep
	e.mu.Unlock()
	if !rangeOK {
		for ts := from; !ts.After(to); ts = ts.Add(e.opts.Interval) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := e.EvalAt(ctx, ts); err != nil {
				return err
			}
		}
		return nil
	}
	return e.runRange(ctx, from, to)
}

func (e *Engine) runRange(ctx context.Context, from, to time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.lastEval.IsZero() && !from.After(e.lastEval) {
		return fmt.Errorf("evaluation at %s is not after the previous one at %s", from.UTC().Format(time.RFC3339), e.lastEval.UTC().Format(time.RFC3339))
	}
	step := e.opts.Interval
	n := int(to.Sub(from)/step) + 1
	last := from.Add(time.Duration(n-1) * step)
	var transitions []Transition
	collect := func(t Transition) { transitions = append(transitions, t) }
	fe := &fastEval{store: e.store, start: from.UnixMilli(), step: step.Milliseconds(), n: n, lookback: e.opts.LookbackDelta.Milliseconds()}
	for _, r := range e.rules {
		if err := ctx.Err(); err != nil {
			return err
		}
		mat, done, err := e.rangeMatrix(ctx, fe, r, from, last)
		if err != nil {
			return err
		}
		if r.alert == nil {
			err = e.recordRange(r, mat, from, n)
		} else {
			err = e.alertRange(r, mat, from, n, collect)
		}
		done()
		if err != nil {
			return err
		}
	}
	sort.SliceStable(transitions, func(i, j int) bool { return transitions[i].At.Before(transitions[j].At) })
	for _, t := range transitions {
		e.emit(t)
	}
	e.lastEval = last
	e.truncate()
	return nil
}

// alertRange walks the steps of an alerting rule's range result, handing each step its
// instant vector, exactly as stepping would.
func (e *Engine) alertRange(r *rule, mat promql.Matrix, from time.Time, n int, collect func(Transition)) error {
	step := e.opts.Interval
	cursor := make([]int, len(mat))
	vec := make(promql.Vector, 0, len(mat))
	for k := 0; k < n; k++ {
		ts := from.Add(time.Duration(k) * step)
		tms := ts.UnixMilli()
		vec = vec[:0]
		for si := range mat {
			pts := mat[si].Floats
			if c := cursor[si]; c < len(pts) && pts[c].T == tms {
				vec = append(vec, promql.Sample{Metric: mat[si].Metric, T: tms, F: pts[c].F})
				cursor[si]++
			}
		}
		if err := e.applyStep(r, ts, vec, collect); err != nil {
			return err
		}
	}
	return nil
}

// recordRange writes a recording rule's range result as stepping would: each output
// series' samples, and a staleness marker at the first step a series is missing after
// being present (also for series present before the range).
func (e *Engine) recordRange(r *rule, mat promql.Matrix, from time.Time, n int) error {
	step := e.opts.Interval.Milliseconds()
	start := from.UnixMilli()
	stale := math.Float64frombits(value.StaleNaN)
	cur := make(map[uint64]labels.Labels, len(mat))
	seen := make(map[uint64]bool, len(mat))
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, s := range mat {
		lb.Reset(s.Metric)
		lb.Set(labels.MetricName, r.name)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		lset := lb.Labels()
		h := lset.Hash()
		if seen[h] {
			return fmt.Errorf("%s: the result holds %s twice after applying the rule's labels", r.where(), lset)
		}
		seen[h] = true
		ts := make([]int64, 0, len(s.Floats)+1)
		vs := make([]float64, 0, len(s.Floats)+1)
		prev := start - step // the step before the range: present if r.prev has it
		if _, ok := r.prev[h]; !ok {
			prev = math.MinInt64
		}
		for _, p := range s.Floats {
			if prev != math.MinInt64 && p.T > prev+step {
				ts, vs = append(ts, prev+step), append(vs, stale)
			}
			ts, vs = append(ts, p.T), append(vs, p.F)
			prev = p.T
		}
		last := start + int64(n-1)*step
		if prev != math.MinInt64 && prev < last {
			ts, vs = append(ts, prev+step), append(vs, stale)
		} else if prev == last {
			cur[h] = lset
		}
		if err := e.store.AppendSeries(lset, ts, vs); err != nil {
			return err
		}
	}
	for h, lset := range r.prev {
		if !seen[h] {
			e.store.AppendStale(lset, start)
		}
	}
	r.prev = cur
	return nil
}

// rangeMatrix evaluates r at every step from from to last: with the fast evaluator when
// it handles the expression, else as a PromQL range query. done releases the result
// (the engine's buffers go back to its pools); call it once the matrix is consumed.
func (e *Engine) rangeMatrix(ctx context.Context, fe *fastEval, r *rule, from, last time.Time) (promql.Matrix, func(), error) {
	if !e.opts.PromQLOnly {
		mat, err := fe.matrix(r.expr)
		if err == nil {
			e.fastRules++
			return mat, func() {}, nil
		}
		if !errors.Is(err, errUnsupported) {
			return nil, nil, fmt.Errorf("%s: %w", r.where(), err)
		}
	}
	e.promqlRules++
	q, err := e.prom.NewRangeQuery(ctx, e.store, nil, r.exprString, from, last, e.opts.Interval)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.where(), err)
	}
	res := q.Exec(ctx)
	if res.Err != nil {
		q.Close()
		return nil, nil, fmt.Errorf("%s: %w", r.where(), res.Err)
	}
	mat, err := res.Matrix()
	if err != nil {
		q.Close()
		return nil, nil, fmt.Errorf("%s: %w", r.where(), err)
	}
	return mat, q.Close, nil
}

// Evaluations reports how many rule range evaluations Run did with the fast evaluator
// and how many with the PromQL engine.
func (e *Engine) Evaluations() (fast, promQL int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fastRules, e.promqlRules
}

func (e *Engine) instantVector(ctx context.Context, qs string, ts time.Time) (promql.Vector, error) {
	q, err := e.prom.NewInstantQuery(ctx, e.store, nil, qs, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return slices.Clone(v), nil
	case promql.Scalar:
		return promql.Vector{{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
	}
	return nil, fmt.Errorf("rule result is a %s, not an instant vector", res.Value.Type())
}

// Query runs an instant PromQL query at ts against the store.
func (e *Engine) Query(ctx context.Context, qs string, ts time.Time) (parser.Value, annotations.Annotations, error) {
	q, err := e.prom.NewInstantQuery(ctx, e.store, nil, qs, ts)
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	return detach(res.Value), res.Warnings, res.Err
}

// QueryRange runs a PromQL range query against the store.
func (e *Engine) QueryRange(ctx context.Context, qs string, start, end time.Time, step time.Duration) (parser.Value, annotations.Annotations, error) {
	q, err := e.prom.NewRangeQuery(ctx, e.store, nil, qs, start, end, step)
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	return detach(res.Value), res.Warnings, res.Err
}

// detach deep-copies a query result: Close returns the engine's buffers to its pools.
func detach(v parser.Value) parser.Value {
	switch x := v.(type) {
	case promql.Matrix:
		out := make(promql.Matrix, len(x))
		for i, s := range x {
			out[i] = promql.Series{Metric: s.Metric, Floats: slices.Clone(s.Floats), Histograms: slices.Clone(s.Histograms)}
		}
		return out
	case promql.Vector:
		return slices.Clone(x)
	}
	return v
}

// LastEval returns the time of the newest evaluation (zero before the first).
func (e *Engine) LastEval() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastEval
}

// Alerts returns the pending and firing alerts, sorted by name and labels.
func (e *Engine) Alerts() []Alert {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Alert
	for _, r := range e.rules {
		if r.alert == nil {
			continue
		}
		for _, a := range r.alert.active {
			if a.state != StateInactive {
				out = append(out, a.export(r))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return labels.Compare(labels.FromMap(out[i].Labels), labels.FromMap(out[j].Labels)) < 0
	})
	return out
}

// RuleInfo describes one loaded rule and its latest evaluation.
type RuleInfo struct {
	Group, Name, Expr string
	Alerting          bool
}

// Rules lists the loaded rules in evaluation order.
func (e *Engine) Rules() []RuleInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleInfo, len(e.rules))
	for i, r := range e.rules {
		out[i] = RuleInfo{Group: r.group, Name: r.name, Expr: r.exprString, Alerting: r.alert != nil}
	}
	return out
}

// durationOf parses an optional Prometheus duration string.
func durationOf(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}
