package slo_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// promtoolCheck writes the complete rule file (recording and alerting rules) of each
// service and runs the real `promtool check rules` on all of them at once.
func promtoolCheck(t *testing.T, promtool string, services map[string]*slo.Service) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"check", "rules"}
	i := 0
	for name, svc := range services {
		f, err := alerts.RuleFile([]*slo.Service{svc}, alerts.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := alerts.MarshalRuleFile(f)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%02d-%s.rules.yaml", i, filepath.Base(name)))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
		i++
	}
	return exec.CommandContext(t.Context(), promtool, args...).CombinedOutput()
}

// TestPromtoolAcceptsValidSpecs checks with the real promtool that every spec the
// validator accepts (valid and warn corpora, examples) yields rules Prometheus loads:
// the validator and a real Prometheus agree on what is valid PromQL and templating.
func TestPromtoolAcceptsValidSpecs(t *testing.T) {
	if testing.Short() {
		t.Skip("real promtool: skipped with -short")
	}
	promtool := testutil.Binary(t, "promtool")
	services := map[string]*slo.Service{}
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/warn/*.yaml", "../examples/*.yaml"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			services[p] = mustParse(t, p)
		}
	}
	// The OpenSLO corpus directories, read as a whole (their objects span files).
	dirs, _ := filepath.Glob("testdata/openslo/*")
	for _, d := range dirs {
		if filepath.Ext(d) == ".golden" {
			continue
		}
		svcs, ds := slo.LoadFiles(d)
		if ds.Err() != nil {
			continue // testdata/openslo/refused
		}
		for i, s := range svcs {
			services[fmt.Sprintf("%s-%d", d, i)] = s
		}
	}
	if out, err := promtoolCheck(t, promtool, services); err != nil {
		t.Fatalf("promtool check rules on %d specs: %v\n%s", len(services), err, out)
	}
}

// TestPromtoolAgreesOnTemplates feeds promtool the alert label and annotation templates
// the validator rejects (bypassing the validator) and expects promtool to reject each of
// them too; the same templates, fixed, pass both.
func TestPromtoolAgreesOnTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("real promtool: skipped with -short")
	}
	promtool := testutil.Binary(t, "promtool")
	base := mustParse(t, "testdata/valid/minimal.yaml")
	for _, tt := range []struct{ bad, good string }{
		{`{{ $labels.route } is failing`, `{{ $labels.route }} is failing`},
		{`{{ $lables.route }} burns`, `{{ $labels.route }} burns`},
		{`{{ if $value }}page{{ end`, `{{ if $value }}page{{ end }}`},
	} {
		for _, text := range []string{tt.bad, tt.good} {
			for _, field := range []string{"annotations", "labels"} {
				spec := "version: slokit/v1\nservice: api\nslos:\n  - name: a\n    objective: 99\n" +
					"    sli: {events: {bad: 'x{c=\"5\"}', total: x}}\n    alerting: {" + field + ": {summary: '" + text + "'}}\n"
				_, ds := slo.Parse("t.yaml", []byte(spec))
				validatorOK := ds.Err() == nil

				svc := *base
				svc.Objectives = append([]slo.Objective(nil), base.Objectives...)
				if field == "labels" {
					svc.Objectives[0].Alerting.Labels = map[string]string{"summary": text}
				} else {
					svc.Objectives[0].Alerting.Annotations = map[string]string{"summary": text}
				}
				out, err := promtoolCheck(t, promtool, map[string]*slo.Service{"t": &svc})
				if promtoolOK := err == nil; promtoolOK != validatorOK {
					t.Errorf("%s %q: validator ok=%v, promtool ok=%v\n%s%s", field, text, validatorOK, promtoolOK, diagText(ds), out)
				}
			}
		}
	}
}
