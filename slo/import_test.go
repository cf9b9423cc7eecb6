package slo_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/slo"
)

const slothCRD = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: a, namespace: monitoring}
spec:
  service: svc-a
  labels: {team: a}
  sloPlugins:
    chain: [{id: sloth.dev/core/debug/v1, config: {msg: hi}}]
  slos:
    - name: requests
      objective: 99.9
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total[{{.window}}]))
      alerting:
        name: svc-a-burn
        page_alert: {labels: {severity: sev1}}
`

// TestLoadDirectory reads a directory as Sloth's generate -i DIR does: recursively,
// every document of every file (a CRD, a List of CRDs, a prometheus/v1 file), hidden
// directories skipped, files without any SLO spec skipped with a warning.
func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("team-a/slo.yaml", slothCRD)
	write("team-b/list.yml", "apiVersion: v1\nkind: List\nitems:\n"+indent(strings.ReplaceAll(strings.ReplaceAll(slothCRD, "svc-a", "svc-b"), "team: a", "team: b"))+
		"---\nversion: prometheus/v1\nservice: svc-c\nslos:\n  - name: x\n    objective: 99\n    sli: {raw: {error_ratio_query: 'sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))'}}\n    alerting: {name: X, pageAlert: {disable: true}}\n")
	write("chart/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
	write(".git/config.yaml", "not: [a spec\n")
	write("notes.txt", "ignored")

	svcs, ds := slo.LoadFiles(dir)
	if ds.Err() != nil {
		t.Fatalf("unexpected errors:\n%v", ds.Err())
	}
	var got []string
	for _, s := range svcs {
		for _, o := range s.Objectives {
			got = append(got, s.Name+"/"+o.Name+" "+o.Alerting.Name+" "+o.Labels["team"])
		}
	}
	if want := "svc-a/requests svc-a-burn a,svc-b/requests svc-b-burn b,svc-c/x X "; strings.Join(got, ",") != want {
		t.Errorf("SLOs = %q, want %q", strings.Join(got, ","), want)
	}
	warns := diagText(ds.Warnings())
	for _, want := range []string{
		"chart/deployment.yaml: warning: skipped: no document is an SLO spec",
		"plugin sloth.dev/core/debug/v1 ignored: it only logs",
		"pageAlert: warning: ignored, as Sloth ignores it: this file's dialect spells it page_alert",
		"page_alert: warning: ignored, as Sloth ignores it: this file's dialect spells it pageAlert",
	} {
		if !strings.Contains(warns, want) {
			t.Errorf("warnings lack %q:\n%s", want, warns)
		}
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if i == 0 {
			lines[i] = "  - " + l
		} else {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestImportedNamesAreSafe: names that could escape an output directory or break a
// PromQL string are refused in every format, with the position.
func TestImportedNamesAreSafe(t *testing.T) {
	for name, spec := range map[string]string{
		"sloth":   "version: prometheus/v1\nservice: '../../x'\nslos:\n  - name: 'a\"b'\n    objective: 99\n    sli: {raw: {error_ratio_query: 'sum(rate(e[{{.window}}]))'}}\n",
		"openslo": "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: ../x}\nspec:\n  service: 'a\"b'\n  objectives: [{target: 0.99}]\n  indicator: {spec: {ratioMetric: {bad: {metricSource: {type: Prometheus, spec: {query: e}}}, total: {metricSource: {type: Prometheus, spec: {query: t}}}}}}\n",
		"pyrra":   "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: ../x, namespace: 'a/b'}\nspec: {target: '99', window: 28d, indicator: {ratio: {errors: {metric: e}, total: {metric: t}}}}\n",
	} {
		_, ds := slo.Parse(name+".yaml", []byte(spec))
		if n := strings.Count(diagText(ds.Errors()), "is not a valid"); n != 2 {
			t.Errorf("%s: %d name errors, want 2:\n%s", name, n, diagText(ds))
		}
	}
}
