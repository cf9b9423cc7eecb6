package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/slokit/slokit/slo"
)

var t0 = time.Unix(0, 0).UTC()

// burnRules are hand-written multiwindow rules for a 99.9% events SLI with the Workbook's
// fast page tier (14.4× over 1h and 5m) and a slow ticket tier (1× over 6h and 30m).
func burnRules() []slo.RuleGroup {
	var rules []slo.Rule
	for _, w := range []string{"5m", "30m", "1h", "6h"} {
		rules = append(rules, slo.Rule{
			Record: "slokit:sli_error:ratio",
			Expr:   fmt.Sprintf(`sum(rate(http_requests_total{code=~"5.."}[%s])) / sum(rate(http_requests_total[%s]))`, w, w),
			Labels: map[string]string{"slokit_window": w},
		})
	}
	alert := func(long, short string, burn float64, sev string) slo.Rule {
		return slo.Rule{
			Alert: "Availability",
			Expr: fmt.Sprintf(`slokit:sli_error:ratio{slokit_window=%q} > (%g * 0.001) and ignoring(slokit_window) slokit:sli_error:ratio{slokit_window=%q} > (%g * 0.001)`,
				long, burn, short, burn),
			Labels: map[string]string{"severity": sev, "slokit_window": long},
		}
	}
	rules = append(rules, alert("1h", "5m", 14.4, "page"), alert("6h", "30m", 1, "ticket"))
	return []slo.RuleGroup{{Name: "availability", Rules: rules}}
}

// feed appends request counters scraped every 30s from 0 to end: rps requests per second,
// with errRatio(t) of them failing.
func feed(t *testing.T, e *Engine, end time.Duration, rps float64, errRatio func(time.Duration) float64) {
	t.Helper()
	ok := labels.FromStrings("__name__", "http_requests_total", "code", "200")
	bad := labels.FromStrings("__name__", "http_requests_total", "code", "500")
	var good, fail float64
	for at := time.Duration(0); at <= end; at += 30 * time.Second {
		if err := e.Append(ok, t0.Add(at), good); err != nil {
			t.Fatal(err)
		}
		if err := e.Append(bad, t0.Add(at), fail); err != nil {
			t.Fatal(err)
		}
		r := errRatio(at)
		good += 30 * rps * (1 - r)
		fail += 30 * rps * r
	}
}

func outage(from, to time.Duration) func(time.Duration) float64 {
	return func(at time.Duration) float64 {
		if at >= from && at < to {
			return 1
		}
		return 0
	}
}

type event struct {
	At       time.Duration
	Severity string
	To       State
}

func run(t *testing.T, opts Options, end time.Duration, errRatio func(time.Duration) float64) ([]event, *Engine) {
	t.Helper()
	var got []event
	opts.OnTransition = func(tr Transition) {
		got = append(got, event{tr.At.Sub(t0), tr.Labels["severity"], tr.To})
	}
	e := New(opts)
	if err := e.LoadGroups(burnRules()); err != nil {
		t.Fatal(err)
	}
	feed(t, e, end, 10, errRatio)
	if err := e.Run(context.Background(), t0, t0.Add(end)); err != nil {
		t.Fatal(err)
	}
	return got, e
}

func TestRunTotalOutagePagesAndResets(t *testing.T) {
	// 30 minutes of total outage starting at 7h. The ticket (1 × 0.1% over 6h and 30m)
	// fires on the first scrape holding failures: 30s of 10 rps failing is 0.14% of 6h. The page (14.4 × 0.1% over 1h) needs
	// 1.44% of the hour bad: 52s; the next 30s evaluation catches it. The 5m window
	// empties below 1.44% after 5m × (1 − 0.0144) ≈ 4m56s, caught at the next step.
	got, e := run(t, Options{}, 9*time.Hour, outage(7*time.Hour, 7*time.Hour+30*time.Minute))
	want := []event{
		{7*time.Hour + 30*time.Second, "ticket", StatePending},
		{7*time.Hour + 30*time.Second, "ticket", StateFiring},
		{7*time.Hour + 1*time.Minute, "page", StatePending},
		{7*time.Hour + 1*time.Minute, "page", StateFiring},
	}
	if !reflect.DeepEqual(got[:4], want) {
		t.Fatalf("first transitions:\n got %v\nwant %v", got[:4], want)
	}
	// Resets: from 7h34m30s the window (t−5m, t] starts at the scrape of 7h30m, the last
	// one holding new failures, so rate() sees no increase. The ticket's 30m window
	// empties the same way at 7h59m30s.
	wantEnd := []event{
		{7*time.Hour + 34*time.Minute + 30*time.Second, "page", StateInactive},
		{7*time.Hour + 59*time.Minute + 30*time.Second, "ticket", StateInactive},
	}
	if !reflect.DeepEqual(got[4:], wantEnd) {
		t.Errorf("later transitions:\n got %v\nwant %v", got[4:], wantEnd)
	}
	if a := e.Alerts(); len(a) != 0 {
		t.Errorf("active alerts at the end = %+v, want none", a)
	}
}

