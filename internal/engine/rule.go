package engine

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/slo"
)

// State is an alert's state, with Prometheus' meaning.
type State int

// Alert states.
const (
	StateInactive State = iota
	StatePending
	StateFiring
)

func (s State) String() string {
	switch s {
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	}
	return "inactive"
}

// resolvedRetention is how long Prometheus keeps a resolved alert before forgetting it.
const resolvedRetention = 15 * time.Minute

// Alert is one alert instance (an alerting rule's label set) and its state.
type Alert struct {
	// Name is the alertname.
	Name string
	// Labels are the alert's labels, alertname included.
	Labels map[string]string
	// Annotations are copied from the rule; templates are not expanded.
	Annotations map[string]string
	State       State
	// Value is the expression's value at the latest evaluation that returned it.
	Value float64
	// ActiveAt is when the condition became true; FiredAt when the alert began firing;
	// ResolvedAt when it stopped (zero while active).
	ActiveAt, FiredAt, ResolvedAt time.Time
}

// Transition is one alert state change.
type Transition struct {
	At       time.Time
	Name     string
	Labels   map[string]string
	From, To State
	// Value is the expression's value at At (the last value seen when the alert resolves).
	Value float64
}

type rule struct {
	group      string
	index      int
	name       string // record or alert name
	expr       parser.Expr
	exprString string
	labels     labels.Labels
	// lookback is the furthest back in time the expression reads.
	lookback time.Duration
	// prev holds the output series of the previous evaluation, for staleness markers.
	prev  map[uint64]labels.Labels
	alert *alertRule
}

type alertRule struct {
	hold, keepFiringFor time.Duration
	annotations         map[string]string
	active              map[uint64]*alertInstance
}

type alertInstance struct {
	lset            labels.Labels
	state           State
	value           float64
	activeAt        time.Time
	firedAt         time.Time
	resolvedAt      time.Time
	keepFiringSince time.Time
}

func (a *alertInstance) export(r *rule) Alert {
	return Alert{
		Name: r.name, Labels: a.lset.Map(), Annotations: maps.Clone(r.alert.annotations),
		State: a.state, Value: a.value, ActiveAt: a.activeAt, FiredAt: a.firedAt, ResolvedAt: a.resolvedAt,
	}
}

func (r *rule) where() string {
	kind := "record"
	if r.alert != nil {
		kind = "alert"
	}
	return fmt.Sprintf("group %q rule %d (%s %s)", r.group, r.index, kind, r.name)
}

func compileRule(p parser.Parser, group string, i int, r slo.Rule) (*rule, error) {
	where := fmt.Sprintf("group %q rule %d", group, i)
	switch {
	case r.Record == "" && r.Alert == "":
		return nil, fmt.Errorf("%s: set record or alert", where)
	case r.Record != "" && r.Alert != "":
		return nil, fmt.Errorf("%s: set only one of record (%q) and alert (%q)", where, r.Record, r.Alert)
	}
	expr, err := p.ParseExpr(r.Expr)
	if err != nil {
		return nil, fmt.Errorf("%s: expr %q: %w", where, r.Expr, err)
	}
	if t := expr.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
		return nil, fmt.Errorf("%s: expr must be an instant vector or scalar, got a %s", where, t)
	}
	cr := &rule{group: group, index: i, expr: expr, exprString: expr.String(),
		labels: labels.FromMap(r.Labels), lookback: lookbackOf(expr), prev: map[uint64]labels.Labels{}}
	if r.Record != "" {
		if !model.IsValidLegacyMetricName(r.Record) {
			return nil, fmt.Errorf("%s: record %q is not a valid metric name", where, r.Record)
		}
		if r.For != "" || r.KeepFiringFor != "" || len(r.Annotations) > 0 {
			return nil, fmt.Errorf("%s: record %q: for, keep_firing_for and annotations belong to alerting rules", where, r.Record)
		}
		cr.name = r.Record
		return cr, nil
	}
	cr.name = r.Alert
	hold, err := durationOf(r.For)
	if err != nil {
		return nil, fmt.Errorf("%s: alert %q: for: %w", where, r.Alert, err)
	}
	keep, err := durationOf(r.KeepFiringFor)
	if err != nil {
		return nil, fmt.Errorf("%s: alert %q: keep_firing_for: %w", where, r.Alert, err)
	}
	cr.alert = &alertRule{hold: hold, keepFiringFor: keep, annotations: maps.Clone(r.Annotations), active: map[uint64]*alertInstance{}}
	return cr, nil
}

// lookbackOf returns how far back in time expr reads beyond the lookback delta: the
// longest range (plus offset) of its matrix selectors and subqueries.
func lookbackOf(expr parser.Expr) time.Duration {
	var longest time.Duration
	var walk func(n parser.Node, outer time.Duration)
	walk = func(n parser.Node, outer time.Duration) {
		switch x := n.(type) {
		case *parser.MatrixSelector:
			vs := x.VectorSelector.(*parser.VectorSelector)
			longest = max(longest, outer+x.Range+vs.OriginalOffset)
			return
		case *parser.SubqueryExpr:
			outer += x.Range + x.OriginalOffset
			walk(x.Expr, outer)
			return
		case *parser.VectorSelector:
			longest = max(longest, outer+x.OriginalOffset)
		}
		for _, c := range parser.Children(n) {
			walk(c, outer)
		}
	}
	walk(expr, 0)
	return longest
}

// outputName is the metric name a rule writes: its record name, or ALERTS.
func (r *rule) outputName() string {
	if r.alert != nil {
		return "ALERTS"
	}
	return r.name
}

