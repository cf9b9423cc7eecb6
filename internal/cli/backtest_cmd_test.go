package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
