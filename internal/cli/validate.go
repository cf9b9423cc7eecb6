package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

func newValidateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check SLO spec files and report every problem at once",
		Long: `Parse and validate SLO spec files (slokit/v1; Sloth prometheus/v1 and
PrometheusServiceLevel; OpenSLO v1 and v1alpha; Pyrra ServiceLevelObjective) and generate
their rules in memory. Directories are read recursively (*.yaml, *.yml); all files are
read together, so OpenSLO references resolve across them and an SLO defined twice is an
error. Every error is printed to stderr as
file:line:col: path: message, then the warnings; a line per valid file goes to stdout.
Exits 1 when a file cannot be read, 3 when any file has an error, 0 otherwise
(warnings do not fail).`,
		Example: "  slokit validate examples/*.yaml",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{errors.New("validate needs at least one spec FILE")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := expandFiles(args)
			if err != nil {
				return err
			}
			return runValidate(e, files)
		},
	}
}

func runValidate(e *env, files []string) error {
	var errs, warns slo.Diagnostics
	var okServices []*slo.Service
	// All files at once, as generate reads them: an SLO defined in two files is an error
	// in both commands.
	svcs, ds := slo.LoadFiles(files...)
	errs = append(errs, ds.Errors()...)
	warns = append(warns, ds.Warnings()...)
	for _, s := range svcs {
		// The generator guards what the spec validator cannot see (a raw template
		// that breaks once its window is filled in, for example).
		if _, err := alerts.RuleFile([]*slo.Service{s}, alerts.Options{}); err != nil {
			errs = append(errs, slo.Diagnostic{File: s.Source, Message: err.Error()})
			continue
		}
		if _, err := alerts.ThanosRuleFile([]*slo.Service{s}, alerts.Options{}); err != nil {
			errs = append(errs, slo.Diagnostic{File: s.Source, Message: err.Error()})
			continue
		}
		okServices = append(okServices, s)
	}
	printDiagnostics(e.stderr, errs)
	if len(warns) > 0 {
		if len(errs) > 0 {
			fmt.Fprintln(e.stderr)
		}
		fmt.Fprintf(e.stderr, "%d warning(s):\n", len(warns))
		printDiagnostics(e.stderr, warns)
	}
	for _, s := range okServices {
		fmt.Fprintf(e.stdout, "%s: ok, service %s, %d SLO(s)\n", s.Source, s.Name, len(s.Objectives))
	}
	if len(errs) > 0 {
		err := fmt.Errorf("%d error(s) in %d file(s); fix them and run validate again", len(errs), countFiles(errs))
		if !slo.IsValidation(errs.Err()) {
			return err // a file could not be read: an I/O error, not an invalid spec
		}
		return &CodeError{Code: ExitInvalid, Err: err}
	}
	return nil
}

func countFiles(ds slo.Diagnostics) int {
	seen := map[string]bool{}
	for _, d := range ds {
		seen[d.File] = true
	}
	return len(seen)
}
