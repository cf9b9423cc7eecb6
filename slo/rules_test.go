package slo

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/golden"
)

func eventsObjective(period time.Duration) Objective {
	return Objective{
		Service: "shop", Name: "checkout", Target: 0.999, Period: period,
		SLI: SLI{Events: &EventsSLI{
			Bad:   `http_requests_total{job="shop",code=~"5.."}`,
			Total: `http_requests_total{job="shop"}`,
		}},
	}
}

// TestRatioWindowSources pins which windows are exact (raw rate()) and which are derived
// from the recorded base-window rates, and which group evaluates each, for the 30d
// period and a scaled 7d one.
func TestRatioWindowSources(t *testing.T) {
	for _, tc := range []struct {
		period time.Duration
		want   string // window:source, in order
	}{
		// 2h is read only by the ticket tier 1d/2h: the long group reads it; the 6h page
		// window divides the 6h rates the long group records.
		{30 * 24 * time.Hour, "5m:raw 30m:raw 1h:raw | 2h:raw 6h:recorded 1d:derived 3d:derived"},
		{7 * 24 * time.Hour, "2m:raw 7m:raw 14m:raw 1h24m:raw | 28m:raw 5h36m:recorded 16h48m:derived"},
	} {
		fast, long, err := RecordingRuleSets(eventsObjective(tc.period))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, r := range append(fast, long...) {
			if i == len(fast) {
				got = append(got, "|")
			}
			if r.Record != MetricBurnRate {
				continue
			}
			// The fast windows share one rule, each named by label_replace; the long
			// ones have a rule each, named by its static label (promtool's duplicate lint).
			w, static := r.Labels[LabelWindow]
			if static == (i < len(fast)) {
				t.Errorf("%s: static %s=%q in the wrong group", r.Expr, LabelWindow, w)
			}
			branches := []windowBranch{{w, r.Expr}}
			if !static {
				branches = windowBranches(t, r.Expr)
			}
			for _, br := range branches {
				src := "raw"
				switch {
				case strings.HasPrefix(br.expr, "(sum_over_time("):
					src = "derived"
				case strings.Contains(br.expr, "slokit:"):
					src = "recorded"
				}
				got = append(got, br.window+":"+src)
			}
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("period %s:\n got %s\nwant %s", FormatWindow(tc.period), g, tc.want)
		}
	}
}

// TestRecordingRulesGolden pins the recording rules of each SLI kind; UPDATE_GOLDEN=1
// rewrites testdata/rules/.
func TestRecordingRulesGolden(t *testing.T) {
	latency := eventsObjective(28 * 24 * time.Hour)
	latency.Name = "latency"
	latency.Labels = map[string]string{"team": "web"}
	latency.SLI = SLI{Latency: &LatencySLI{Histogram: "http_request_duration_seconds",
		Selector: map[string]string{"job": "shop", "route": "/pay"}, Threshold: 2 * time.Second}}
	raw := eventsObjective(30 * 24 * time.Hour)
	raw.Name = "raw"
	raw.SLI = SLI{Raw: &RawSLI{ErrorRatio: `1 - avg_over_time(probe_success{job="shop"}[{{ .window }}])`}}
	for name, o := range map[string]Objective{"events": eventsObjective(30 * 24 * time.Hour), "latency": latency, "raw": raw} {
		t.Run(name, func(t *testing.T) {
			g, err := RecordingGroup(o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := yaml.Marshal(RuleFile{Groups: []RuleGroup{g}})
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "rules", name+".yaml"), got)
		})
	}
}

func TestFormatFloatAndExpandWindow(t *testing.T) {
	for in, want := range map[float64]string{1 - 0.999: "0.001", 0.999: "0.999", 14.4: "14.4", 1 - 0.99999: "1e-05", 6: "6"} {
		if got := FormatFloat(in); got != want {
			t.Errorf("FormatFloat(%v) = %s, want %s", in, got, want)
		}
	}
	if got := ExpandWindow("rate(x[{{.window}}]) / rate(y[{{ .window }}])", 90*time.Minute); got != "rate(x[1h30m]) / rate(y[1h30m])" {
		t.Errorf("ExpandWindow: %s", got)
	}
}

type windowBranch struct{ window, expr string }

// windowBranches splits a burn-rate rule's expression, label_replace(<burn>,
// "slokit_window", "<w>", "", "") or …, into its windows and their expressions.
func windowBranches(t *testing.T, expr string) []windowBranch {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatal(err)
	}
	var out []windowBranch
	var walk func(e parser.Expr)
	walk = func(e parser.Expr) {
		if b, ok := e.(*parser.BinaryExpr); ok && b.Op == parser.LOR {
			walk(b.LHS)
			walk(b.RHS)
			return
		}
		c, ok := e.(*parser.Call)
		if !ok || c.Func.Name != "label_replace" || len(c.Args) != 5 {
			t.Fatalf("%s is not label_replace(…, %q, …)", e, LabelWindow)
		}
		dst, w := c.Args[1].(*parser.StringLiteral), c.Args[2].(*parser.StringLiteral)
		src, re := c.Args[3].(*parser.StringLiteral), c.Args[4].(*parser.StringLiteral)
		if dst.Val != LabelWindow || src.Val != "" || re.Val != "" {
			t.Fatalf("%s does not set %s", e, LabelWindow)
		}
		out = append(out, windowBranch{w.Val, c.Args[0].String()})
	}
	walk(e)
	return out
}
