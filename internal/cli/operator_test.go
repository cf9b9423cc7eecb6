//go:build !slokit_nok8s

package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestOperatorDocsInStep: every flag of `slokit operator --help` is in the flag table of
// docs/kubernetes.md, and docs/cli.md and the README name the operator's features.
func TestOperatorDocsInStep(t *testing.T) {
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	k8s, cli, readme := read("../../docs/kubernetes.md"), read("../../docs/cli.md"), read("../../README.md")
	start := strings.Index(k8s, "**Flags** (`slokit operator --help`")
	end := strings.Index(k8s, "### The Helm chart")
	if start < 0 || end < start {
		t.Fatal("docs/kubernetes.md has no operator flag table before its Helm chart section")
	}
	table := k8s[start:end]
	newOperatorCmd(&env{}).Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !strings.Contains(table, "`--"+f.Name) {
			t.Errorf("docs/kubernetes.md's operator flag table lacks --%s (%s)", f.Name, f.Usage)
		}
	})
	for _, want := range []string{"--gamedays", "--sloth", "--pyrra", "--leader-elect", "GameDay"} {
		for name, doc := range map[string]string{"docs/cli.md": cli, "README.md": readme} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s does not mention the operator's %s", name, want)
			}
		}
	}
}
