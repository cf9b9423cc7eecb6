package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// printError writes err to stderr; a usage error (exit 2) is followed by the usage line
// of the command it came from and where to read more.
func printError(stderr io.Writer, cmd *cobra.Command, code int, err error) {
	fmt.Fprintf(stderr, "slokit: %v\n", err)
	if code != ExitUsage {
		return
	}
	if cmd == nil || !cmd.HasParent() {
		fmt.Fprintln(stderr, "Usage: slokit COMMAND [flags]\nRun 'slokit --help' for the commands.")
		return
	}
	fmt.Fprintf(stderr, "Usage: %s\nRun '%s --help' for more.\n", usageLine(cmd), cmd.CommandPath())
}

// usageLine is the command's Use with its parents' path, like
// "slokit generate -f FILE... [-o FORMAT] [--out DIR|-]".
func usageLine(cmd *cobra.Command) string {
	if cmd.HasParent() {
		return cmd.Parent().CommandPath() + " " + cmd.Use
	}
	return cmd.Use
}

// isCobraUsageError recognises the errors cobra itself returns for a command line it
// cannot parse, which come as plain errors rather than through the flag error func.
func isCobraUsageError(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command ", "required flag(s) ", "accepts ", "requires at least ", "invalid argument "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// rejectUnknownSubcommands makes every command group (a command with subcommands and
// no action of its own) print its help when called alone and fail with a usage error
// when given an unknown subcommand, instead of printing its help and exiting 0.
func rejectUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		rejectUnknownSubcommands(sub)
	}
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
		}
		return nil
	}
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
}
