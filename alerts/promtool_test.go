package alerts_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// specFiles are every spec the rules are checked against: the examples and the valid
// corpus of the spec parser.
func specFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"../examples/*.yaml", "../slo/testdata/valid/*.yaml"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 5 {
		t.Fatalf("found only %d spec files under ../examples and ../slo/testdata/valid", len(files))
	}
	return files
}

// TestPromtoolCheckRules runs `promtool check rules` on the rule file generated for every
// example and valid test spec, in both output formats' rule content.
func TestPromtoolCheckRules(t *testing.T) {
	promtool := testutil.Binary(t, "promtool")
	dir := t.TempDir()
	var paths []string
	for _, spec := range specFiles(t) {
		svcs, ds := slo.LoadFiles(spec)
		if err := ds.Err(); err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		f, err := alerts.RuleFile(svcs, alerts.Options{GrafanaURL: "https://grafana.example"})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		data, err := alerts.MarshalRuleFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, strings.TrimSuffix(filepath.Base(spec), ".yaml")+".rules.yaml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(promtool, append([]string{"check", "rules"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "SUCCESS"); n != len(paths) {
		t.Fatalf("promtool reported %d successes for %d files:\n%s", n, len(paths), out)
	}
}

// The promtool unit-test file format (the subset slokit writes).
type unitTestFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Name        string       `yaml:"name"`
	Interval    string       `yaml:"interval"`
	InputSeries []inputSerie `yaml:"input_series"`
	ExprTests   []exprTest   `yaml:"promql_expr_test"`
}

type inputSerie struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type exprTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []expSample `yaml:"exp_samples"`
}

type expSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

const (
	scrape = time.Minute // interval of the input series
	eval   = time.Minute // rule evaluation interval of the outage test
	// slowEval is the evaluation interval of the three-day tests: every rule, and so
	// every alert, is still evaluated 864 times, at a twentieth of the cost.
	slowEval = 5 * time.Minute
)

// counterValues renders a counter sampled every scrape whose per-scrape increase is
// given by inc for each sample index, in promtool's expanding notation.
func counterValues(steps int, inc func(i int) float64) string {
	var parts []string
	v := 0.0 // the counter's value at sample i
	for i := 0; i <= steps; {
		if i == steps {
			parts = append(parts, slo.FormatFloat(v))
			break
		}
		// The longest run of equal increments from sample i is one "a+bxn" segment.
		d := inc(i + 1)
		j := i
		for j < steps && inc(j+1) == d {
			j++
		}
		parts = append(parts, fmt.Sprintf("%s+%sx%d", slo.FormatFloat(v), slo.FormatFloat(d), j-i))
		v += d * float64(j-i)
		if j == steps {
			break
		}
		v += inc(j + 1)
		i = j + 1
	}
	return strings.Join(parts, " ")
}

// shortlinkSeries returns a good and a bad request counter that the shortlink redirect
// SLO's selectors select (checked with the Prometheus matchers).
func shortlinkSeries(t *testing.T, o slo.Objective) (good, bad string) {
	t.Helper()
	good = `http_requests_total{service="shortlink",route="GET /{code}",method="GET",code="200"}`
	bad = `http_requests_total{service="shortlink",route="GET /{code}",method="GET",code="503"}`
	p := parser.NewParser(parser.Options{})
	matches := func(sel, series string) bool {
		ms, err := p.ParseMetricSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		lbls, err := p.ParseMetric(series)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if !m.Matches(lbls.Get(m.Name)) {
				return false
			}
		}
		return true
	}
	ev := o.SLI.Events
	if !matches(ev.Total, good) || !matches(ev.Total, bad) || matches(ev.Bad, good) || !matches(ev.Bad, bad) {
		t.Fatalf("the test series no longer fit the example's selectors bad=%s total=%s", ev.Bad, ev.Total)
	}
	return good, bad
}

func minutes(d time.Duration) string { return slo.FormatWindow(d) }

