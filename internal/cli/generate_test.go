package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const shortlink = "../../examples/shortlink.yaml"

// TestGenerateValidateExitCodes pins the documented exit codes and where output goes.
func TestGenerateValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: slokit/v1\nservice: x\nslos: []\nextra: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args       []string
		code       int
		stdout     string // substring; "" means stdout must be empty
		stderr     string // substring
		stdoutSome bool
	}{
		{[]string{"validate", shortlink}, ExitOK, "shortlink.yaml: ok, service shortlink, 4 SLO(s)", "", true},
		{[]string{"validate", bad}, ExitInvalid, "", `unknown field "extra"`, false},
		{[]string{"validate", filepath.Join(dir, "missing.yaml")}, ExitFailure, "", "cannot read the spec", false},
		{[]string{"validate", bad, filepath.Join(dir, "missing.yaml")}, ExitFailure, "", `unknown field "extra"`, false},
		{[]string{"generate", "-f", filepath.Join(dir, "missing.yaml")}, ExitFailure, "", "cannot read the spec", false},
		{[]string{"validate"}, ExitUsage, "", "validate needs at least one spec FILE", false},
		{[]string{"generate", "-q", "-f", shortlink}, ExitOK, "record: slokit:slo_burn:rate", "", true},
		{[]string{"generate", "-f", shortlink}, ExitOK, "alert: ShortlinkRedirectAvailability", "11 rules (8 recording, 3 alerting)", true},
		{[]string{"generate", "-f", bad}, ExitInvalid, "", `unknown field "extra"`, false},
		{[]string{"generate"}, ExitUsage, "", "no spec files", false},
		{[]string{"generate", "-f", shortlink, "-o", "nagios"}, ExitUsage, "", `unknown output format "nagios"`, false},
		{[]string{"generate", "-f", shortlink, "--no-such-flag"}, ExitUsage, "", "unknown flag", false},
		// File names after the flags are more spec files (a shell glob's expansion).
		{[]string{"generate", "stray", "-f", shortlink}, ExitFailure, "", "stray: cannot read the spec", false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runMain(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if tc.stdoutSome != (stdout != "") || !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q, want it to contain %q", firstLines(stdout), tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tc.stderr)
			}
		})
	}
}

// TestGenerateOutDir writes one file per service, merging services split over files.
func TestGenerateOutDir(t *testing.T) {
	dir := t.TempDir()
	more := filepath.Join(dir, "more.yaml")
	spec := "version: slokit/v1\nservice: shortlink\nslos:\n  - name: extra\n    objective: 99\n    sli:\n      events:\n        bad: errors_total\n        total: requests_total\n"
	if err := os.WriteFile(more, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runMain(t, "generate", "-q", "-f", shortlink, "-f", more, "-f", "../../examples/payments-api.yaml", "--out", out)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "payments-api.rules.yaml shortlink.rules.yaml"; got != want {
		t.Fatalf("files %q, want %q", got, want)
	}
	data, err := os.ReadFile(filepath.Join(out, "shortlink.rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// One pair of groups for the service, holding the SLOs of both files.
	for _, want := range []string{"name: slokit-shortlink\n", "name: slokit-shortlink-long\n", "slokit_slo: redirect-availability\n", "slokit_slo: extra\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("shortlink.rules.yaml lacks %q", want)
		}
	}
	if n := strings.Count(string(data), "  - name: "); n != 2 {
		t.Errorf("shortlink.rules.yaml holds %d groups, want 2", n)
	}
}

func firstLines(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
