// Package cli holds slokit's cobra commands and wires the domain packages to their adapters.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/slo"
)

// Exit codes, documented in docs/cli.md and `slokit --help`.
const (
	ExitOK          = 0   // success; a game day passed its verdict
	ExitFailure     = 1   // any other error (I/O, a server unreachable, …)
	ExitUsage       = 2   // bad flags or arguments
	ExitInvalid     = 3   // an input file failed validation
	ExitVerdict     = 4   // a game day or backtest failed its verdict
	ExitAborted     = 5   // a game day was aborted by a guardrail
	ExitInterrupted = 130 // interrupted by Ctrl-C or SIGTERM
)

// CodeError carries an exit code out of a command; commands return it instead of
// calling os.Exit.
type CodeError struct {
	Code int
	Err  error
}

func (e *CodeError) Error() string { return e.Err.Error() }
func (e *CodeError) Unwrap() error { return e.Err }

// env is what every command reads and writes instead of globals.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
}

// Main runs slokit with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr,
		log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(ctx, err)
	printError(stderr, cmd, code, err)
	return code
}

func exitCode(ctx context.Context, err error) int {
	var ee *CodeError
	var ue *usageError
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue), isCobraUsageError(err):
		return ExitUsage
	case slo.IsValidation(err):
		return ExitInvalid
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailure
}

type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

const exitCodesHelp = `Exit codes:
  0    success (a game day passed its verdict)
  1    error (I/O, unreachable server, …)
  2    usage (bad flags or arguments)
  3    an input file is invalid
  4    a game day or backtest failed its verdict
  5    a game day was aborted (guardrail, steady state, signals lost)
  130  interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT)`

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "slokit",
		Short: "SLOs as code: rules, alerts, routing, dashboards and game days that prove them",
		Long: `slokit turns SLOs written in YAML into Prometheus recording rules, multiwindow
multi-burn-rate alerts, Alertmanager routing and Grafana dashboards, and runs game days
that inject a fault and prove, with measured times, that the right alert fired.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newVersionCmd(e))
	root.AddCommand(newValidateCmd(e))
	root.AddCommand(newGenerateCmd(e))
	root.AddCommand(newConvertCmd(e))
	root.AddCommand(newLoadCmd(e))
	root.AddCommand(newChaosCmd(e))
	root.AddCommand(newTestCmd(e))
	root.AddCommand(newDemoCmd(e))
	root.AddCommand(newServeCmd(e))
	root.AddCommand(newInitCmd(e))
	root.AddCommand(newSpecTopic())
	addKubeCommands(root, e)
	addChaosSubcommand(root, newChaosImportCmd(e))
	rejectUnknownSubcommands(root)
	addExamples(root)
	return root
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// addChaosSubcommand adds sub under root's "chaos" command.
func addChaosSubcommand(root, sub *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() == "chaos" {
			c.AddCommand(sub)
			return
		}
	}
}
