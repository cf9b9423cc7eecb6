package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/slo"
)

// TestUsageErrors pins that every usage error exits 2 and prints the usage line of the
// command it came from.
func TestUsageErrors(t *testing.T) {
	shortlink, err := filepath.Abs("../../examples/shortlink.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want []string // substrings of stderr, in order
	}{
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate" for "slokit"`, "Usage: slokit COMMAND [flags]"}},
		{[]string{"chaos", "frobnicate"}, []string{`unknown command "frobnicate" for "slokit chaos"`, "Usage: slokit chaos", "Run 'slokit chaos --help'"}},
		{[]string{"generate", "--nope"}, []string{"unknown flag: --nope", "Usage: slokit generate -f FILE..."}},
		{[]string{"generate", "-o", "grafana", "-f", shortlink}, []string{"pass --out DIR", "Usage: slokit generate"}},
		{[]string{"generate", "-f", shortlink, "--out", "rules.yaml"}, []string{"looks like a file name"}},
		{[]string{"generate", "-f", shortlink, "-o", "nagios"}, []string{`unknown output format "nagios"`}},
		{[]string{"generate", "-f", shortlink, "--label", "no-equals"}, []string{"want KEY=VALUE"}},
		{[]string{"generate", "-f", shortlink, "--label", "bad key=v"}, []string{`label key "bad key"`}},
		{[]string{"demo", "--warmup", "-5s"}, []string{`invalid argument "-5s" for "--warmup" flag: must be at least 0s`, "Usage: slokit demo"}},
		{[]string{"load", "--target", "http://127.0.0.1:1", "--timeout", "0s"}, []string{"must be at least 1ms"}},
		{[]string{"load", "--duration", "soon"}, []string{"not a duration"}},
		{[]string{"version", "extra"}, []string{"takes no arguments", "Usage: slokit version"}},
		{[]string{"validate"}, []string{"at least one spec FILE", "Usage: slokit validate FILE"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr.String())
			}
			rest := stderr.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in order); got:\n%s", w, stderr.String())
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestCommandGroupAlone prints the group's help and exits 0.
func TestCommandGroupAlone(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"chaos"}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Available Commands:") {
		t.Errorf("stdout lacks the subcommands:\n%s", stdout.String())
	}
}

// TestCompleteOutputFormats: shell completion offers the -o values.
func TestCompleteOutputFormats(t *testing.T) {
	var stdout, stderr bytes.Buffer
	Main(context.Background(), []string{"__complete", "generate", "-o", ""}, strings.NewReader(""), &stdout, &stderr)
	for _, f := range outputFormats() {
		if !strings.Contains(stdout.String(), f.name+"\t") {
			t.Errorf("completion lacks %q:\n%s", f.name, stdout.String())
		}
	}
}

// TestEveryCommandHasAnExample: every command a user can run shows, in --help, an
// Example block of slokit command lines.
func TestEveryCommandHasAnExample(t *testing.T) {
	root := newRootCmd(&env{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || (c.HasParent() && c.Parent().Name() == "completion") {
			return
		}
		if !c.Runnable() && !c.HasSubCommands() {
			return // a help topic, like `slokit help spec`
		}
		if c.Example == "" {
			t.Errorf("%s has no Example", c.CommandPath())
			return
		}
		for _, l := range strings.Split(c.Example, "\n") {
			if !strings.HasPrefix(l, "  slokit ") {
				t.Errorf("%s: example line %q does not start with \"  slokit \"", c.CommandPath(), l)
			}
		}
	}
	walk(root)
}

// TestHelpSpec prints the annotated spec as YAML that validates.
func TestHelpSpec(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"help", "spec"}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, ds := slo.Parse("spec.yaml", stdout.Bytes()); ds.Err() != nil {
		t.Errorf("slokit help spec does not print a valid spec: %v\n%s", ds.Err(), stdout.String())
	}
	if !strings.Contains(stdout.String(), "threshold: 100ms           # a duration; must be one of the histogram's le buckets") {
		t.Errorf("slokit help spec lacks the annotations:\n%s", stdout.String())
	}
}
