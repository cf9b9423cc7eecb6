package alerts

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/slo"
)

// rbFixture is one objective per SLI kind.
func rbFixture() []slo.Objective {
	ev := amObjective("redirect-availability")
	ev.Description = "Redirects are served without a server error."
	ev.Alerting.Name = "ShortlinkRedirectAvailability"
	lat := amObjective("redirect-latency")
	lat.Target = 0.99
	lat.Period = 28 * 24 * time.Hour
	lat.SLI = slo.SLI{Latency: &slo.LatencySLI{Histogram: "http_request_duration_seconds",
		Selector: map[string]string{"service": "shortlink"}, Threshold: 100 * time.Millisecond}}
	lat.Alerting = slo.Alerting{Page: slo.Severity{Labels: map[string]string{"severity": "critical"}}}
	raw := amObjective("charge-success")
	raw.Service = "payments"
	raw.Target = 0.9
	raw.Period = 7 * 24 * time.Hour
	raw.SLI = slo.SLI{Raw: &slo.RawSLI{ErrorRatio: `sum(rate(charges_failed_total[{{.window}}])) / sum(rate(charges_total[{{.window}}]))`}}
	raw.Alerting = slo.Alerting{Ticket: slo.Severity{Disabled: true}}
	glob := amObjective("global-availability")
	glob.Alerting.Name = "ShortlinkGlobalAvailability"
	glob.Scope = slo.Scope{Global: true, PerClusterBurn: true}
	return []slo.Objective{ev, lat, raw, glob}
}

// alertRulesOf returns o's alerting rules wherever they run: Prometheus, or Thanos Ruler's
// two groups for a global objective.
func alertRulesOf(t *testing.T, o slo.Objective) []slo.Rule {
	t.Helper()
	if !o.IsGlobal() {
		rules, err := Rules(o, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rules
	}
	gs, err := ThanosGroups(o, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []slo.Rule
	for _, g := range gs {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

func TestRunbookGolden(t *testing.T) {
	for _, o := range rbFixture() {
		md, err := Runbook(o, Options{GrafanaURL: "https://grafana.example"})
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", "runbook-"+o.ID()+".md"), md)
	}
}

// TestRunbookSilenceMatchesOnlyItsAlerts parses the page's amtool command with
// Alertmanager's matcher parser and applies it to the alerts the rules generate.
func TestRunbookSilenceMatchesOnlyItsAlerts(t *testing.T) {
	objs := rbFixture()
	cmd := regexp.MustCompile(`(?m)^  alertname=.*$`)
	for _, o := range objs {
		md, err := Runbook(o, Options{})
		if err != nil {
			t.Fatal(err)
		}
		line := cmd.FindString(string(md))
		if line == "" {
			t.Fatalf("%s: no amtool silence matchers in the runbook:\n%s", o.ID(), md)
		}
		var ms labels.Matchers
		for _, f := range strings.Fields(line) {
			m, err := labels.ParseMatcher(f)
			if err != nil {
				t.Fatalf("%s: matcher %q: %v", o.ID(), f, err)
			}
			ms = append(ms, m)
		}
		for _, other := range objs {
			for _, r := range alertRulesOf(t, other) {
				ls := model.LabelSet{"alertname": model.LabelValue(r.Alert)}
				for k, v := range slo.RuleLabels(other) {
					ls[model.LabelName(k)] = model.LabelValue(v)
				}
				for k, v := range r.Labels {
					ls[model.LabelName(k)] = model.LabelValue(v)
				}
				if got, want := ms.Matches(ls), other.ID() == o.ID(); got != want {
					t.Errorf("runbook of %s: silence %q matches %v = %v, want %v", o.ID(), line, ls, got, want)
				}
			}
		}
	}
}

func TestRunbookTiers(t *testing.T) {
	for _, o := range rbFixture() {
		md, err := Runbook(o, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rows := regexp.MustCompile(`(?m)^\| \d+ \| (page|ticket) `).FindAllString(string(md), -1)
		want := 0
		for _, w := range o.Windows() {
			if o.Enabled(w.Severity) {
				want++
			}
		}
		if len(rows) != want {
			t.Errorf("%s: %d tier rows, want %d", o.ID(), len(rows), want)
		}
		if strings.Contains(string(md), "dashboard_url") || strings.Contains(string(md), "<no value>") {
			t.Errorf("%s: template leak in the runbook", o.ID())
		}
	}
}