// rangeEvaluable reports whether every rule reads only series written by rules before it
// (or by none), and uses no @ modifier; then one range query per rule in order yields
// exactly what group evaluation step by step does.
func rangeEvaluable(rules []*rule) bool {
	for i, r := range rules {
		ok := true
		parser.Inspect(r.expr, func(n parser.Node, _ []parser.Node) error {
			switch x := n.(type) {
			case *parser.VectorSelector:
				if x.Timestamp != nil || x.StartOrEnd != 0 {
					ok = false
				}
				for _, later := range rules[i:] {
					if mayMatch(x.LabelMatchers, later) {
						ok = false
					}
				}
			case *parser.SubqueryExpr:
				if x.Timestamp != nil || x.StartOrEnd != 0 {
					ok = false
				}
			}
			return nil
		})
		if !ok {
			return false
		}
	}
	return true
}

// mayMatch reports whether a selector could select a series the rule writes.
func mayMatch(ms []*labels.Matcher, r *rule) bool {
	for _, m := range ms {
		switch m.Name {
		case labels.MetricName:
			if !m.Matches(r.outputName()) {
				return false
			}
		default:
			if v := r.labels.Get(m.Name); v != "" && !m.Matches(v) {
				return false
			}
		}
	}
	return true
}

// applyStep applies one evaluation's result vector at ts to r: recording rules append
// their samples (and staleness markers for series that vanished), alerting rules advance
// their state machine and append ALERTS.
func (e *Engine) applyStep(r *rule, ts time.Time, vec promql.Vector, emit func(Transition)) error {
	if len(vec) == 0 && len(r.prev) == 0 && (r.alert == nil || len(r.alert.active) == 0) {
		return nil // nothing to write, mark stale or advance
	}
	tms := ts.UnixMilli()
	cur := make(map[uint64]labels.Labels, len(vec))
	write := func(lset labels.Labels, v float64) error {
		h := lset.Hash()
		if _, dup := cur[h]; dup {
			return fmt.Errorf("%s at %s: the result holds %s twice after applying the rule's labels", r.where(), ts.UTC().Format(time.RFC3339), lset)
		}
		cur[h] = lset
		return e.store.Append(lset, tms, v)
	}
	if r.alert == nil {
		lb := labels.NewBuilder(labels.EmptyLabels())
		for _, s := range vec {
			lb.Reset(s.Metric)
			lb.Set(labels.MetricName, r.name)
			r.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
			if err := write(lb.Labels(), s.F); err != nil {
				return err
			}
		}
	} else {
		if err := r.alert.step(r, ts, vec, emit); err != nil {
			return err
		}
		lb := labels.NewBuilder(labels.EmptyLabels())
		for _, a := range r.alert.active {
			if a.state == StateInactive {
				continue
			}
			lb.Reset(a.lset)
			lb.Set(labels.MetricName, "ALERTS")
			lb.Set("alertstate", a.state.String())
			if err := write(lb.Labels(), 1); err != nil {
				return err
			}
		}
	}
	for h, lset := range r.prev {
		if _, ok := cur[h]; !ok {
			e.store.AppendStale(lset, tms)
		}
	}
	r.prev = cur
	return nil
}

// step advances the alert state machine exactly as Prometheus' AlertingRule.Eval does:
// new label sets become pending, pending ones fire after `for`, vanished firing ones are
// kept for keep_firing_for and then resolve; resolved ones are forgotten after 15 minutes.
func (ar *alertRule) step(r *rule, ts time.Time, vec promql.Vector, emit func(Transition)) error {
	seen := make(map[uint64]struct{}, len(vec))
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, s := range vec {
		lb.Reset(s.Metric)
		lb.Del(labels.MetricName)
		r.labels.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		lb.Set(labels.AlertName, r.name)
		lset := lb.Labels()
		h := lset.Hash()
		if _, dup := seen[h]; dup {
			return fmt.Errorf("%s at %s: the alert's label set %s appears twice", r.where(), ts.UTC().Format(time.RFC3339), lset)
		}
		seen[h] = struct{}{}
		if a, ok := ar.active[h]; ok && a.state != StateInactive {
			a.value = s.F
			continue
		}
		ar.active[h] = &alertInstance{lset: lset, state: StatePending, value: s.F, activeAt: ts}
		emit(Transition{At: ts, Name: r.name, Labels: lset.Map(), From: StateInactive, To: StatePending, Value: s.F})
	}
	// Walk instances in a fixed order so transitions within one step are deterministic.
	keys := make([]uint64, 0, len(ar.active))
	for h := range ar.active {
		keys = append(keys, h)
	}
	slices.Sort(keys)
	for _, h := range keys {
		a := ar.active[h]
		if _, ok := seen[h]; !ok {
			keepFiring := false
			if a.state == StateFiring && ar.keepFiringFor > 0 {
				if a.keepFiringSince.IsZero() {
					a.keepFiringSince = ts
				}
				keepFiring = ts.Sub(a.keepFiringSince) < ar.keepFiringFor
			}
			if a.state == StatePending || (!a.resolvedAt.IsZero() && ts.Sub(a.resolvedAt) > resolvedRetention) {
				delete(ar.active, h)
			}
			if a.state != StateInactive && !keepFiring {
				emit(Transition{At: ts, Name: r.name, Labels: a.lset.Map(), From: a.state, To: StateInactive, Value: a.value})
				a.state = StateInactive
				a.resolvedAt = ts
			}
			if !keepFiring {
				continue
			}
		} else {
			a.keepFiringSince = time.Time{}
		}
		if a.state == StatePending && ts.Sub(a.activeAt) >= ar.hold {
			a.state = StateFiring
			a.firedAt = ts
			emit(Transition{At: ts, Name: r.name, Labels: a.lset.Map(), From: StatePending, To: StateFiring, Value: a.value})
		}
	}
	return nil
}
