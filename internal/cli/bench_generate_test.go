package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// slothSpec returns the Sloth prometheus/v1 file of bench/generate/run.sh (written there
// by bench/rules/synth): n availability SLOs in one service, each with page and ticket
// alerts.
func slothSpec(n int) []byte {
	var b strings.Builder
	b.WriteString("version: prometheus/v1\nservice: bench\nslos:\n")
	for s := range n {
		fmt.Fprintf(&b, `  - name: availability-%d
    objective: 99.9
    description: Route /r%d answers without a server error.
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="bench",route="/r%d",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="bench",route="/r%d"}[{{.window}}]))
    alerting:
      name: BenchAvailability%d
      page_alert:
        labels: {severity: page}
      ticket_alert:
        labels: {severity: ticket}
`, s, s, s, s, s)
	}
	return []byte(b.String())
}

// benchCLI runs `slokit ARGS...` b.N times in process, failing on a non-zero exit.
func benchCLI(b *testing.B, args ...string) {
	b.ReportAllocs()
	for b.Loop() {
		if code := Main(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); code != ExitOK {
			b.Fatalf("slokit %s: exit %d", strings.Join(args, " "), code)
		}
	}
}

func writeSlothSpec(b *testing.B, n int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, slothSpec(n), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkValidate5000 is `slokit validate` of bench/generate/run.sh's 5,000-SLO Sloth
// file, in process (no process start-up).
func BenchmarkValidate5000(b *testing.B) {
	benchCLI(b, "validate", writeSlothSpec(b, 5000))
}

// BenchmarkGenerate5000 is `slokit generate -q -f FILE --out DIR` of the same file.
func BenchmarkGenerate5000(b *testing.B) {
	spec := writeSlothSpec(b, 5000)
	benchCLI(b, "generate", "-q", "-f", spec, "--out", b.TempDir())
}
