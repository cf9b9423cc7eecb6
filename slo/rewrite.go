package slo

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// Rewriting an imported query (OpenSLO good/bad/total) into a windowed PromQL template.
// A query counts events: a counter selector, an expression over counters, or a gauge of
// per-interval counts. Every selector gets the window's rate() (sum_over_time() for
// gauges); a rate() or increase() already written keeps its function and gets the window
// as its range. Only what keeps the meaning "events in the window" is rewritten: sums,
// additions and subtractions of event counts, and scaling by a number. Anything else is
// refused with the reason, since a wrong rewrite would page on the wrong ratio.

// queryRewrite holds one rewrite's settings and result.
type queryRewrite struct {
	counter   bool
	aggregate bool // an aggregation was seen
}

// windowed rewrites query. It returns the template (with {{.window}}) and, when query is
// a bare series selector, that selector in canonical form.
func (w *walker) windowed(query string, counter bool) (tmpl, selector string, err error) {
	expr, err := w.promql().ParseExpr(query)
	if err != nil {
		return "", "", fmt.Errorf("invalid PromQL: %w", err)
	}
	if vs, ok := expr.(*parser.VectorSelector); ok && plainSelector(vs) {
		selector = vs.String()
	}
	rw := &queryRewrite{counter: counter}
	out, err := rw.rewrite(expr, false)
	if err != nil {
		return "", "", err
	}
	if !rw.aggregate {
		out = &parser.AggregateExpr{Op: parser.SUM, Expr: out}
	}
	return strings.ReplaceAll(out.String(), windowSentinel, WindowPlaceholder), selector, nil
}

func plainSelector(vs *parser.VectorSelector) bool {
	return vs.OriginalOffset == 0 && vs.OriginalOffsetExpr == nil && vs.Timestamp == nil && vs.StartOrEnd == 0
}

// sentinelRange is windowSentinel as a range: printed back, it becomes {{.window}}.
var sentinelRange = func() time.Duration {
	d, err := parseSentinel()
	if err != nil {
		panic(err)
	}
	return d
}()

func parseSentinel() (time.Duration, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr("x[" + windowSentinel + "]")
	if err != nil {
		return 0, err
	}
	return e.(*parser.MatrixSelector).Range, nil
}

// rewrite returns e with every selector windowed. scalarOK tells that a number is
// allowed here (a factor of * or /).
func (rw *queryRewrite) rewrite(e parser.Expr, scalarOK bool) (parser.Expr, error) {
	switch e := e.(type) {
	case *parser.VectorSelector:
		if !plainSelector(e) {
			return nil, fmt.Errorf("offset and @ modifiers cannot be windowed: remove them")
		}
		fn := "rate"
		if !rw.counter {
			fn = "sum_over_time"
		}
		return &parser.Call{Func: parser.Functions[fn], Args: parser.Expressions{
			&parser.MatrixSelector{VectorSelector: e, Range: sentinelRange}}}, nil
	case *parser.Call:
		return rw.call(e)
	case *parser.AggregateExpr:
		if e.Op != parser.SUM {
			return nil, fmt.Errorf("%s() of event counts is not an event count: only sum() can be windowed", e.Op)
		}
		rw.aggregate = true
		inner, err := rw.rewrite(e.Expr, false)
		if err != nil {
			return nil, err
		}
		c := *e
		c.Expr = inner
		return &c, nil
	case *parser.ParenExpr:
		inner, err := rw.rewrite(e.Expr, scalarOK)
		if err != nil {
			return nil, err
		}
		return &parser.ParenExpr{Expr: inner}, nil
	case *parser.BinaryExpr:
		return rw.binary(e)
	case *parser.NumberLiteral:
		if scalarOK {
			return e, nil
		}
		return nil, fmt.Errorf("a number is not an event count")
	case *parser.MatrixSelector:
		return nil, fmt.Errorf("a range selector outside rate() or increase(): drop the [range], slokit sets each window's")
	case *parser.SubqueryExpr:
		return nil, fmt.Errorf("subqueries cannot be windowed: count events with counters")
	}
	return nil, fmt.Errorf("%s cannot be windowed: give counters, their sum() or rate()", describeExpr(e))
}

func (rw *queryRewrite) call(e *parser.Call) (parser.Expr, error) {
	want := map[bool][]string{true: {"rate", "increase"}, false: {"sum_over_time"}}[rw.counter]
	if !slices.Contains(want, e.Func.Name) {
		kind := "counters (counter: true) take rate() or increase()"
		if !rw.counter {
			kind = "gauges of event counts (counter: false) take sum_over_time()"
		}
		return nil, fmt.Errorf("%s() cannot be windowed: %s, or a bare selector", e.Func.Name, kind)
	}
	ms, ok := e.Args[0].(*parser.MatrixSelector)
	if !ok {
		return nil, fmt.Errorf("%s() of %s cannot be windowed: give it a range selector", e.Func.Name, describeExpr(e.Args[0]))
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || !plainSelector(vs) {
		return nil, fmt.Errorf("offset and @ modifiers cannot be windowed: remove them")
	}
	// increase() is rate() × window: both sides of a ratio must agree, so every counter
	// gets rate(); the ratio is the same.
	fn := e.Func
	if rw.counter {
		fn = parser.Functions["rate"]
	}
	return &parser.Call{Func: fn, Args: parser.Expressions{
		&parser.MatrixSelector{VectorSelector: vs, Range: sentinelRange}}}, nil
}

// groupings returns the label grouping of every aggregation in e, rendered: a ratio of
// two queries matches series only when both group alike.
func groupings(e parser.Expr) string {
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if a, ok := n.(*parser.AggregateExpr); ok {
			g := append([]string(nil), a.Grouping...)
			sort.Strings(g)
			switch {
			case a.Without:
				out = append(out, "sum without ("+strings.Join(g, ", ")+")")
			case len(g) > 0:
				out = append(out, "sum by ("+strings.Join(g, ", ")+")")
			default:
				out = append(out, "sum")
			}
		}
		return nil
	})
	sort.Strings(out)
	return strings.Join(uniq(out), " and ")
}

func uniq(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func (rw *queryRewrite) binary(e *parser.BinaryExpr) (parser.Expr, error) {
	switch e.Op {
	case parser.ADD, parser.SUB:
	case parser.MUL, parser.DIV:
		_, lnum := unparen(e.LHS).(*parser.NumberLiteral)
		_, rnum := unparen(e.RHS).(*parser.NumberLiteral)
		if !lnum && !rnum || (e.Op == parser.DIV && lnum) {
			return nil, fmt.Errorf("%s between event counts is not an event count: only scaling by a number can be windowed", e.Op)
		}
	default:
		return nil, fmt.Errorf("the %s operator cannot be windowed: only +, - and scaling by a number keep event counts", e.Op)
	}
	if e.ReturnBool {
		return nil, fmt.Errorf("comparisons cannot be windowed")
	}
	scale := e.Op == parser.MUL || e.Op == parser.DIV
	l, err := rw.rewrite(e.LHS, scale)
	if err != nil {
		return nil, err
	}
	r, err := rw.rewrite(e.RHS, scale)
	if err != nil {
		return nil, err
	}
	c := *e
	c.LHS, c.RHS = l, r
	return &c, nil
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}
