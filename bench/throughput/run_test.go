package throughput

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/testutil"
)

// TestRunScript runs run.sh for one short round, so that the script CI does not run in
// full still works: it builds the service, seeds both variants, drives them with the real
// wrk, sees only 302s, and prints a ratio. The ratio of a 1-second round means nothing,
// so BAR=0; the measured figures come from full runs (docs/benchmarks.md).
func TestRunScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the service and runs wrk; skipped with -short")
	}
	testutil.Binary(t, "wrk")
	testutil.Binary(t, "curl")
	cmd := exec.Command("bash", "run.sh")
	cmd.Env = append(cmd.Environ(), "ROUNDS=1", "DURATION=1s", "LINKS=20", "CONNS=8", "BAR=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run.sh: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^1\s+bare,instr\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no result row for round 1 in:\n%s", out)
	}
	for i, name := range []string{"bare requests/s", "instrumented requests/s", "ratio", "bare CPU µs/request", "instrumented CPU µs/request", "CPU ratio"} {
		if v, _ := strconv.ParseFloat(m[i+1], 64); v <= 0 {
			t.Errorf("%s = %q, want > 0", name, m[i+1])
		}
	}
	for _, want := range []string{"median ratio instrumented/bare: ", "PASS"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
