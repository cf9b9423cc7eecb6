package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/slo"
)

// TestConvert converts an OpenSLO directory (objects split over five files) and Pyrra
// objects, to stdout and to a directory, and reads the output back.
func TestConvert(t *testing.T) {
	code, stdout, stderr := runMain(t, "convert", "-f", "../../slo/testdata/openslo/split", "-f", "../../slo/testdata/pyrra/kinds")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	svcs, ds := slo.ParseFiles(slo.File{Name: "out.yaml", Data: []byte(stdout)})
	if ds.Err() != nil {
		t.Fatalf("converted output does not load: %v\n%s", ds.Err(), stdout)
	}
	var names []string
	for _, s := range svcs {
		for _, o := range s.Objectives {
			names = append(names, s.Name+"/"+o.Name)
		}
	}
	if got, want := strings.Join(names, " "), "checkout/checkout-success-0 checkout/checkout-success-1 shop/api-errors shop/api-errors-by-handler shop/api-latency shop/api-latency-native shop/probe"; got != want {
		t.Errorf("SLOs = %s, want %s", got, want)
	}
	if !strings.Contains(stdout, "# from ../../slo/testdata/openslo/split/slo.yaml:12:15 spec.objectives[0].target") {
		t.Errorf("no origin comment for the objective:\n%s", stdout)
	}

	dir := t.TempDir()
	if code, _, stderr := runMain(t, "convert", "-f", "../../slo/testdata/openslo/split", "--out", dir); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "checkout.yaml"))
	if err != nil || !strings.HasPrefix(string(data), "# Converted by slokit convert") {
		t.Fatalf("checkout.yaml: %v\n%s", err, data)
	}

	if code, _, stderr := runMain(t, "convert", "-f", "../../slo/testdata/openslo/refused"); code != ExitInvalid || !strings.Contains(stderr, "histogram_quantile") {
		t.Errorf("refused input: exit %d, want %d with the reason\n%s", code, ExitInvalid, stderr)
	}
}

// TestValidateAgreesWithGenerate: an SLO defined in two files is an error for both.
func TestValidateAgreesWithGenerate(t *testing.T) {
	dir := t.TempDir()
	spec := "version: slokit/v1\nservice: api\nslos:\n  - name: a\n    objective: 99\n    sli: {events: {bad: 'x{c=\"5\"}', total: x}}\n"
	for _, f := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	for _, args := range [][]string{{"validate", a, b}, {"generate", "-f", a, "-f", b}} {
		if code, _, stderr := runMain(t, args...); code != ExitInvalid || !strings.Contains(stderr, "also defined in") {
			t.Errorf("%v: exit %d, want %d with the duplicate\n%s", args, code, ExitInvalid, stderr)
		}
	}
}

// TestGenerateStaysInOut: names from imported files can never make generate write
// outside --out.
func TestGenerateStaysInOut(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "sloth.yaml")
	data := "version: prometheus/v1\nservice: \"../../x\"\nslos:\n  - name: a\n    objective: 99\n    sli: {raw: {error_ratio_query: 'sum(rate(e[{{.window}}]))/sum(rate(t[{{.window}}]))'}}\n    alerting: {name: A}\n"
	if err := os.WriteFile(spec, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, stderr := runMain(t, "generate", "-f", spec, "--out", out)
	if code != ExitInvalid || !strings.Contains(stderr, "not a valid service name") {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInvalid, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.rules.yaml")); err == nil {
		t.Fatal("generate wrote outside --out")
	}
}
