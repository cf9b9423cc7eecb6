package corpus

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// backtestSpec is a Sloth file of our own: an events SLI and a raw SLI over the same
// counters, so that both of slokit's constructions meet Sloth's.
const backtestSpec = `version: prometheus/v1
service: shop
slos:
  - name: checkout-events
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(checkout_total{result="error"}[{{.window}}]))
        total_query: sum(rate(checkout_total[{{.window}}]))
    alerting:
      name: CheckoutBurn
      page_alert: {labels: {severity: page}}
      ticket_alert: {labels: {severity: ticket}}
  - name: checkout-raw
    objective: 99.5
    sli:
      raw:
        error_ratio_query: sum(rate(checkout_total{result="error"}[{{.window}}])) / sum(rate(checkout_total[{{.window}}]))
    alerting:
      name: checkout-raw-burn
      page_alert: {labels: {severity: page}}
      ticket_alert: {labels: {severity: ticket}}
`

// TestSlothBacktestAgreement evaluates Sloth's rules and slokit's for the same spec on
// the same data (30s scrapes and evaluations; 10 req/s, 0.05% errors, then 4% errors for
// an hour) in slokit's embedded engine, and checks that each alert starts and stops
// firing at the same evaluation: within one interval, plus one 5m window where slokit
// derives every window of a tier from recorded 5m rates (see tolerance).
func TestSlothBacktestAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real Sloth: skipped with -short")
	}
	sloth := testutil.Sloth(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.yaml"), filepath.Join(dir, "out.yaml")
	if err := os.WriteFile(in, []byte(backtestSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.CommandContext(t.Context(), sloth, "generate", "-i", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("sloth: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var slothRules slo.RuleFile
	if err := yaml.Unmarshal(data, &slothRules); err != nil {
		t.Fatal(err)
	}
	svc, ds := slo.Parse("in.yaml", []byte(backtestSpec))
	if ds.Err() != nil {
		t.Fatal(ds.Err())
	}
	ours, err := alerts.RuleFile([]*slo.Service{svc}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const interval = 30 * time.Second
	anchor := firingSpans(t, slothRules.Groups, interval)
	mine := firingSpans(t, ours.Groups, interval)
	var b strings.Builder
	b.WriteString("# alert\tSloth fires–resolves\tslokit fires–resolves (minutes after the fault starts; 30s evaluations)\tallowed difference\n")
	keys := make([]string, 0, len(anchor))
	for k := range anchor {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, m := anchor[k], mine[k]
		fmt.Fprintf(&b, "%s\t%s\t%s\tallowed ±%s\n", k, a, m, tolerance(svc, k, interval))
		if len(a) != len(m) {
			t.Errorf("%s: Sloth %s, slokit %s", k, a, m)
			continue
		}
		tol := tolerance(svc, k, interval)
		for i := range a {
			if d := a[i] - m[i]; d > tol || d < -tol {
				t.Errorf("%s: Sloth %s, slokit %s: more than %s apart", k, a, m, tol)
			}
		}
	}
	if len(anchor) == 0 || len(anchor) != len(mine) {
		t.Errorf("alerts: Sloth %v, slokit %v", anchor, mine)
	}
	golden.Check(t, "testdata/sloth-backtest.txt", []byte(b.String()))
}

// spans lists alternating fire and resolve offsets from the fault's start.
type spans []time.Duration

func (s spans) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprintf("%.1f", d.Minutes())
	}
	return strings.Join(parts, "–")
}

// firingSpans runs groups over the scenario and returns, per alert name and severity
// label, the times it started and stopped firing, relative to the fault's start.
func firingSpans(t *testing.T, groups []slo.RuleGroup, interval time.Duration) map[string]spans {
	start := time.Unix(1_700_000_000, 0).UTC()
	faultAt, faultEnd, end := start.Add(6*time.Hour), start.Add(7*time.Hour), start.Add(9*time.Hour)
	out := map[string]spans{}
	// An alert "fires" while any of its instances does: slokit's tiers are separate
	// instances (slokit_window differs), Sloth's are one (max without sloth_window).
	firing := map[string]int{}
	e := engine.New(engine.Options{Interval: interval, StepByStep: true, OnTransition: func(tr engine.Transition) {
		k := tr.Name + " " + tr.Labels["severity"]
		switch {
		case tr.To == engine.StateFiring:
			if firing[k]++; firing[k] == 1 {
				out[k] = append(out[k], tr.At.Sub(faultAt))
			}
		case tr.From == engine.StateFiring:
			if firing[k]--; firing[k] == 0 {
				out[k] = append(out[k], tr.At.Sub(faultAt))
			}
		}
	}})
	if err := e.LoadGroups(groups); err != nil {
		t.Fatal(err)
	}
	okL := labels.FromStrings("__name__", "checkout_total", "result", "ok")
	errL := labels.FromStrings("__name__", "checkout_total", "result", "error")
	var ok, bad float64
	for ts := start; !ts.After(end); ts = ts.Add(interval) {
		ratio := 0.0005
		if !ts.Before(faultAt) && ts.Before(faultEnd) {
			ratio = 0.04
		}
		n := 10 * interval.Seconds()
		ok, bad = ok+n*(1-ratio), bad+n*ratio
		if err := e.Append(okL, ts, ok); err != nil {
			t.Fatal(err)
		}
		if err := e.Append(errL, ts, bad); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Run(t.Context(), start.Add(interval), end); err != nil {
		t.Fatal(err)
	}
	return out
}

// tolerance is how far apart Sloth's and slokit's alert may change state: one
// evaluation interval, plus the shortest recorded window when every tier of the alert
// reads windows slokit derives from recorded short-window rates (events and latency SLIs,
// windows longer than the fastest tier's long window): docs/rules.md states that edge
// smear of at most one shortest window.
func tolerance(svc *slo.Service, key string, interval time.Duration) time.Duration {
	name, sev, _ := strings.Cut(key, " ")
	for _, o := range svc.Objectives {
		if o.AlertName() != name || o.SLI.Raw != nil {
			continue
		}
		windows := o.Windows()
		fastest, shortest := windows[0].Long, windows[0].Short
		for _, w := range windows {
			fastest, shortest = min(fastest, w.Long), min(shortest, w.Short)
		}
		for _, w := range windows {
			if string(w.Severity) == sev && w.Short <= fastest {
				return interval
			}
		}
		return interval + shortest
	}
	return interval
}
