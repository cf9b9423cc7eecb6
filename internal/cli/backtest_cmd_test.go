package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/store"
)

func TestTestCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	spec := "../../examples/shortlink.yaml"
	breaks := write("breaks.yaml", "scenarios:\n  - name: blip\n    segments: [{duration: 2h}, {duration: 10m, errorRatio: 1, fault: true}]\n    expect: {mustNotFire: [page]}\n")
	holds := write("holds.yaml", "scenarios:\n  - name: blip\n    segments: [{duration: 2h}, {duration: 10m, errorRatio: 1, fault: true}]\n    expect: {mustFire: [page]}\n")
	invalid := write("invalid.yaml", "scenarios:\n  - name: x\n    segments: [{duration: -1h}]\n")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"expectations hold", []string{"test", "-f", spec, "--slo", "create-availability", "--scenario", holds}, ExitOK},
		{"expectation broken", []string{"test", "-f", spec, "--slo", "create-availability", "--scenario", breaks}, ExitVerdict},
		{"invalid scenario file", []string{"test", "-f", spec, "--scenario", invalid}, ExitInvalid},
		{"no spec", []string{"test"}, ExitUsage},
		{"bad output", []string{"test", "-f", spec, "-o", "yaml"}, ExitUsage},
		{"unknown slo", []string{"test", "-f", spec, "--slo", "nope"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Main(context.Background(), tt.args, strings.NewReader(""), &out, &errOut); code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errOut.String())
			}
		})
	}
}

// TestTestStore records a failing backtest with --store and reads it back as the SLO's
// last backtest, the way slokit serve does.
func TestTestStore(t *testing.T) {
	dir := t.TempDir()
	breaks := filepath.Join(dir, "breaks.yaml")
	if err := os.WriteFile(breaks, []byte("scenarios:\n  - name: blip\n    segments: [{duration: 2h}, {duration: 10m, errorRatio: 1, fault: true}]\n    expect: {mustNotFire: [page]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "state", "slokit.db")
	var out, errOut bytes.Buffer
	args := []string{"test", "-f", "../../examples/shortlink.yaml", "--slo", "create-availability", "--scenario", breaks, "--store", db}
	if code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut); code != ExitVerdict {
		t.Fatalf("exit %d, want %d\n%s", code, ExitVerdict, errOut.String())
	}
	if !strings.Contains(errOut.String(), "backtests of 1 SLO(s) recorded in "+db) {
		t.Errorf("stderr does not say where it recorded:\n%s", errOut.String())
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.LastBacktest(context.Background(), "shortlink", "create-availability")
	if err != nil {
		t.Fatal(err)
	}
	if b.Source != "slokit test" || b.Scenarios != 1 || b.Violations != 1 || !strings.Contains(string(b.Result), `"scenario":"blip"`) {
		t.Errorf("stored backtest: %+v", b)
	}
}
