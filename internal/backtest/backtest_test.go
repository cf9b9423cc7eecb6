package backtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

func shortlink(t testing.TB) map[string]slo.Objective {
	t.Helper()
	svcs, ds := slo.LoadFiles("../../examples/shortlink.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]slo.Objective{}
	for _, o := range svcs[0].Objectives {
		out[o.Name] = o
	}
	return out
}

func builtin(t testing.TB, o slo.Objective, name string) Scenario {
	t.Helper()
	for _, sc := range Builtin(o) {
		if sc.Name == name {
			return sc
		}
	}
	t.Fatalf("no builtin scenario %q", name)
	return Scenario{}
}

func runBuiltin(t *testing.T, o slo.Objective, name string) Result {
	t.Helper()
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), o, g, builtin(t, o, name), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBuiltinScenariosMeetTheMaths replays a subset of the library through the generated
// shortlink rules (the whole library runs in `slokit test`): every expectation holds and
// every step fault's times agree with the Workbook's formulas within Tolerance.
func TestBuiltinScenariosMeetTheMaths(t *testing.T) {
	slos := shortlink(t)
	// total-outage is TestTotalOutageTimes'; spikes run in the promtool cross-check.
	cases := []struct{ slo, scenario string }{
		{"redirect-availability", "errors-10pct"},
		{"redirect-availability", "burn-6x"},
		{"redirect-availability", "burn-0.9x"},
		{"redirect-latency", "latency-degradation"},
	}
	if testing.Short() {
		cases = cases[:1]
	}
	for _, c := range cases {
		t.Run(c.slo+"/"+c.scenario, func(t *testing.T) {
			t.Parallel()
			r := runBuiltin(t, slos[c.slo], c.scenario)
			if len(r.Violations) > 0 {
				t.Errorf("violations: %v", r.Violations)
			}
			for _, tr := range r.Tiers {
				if tr.Mismatch != "" {
					t.Errorf("%s %s: %s", tr.Severity, fmtDur(tr.Long), tr.Mismatch)
				}
			}
		})
	}
}

// TestTotalOutageTimes pins the measured times of the fast page against the maths:
// 99.9% over 30d, total outage: detection 52s, reset 4m56s, 2% of the budget spent.
func TestTotalOutageTimes(t *testing.T) {
	o := shortlink(t)["redirect-availability"]
	r := runBuiltin(t, o, "total-outage")
	if len(r.Violations) > 0 {
		t.Errorf("violations: %v", r.Violations)
	}
	for _, tr := range r.Tiers {
		if tr.Mismatch != "" {
			t.Errorf("%s %s: %s", tr.Severity, fmtDur(tr.Long), tr.Mismatch)
		}
	}
	tr := r.Tiers[0]
	if tr.Severity != slo.Page || tr.Long != time.Hour {
		t.Fatalf("first tier is %s %s, want the 1h page", tr.Severity, tr.Long)
	}
	// Evaluations every 30s catch the 52s crossing at 1m; the window (t−5m, t] stops
	// holding an increase once its first sample is the last failing scrape: 4m30s.
	if !tr.HasDetect || tr.Detect != time.Minute {
		t.Errorf("detect = %v (%v), want 1m", tr.Detect, tr.HasDetect)
	}
	if !tr.HasReset || tr.Reset != 4*time.Minute+30*time.Second {
		t.Errorf("reset = %v (%v), want 4m30s", tr.Reset, tr.HasReset)
	}
	// 1 minute of total outage at 10 rps is 600 bad events of a budget of
	// 0.001 × 10 rps × 30d = 25920.
	if want := 600.0 / 25920; tr.BudgetAtDetect < want*0.999 || tr.BudgetAtDetect > want*1.001 {
		t.Errorf("budget at detect = %v, want %v", tr.BudgetAtDetect, want)
	}
	if p := tr.Predicted; p == nil || p.Detect != 52*time.Second || p.Reset != 4*time.Minute+56*time.Second {
		t.Errorf("prediction = %+v, want detect 52s and reset 4m56s", p)
	}
}

func TestLowTrafficOneFailurePages(t *testing.T) {
	// The Workbook's case: at 10 events/hour one failure pages at once.
	r := runBuiltin(t, shortlink(t)["redirect-availability"], "low-traffic")
	if !r.Fired(slo.Page) {
		t.Error("one failure at 10 events/hour did not page")
	}
	if got := r.Tiers[0].BudgetAtDetect; got < 0.138 || got > 0.140 {
		t.Errorf("one failure spent %.4f of the budget, want 1/7.2 = 0.139", got)
	}
}

func TestExpectationViolationsAreReported(t *testing.T) {
	o := shortlink(t)["redirect-availability"]
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc := Scenario{Name: "wrong", Segments: []Segment{
		{Duration: 2 * time.Hour},
		{Duration: 30 * time.Minute, BadRatio: 1, Fault: true},
		{Duration: 10 * time.Minute},
	}, Expect: Expect{MustNotFire: []slo.SeverityName{slo.Page}}}
	r, err := Run(context.Background(), o, g, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 1 || !strings.Contains(r.Violations[0], "page must not fire but did") {
		t.Errorf("violations = %v", r.Violations)
	}
}

func TestSeriesForSelectors(t *testing.T) {
	tests := []struct {
		bad, total string
		want       []string
	}{
		{`http_requests_total{service="s",code=~"5.."}`, `http_requests_total{service="s"}`,
			[]string{`{__name__="http_requests_total", code="500", service="s"}`, `{__name__="http_requests_total", code="200", service="s"}`}},
		{`errors_total{job="j"}`, `requests_total{job="j"}`,
			[]string{`{__name__="errors_total", job="j"}`, `{__name__="requests_total", job="j"}`}},
		{`rpc_total{ok="false"}`, `rpc_total`,
			[]string{`{__name__="rpc_total", ok="false"}`, `{__name__="rpc_total", ok="200"}`}},
	}
	for _, tt := range tests {
		cs, err := eventSeries(slo.EventsSLI{Bad: tt.bad, Total: tt.total})
		if err != nil {
			t.Errorf("%s / %s: %v", tt.bad, tt.total, err)
			continue
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.labels.String())
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s / %s:\n got %v\nwant %v", tt.bad, tt.total, got, tt.want)
		}
	}
}
