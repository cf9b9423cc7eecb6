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

// check is one promql_expr_test: Expr evaluated at At returns exactly the ALERTS series
// in Expect (their labels, alertstate included).
type check struct {
	At     time.Duration
	Expr   string
	Expect []map[string]string
}

// tierCheck checks one alert (its labels) firing at at, or not.
func tierCheck(at time.Duration, lset map[string]string, present bool) check {
	c := check{At: at, Expr: fmt.Sprintf(`ALERTS{alertstate="firing",alertname=%q,severity=%q,%s=%q}`,
		lset["alertname"], lset["severity"], slo.LabelWindow, lset[slo.LabelWindow])}
	if present {
		l := maps.Clone(lset)
		l["alertstate"] = "firing"
		c.Expect = []map[string]string{l}
	}
	return c
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
		vals, n := promtoolValues(s, grid, sc.Duration())
		if n != len(s.ts) {
			t.Fatalf("%s: %d of %d samples on promtool's %v grid; the scenario's scrape times cannot be written", s.labels, n, len(s.ts), grid)
		}
		in = append(in, series{Series: s.labels.String(), Values: vals})
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
		et := exprTest{Expr: c.Expr, EvalTime: slo.FormatWindow(c.At), ExpSamples: []sample{}}
		for _, l := range c.Expect {
			et.ExpSamples = append(et.ExpSamples, sample{Labels: "ALERTS" + labelString(l), Value: 1})
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
// It returns how many of s's samples it wrote (all of them only if each is on the grid).
func promtoolValues(s inputSeries, grid, dur time.Duration) (string, int) {
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
	return b.String(), j
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
	for _, c := range cases {
		t.Run(c.slo+"/"+c.sc.Name, func(t *testing.T) {
			t.Parallel()
			n, trs := promtoolAgrees(t, promtool, slos[c.slo], c.sc, 0)
			if n < 4 {
				t.Fatalf("only %d checks from %d transitions; the scenario proves too little", n, trs)
			}
			t.Logf("promtool agrees on %d checks around %d transitions", n, n/2)
		})
	}
}

// promtoolChecks turns slokit's alert transitions into checks for promtool: each stable
// firing or resolution (no other of the same alert nearby) must show one interval after
// it and not two intervals before it; and, when every > 0, every `every` the set of
// firing alerts must be slokit's wherever no alert changed nearby. An ill-conditioned
// firing (see illConditioned) is checked 4 intervals either side instead. It returns the
// checks, how many transitions they surround and how many of those were ill-conditioned.
func promtoolChecks(trs []engine.Transition, o slo.Objective, iv, dur, every time.Duration) ([]check, int, int) {
	margin := make([]time.Duration, len(trs))
	for i, tr := range trs {
		margin[i] = iv
		if illConditioned(tr, o, iv) {
			margin[i] = 4 * iv
		}
	}
	// near: another firing edge (of window w, "*" for any) within m or its own margin,
	// plus two intervals, of at.
	near := func(at, m time.Duration, w string, skip int) bool {
		for j, other := range trs {
			if j == skip || !firingEdge(other) || w != "*" && other.Labels[slo.LabelWindow] != w {
				continue
			}
			r := max(m, margin[j]) + 2*iv
			if d := other.At.Sub(Epoch) - at; d > -r && d < r {
				return true
			}
		}
		return false
	}
	var checks []check
	n, ill := 0, 0
	for i, tr := range trs {
		at, m := tr.At.Sub(Epoch), margin[i]
		if !firingEdge(tr) || at < m+iv || at+m > dur || near(at, m, tr.Labels[slo.LabelWindow], i) {
			continue
		}
		firing := tr.To == engine.StateFiring
		checks = append(checks, tierCheck(at+m, tr.Labels, firing), tierCheck(at-m-iv, tr.Labels, !firing))
		n++
		if m > iv {
			ill++
		}
	}
	for at := every; every > 0 && at+iv <= dur; at += every {
		if near(at, 0, "*", -1) {
			continue
		}
		firing := map[string]map[string]string{}
		for _, tr := range trs {
			if tr.At.Sub(Epoch) > at || !firingEdge(tr) {
				continue
			}
			key := labelString(tr.Labels)
			if tr.To == engine.StateFiring {
				l := maps.Clone(tr.Labels)
				l["alertstate"] = "firing"
				firing[key] = l
			} else {
				delete(firing, key)
			}
		}
		c := check{At: at, Expr: `ALERTS{alertstate="firing"}`}
		for _, k := range slices.Sorted(maps.Keys(firing)) {
			c.Expect = append(c.Expect, firing[k])
		}
		checks = append(checks, c)
	}
	return checks, n, ill
}

// illConditioned reports a firing whose burn rate (the long window's, the alert's value)
// is within one recorded sample's weight (evaluation interval / long window) of the
// tier's threshold. Prometheus 2 (promtool) includes the sample on a window's left edge,
// Prometheus 3 (slokit's engine) does not; with a burn that barely crosses the threshold
// (a 1.1× burn on a 1× tier), that one sample moves the crossing by more than one interval.
func illConditioned(tr engine.Transition, o slo.Objective, iv time.Duration) bool {
	if tr.To != engine.StateFiring {
		return false
	}
	for _, w := range o.Tiers() {
		if slo.FormatWindow(w.Long) == tr.Labels[slo.LabelWindow] && w.Severity == slo.SeverityName(tr.Labels["severity"]) {
			return math.Abs(tr.Value/w.BurnRate-1) < float64(iv)/float64(w.Long)
		}
	}
	return false
}

// firingEdge reports whether tr starts or ends a firing alert (pending ↔ inactive
// changes nothing promtool's ALERTS{alertstate="firing"} shows).
func firingEdge(tr engine.Transition) bool {
	return tr.To == engine.StateFiring || tr.From == engine.StateFiring
}

// promtoolAgrees replays sc through o's generated rules in slokit's engine and runs the
// checks of promtoolChecks with `promtool test rules` on the same rules and series; it
// fails the test on any disagreement and returns the number of checks and transitions.
func promtoolAgrees(t *testing.T, promtool string, o slo.Objective, sc Scenario, every time.Duration) (int, int) {
	t.Helper()
	opts := Options{}
	opts.defaults()
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	trs := transitionsOf(t, o, g, sc, opts)
	checks, n, ill := promtoolChecks(trs, o, opts.EvalInterval, sc.Duration(), every)
	if ill > 0 {
		t.Logf("%d of %d firings ill-conditioned (burn within one recorded sample's weight of the threshold): checked 4 intervals either side", ill, n)
	}
	if len(checks) == 0 {
		return 0, n
	}
	file := writePromtoolFiles(t, t.TempDir(), o, g, sc, opts, checks)
	cmd := exec.Command(promtool, "test", "rules", file)
	cmd.Dir = filepath.Dir(file)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool disagrees with slokit (%d checks around %d transitions):\n%s", len(checks), n, out)
	}
	return len(checks), n
}

// promtoolScenario is sc as promtool's fixed input grid can hold it: no jitter (a scrape
// up to 15s late puts samples on single seconds), targets phased on whole seconds.
func promtoolScenario(sc Scenario) Scenario {
	sc.Scrape.Jitter = 0
	return sc
}

// TestPromtoolAgreesOnEveryBuiltin runs the built-in scenarios (jitter dropped, see
// promtoolScenario) through the generated rules of a 7-day events SLO and a 7-day
// latency SLO in slokit's fast evaluator and in the Debian promtool: every stable
// firing and resolution to within one evaluation interval (ill-conditioned firings to
// four), and the set of firing alerts every hour away from transitions, agree. By default
// the scrape-model and silent-condition scenarios and the slowest burn (8 replays); every
// built-in on both SLOs (38) with SLOKIT_PROMTOOL_ALL=1 (about 5 CPU-minutes).
func TestPromtoolAgreesOnEveryBuiltin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool on 8 to 38 scenarios; not in -short")
	}
	promtool := testutil.Binary(t, "promtool")
	slos := loadSLOs(t, "testdata/weekly-slos.yaml")
	subset := map[string][]string{
		"availability": {"gap-outage", "coarse-scrape", "multi-instance", "scrape-jitter", "missing-data", "metric-renamed"},
		"latency":      {"between-buckets", "burn-1x"},
	}
	all := os.Getenv("SLOKIT_PROMTOOL_ALL") == "1"
	for _, name := range slices.Sorted(maps.Keys(slos)) {
		o := slos[name]
		for _, sc := range Builtin(o) {
			if sc.LatencyOnly && o.SLI.Latency == nil || !all && !slices.Contains(subset[name], sc.Name) {
				continue
			}
			t.Run(name+"/"+sc.Name, func(t *testing.T) {
				t.Parallel()
				n, trs := promtoolAgrees(t, promtool, o, promtoolScenario(sc), time.Hour)
				if n == 0 {
					t.Fatal("no checks; the scenario proves nothing")
				}
				t.Logf("promtool agrees on %d checks (%d transitions)", n, trs)
			})
		}
	}
}

