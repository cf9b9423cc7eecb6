package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chaosGolden compares got with testdata/chaos/<name>; UPDATE_GOLDEN=1 rewrites it.
func chaosGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "chaos", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func chaosMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, nil, &o, &e)
	return code, o.String(), e.String()
}

// TestChaosValidateSampleGameDays keeps the shipped game days valid and pins the plan
// slokit prints for them: predictions, deadlines, guardrails.
func TestChaosValidateSampleGameDays(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "sample-service", "gamedays", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("want the sample game days, got %v", files)
	}
	code, stdout, stderr := chaosMain(append([]string{"chaos", "validate"}, files...)...)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	chaosGolden(t, "validate-samples.golden", stdout)
}

func TestChaosCommandErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(e2eSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const base = `name: x
slo: {file: slos.yaml, name: %s}
signals: {prometheus: "http://127.0.0.1:9"}
fault: {backend: http-proxy, params: {listen: "127.0.0.1:0", target: "http://127.0.0.1:1", abort: {percent: 50}}}
expect: [{severity: %s}]
`
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"run needs a file", []string{"chaos", "run"}, ExitUsage, "slokit chaos run takes 1 argument(s), got 0"},
		{"bad output", []string{"chaos", "run", "-o", "yaml", "x.yaml"}, ExitUsage, `-o must be text or json, got "yaml"`},
		{"missing file", []string{"chaos", "validate", filepath.Join(dir, "nope.yaml")}, ExitFailure, "reading the game day"},
		{"unknown SLO", []string{"chaos", "validate", write("a.yaml", fmt.Sprintf(base, "redirect-latency", "page"))},
			ExitInvalid, `slo.name: ` + filepath.Join(dir, "slos.yaml") + ` has no SLO named "redirect-latency"; it has shortlink/redirect-availability`},
		{"disabled severity", []string{"chaos", "validate", write("b.yaml", fmt.Sprintf(base, "redirect-availability", "ticket"))},
			ExitInvalid, "expect[0]: shortlink-redirect-availability has no ticket alert tier; its tiers are page/1m (14.4× over 1m and 5s)"},
		{"cleanup of an empty journal", []string{"chaos", "cleanup", "--journal-dir", filepath.Join(dir, "j")}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := chaosMain(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
		})
	}
	code, stdout, _ := chaosMain("chaos", "cleanup", "--journal-dir", filepath.Join(dir, "j"), "-o", "json")
	if code != ExitOK || stdout != "[]\n" {
		t.Errorf("cleanup -o json of nothing: %d %q", code, stdout)
	}
}