// shortlinkUnitTests builds the promtool unit tests proving the shortlink redirect SLO's
// alerts against the predictions of alerts.Predict: the outage test, evaluated every
// minute, and the three-day burn tests, evaluated every five.
func shortlinkUnitTests(t *testing.T, o slo.Objective, ruleFile string) (outage, burns unitTestFile) {
	t.Helper()
	good, bad := shortlinkSeries(t, o)
	alert := o.AlertName()
	fast := o.Windows()[0]
	if fast.Severity != slo.Page {
		t.Fatalf("fastest tier is %s, want page", fast.Severity)
	}
	pred := alerts.Predict(o, fast, 1)
	if !pred.Fires {
		t.Fatal("the fast page cannot fire on a total outage")
	}
	sel := func(extra string) string {
		return fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing",slokit_service=%q,slokit_slo=%q%s}`, alert, o.Service, o.Name, extra)
	}
	fastPage := sel(fmt.Sprintf(`,severity="page",slokit_window=%q`, slo.FormatWindow(fast.Long)))
	one := []expSample{{Labels: "{}", Value: 1}}

	// (a)+(c): 10 req/s; two hours healthy so every short window is full, then a 30-minute
	// total outage, then healthy again.
	const rps = 10
	warm, length, after := 120*time.Minute, 30*time.Minute, 60*time.Minute
	if length < fast.Short {
		t.Fatal("outage shorter than the short window: reset prediction does not apply")
	}
	steps := int((warm + length + after) / scrape)
	perScrape := rps * scrape.Seconds()
	inOutage := func(i int) bool {
		at := time.Duration(i) * scrape
		return at > warm && at <= warm+length
	}
	goodInc := func(i int) float64 {
		if inOutage(i) {
			return 0
		}
		return perScrape
	}
	badInc := func(i int) float64 {
		if inOutage(i) {
			return perScrape
		}
		return 0
	}
	start, end := warm, warm+length
	// Fires by: fault start + predicted detection + one scrape + one evaluation,
	// rounded down to the evaluation grid.
	firesBy := (start + pred.Detect + scrape + eval).Truncate(eval)
	// Resolves by: fault end + short window + one evaluation (ALERTING-MATH.md: the reset
	// takes S·(1−B·b/e) ≤ S).
	resolvedBy := (end + fast.Short + eval).Truncate(eval)
	outageTest := testGroup{
		Name:     fmt.Sprintf("100%% outage: %s fires within %s + scrape + eval and resolves within %s + eval of the end", fastPage, pred.Detect, fast.Short),
		Interval: minutes(scrape),
		InputSeries: []inputSerie{
			{Series: good, Values: counterValues(steps, goodInc)},
			{Series: bad, Values: counterValues(steps, badInc)},
		},
		ExprTests: []exprTest{
			{Expr: "count(" + sel("") + ")", EvalTime: minutes(start)}, // nothing before the fault
			{Expr: "count(" + fastPage + ")", EvalTime: minutes(firesBy), ExpSamples: one},
			{Expr: "count(" + fastPage + ")", EvalTime: minutes(end), ExpSamples: one},
			{Expr: "count(" + fastPage + ")", EvalTime: minutes(resolvedBy)},
		},
	}
	// The slower tiers read derived long windows (docs/rules.md): each fires by its
	// predicted time + one scrape + one evaluation + the edge smear of one base window.
	base := o.RatioWindows()[0]
	for _, w := range o.Windows()[1:] {
		p := alerts.Predict(o, w, 1)
		if !p.Fires || start+p.Detect+scrape+eval+base >= end {
			t.Fatalf("tier %s/%s: a total outage of %s does not test it", slo.FormatWindow(w.Long), slo.FormatWindow(w.Short), length)
		}
		by := (start + p.Detect + scrape + eval + base).Truncate(eval)
		tier := sel(fmt.Sprintf(`,severity=%q,slokit_window=%q`, w.Severity, slo.FormatWindow(w.Long)))
		outageTest.ExprTests = append(outageTest.ExprTests, exprTest{Expr: "count(" + tier + ")", EvalTime: minutes(by), ExpSamples: one})
	}

	// (b) 0.9× burn for three days never fires anything; 1.1× (the control) fires the
	// slowest ticket and no page. max_over_time over the whole run sees every evaluation.
	days := 3 * 24 * time.Hour
	burnTest := func(burn float64, expect []exprTest) testGroup {
		total := 1000.0 // events per scrape
		badPer := burn * o.ErrorBudget() * total
		n := int(days / scrape)
		return testGroup{
			Name:     fmt.Sprintf("steady %g× burn for 3 days", burn),
			Interval: minutes(scrape),
			InputSeries: []inputSerie{
				{Series: good, Values: counterValues(n, func(int) float64 { return total - badPer })},
				{Series: bad, Values: counterValues(n, func(int) float64 { return badPer })},
			},
			ExprTests: expect,
		}
	}
	ever := func(extra string) string {
		return fmt.Sprintf("count(max_over_time(%s[%s]))", sel(extra), slo.FormatWindow(days))
	}
	slowest := o.Windows()[len(o.Windows())-1]
	if slowest.BurnRate >= 1.1 || slowest.Severity != slo.Ticket {
		t.Fatalf("slowest tier %+v: the 1.1× control needs a ticket tier at or below 1×", slowest)
	}
	ctl := alerts.Predict(o, slowest, 1.1*o.ErrorBudget())
	if ctl.Detect > days-scrape-slowEval {
		t.Fatalf("1.1× is predicted to fire the %s ticket after %s, beyond the 3-day run", slo.FormatWindow(slowest.Long), ctl.Detect)
	}
	outage = unitTestFile{
		RuleFiles:          []string{ruleFile},
		EvaluationInterval: minutes(eval),
		Tests:              []testGroup{outageTest},
	}
	burns = unitTestFile{
		RuleFiles:          []string{ruleFile},
		EvaluationInterval: minutes(slowEval),
		Tests: []testGroup{
			burnTest(0.9, []exprTest{{Expr: ever(""), EvalTime: minutes(days)}}),
			burnTest(1.1, []exprTest{
				{Expr: ever(fmt.Sprintf(`,severity="ticket",slokit_window=%q`, slo.FormatWindow(slowest.Long))), EvalTime: minutes(days), ExpSamples: one},
				{Expr: ever(`,severity="page"`), EvalTime: minutes(days)},
			}),
		},
	}
	return outage, burns
}

