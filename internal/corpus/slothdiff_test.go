package corpus

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
)

// TestSlothEquivalence runs the real Sloth v0.16 on every Sloth file slokit accepts and
// checks that slokit's alerts have the same objectives, periods, burn-rate thresholds,
// windows, alert names and user labels as Sloth's own rules (testdata/sloth-equivalence.txt
// records the verdict per file).
func TestSlothEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real Sloth: skipped with -short")
	}
	root := testutil.ModuleDir(t, slothModule, slothVersion)
	sloth := testutil.Sloth(t)
	var b strings.Builder
	b.WriteString("# slokit vs Sloth " + slothVersion + " alerts, per file slokit accepts (UPDATE_GOLDEN=1 refreshes)\n")
	for _, rel := range slothCorpus(t, root) {
		e := load(root, rel)
		if len(e.errs) > 0 || !exists(filepath.Join(root, rel)) || isDir(filepath.Join(root, rel)) {
			continue
		}
		out := filepath.Join(t.TempDir(), "out.yaml")
		cmd := exec.CommandContext(t.Context(), sloth, "generate", "-i", filepath.Join(root, rel), "-o", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(&b, "%s\tsloth refuses\t%s\n", rel, lastLine(msg))
			continue
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		anchor, anchorSLOs, err := slothSigs(data)
		if err != nil {
			t.Fatalf("%s: reading Sloth's rules: %v", rel, err)
		}
		ours, err := slokitSigs(e.services)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		openslo := strings.Contains(string(mustRead(t, filepath.Join(root, rel))), "apiVersion: openslo/")
		note := ""
		if openslo && len(anchor) == 0 {
			// Sloth writes no alerts for OpenSLO SLOs; slokit adds its default tiers.
			ours, note = nil, ", Sloth writes no alerts for OpenSLO, slokit adds its default tiers"
		}
		diffs := append(compareSLOs(anchorSLOs, e.services), compareSigs(anchor, ours)...)
		if len(diffs) > 0 {
			t.Errorf("%s: slokit differs from Sloth:\n\t%s", rel, strings.Join(diffs, "\n\t"))
			fmt.Fprintf(&b, "%s\tDIFFERENT\t%d difference(s)\n", rel, len(diffs))
			continue
		}
		fmt.Fprintf(&b, "%s\tequivalent\t%d SLO(s), %d alert(s)%s\n", rel, len(anchorSLOs), len(anchor), note)
	}
	golden.Check(t, "testdata/sloth-equivalence.txt", []byte(b.String()))
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// lastLine returns the last non-empty line of a command's output, for tables.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
