package alerts_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
	"sigs.k8s.io/yaml"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// compareGolden compares got with the golden file at path; UPDATE_GOLDEN=1 rewrites it.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the generated output (UPDATE_GOLDEN=1 refreshes it); got:\n%s", path, got)
	}
}

// goodObjective is a 99.9%/30d events SLO with default tiers.
func goodObjective() slo.Objective {
	return slo.Objective{
		Service: "shop",
		Name:    "checkout-availability",
		Target:  0.999,
		Period:  30 * 24 * time.Hour,
		Labels:  map[string]string{"team": "payments"},
		SLI: slo.SLI{Events: &slo.EventsSLI{
			Bad:   `http_requests_total{job="shop",handler="/checkout",code=~"5.."}`,
			Total: `http_requests_total{job="shop",handler="/checkout"}`,
		}},
	}
}

func latencyObjective() slo.Objective {
	o := goodObjective()
	o.Name = "checkout-latency"
	o.Target = 0.99
	o.SLI = slo.SLI{Latency: &slo.LatencySLI{
		Histogram: "http_request_duration_seconds",
		Selector:  map[string]string{"job": "shop", "handler": "/checkout"},
		Threshold: time.Second,
	}}
	return o
}

func rawObjective() slo.Objective {
	o := goodObjective()
	o.Name = "queue-freshness"
	o.Period = 7 * 24 * time.Hour
	o.SLI = slo.SLI{Raw: &slo.RawSLI{
		ErrorRatio: `sum(rate(jobs_late_total[{{.window}}])) / sum(rate(jobs_total[{{.window}}]))`,
	}}
	return o
}

func TestGolden(t *testing.T) {
	custom := goodObjective()
	custom.Name = "custom-tiers"
	custom.Alerting = slo.Alerting{
		Name:        "ShopCustom",
		Labels:      map[string]string{"component": "api"},
		Annotations: map[string]string{"runbook_url": "https://runbooks.example/shop"},
		Page:        slo.Severity{Labels: map[string]string{"severity": "critical"}},
		Ticket:      slo.Severity{Disabled: true},
		Windows: []slo.Window{
			{Severity: slo.Page, Long: time.Hour, Short: 5 * time.Minute, BurnRate: 10},
			{Severity: slo.Ticket, Long: 24 * time.Hour, Short: 2 * time.Hour, BurnRate: 2},
		},
	}
	svc := &slo.Service{Name: "shop", Objectives: []slo.Objective{goodObjective(), latencyObjective(), rawObjective(), custom}}
	f, err := alerts.RuleFile([]*slo.Service{svc}, alerts.Options{GrafanaURL: "https://grafana.example/"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := alerts.MarshalRuleFile(f)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "testdata/rules/shop.rules.yaml", data)

	pr, err := alerts.MarshalPrometheusRules(alerts.NewPrometheusRule("shop", "monitoring", map[string]string{"release": "prometheus"}, f))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "testdata/rules/shop.prometheusrule.yaml", pr)
}

// TestExamplesGolden pins the rule files generated from the bundled examples.
func TestExamplesGolden(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples under ../examples")
	}
	for _, spec := range files {
		t.Run(filepath.Base(spec), func(t *testing.T) {
			svcs, ds := slo.LoadFiles(spec)
			if err := ds.Err(); err != nil {
				t.Fatal(err)
			}
			f, err := alerts.RuleFile(svcs, alerts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			data, err := alerts.MarshalRuleFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(data), "\n---"); n != 0 {
				t.Fatalf("rule file holds %d extra YAML documents; Prometheus would drop them", n)
			}
			compareGolden(t, filepath.Join("testdata", "rules", "examples", strings.TrimSuffix(filepath.Base(spec), ".yaml")+".rules.yaml"), data)
		})
	}
}

