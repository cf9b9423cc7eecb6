package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const globalSpec = "../../slo/testdata/valid/global.yaml"

// TestGenerateThanos covers the global SLOs' file: -o thanos to stdout, both files with
// --out DIR, and the usage errors that keep a Thanos file out of a Prometheus one.
func TestGenerateThanos(t *testing.T) {
	code, stdout, stderr := runMain(t, "generate", "-f", globalSpec, "-o", "thanos")
	if code != 0 {
		t.Fatalf("-o thanos: exit %d, stderr %s", code, stderr)
	}
	for _, want := range []string{"partial_response_strategy: abort", "partial_response_strategy: warn",
		"name: slokit-shortlink-redirect-availability-clusters", "alert: ShortlinkRedirectAvailabilityNotEvaluated"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("-o thanos output lacks %q", want)
		}
	}
	if strings.Contains(stdout, "api-availability") {
		t.Error("-o thanos output holds the per-cluster SLO api-availability")
	}
	if !strings.Contains(stderr, "global over every cluster in Thanos Ruler (times include +45s for Thanos)") {
		t.Errorf("summary does not tell the global SLO and its delay:\n%s", stderr)
	}

	out := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runMain(t, "generate", "-q", "-f", globalSpec, "--out", out); code != 0 {
		t.Fatalf("--out DIR: exit %d, stderr %s", code, stderr)
	}
	prom, err := os.ReadFile(filepath.Join(out, "shortlink.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	thanos, err := os.ReadFile(filepath.Join(out, "shortlink.thanos.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(prom), "partial_response") || !strings.Contains(string(prom), "slokit_slo: api-availability") ||
		strings.Contains(string(prom), "redirect-availability") {
		t.Errorf("shortlink.rules.yaml must hold only the per-cluster SLO, without Thanos fields:\n%s", firstLines(string(prom)))
	}
	if string(thanos) != stdout {
		t.Error("shortlink.thanos.rules.yaml differs from -o thanos on stdout")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "-f", globalSpec}, "pass --out DIR to write both, or -o thanos"},
		{[]string{"generate", "-f", globalSpec, "-o", "prometheusrule"}, "use -o thanos"},
		{[]string{"generate", "-f", shortlink, "-o", "thanos"}, "no SLO has scope: global"},
	} {
		code, stdout, stderr := runMain(t, tc.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, firstLines(stdout), stderr, tc.want)
		}
	}
}