func TestRangeEvaluationEqualsStepByStep(t *testing.T) {
	scenarios := map[string]func(time.Duration) float64{
		"outage": outage(3*time.Hour, 3*time.Hour+20*time.Minute),
		"spikes": func(at time.Duration) float64 {
			return map[bool]float64{true: 1}[at%(10*time.Minute) < 5*time.Minute && at > 2*time.Hour]
		},
		"slowburn": func(at time.Duration) float64 { return 0.003 },
	}
	for name, f := range scenarios {
		t.Run(name, func(t *testing.T) {
			ranged, er := run(t, Options{}, 8*time.Hour, f)
			if !er.RangeEvaluable() {
				t.Fatal("burn rules should be range-evaluable")
			}
			stepped, es := run(t, Options{StepByStep: true}, 8*time.Hour, f)
			if !reflect.DeepEqual(ranged, stepped) {
				t.Errorf("transitions differ:\nrange %v\nsteps %v", ranged, stepped)
			}
			if len(ranged) == 0 {
				t.Errorf("scenario %s produced no transitions; the comparison proves nothing", name)
			}
			for _, q := range []string{`slokit:sli_error:ratio`, `ALERTS`} {
				a := queryRange(t, er, q, 8*time.Hour)
				b := queryRange(t, es, q, 8*time.Hour)
				if a.String() != b.String() {
					t.Errorf("%s differs between range and step evaluation:\n%.2000s\n%.2000s", q, a, b)
				}
			}
		})
	}
}

func queryRange(t *testing.T, e *Engine, q string, end time.Duration) promql.Matrix {
	t.Helper()
	v, _, err := e.QueryRange(context.Background(), q, t0, t0.Add(end), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return v.(promql.Matrix)
}

// TestAlertStateMachine drives one alert with a gauge that is 1 (condition true) or 0.
func TestAlertStateMachine(t *testing.T) {
	tests := []struct {
		name, forD, keep string
		cond             string // one char per 1m evaluation: '1' true, '0' false
		want             []string
	}{
		{"fires at once without for", "", "", "0110",
			[]string{"1m0s pending", "1m0s firing", "3m0s inactive"}},
		{"for holds it pending", "2m", "", "011110",
			[]string{"1m0s pending", "3m0s firing", "5m0s inactive"}},
		{"a dip before for resets pending", "2m", "", "01101110",
			[]string{"1m0s pending", "3m0s inactive", "4m0s pending", "6m0s firing", "7m0s inactive"}},
		{"keep_firing_for bridges a dip", "", "2m", "0110100000",
			[]string{"1m0s pending", "1m0s firing", "7m0s inactive"}},
		{"keep_firing_for does not keep pending alive", "1m", "5m", "0100",
			[]string{"1m0s pending", "2m0s inactive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stepped := range []bool{false, true} {
				var got []string
				e := New(Options{Interval: time.Minute, StepByStep: stepped, OnTransition: func(tr Transition) {
					got = append(got, fmt.Sprintf("%v %s", tr.At.Sub(t0), tr.To))
				}})
				err := e.LoadGroups([]slo.RuleGroup{{Name: "g", Rules: []slo.Rule{
					{Alert: "A", Expr: "cond == 1", For: tt.forD, KeepFiringFor: tt.keep},
				}}})
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range tt.cond {
					if err := e.Append(labels.FromStrings("__name__", "cond"), t0.Add(time.Duration(i)*time.Minute), float64(c-'0')); err != nil {
						t.Fatal(err)
					}
				}
				if err := e.Run(context.Background(), t0, t0.Add(time.Duration(len(tt.cond)-1)*time.Minute)); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("stepByStep=%v:\n got %q\nwant %q", stepped, got, tt.want)
				}
			}
		})
	}
}