// TestPromtoolTestRulesShortlink proves, with `promtool test rules` over the rules
// generated from examples/shortlink.yaml, that (a) a 100% outage fires the fast page
// within the predicted detection time plus one scrape and one evaluation interval, (b) a
// 0.9× burn fires nothing in three days while 1.1× does fire the 1× ticket, and (c) the
// page resolves within the short window plus one evaluation interval of the outage's end.
// The unit-test file is kept as a golden file under testdata/promtool/.
func TestPromtoolTestRulesShortlink(t *testing.T) {
	if testing.Short() {
		t.Skip("promtool evaluates three simulated days: skipped with -short")
	}
	svcs, ds := slo.LoadFiles("../examples/shortlink.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	var o slo.Objective
	for _, x := range svcs[0].Objectives {
		if x.Name == "redirect-availability" {
			o = x
		}
	}
	if o.Name == "" {
		t.Fatal("examples/shortlink.yaml has no redirect-availability SLO")
	}
	// The SLO's groups as generate writes them: the fast group and the long one (promtool
	// evaluates every group at every step, in name order, so the alerts read long-window
	// burn rates one step old).
	gs, err := alerts.ServiceGroups(&slo.Service{Name: o.Service, Objectives: []slo.Objective{o}}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := alerts.MarshalRuleFile(slo.RuleFile{Groups: gs})
	if err != nil {
		t.Fatal(err)
	}
	outage, burns := shortlinkUnitTests(t, o, "shortlink-redirect-availability.rules.yaml")
	dir := filepath.Join("testdata", "promtool")
	compareGolden(t, filepath.Join(dir, "shortlink-redirect-availability.rules.yaml"), rules)
	var files []string
	for name, f := range map[string]unitTestFile{"outage": outage, "burn": burns} {
		var buf bytes.Buffer
		buf.WriteString(slo.GeneratedHeader)
		buf.WriteString("# promtool test rules proof of the shortlink redirect-availability alerts; see alerts/promtool_test.go.\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
		enc.Close()
		p := filepath.Join(dir, "shortlink-redirect-availability."+name+".test.yaml")
		compareGolden(t, p, buf.Bytes())
		files = append(files, p)
	}
	sort.Strings(files)

	promtool := testutil.Binary(t, "promtool")
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(promtool, "test", "rules", p).CombinedOutput()
			if err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, out)
			}
			t.Logf("promtool test rules:\n%s", out)
		})
	}
}
