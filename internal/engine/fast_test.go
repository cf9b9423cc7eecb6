package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// fastExprs cover every shape the fast evaluator handles, and some it must refuse.
var fastExprs = []string{
	`c_total`,
	`c_total{code="500"}`,
	`rate(c_total[5m])`,
	`increase(c_total{code=~"5.."}[2m])`,
	`sum(rate(c_total[5m]))`,
	`sum by (code) (rate(c_total[1h]))`,
	`sum without (instance) (rate(c_total[90s]))`,
	`count(c_total)`, `avg(c_total)`, `min(c_total)`, `max by (code) (c_total)`,
	`sum_over_time(g[10m])`, `avg_over_time(g[1h])`, `count_over_time(g[3m])`,
	`min_over_time(g[20m])`, `max_over_time(c_total[7m])`,
	`sum(rate(c_total{code="500"}[5m])) or vector(0)`,
	`sum(rate(c_total{code="500"}[5m])) / sum(rate(c_total[5m]))`,
	`(sum(rate(c_total{code="500"}[5m])) or vector(0)) / sum(rate(c_total[5m]))`,
	`1 - (sum(rate(c_total{code="200"}[30m])) / sum(rate(c_total[30m])))`,
	`sum by (code) (rate(c_total[5m])) > 0.5`,
	`0.5 < sum by (code) (rate(c_total[5m]))`,
	`sum by (code) (rate(c_total[5m])) > bool 0.5`,
	`g > 3 and ignoring(kind) h > 2`,
	`g > 3 or h`,
	`g unless on() h > 4`,
	`g / on(zone) h`,
	`g - ignoring(kind) h`,
	`g == bool ignoring(kind) h`,
	`-g`, `2 * g + 1`, `g ^ 2`, `g % 3`, `vector(2) * 3`,
	`absent(c_total{code="404",job="x"})`,
	`absent(nothing{a="b"}) or absent(c_total)`,
	`absent(g)`,
	`rate(c_total[5m] offset 1m)`,
	`c_total offset 10m`,
	`sum(min_over_time(c_total{code="500"}[1h]) unless c_total{code="500"} offset 1h) / 3600 or vector(0)`,
	`(sum_over_time(g[1h]) > g * 720 or g * 720) / ignoring(kind) sum_over_time(h[1h])`,
	`max_over_time(g[10m] offset -5m)`,
	`(sum_over_time(g[1h]) > g * count_over_time(g[10m]) or g * count_over_time(g[10m])) / ignoring(kind) sum_over_time(h[1h])`,
	`label_replace(sum(rate(c_total[5m])), "slokit_window", "5m", "", "") or label_replace(sum(rate(c_total[1h])), "slokit_window", "1h", "", "")`,
	`label_replace(g, "kind", "", "", "")`,
	`label_replace(c_total{code="500"}, "code", "x", "", "")`,
	// Left to the PromQL engine:
	`c_total @ 100`,
	`histogram_quantile(0.9, c_total)`,
	`topk(1, g)`,
	`g * on() group_left h`,
	`max_over_time(rate(c_total[5m])[30m:1m])`,
}

