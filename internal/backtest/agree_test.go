package backtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/slo"
)

// transitions replays sc with the given engine and returns every alert transition and
// how many rule evaluations each evaluator did.
func transitions(t testing.TB, o slo.Objective, sc Scenario, kind string) ([]engine.Transition, int, int) {
	t.Helper()
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Engine: kind}
	opts.defaults()
	input, err := inputFor(o, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []engine.Transition
	eng := engine.New(engine.Options{Interval: opts.EvalInterval, Retention: -1, PromQLOnly: kind == EnginePromQL,
		OnTransition: func(tr engine.Transition) { out = append(out, tr) }})
	if err := eng.LoadGroups([]slo.RuleGroup{g}); err != nil {
		t.Fatal(err)
	}
	for _, s := range input {
		ts := make([]int64, len(s.ts))
		for i, at := range s.ts {
			ts[i] = Epoch.Add(at).UnixMilli()
		}
		if err := eng.Store().AppendSeries(s.labels, ts, s.vs); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Run(context.Background(), Epoch, Epoch.Add(sc.Duration())); err != nil {
		t.Fatal(err)
	}
	fast, prom := eng.Evaluations()
	return out, fast, prom
}

// agree replays sc with both evaluators and fails unless every transition is the same
// and the fast run evaluated every generated rule itself.
func agree(t *testing.T, o slo.Objective, sc Scenario) int {
	t.Helper()
	fast, nf, np := transitions(t, o, sc, EngineFast)
	if np != 0 || nf == 0 {
		t.Errorf("%s/%s: fast run evaluated %d rules fast and %d with PromQL; want all fast", o.Name, sc.Name, nf, np)
	}
	prom, _, _ := transitions(t, o, sc, EnginePromQL)
	if d := diffTransitions(fast, prom); d != "" {
		t.Errorf("%s/%s: transitions differ: %s", o.Name, sc.Name, d)
	}
	return len(fast)
}

// diffTransitions describes the first difference between two transition lists: time,
// alert, labels and states must be equal, values equal to a relative 1e-9.
func diffTransitions(a, b []engine.Transition) string {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		same := x.At.Equal(y.At) && x.Name == y.Name && reflect.DeepEqual(x.Labels, y.Labels) && x.From == y.From && x.To == y.To &&
			(x.Value == y.Value || math.Abs(x.Value-y.Value) <= 1e-9*math.Max(math.Abs(x.Value), math.Abs(y.Value)) || math.IsNaN(x.Value) && math.IsNaN(y.Value))
		if !same {
			return fmt.Sprintf("#%d fast %s %s %s→%s %v, promql %s %s %s→%s %v", i,
				x.At.Sub(Epoch), x.Labels[slo.LabelWindow], x.From, x.To, x.Value, y.At.Sub(Epoch), y.Labels[slo.LabelWindow], y.From, y.To, y.Value)
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("%d transitions fast, %d promql", len(a), len(b))
	}
	return ""
}

// TestFastEvaluatorAgreesOnEveryBuiltin replays every built-in scenario for every SLO
// of the shortlink example and the test fixtures with the fast evaluator and with the
// Prometheus engine: the alert transitions are identical.
func TestFastEvaluatorAgreesOnEveryBuiltin(t *testing.T) {
	slos := []slo.Objective{}
	for _, m := range []map[string]slo.Objective{shortlink(t), loadSLOs(t, "testdata/silent-slos.yaml")} {
		for _, o := range m {
			slos = append(slos, o)
		}
	}
	if testing.Short() {
		slos = slos[:1]
	}
	for _, o := range slos {
		t.Run(o.Name, func(t *testing.T) {
			t.Parallel()
			n := 0
			for _, sc := range Builtin(o) {
				if sc.LatencyOnly && o.SLI.Latency == nil {
					continue
				}
				n += agree(t, o, sc)
			}
			t.Logf("%d transitions agree", n)
		})
	}
}

// randomScenario builds a scenario from a seed: random segments (traffic, bad ratio,
// gaps, restarts, absent and renamed series) under a random scrape model.
func randomScenario(seed uint64) Scenario {
	rng := rand.New(rand.NewPCG(seed, 99))
	sc := Scenario{Name: "fuzz", Traffic: 1 + rng.Float64()*20}
	iv := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute}[rng.IntN(3)]
	sc.Scrape = Scrape{Interval: iv, Offset: time.Duration(rng.Int64N(int64(iv))).Truncate(time.Second),
		Jitter: time.Duration(rng.Int64N(int64(iv / 2))).Truncate(time.Second), Instances: 1 + rng.IntN(3),
		Lazy: rng.IntN(2) == 0, NoStaleness: rng.IntN(4) == 0}
	sc.Segments = []Segment{{Duration: 7 * time.Hour}}
	for i := 0; i < 2+rng.IntN(5); i++ {
		g := Segment{Duration: time.Duration(1+rng.IntN(90)) * time.Minute, BadRatio: []float64{0, 0.01, 0.1, 0.5, 1}[rng.IntN(5)], Fault: true}
		switch rng.IntN(8) {
		case 0:
			g.Missing = true
		case 1:
			g.Restart = true
		case 2:
			g.Absent = true
		case 3:
			g.Renamed = true
		}
		sc.Segments = append(sc.Segments, g)
	}
	sc.Segments = append(sc.Segments, Segment{Duration: time.Hour})
	return sc
}

// FuzzFastEvaluatorAgrees replays random scenarios under random scrape models through
// the generated rules of an events and a latency SLO with both evaluators.
func FuzzFastEvaluatorAgrees(f *testing.F) {
	f.Add(uint64(1))
	f.Add(uint64(42))
	slos := shortlink(f)
	f.Fuzz(func(t *testing.T, seed uint64) {
		sc := randomScenario(seed)
		agree(t, slos["create-availability"], sc)
		agree(t, slos["create-latency"], sc)
	})
}