// TestRulesPerSLO holds the bar of issue 12: at most 13 rules per SLO (Sloth v0.16: 17,
// Pyrra v0.10: 13), split into the service's fast group (every 30s) and long group
// (every 2m30s), each with an explicit interval; alerts.Group holds the same rules in one.
func TestRulesPerSLO(t *testing.T) {
	for _, tc := range []struct {
		o          slo.Objective
		fast, long int
	}{
		// fast: the page tiers' raw windows under 6h (5m, 30m, 1h) in one rule, page,
		// no-data; long: 2 base rates, the 2h window (read only by the ticket tier), 6h
		// (divided from the base rates), the 1d and 3d windows, budget remaining, ticket.
		{goodObjective(), 3, 8},
		{latencyObjective(), 3, 8},
		// 7d period, raw SLI: fast: the page tiers' windows (2m, 7m, 14m, 1h24m) in one
		// rule; long: the ticket-only windows 28m, 5h36m and 16h48m, budget remaining, ticket.
		{rawObjective(), 3, 5},
	} {
		g, err := alerts.Group(tc.o, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Rules) != tc.fast+tc.long || len(g.Rules) > 13 {
			t.Errorf("%s (%s SLI): %d rules, want %d (Sloth: 17, Pyrra: 13)", tc.o.Name, tc.o.SLI.Kind(), len(g.Rules), tc.fast+tc.long)
		}
		if g.Interval != "30s" || g.Name != slo.RuleGroupName(tc.o) {
			t.Errorf("group %q every %q, want %q every the default scrape interval 30s", g.Name, g.Interval, slo.RuleGroupName(tc.o))
		}
		gs, err := alerts.ServiceGroups(&slo.Service{Name: tc.o.Service, Objectives: []slo.Objective{tc.o}}, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 2 || len(gs[0].Rules) != tc.fast || len(gs[1].Rules) != tc.long ||
			gs[0].Interval != "30s" || gs[1].Interval != "2m30s" ||
			gs[0].Name != "slokit-"+tc.o.Service || gs[1].Name != "slokit-"+tc.o.Service+slo.LongGroupSuffix {
			for _, g := range gs {
				t.Logf("%s every %s: %d rules", g.Name, g.Interval, len(g.Rules))
			}
			t.Errorf("%s: want slokit-%s every 30s with %d rules and its -long group every 2m30s with %d", tc.o.Name, tc.o.Service, tc.fast, tc.long)
		}
	}
}

func TestAlertRules(t *testing.T) {
	burnSel := func(o slo.Objective, w string) string {
		return fmt.Sprintf(`slokit:slo_burn:rate{slokit_service="%s",slokit_slo="%s",slokit_window="%s"}`, o.Service, o.Name, w)
	}
	o := goodObjective()
	tests := []struct {
		name   string
		edit   func(*slo.Objective)
		opts   alerts.Options
		labels []map[string]string // per rule
		exprs  []string
		annot  map[string]string // checked keys only
	}{{
		name:   "defaults: page and ticket, each a disjunction of its two tiers",
		labels: []map[string]string{{"severity": "page"}, {"severity": "ticket"}},
		exprs: []string{
			fmt.Sprintf("(%s > 14.4 and ignoring (slokit_window) %s > 14.4) or (%s > 6 and ignoring (slokit_window) %s > 6)",
				burnSel(o, "1h"), burnSel(o, "5m"), burnSel(o, "6h"), burnSel(o, "30m")),
			fmt.Sprintf("(%s > 3 and ignoring (slokit_window) %s > 3) or (%s > 1 and ignoring (slokit_window) %s > 1)",
				burnSel(o, "1d"), burnSel(o, "2h"), burnSel(o, "3d"), burnSel(o, "6h")),
		},
		annot: map[string]string{"runbook_url": "runbooks/shop-checkout-availability.md", "slo": "shop/checkout-availability", "objective": "99.9% over 30d"},
	}, {
		name: "ticket disabled, page relabelled, spec annotations win",
		edit: func(o *slo.Objective) {
			o.Alerting = slo.Alerting{Labels: map[string]string{"team": "x"}, Annotations: map[string]string{"runbook_url": "https://rb", "summary": "S"}, Page: slo.Severity{Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{"summary": "page S"}}, Ticket: slo.Severity{Disabled: true}}
		},
		labels: []map[string]string{{"severity": "critical", "team": "x"}},
		exprs: []string{fmt.Sprintf("(%s > 14.4 and ignoring (slokit_window) %s > 14.4) or (%s > 6 and ignoring (slokit_window) %s > 6)",
			burnSel(o, "1h"), burnSel(o, "5m"), burnSel(o, "6h"), burnSel(o, "30m"))},
		annot: map[string]string{"runbook_url": "https://rb", "summary": "page S"},
	}, {
		name:   "grafana link carries the SLO's variables",
		opts:   alerts.Options{GrafanaURL: "https://g.example/grafana/"},
		labels: []map[string]string{{"severity": "page"}, {"severity": "ticket"}},
		annot:  map[string]string{"dashboard_url": "https://g.example/grafana/d/slokit-shop-checkout-availability?var-service=shop&var-slo=checkout-availability"},
	}, {
		name:   "both severities disabled: no alerts",
		edit:   func(o *slo.Objective) { o.Alerting.Page.Disabled, o.Alerting.Ticket.Disabled = true, true },
		labels: nil,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := goodObjective()
			if tc.edit != nil {
				tc.edit(&o)
			}
			rules, err := alerts.Rules(o, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var gotLabels []map[string]string
			if n := len(rules); n == 0 || rules[n-1].Alert != "ShopCheckoutAvailabilityNoData" || rules[n-1].For != "5m" {
				t.Fatalf("want the no-data alert last, held 5m; got %+v", rules)
			}
			rules = rules[:len(rules)-1]
			for i, r := range rules {
				gotLabels = append(gotLabels, r.Labels)
				if r.Alert != "ShopCheckoutAvailability" || r.For != "" {
					t.Errorf("rule %d: alert %q for %q, want ShopCheckoutAvailability without for", i, r.Alert, r.For)
				}
				if tc.exprs != nil && r.Expr != tc.exprs[i] {
					t.Errorf("rule %d expr:\n got %s\nwant %s", i, r.Expr, tc.exprs[i])
				}
				for k, v := range tc.annot {
					if r.Annotations[k] != v {
						t.Errorf("rule %d annotation %s = %q, want %q", i, k, r.Annotations[k], v)
					}
				}
			}
			if !reflect.DeepEqual(gotLabels, tc.labels) {
				t.Errorf("labels %v, want %v", gotLabels, tc.labels)
			}
		})
	}
}

// TestEveryExpressionParses re-parses every generated expression with the Prometheus parser.
func TestEveryExpressionParses(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for _, o := range []slo.Objective{goodObjective(), latencyObjective(), rawObjective()} {
		g, err := alerts.Group(o, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range g.Rules {
			e, err := p.ParseExpr(r.Expr)
			if err != nil {
				t.Errorf("%s %s%s: %v", o.Name, r.Record, r.Alert, err)
				continue
			}
			if e.String() != r.Expr {
				t.Errorf("%s: expression not in canonical form:\n%s\n%s", o.Name, r.Expr, e.String())
			}
		}
	}
}

// TestAnnotationsExpand runs the description and summary templates through Prometheus'
// own template expander, with a query function standing in for the server.
func TestAnnotationsExpand(t *testing.T) {
	o := goodObjective()
	rules, err := alerts.Rules(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	query := func(_ context.Context, q string, _ time.Time) (promql.Vector, error) {
		queries = append(queries, q)
		switch {
		case strings.HasPrefix(q, "1 - slokit:slo_error_budget_remaining:ratio{"):
			return promql.Vector{{F: 0.25}}, nil // a quarter of the budget spent
		case strings.HasPrefix(q, "clamp_min(slokit:slo_error_budget_remaining:ratio{") && strings.HasSuffix(q, " * 2592000 / 20.000000"):
			return promql.Vector{{F: 0.75 * 2592000 / 20}}, nil // 75% left at 20×
		}
		return nil, fmt.Errorf("unexpected query %q", q)
	}
	lbls := map[string]string{"slokit_service": "shop", "slokit_slo": "checkout-availability", "slokit_window": "1h"}
	data := template.AlertTemplateData(lbls, nil, "", promql.Sample{F: 20})
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	expand := func(text string) string {
		t.Helper()
		out, err := template.NewTemplateExpander(context.Background(), defs+text, "annotation", data, model.Time(0), query, nil, nil).Expand()
		if err != nil {
			t.Fatalf("expand %q: %v", text, err)
		}
		return out
	}
	if got, want := expand(rules[0].Annotations["summary"]), "shop/checkout-availability: error budget burning 20.0× too fast over 1h"; got != want {
		t.Errorf("summary:\n got %q\nwant %q", got, want)
	}
	want := "SLO checkout-availability of shop (objective 99.9% over 30d) is burning its error budget at 20.0× the rate that would spend it in exactly 30d, measured over the last 1h. " +
		"This alert fires at 14.4× over 1h and 5m, or 6× over 6h and 30m. 25% of the 30d error budget is spent. At this rate the rest is gone in 1d 3h 0m 0s."
	if got := expand(rules[0].Annotations["description"]); got != want {
		t.Errorf("description:\n got %q\nwant %q\nqueries: %q", got, want, queries)
	}
}

// TestPrometheusRuleMatchesOperatorTypes decodes the generated PrometheusRule strictly
// into the prometheus-operator's own Go types: an unknown or misspelled field fails.
func TestPrometheusRuleMatchesOperatorTypes(t *testing.T) {
	f, err := alerts.RuleFile([]*slo.Service{{Name: "shop", Objectives: []slo.Objective{goodObjective()}}}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := alerts.MarshalPrometheusRules(alerts.NewPrometheusRule("shop", "monitoring", nil, f))
	if err != nil {
		t.Fatal(err)
	}
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(data, &pr); err != nil {
		t.Fatalf("not a valid PrometheusRule: %v\n%s", err, data)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Name != "slokit-shop" || pr.Namespace != "monitoring" {
		t.Errorf("object meta: %s %s %s/%s", pr.APIVersion, pr.Kind, pr.Namespace, pr.Name)
	}
	if len(pr.Spec.Groups) != len(f.Groups) || len(f.Groups) != 2 {
		t.Fatalf("spec holds %d groups, want the %d generated (the service's fast and long groups)", len(pr.Spec.Groups), len(f.Groups))
	}
	for gi, g := range pr.Spec.Groups {
		wg := f.Groups[gi]
		if g.Name != wg.Name || g.Interval == nil || string(*g.Interval) != wg.Interval || len(g.Rules) != len(wg.Rules) {
			t.Fatalf("group %d: %s every %v with %d rules, want %s every %s with %d", gi, g.Name, g.Interval, len(g.Rules), wg.Name, wg.Interval, len(wg.Rules))
		}
		for i, r := range g.Rules {
			want := wg.Rules[i]
			if r.Record != want.Record || r.Alert != want.Alert || r.Expr.String() != want.Expr || !reflect.DeepEqual(r.Labels, want.Labels) || !reflect.DeepEqual(r.Annotations, want.Annotations) {
				t.Errorf("group %s rule %d differs after the round trip:\n got %+v\nwant %+v", g.Name, i, r, want)
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*slo.Objective)
		want string
	}{
		{"no SLI", func(o *slo.Objective) { o.SLI = slo.SLI{} }, "slo shop-checkout-availability: cannot generate rules: exactly one SLI kind must be set, got 0"},
		{"target as percent", func(o *slo.Objective) { o.Target = 99.9 }, "slo shop-checkout-availability: cannot generate rules: target must be a ratio in (0,1), got 99.9"},
		{"reserved label", func(o *slo.Objective) { o.Labels = map[string]string{"slokit_window": "x"} }, `slo shop-checkout-availability: cannot generate rules: label "slokit_window" is reserved for slokit`},
		{"broken selector", func(o *slo.Objective) { o.SLI.Events.Bad = "http_requests_total{" }, `slo shop-checkout-availability: slokit:slo_burn:rate: invalid PromQL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := goodObjective()
			tc.edit(&o)
			_, err := alerts.Group(o, alerts.Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}

// TestRuleFileServices: services of the same name (split over files) share one pair of
// groups; a service named like another's long group is refused, not written twice.
func TestRuleFileServices(t *testing.T) {
	a, b := goodObjective(), latencyObjective()
	f, err := alerts.RuleFile([]*slo.Service{
		{Name: "shop", Objectives: []slo.Objective{a}},
		{Name: "shop", Objectives: []slo.Objective{b}},
	}, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != 2 || f.Groups[0].Name != "slokit-shop" || f.Groups[1].Name != "slokit-shop-long" || len(f.Groups[0].Rules) != 6 || len(f.Groups[1].Rules) != 16 {
		for _, g := range f.Groups {
			t.Logf("%s: %d rules", g.Name, len(g.Rules))
		}
		t.Errorf("want slokit-shop (6 rules) and slokit-shop-long (16) holding both SLOs")
	}
	c := goodObjective()
	c.Service = "shop-long"
	_, err = alerts.RuleFile([]*slo.Service{
		{Name: "shop", Objectives: []slo.Objective{a}},
		{Name: "shop-long", Objectives: []slo.Objective{c}},
	}, alerts.Options{})
	if err == nil || err.Error() != "services shop and shop-long both need a rule group named slokit-shop-long: rename one of them" {
		t.Errorf("got %v, want the group-name clash refused", err)
	}
}
