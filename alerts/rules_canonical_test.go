package alerts

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/slo"
)

// TestRulesCanonical: alert expressions built directly are exactly what the Prometheus
// parser prints for the plainly written expression, and print back to themselves, for
// every example SLO and for tiers with numbers the printer writes differently from
// slo.FormatFloat.
func TestRulesCanonical(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	svcs, ds := slo.LoadFiles(paths...)
	if len(paths) == 0 || ds.Err() != nil {
		t.Fatalf("examples: %d files, %v", len(paths), ds.Err())
	}
	var os []slo.Objective
	for _, s := range svcs {
		os = append(os, s.Objectives...)
	}
	odd := os[0]
	odd.Alerting.Windows = []slo.Window{
		{Severity: slo.Page, Long: time.Hour, Short: time.Minute, BurnRate: 12345678.9},
		{Severity: slo.Page, Long: 2 * time.Hour, Short: 2 * time.Minute, BurnRate: 1e-7},
		{Severity: slo.Page, Long: 3 * time.Hour, Short: 3 * time.Minute, BurnRate: 1.0 / 3},
		{Severity: slo.Ticket, Long: 90 * time.Minute, Short: 7 * time.Second, BurnRate: 2},
	}
	os = append(os, odd)
	p := parser.NewParser(parser.Options{})
	for _, o := range os {
		fast, err := rules(o, Options{}, false)
		if err != nil {
			t.Fatalf("%s: %v", o.ID(), err)
		}
		slow, err := rules(o, Options{}, true)
		if err != nil {
			t.Fatalf("%s (parse all): %v", o.ID(), err)
		}
		if len(fast) == 0 || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%s: built and parsed alert rules differ\nbuilt:  %+v\nparsed: %+v", o.ID(), fast, slow)
		}
		for _, r := range fast {
			if canon, err := slo.CanonicalExpr(p, r.Expr); err != nil || canon != r.Expr {
				t.Errorf("%s %s: %q does not print back to itself (%q, %v)", o.ID(), r.Alert, r.Expr, canon, err)
			}
		}
	}
}

// TestAppendPrometheusRule: the PrometheusRule writer gives yaml.v3's bytes for every
// example service, and falls back (ok = false) for a group it does not handle.
func TestAppendPrometheusRule(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	svcs, ds := slo.LoadFiles(paths...)
	if len(paths) == 0 || ds.Err() != nil {
		t.Fatalf("examples: %d files, %v", len(paths), ds.Err())
	}
	handled := 0
	for _, s := range svcs {
		f, err := RuleFile([]*slo.Service{s}, Options{GrafanaURL: "https://grafana.example"})
		if err != nil {
			t.Fatal(err)
		}
		r := NewPrometheusRule(s.Name, "monitoring", map[string]string{"release": "prometheus"}, f)
		want, err := marshalYAML(r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendPrometheusRule(nil, r)
		if ok {
			handled++
		}
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: ok = %v, output differs from yaml.v3:\n%s\nwant:\n%s", s.Name, ok, got, want)
		}
	}
	if handled != len(svcs) {
		t.Errorf("fast writer handled %d of %d example services", handled, len(svcs))
	}
	r := NewPrometheusRule("x", "", nil, slo.RuleFile{Groups: []slo.RuleGroup{{Name: "g",
		Rules: []slo.Rule{{Alert: "A", Expr: "up == 0", Labels: map[string]string{"tier": "1e3"}}}}}})
	if _, ok := appendPrometheusRule(nil, r); ok {
		t.Errorf("a label value YAML reads as a float must fall back to yaml.v3")
	}
}