func TestRecordingRuleWritesStalenessMarkers(t *testing.T) {
	e := New(Options{Interval: time.Minute})
	if err := e.LoadGroups([]slo.RuleGroup{{Name: "g", Rules: []slo.Rule{{Record: "copy", Expr: "src"}}}}); err != nil {
		t.Fatal(err)
	}
	src := labels.FromStrings("__name__", "src")
	for i := 0; i < 3; i++ {
		_ = e.Append(src, t0.Add(time.Duration(i)*time.Minute), 7)
	}
	// src leaves the 5m lookback at 7m: copy must go stale then, not linger another 5m.
	if err := e.Run(context.Background(), t0, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	v, _, err := e.Query(context.Background(), "copy", t0.Add(7*time.Minute+30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if vec := v.(promql.Vector); len(vec) != 0 {
		t.Errorf("copy at 7m30s = %v, want nothing: src left the lookback at 7m, so copy got a staleness marker then", vec)
	}
	v, _, _ = e.Query(context.Background(), "copy", t0.Add(6*time.Minute+30*time.Second))
	if vec := v.(promql.Vector); len(vec) != 1 || vec[0].F != 7 {
		t.Errorf("copy at 6m30s = %v, want 7", vec)
	}
}

func TestLoadGroupsReportsEveryBadRule(t *testing.T) {
	e := New(Options{})
	err := e.LoadGroups([]slo.RuleGroup{{Name: "g", Rules: []slo.Rule{
		{Record: "ok", Expr: "up"},
		{Record: "bad name", Expr: "up"},
		{Alert: "A", Expr: "rate(up[5m]"},
		{Expr: "up"},
		{Alert: "B", Expr: "up[5m]"},
		{Alert: "C", Expr: "up", For: "soon"},
	}}})
	if err == nil {
		t.Fatal("want errors")
	}
	want := []string{
		`group "g" rule 1: record "bad name" is not a valid metric name`,
		`group "g" rule 2: expr "rate(up[5m]"`,
		`group "g" rule 3: set record or alert`,
		`group "g" rule 4: expr must be an instant vector or scalar, got a matrix`,
		`group "g" rule 5: alert "C": for:`,
	}
	for _, w := range want {
		if !containsLine(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

func containsLine(s, prefix string) bool {
	for _, l := range splitLines(s) {
		if len(l) >= len(prefix) && l[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestRangeEvaluableDetectsForwardReads(t *testing.T) {
	tests := []struct {
		name  string
		rules []slo.Rule
		want  bool
	}{
		{"reads earlier record", []slo.Rule{{Record: "a", Expr: "x"}, {Record: "b", Expr: "a"}}, true},
		{"reads later record", []slo.Rule{{Record: "b", Expr: "a"}, {Record: "a", Expr: "x"}}, false},
		{"reads itself", []slo.Rule{{Record: "a", Expr: "a offset 1m"}}, false},
		{"reads ALERTS of an earlier alert", []slo.Rule{{Alert: "A", Expr: "x > 1"}, {Record: "b", Expr: "ALERTS"}}, true},
		{"reads ALERTS of a later alert", []slo.Rule{{Record: "b", Expr: "ALERTS"}, {Alert: "A", Expr: "x > 1"}}, false},
		{"label matcher rules out a later rule", []slo.Rule{{Record: "b", Expr: `a{w="5m"}`}, {Record: "a", Expr: "x", Labels: map[string]string{"w": "1h"}}}, true},
		{"@ modifier", []slo.Rule{{Record: "a", Expr: "x @ end()"}}, false},
		{"nameless selector may read anything later", []slo.Rule{{Record: "b", Expr: `{job="j"}`}, {Record: "a", Expr: "x"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{})
			if err := e.LoadGroups([]slo.RuleGroup{{Name: "g", Rules: tt.rules}}); err != nil {
				t.Fatal(err)
			}
			if got := e.RangeEvaluable(); got != tt.want {
				t.Errorf("RangeEvaluable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStoreTruncateKeepsMemoryBounded(t *testing.T) {
	e := New(Options{Interval: time.Minute})
	if err := e.LoadGroups(burnRules()); err != nil {
		t.Fatal(err)
	}
	feed(t, e, 24*time.Hour, 1, func(time.Duration) float64 { return 0 })
	if err := e.Run(context.Background(), t0.Add(23*time.Hour), t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The longest range is 6h; retention is 6h + 5m lookback + 2 intervals.
	_, samples := e.Store().Stats()
	// Inputs: 2 series at 30s over 6h7m; records: 4 windows + no alerts at 1m over 1h.
	if max := 2*(6*120+7*2+1) + 4*61; samples > max {
		t.Errorf("store holds %d samples after truncation, want at most %d", samples, max)
	}
	v, _, err := e.Query(context.Background(), "count_over_time(http_requests_total[1d])", t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range v.(promql.Vector) {
		if s.F > 6*120+7*2+1 || s.F < 6*120 {
			t.Errorf("%s keeps %v samples, want about 6h7m of 30s samples", s.Metric, s.F)
		}
	}
}

func TestStoreRejectsOutOfOrder(t *testing.T) {
	s := NewStore()
	l := labels.FromStrings("__name__", "x")
	if err := s.Append(l, 2000, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(l, 1000, 1); err == nil {
		t.Error("older sample accepted")
	}
	if err := s.Append(l, 2000, 5); err != nil {
		t.Errorf("same-timestamp append: %v", err)
	}
	if !s.AppendStale(l, 3000) || s.AppendStale(l, 4000) {
		t.Error("AppendStale should write one marker and not repeat it")
	}
}

// BenchmarkRun compares Run's one-range-query-per-rule evaluation with stepping, on a day
// of 30s samples and the multiwindow burn rules:
//
//	go test -run '^$' -bench Run -benchmem ./internal/engine/
func BenchmarkRun(b *testing.B) {
	for _, mode := range []struct {
		name    string
		stepped bool
	}{{"mode=range", false}, {"mode=steps", true}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				e := New(Options{StepByStep: mode.stepped, Retention: -1})
				if err := e.LoadGroups(burnRules()); err != nil {
					b.Fatal(err)
				}
				ok := labels.FromStrings("__name__", "http_requests_total", "code", "200")
				bad := labels.FromStrings("__name__", "http_requests_total", "code", "500")
				for i := 0; i <= 2880; i++ {
					at := t0.Add(time.Duration(i) * 30 * time.Second)
					_ = e.Append(ok, at, float64(i)*300)
					_ = e.Append(bad, at, float64(i))
				}
				if err := e.Run(context.Background(), t0, t0.Add(24*time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
