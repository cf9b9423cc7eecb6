package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/livelint"
	"github.com/slokit/slokit/slo"
)

// validateOpts are validate's flags.
type validateOpts struct {
	prometheus string        // live lint against this server; "" for static checks only
	timeout    time.Duration // for the whole live lint
	lookback   time.Duration // how far back series count as present
}

func newValidateCmd(e *env) *cobra.Command {
	var o validateOpts
	cmd := &cobra.Command{
		Use:   "validate FILE|DIR...",
		Short: "Check SLO spec files and report every problem at once",
		Long: `Parse and validate SLO spec files (slokit/v1; Sloth prometheus/v1 and
PrometheusServiceLevel; OpenSLO v1 and v1alpha; Pyrra ServiceLevelObjective) and generate
their rules in memory. Directories are read recursively (*.yaml, *.yml); all files are
read together, so OpenSLO references resolve across them and an SLO defined twice is an
error. Every error is printed to stderr as
file:line:col: path: message, then the warnings; a line per valid file goes to stdout.
Exits 1 when a file cannot be read, 3 when any file has an error, 0 otherwise
(warnings do not fail).

With --prometheus URL, the valid SLOs are also checked against that running Prometheus
(live lint), and its findings are printed in the same style: every selector must
return series over the last --lookback (a bad-events selector with none is a warning: no
error may have happened yet); a classic histogram's threshold must be one of the le
values its buckets really have (the nearest ones are named); a histogram declared
classic must not be native, nor the other way round; and the scrape interval of the
targets behind the SLI (from /api/v1/targets, or the spacing of the samples when no
target matches) must give every rate() window at least 4 scrapes and match the spec's
scrapeInterval. An unreachable or too slow Prometheus is an error (exit 1), not a
finding.`,
		Example: `  slokit validate examples/*.yaml
  slokit validate --prometheus http://127.0.0.1:9090 examples/shortlink.yaml`,
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
			return runValidate(cmd.Context(), e, files, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.prometheus, "prometheus", "", "also check the SLOs against this running Prometheus (live lint), like http://127.0.0.1:9090")
	durationVar(fs, &o.timeout, "timeout", 30*time.Second, time.Second, "give up on --prometheus after this long")
	durationVar(fs, &o.lookback, "lookback", livelint.DefaultLookback, time.Minute, "with --prometheus: how far back a selector's series count as present")
	return cmd
}

func runValidate(ctx context.Context, e *env, files []string, opts validateOpts) error {
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
		// alerts.Check builds every rule (as generate does) but keeps none.
		if err := alerts.Check(s, alerts.Options{}); err != nil {
			errs = append(errs, slo.Diagnostic{File: s.Source, Message: err.Error()})
			continue
		}
		okServices = append(okServices, s)
	}
	if opts.prometheus != "" && len(okServices) > 0 {
		live, err := liveLint(ctx, e, okServices, opts)
		if err != nil {
			return err
		}
		errs = append(errs, live.Errors()...)
		warns = append(warns, live.Warnings()...)
		errs.Sort()
		warns.Sort()
		okServices = withoutErrors(okServices, live.Errors())
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

// liveLint checks svcs against the Prometheus of opts within opts.timeout.
func liveLint(ctx context.Context, e *env, svcs []*slo.Service, opts validateOpts) (slo.Diagnostics, error) {
	client, err := livelint.NewClient(opts.prometheus, nil)
	if err != nil {
		return nil, &usageError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	c := &livelint.Checker{Prometheus: client, Lookback: opts.lookback, Logger: e.log}
	ds, err := c.Check(ctx, svcs)
	if err != nil {
		return nil, fmt.Errorf("live lint: %w (run without --prometheus for the static checks alone)", err)
	}
	return ds, nil
}

// withoutErrors drops the services of files that have an error.
func withoutErrors(svcs []*slo.Service, errs slo.Diagnostics) []*slo.Service {
	bad := map[string]bool{}
	for _, d := range errs {
		bad[d.File] = true
	}
	var out []*slo.Service
	for _, s := range svcs {
		if !bad[s.Source] {
			out = append(out, s)
		}
	}
	return out
}

func countFiles(ds slo.Diagnostics) int {
	seen := map[string]bool{}
	for _, d := range ds {
		seen[d.File] = true
	}
	return len(seen)
}
