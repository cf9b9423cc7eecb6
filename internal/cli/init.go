package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/internal/propose"
)

type initFlags struct {
	prometheus string
	days       int
	services   []string
	out        string
	dryRun     bool
	force      bool
	budgetLeft float64
	timeout    time.Duration
}

func newInitCmd(e *env) *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init --prometheus URL [--days N] [--out DIR | --dry-run]",
		Short: "Propose SLOs for the services a Prometheus already measures",
		Long: `init asks a Prometheus which HTTP and gRPC request metrics it holds, in the
common conventions:

` + conventionsHelp() + `
and writes, per service, a slokit/v1 spec proposing an availability SLO (server errors
over all requests) and, where a duration histogram exists, a latency SLO. Objectives are
chosen from the last --days of history: the strictest candidate that would have held
with at least --min-budget-left of its error budget left (and allows at least 10 failed
requests in that traffic, so a quiet service is not held to a bar a few failures break);
for latency, the smallest histogram boundary meeting 99% (else 95%, 90%) that way. Each
choice is explained in comments above its SLO, with the alternatives.

Files go into --out DIR as <service>.yaml (existing files are kept unless --force);
--dry-run prints them instead.`,
		Example: `  slokit init --prometheus http://127.0.0.1:9090 --dry-run
  slokit init --prometheus http://prometheus.monitoring:9090 --days 28 --service checkout --out slos/`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd, e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.prometheus, "prometheus", "", "base `URL` of the Prometheus (or Thanos, Mimir) to read (required)")
	fl.IntVar(&f.days, "days", 7, "`N` days of history to judge objectives on")
	fl.StringArrayVar(&f.services, "service", nil, "only the service `NAME` (repeatable; default every service found)")
	fl.StringVar(&f.out, "out", "slos", "`DIR` the spec files go in")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the proposed files on stdout instead of writing them")
	fl.BoolVar(&f.force, "force", false, "overwrite existing files in --out")
	fl.Float64Var(&f.budgetLeft, "min-budget-left", 50, "`PERCENT` of the error budget a chosen objective must have had left over the history")
	durationVar(fl, &f.timeout, "timeout", time.Minute, time.Second, "how long all the queries together may take")
	return cmd
}

func conventionsHelp() string {
	var b strings.Builder
	for _, c := range propose.Conventions() {
		fmt.Fprintf(&b, "  %-14s %s: %s\n", c.Name, c.Requests, c.About)
	}
	return b.String()
}

func (f initFlags) check() error {
	switch {
	case f.prometheus == "":
		return &usageError{errors.New("--prometheus URL is required, like --prometheus http://127.0.0.1:9090")}
	case !strings.HasPrefix(f.prometheus, "http://") && !strings.HasPrefix(f.prometheus, "https://"):
		return &usageError{fmt.Errorf("--prometheus %s: want an http:// or https:// URL", f.prometheus)}
	case f.days < 1 || f.days > 366:
		return &usageError{fmt.Errorf("--days must be between 1 and 366, got %d", f.days)}
	case f.budgetLeft <= 0 || f.budgetLeft >= 100:
		return &usageError{fmt.Errorf("--min-budget-left must be above 0 and below 100 (percent), got %v", f.budgetLeft)}
	}
	return checkOutDir(f.out)
}

func runInit(cmd *cobra.Command, e *env, f initFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	p, err := propose.NewClient(f.prometheus)
	if err != nil {
		return err
	}
	window := time.Duration(f.days) * 24 * time.Hour
	props, err := propose.Propose(ctx, p, propose.Request{URL: f.prometheus, Window: window, Services: f.services,
		Options: propose.Options{MinBudgetLeft: f.budgetLeft / 100}})
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.prometheus, err)
	}
	if len(props) == 0 {
		return noServicesError(f)
	}
	props = skipEmpty(e, props)
	if len(props) == 0 {
		return fmt.Errorf("no SLO could be proposed for the services found (reasons above)")
	}
	if f.dryRun {
		for i, pr := range props {
			if i > 0 {
				fmt.Fprintln(e.stdout, "---")
			}
			fmt.Fprintf(e.stdout, "# file: %s\n", filepath.Join(f.out, pr.File))
			if _, err := e.stdout.Write(pr.Data); err != nil {
				return err
			}
		}
		return nil
	}
	return writeProposals(e, f, props)
}

// skipEmpty drops the services no SLO could be proposed for, saying why on stderr.
func skipEmpty(e *env, props []propose.Proposal) []propose.Proposal {
	var out []propose.Proposal
	for _, pr := range props {
		if pr.SLOs > 0 {
			out = append(out, pr)
			continue
		}
		fmt.Fprintf(e.stderr, "skipped service %s: %s\n", pr.Service, strings.Join(pr.Skipped, "; "))
	}
	return out
}

func writeProposals(e *env, f initFlags, props []propose.Proposal) error {
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("create the output directory: %w", err)
	}
	var kept []string
	for _, pr := range props {
		p := filepath.Join(f.out, pr.File)
		if _, err := os.Stat(p); err == nil && !f.force {
			kept = append(kept, p)
			continue
		}
		if err := os.WriteFile(p, pr.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		fmt.Fprintf(e.stderr, "wrote %s: %d SLO(s) for service %s\n", p, pr.SLOs, pr.Service)
	}
	if len(kept) > 0 {
		return fmt.Errorf("kept %s: it exists; pass --force to overwrite, or --dry-run to see the proposal", strings.Join(kept, ", "))
	}
	fmt.Fprintf(e.stderr, "next: slokit validate %s && slokit generate -f %s --out rules/\n", f.out, f.out)
	return nil
}

func noServicesError(f initFlags) error {
	var looked []string
	for _, c := range propose.Conventions() {
		looked = append(looked, c.Requests)
	}
	what := "no HTTP or gRPC request metrics"
	if len(f.services) > 0 {
		what = "no request metrics for service " + strings.Join(f.services, ", ")
	}
	return fmt.Errorf("%s in %s over the last %d day(s); looked for %s", what, f.prometheus, f.days, strings.Join(looked, ", "))
}
