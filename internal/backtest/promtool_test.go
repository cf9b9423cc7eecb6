package backtest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// check is one promql_expr_test: the tier's firing ALERTS series at At, present or not.
type check struct {
	At      time.Duration
	Labels  map[string]string // the alert's labels
	Present bool
}

// writePromtoolFiles writes rules.yml (group without annotations: the comparison is about
// verdicts and times) and test.yml (the scenario's series as input_series, and checks).
func writePromtoolFiles(t testing.TB, dir string, o slo.Objective, group slo.RuleGroup, sc Scenario, opts Options, checks []check) string {
	t.Helper()
	opts.defaults()
	g := group
	g.Rules = slices.Clone(group.Rules)
	for i := range g.Rules {
		g.Rules[i].Annotations = nil
	}
	rules, err := yaml.Marshal(slo.RuleFile{Groups: []slo.RuleGroup{g}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	input, err := inputFor(o, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	grid := promtoolGrid(input)
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	var in []series
	for _, s := range input {
		in = append(in, series{Series: s.labels.String(), Values: promtoolValues(s, grid, sc.Duration())})
	}
	type sample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
	type exprTest struct {
		Expr       string   `yaml:"expr"`
		EvalTime   string   `yaml:"eval_time"`
		ExpSamples []sample `yaml:"exp_samples"`
	}
	var tests []exprTest
	for _, c := range checks {
		l := maps.Clone(c.Labels)
		l["alertstate"] = "firing"
		sel := fmt.Sprintf(`ALERTS{alertstate="firing",%s=%q}`, slo.LabelWindow, c.Labels[slo.LabelWindow])
		et := exprTest{Expr: sel, EvalTime: slo.FormatWindow(c.At), ExpSamples: []sample{}}
		if c.Present {
			et.ExpSamples = []sample{{Labels: "ALERTS" + labelString(l), Value: 1}}
		}
		tests = append(tests, et)
	}
	if len(tests) == 0 {
		// Still force evaluation to the end of the scenario.
		tests = append(tests, exprTest{Expr: "vector(1)", EvalTime: slo.FormatWindow(sc.Duration()), ExpSamples: []sample{{Labels: "{}", Value: 1}}})
	}
	file := map[string]any{
		"rule_files":          []string{"rules.yml"},
		"evaluation_interval": slo.FormatWindow(opts.EvalInterval),
		"tests": []map[string]any{{
			"interval":         slo.FormatWindow(grid),
			"input_series":     in,
			"promql_expr_test": tests,
		}},
	}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "test.yml")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func labelString(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// promtoolGrid is the input_series interval: the greatest common divisor of every
// sample's offset (promtool's series are on a fixed grid).
func promtoolGrid(input []inputSeries) time.Duration {
	g := time.Duration(0)
	for _, s := range input {
		for _, t := range s.ts {
			a, b := g, t
			for b != 0 {
				a, b = b, a%b
			}
			g = a
		}
	}
	return max(g, time.Second)
}

// promtoolValues writes s on the grid: "_" where it has no sample, "stale" for markers.
func promtoolValues(s inputSeries, grid, dur time.Duration) string {
	var b strings.Builder
	j := 0
	for at := time.Duration(0); at <= dur; at += grid {
		if at > 0 {
			b.WriteByte(' ')
		}
		switch {
		case j < len(s.ts) && s.ts[j] == at && math.IsNaN(s.vs[j]):
			b.WriteString("stale")
			j++
		case j < len(s.ts) && s.ts[j] == at:
			b.WriteString(strconv.FormatFloat(s.vs[j], 'g', -1, 64))
			j++
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// transitionsOf replays sc in the engine and returns its alert transitions.
func transitionsOf(t testing.TB, o slo.Objective, group slo.RuleGroup, sc Scenario, opts Options) []engine.Transition {
	t.Helper()
	opts.defaults()
	var out []engine.Transition
	eng := engine.New(engine.Options{Interval: opts.EvalInterval, Retention: -1,
		OnTransition: func(tr engine.Transition) { out = append(out, tr) }})
	if err := eng.LoadGroups([]slo.RuleGroup{group}); err != nil {
		t.Fatal(err)
	}
	input, err := inputFor(o, sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range input {
		for i, at := range s.ts {
			if err := eng.Store().Append(s.labels, Epoch.Add(at).UnixMilli(), s.vs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := eng.Run(context.Background(), Epoch, Epoch.Add(sc.Duration())); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPromtoolAgreesOnDetectionAndReset replays scenarios in slokit's engine, then asks
// the Debian promtool (Prometheus 2.x) whether each tier's alert is firing one
// evaluation interval after every transition slokit measured and not two intervals
// before it: the two engines agree on every firing and resolution to one interval.
func TestPromtoolAgreesOnDetectionAndReset(t *testing.T) {
	promtool := testutil.Binary(t, "promtool")
	slos := shortlink(t)
	cases := []struct {
		slo string
		sc  Scenario
	}{
		{"create-availability", builtin(t, slos["create-availability"], "total-outage")},
		{"create-availability", builtin(t, slos["create-availability"], "spikes")},
		{"redirect-availability", Scenario{Name: "outage-8h", Segments: []Segment{
			{Duration: 6 * time.Hour}, {Duration: 40 * time.Minute, BadRatio: 1, Fault: true},
			{Duration: 20 * time.Minute, Missing: true}, {Duration: 90 * time.Minute}}}},
		// The scrape model: 3 targets 10s out of phase, the error series created lazily,
		// a restart and a gap with staleness markers during the fault.
		{"redirect-availability", Scenario{Name: "scrape-model-8h", Scrape: Scrape{Offset: 10 * time.Second, Instances: 3, Lazy: true}, Segments: []Segment{
			{Duration: 6 * time.Hour}, {Duration: 20 * time.Minute, BadRatio: 0.5, Fault: true},
			{Duration: 20 * time.Minute, BadRatio: 0.5, Fault: true, Restart: true}, {Duration: 10 * time.Minute, BadRatio: 0.5, Fault: true, Missing: true},
			{Duration: 80 * time.Minute}}}},
		{"redirect-latency", Scenario{Name: "slow-8h", Traffic: 5, Segments: []Segment{
			{Duration: 6 * time.Hour}, {Duration: 90 * time.Minute, BadRatio: 0.3, Fault: true}, {Duration: 40 * time.Minute}}}},
	}
	opts := Options{}
	opts.defaults()
	iv := opts.EvalInterval
	for _, c := range cases {
		t.Run(c.slo+"/"+c.sc.Name, func(t *testing.T) {
			t.Parallel()
			o := slos[c.slo]
			g, err := alerts.Group(o, alerts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			trs := transitionsOf(t, o, g, c.sc, opts)
			var checks []check
			for i, tr := range trs {
				if tr.To == engine.StatePending {
					continue
				}
				at := tr.At.Sub(Epoch)
				// Only stable transitions: the state holds two intervals either side.
				stable := true
				for j, other := range trs {
					if j != i && other.To != engine.StatePending && other.Labels[slo.LabelWindow] == tr.Labels[slo.LabelWindow] {
						if d := other.At.Sub(tr.At); d > -3*iv && d < 3*iv {
							stable = false
						}
					}
				}
				if !stable || at < 2*iv || at+iv > c.sc.Duration() {
					continue
				}
				firing := tr.To == engine.StateFiring
				checks = append(checks,
					check{At: at + iv, Labels: tr.Labels, Present: firing},
					check{At: at - 2*iv, Labels: tr.Labels, Present: !firing})
			}
			if len(checks) < 4 {
				t.Fatalf("only %d checks from transitions %v; the scenario proves too little", len(checks), trs)
			}
			dir := t.TempDir()
			file := writePromtoolFiles(t, dir, o, g, c.sc, opts, checks)
			out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool disagrees with slokit (%d checks):\n%s", len(checks), out)
			}
			t.Logf("promtool agrees on %d checks around %d transitions", len(checks), len(checks)/2)
		})
	}
}