// fill writes random counters (with resets, gaps and staleness markers) and gauges
// (with NaN and infinities) into e's store, scraped every ~30s for dur.
func fill(t testing.TB, e *Engine, rng *rand.Rand, dur time.Duration) {
	t.Helper()
	stale := math.Float64frombits(value.StaleNaN)
	series := []labels.Labels{
		labels.FromStrings("__name__", "c_total", "code", "200", "instance", "a"),
		labels.FromStrings("__name__", "c_total", "code", "500", "instance", "a"),
		labels.FromStrings("__name__", "c_total", "code", "200", "instance", "b"),
		labels.FromStrings("__name__", "g", "kind", "x", "zone", "1"),
		labels.FromStrings("__name__", "h", "kind", "y", "zone", "1"),
	}
	for i, l := range series {
		v := 0.0
		offset := time.Duration(rng.IntN(30)) * time.Second
		for at := offset; at <= dur; at += 30*time.Second + time.Duration(rng.IntN(3))*time.Second {
			switch r := rng.Float64(); {
			case r < 0.02:
				continue // a missed scrape
			case r < 0.03:
				if err := e.Store().Append(l, t0.Add(at).UnixMilli(), stale); err != nil {
					t.Fatal(err)
				}
				continue
			case r < 0.04 && i < 3:
				v = 0 // counter reset
			case i < 3:
				v += float64(rng.IntN(100))
			case r < 0.05:
				v = math.NaN()
			case r < 0.055:
				v = math.Inf(1)
			default:
				v = float64(rng.IntN(10))
			}
			if err := e.Store().Append(l, t0.Add(at).UnixMilli(), v); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// sameMatrix compares two matrices: same series, same steps, values equal up to a
// relative 1e-9 (window sums are rounded differently), NaN equal to NaN.
func sameMatrix(a, b promql.Matrix) string {
	if len(a) != len(b) {
		return "series: " + a.String() + "\nvs\n" + b.String()
	}
	for i := range a {
		if !labels.Equal(a[i].Metric, b[i].Metric) || len(a[i].Floats) != len(b[i].Floats) {
			return "series " + a[i].Metric.String() + " vs " + b[i].Metric.String()
		}
		for j, p := range a[i].Floats {
			q := b[i].Floats[j]
			same := p.F == q.F || math.IsNaN(p.F) && math.IsNaN(q.F) || math.Abs(p.F-q.F) <= 1e-9*math.Max(math.Abs(p.F), math.Abs(q.F))
			if p.T != q.T || !same {
				return a[i].Metric.String() + ": " + p.String() + " vs " + q.String()
			}
		}
	}
	return ""
}

func checkFastAgrees(t *testing.T, seed uint64, exprs []string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	e := New(Options{})
	dur := 4 * time.Hour
	fill(t, e, rng, dur)
	from, step := t0.Add(time.Duration(rng.IntN(600))*time.Second), 30*time.Second+time.Duration(rng.IntN(4))*15*time.Second
	n := int(t0.Add(dur).Sub(from)/step) + 1
	fe := &fastEval{store: e.store, start: from.UnixMilli(), step: step.Milliseconds(), n: n, lookback: (5 * time.Minute).Milliseconds()}
	for i, qs := range exprs {
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		got, ferr := fe.matrix(expr)
		want, _, err := e.QueryRange(context.Background(), qs, from, from.Add(time.Duration(n-1)*step), step)
		switch {
		case ferr != nil:
			if ferr != errUnsupported || i < len(exprs)-5 {
				t.Errorf("%s: %v", qs, ferr)
			}
			continue
		case err != nil:
			t.Errorf("%s: the engine fails (%v), the fast evaluator does not", qs, err)
			continue
		}
		if len(got) == 0 && !strings.HasPrefix(qs, "absent(") {
			t.Errorf("%s: empty result proves nothing", qs)
		}
		if d := sameMatrix(got, want.(promql.Matrix)); d != "" {
			t.Errorf("seed %d, %s differs:\n%s", seed, qs, d)
		}
	}
}

// TestFastEvaluatorAgreesWithPromQL evaluates every expression shape with both
// evaluators over random data and compares every value at every step.
func TestFastEvaluatorAgreesWithPromQL(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		checkFastAgrees(t, seed, fastExprs)
	}
	// The shapes the fast evaluator must leave to the engine.
	fe := &fastEval{store: NewStore(), n: 1}
	for _, qs := range fastExprs[len(fastExprs)-5:] {
		expr, _ := parser.NewParser(parser.Options{}).ParseExpr(qs)
		if _, err := fe.matrix(expr); err != errUnsupported {
			t.Errorf("%s: fast evaluator says %v, want errUnsupported", qs, err)
		}
	}
}

// FuzzFastEvaluatorAgrees compares the evaluators on random data for any seed.
func FuzzFastEvaluatorAgrees(f *testing.F) {
	f.Add(uint64(11))
	f.Add(uint64(12345))
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkFastAgrees(t, seed, fastExprs)
	})
}