// TestPromtoolAgreesOnRandomScenarios replays random scenarios under random scrape models
// (randomScenario, jitter dropped, targets phased on whole seconds) through an events and
// a latency SLO's rules in slokit's engine and in promtool. Not a fuzz target: one input
// runs promtool twice, longer than the 10 seconds Go's fuzzer allows an input on a loaded
// machine; SLOKIT_PROMTOOL_SEEDS=n runs seeds 1..n instead of the four below.
func TestPromtoolAgreesOnRandomScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool per scenario; not in -short")
	}
	promtool := testutil.Binary(t, "promtool")
	seeds := []uint64{1, 2, 3, 42}
	if n, err := strconv.Atoi(os.Getenv("SLOKIT_PROMTOOL_SEEDS")); err == nil && n > 0 {
		seeds = seeds[:0]
		for i := 1; i <= n; i++ {
			seeds = append(seeds, uint64(i))
		}
	}
	slos := shortlink(t)
	for _, seed := range seeds {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			sc := promtoolScenario(randomScenario(seed))
			sc.Scrape.Offset = sc.Scrape.Offset.Truncate(5 * time.Second)
			if sc.Scrape.Interval%(time.Duration(sc.Scrape.Instances)*time.Second) != 0 {
				sc.Scrape.Instances = 1
			}
			for _, name := range []string{"create-availability", "create-latency"} {
				n, trs := promtoolAgrees(t, promtool, slos[name], sc, time.Hour)
				t.Logf("seed %d %s: promtool agrees on %d checks (%d transitions)", seed, name, n, trs)
			}
		})
	}
}
