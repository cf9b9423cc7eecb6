package corpus

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
)

// TestCorpusRulesPassPromtool generates the rules of every Sloth and Pyrra corpus file
// slokit accepts and has the real promtool check them all.
func TestCorpusRulesPassPromtool(t *testing.T) {
	if testing.Short() {
		t.Skip("real promtool: skipped with -short")
	}
	promtool := testutil.Binary(t, "promtool")
	dir := t.TempDir()
	args := []string{"check", "rules"}
	for _, c := range []struct {
		module, version string
		list            func(*testing.T, string) []string
	}{{slothModule, slothVersion, slothCorpus}, {pyrraModule, pyrraVersion, pyrraCorpus}} {
		root := testutil.ModuleDir(t, c.module, c.version)
		for _, rel := range c.list(t, root) {
			e := load(root, rel)
			if len(e.errs) > 0 {
				continue
			}
			f, err := alerts.RuleFile(e.services, alerts.Options{})
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			data, err := alerts.MarshalRuleFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, fmt.Sprintf("%03d.rules.yaml", len(args)))
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, p)
		}
	}
	if out, err := exec.CommandContext(t.Context(), promtool, args...).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on %d corpus files: %v\n%s", len(args)-2, err, out)
	}
	t.Logf("promtool accepted the rules of %d corpus files", len(args)-2)
}
