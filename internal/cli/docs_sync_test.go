//go:build !slokit_nok8s

package cli

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The end of docs/cli.md is the reference of every command and flag, generated from the
// command tree as --help prints it. UPDATE_GOLDEN=1 rewrites it.
const (
	cliDoc       = "../../docs/cli.md"
	referenceTop = "<!-- Generated from the command tree by TestCLIReference (UPDATE_GOLDEN=1 go test ./internal/cli -run TestCLIReference); do not edit below. -->\n"
)

// TestCLIReference keeps docs/cli.md's reference in step with --help: every command, its
// usage line, summary and flags with their defaults.
func TestCLIReference(t *testing.T) {
	b, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, referenceTop)
	if i < 0 {
		t.Fatalf("%s lacks the generated reference's marker line %q", cliDoc, strings.TrimSpace(referenceTop))
	}
	want := doc[:i] + referenceTop + cliReference(newRootCmd(&env{}))
	if want == doc {
		return
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(cliDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the command reference differs from --help; run UPDATE_GOLDEN=1 go test ./internal/cli -run TestCLIReference and review the diff", cliDoc)
}

// cliReference renders every visible command under root, sorted by path.
func cliReference(root *cobra.Command) string {
	var cmds []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || (c.HasParent() && c.Parent().Name() == "completion") {
			return
		}
		if c.Runnable() && (!c.HasSubCommands() || c.LocalNonPersistentFlags().HasAvailableFlags()) {
			cmds = append(cmds, c)
		}
	}
	walk(root)
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].CommandPath() < cmds[j].CommandPath() })
	var sb strings.Builder
	sb.WriteString("\n## Reference: every command and flag\n\nWhat each command's `--help` prints, without the examples.\n")
	if f := root.PersistentFlags(); f.HasAvailableFlags() {
		sb.WriteString("Flags every command takes:\n\n```\n" + f.FlagUsagesWrapped(100) + "```\n")
	}
	for _, c := range cmds {
		sb.WriteString("\n### " + c.CommandPath() + "\n\n")
		if c.Short != "" {
			sb.WriteString(strings.TrimSuffix(c.Short, ".") + ".\n\n")
		}
		sb.WriteString("```\n" + c.UseLine() + "\n")
		if f := c.LocalNonPersistentFlags(); f.HasAvailableFlags() {
			sb.WriteString("\n" + f.FlagUsagesWrapped(100))
		}
		sb.WriteString("```\n")
	}
	return sb.String()
}
