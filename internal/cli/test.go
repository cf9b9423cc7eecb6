package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/backtest"
	"github.com/slokit/slokit/slo"
)

type testFlags struct {
	files     []string
	scenarios []string
	slos      []string
	output    string
	interval  time.Duration
}

func newTestCmd(e *env) *cobra.Command {
	var f testFlags
	cmd := &cobra.Command{
		Use:   "test -f FILE... [--scenario NAME|FILE]... [-o text|json]",
		Short: "Backtest the generated alerts: replay incident scenarios through the real PromQL engine",
		Long: `Replay incident scenarios through each SLO's generated recording and alerting rules in
slokit's embedded Prometheus engine, and report per SLO, scenario and alert tier whether it
fired, the detection time, the reset time and the error budget spent at detection, beside
the SRE Workbook's predictions. "✗ MISMATCH" marks a tier whose measurement disagrees with
the prediction by more than one scrape interval, two evaluation intervals and the shortest
ratio window; "✗ EXPECTATION FAILED" a must-fire scenario that did not fire or a
must-not-fire one that did. Precision and recall are computed over the expectations.

Without --scenario every built-in scenario runs:
` + wrapNames(builtinNames(), 5) + `
--scenario takes a built-in name or a scenario YAML file (see docs/backtest.md).

Exits 4 when an expectation fails, 3 when an input file is invalid.`,
		Example: `  slokit test -f examples/shortlink.yaml
  slokit test -f examples/shortlink.yaml --scenario total-outage --scenario burn-0.9x -o json
  slokit test -f slos.yaml --scenario incidents.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTest(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "file", "f", nil, "SLO spec `FILE` (repeatable)")
	fl.StringArrayVar(&f.scenarios, "scenario", nil, "built-in scenario `NAME` or scenario FILE (repeatable; default: every built-in)")
	fl.StringArrayVar(&f.slos, "slo", nil, "only the SLO `NAME` (repeatable; default: every SLO)")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	fl.DurationVar(&f.interval, "eval-interval", 30*time.Second, "rule evaluation and scrape interval of the replay")
	return cmd
}

func builtinNames() []string {
	o := slo.Objective{Target: 0.999, Period: slo.BasePeriod}
	var out []string
	for _, sc := range backtest.Builtin(o) {
		out = append(out, sc.Name)
	}
	return out
}

// wrapNames lists names, perLine to a line, indented.
func wrapNames(names []string, perLine int) string {
	var lines []string
	for i := 0; i < len(names); i += perLine {
		lines = append(lines, "  "+strings.Join(names[i:min(i+perLine, len(names))], ", "))
	}
	return strings.Join(lines, ",\n")
}

// job is one SLO × scenario replay.
type job struct {
	o     slo.Objective
	group slo.RuleGroup
	sc    backtest.Scenario
}

func runTest(ctx context.Context, e *env, f testFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if len(f.files) == 0 {
		return &usageError{errors.New("no spec files: pass -f FILE")}
	}
	if f.output != "text" && f.output != "json" {
		return &usageError{fmt.Errorf("-o must be text or json, got %q", f.output)}
	}
	if f.interval <= 0 {
		return &usageError{fmt.Errorf("--eval-interval must be positive, got %s", f.interval)}
	}
	services, diags := slo.LoadFiles(f.files...)
	printDiagnostics(e.stderr, diags.Warnings())
	if err := diags.Err(); err != nil {
		return err
	}
	// Scenario selection: built-in names and files.
	var builtinWanted []string
	var userScenarios []backtest.Scenario
	var sdiags slo.Diagnostics
	for _, s := range f.scenarios {
		if st, err := os.Stat(s); err == nil && !st.IsDir() {
			data, err := os.ReadFile(s)
			if err != nil {
				return err
			}
			scs, ds := backtest.ParseScenarios(s, data)
			sdiags = append(sdiags, ds...)
			userScenarios = append(userScenarios, scs...)
			continue
		}
		if strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml") {
			return fmt.Errorf("scenario file %s: not found", s)
		}
		if !slices.Contains(builtinNames(), s) {
			return &usageError{fmt.Errorf("unknown scenario %q: built-ins are %s, or pass a scenario YAML file", s, strings.Join(builtinNames(), ", "))}
		}
		builtinWanted = append(builtinWanted, s)
	}
	printDiagnostics(e.stderr, sdiags.Warnings())
	if err := sdiags.Err(); err != nil {
		return err
	}
	useBuiltins := len(f.scenarios) == 0 || len(builtinWanted) > 0

	var jobs []job
	seenSLO := map[string]bool{}
	for _, svc := range services {
		for _, o := range svc.Objectives {
			if len(f.slos) > 0 && !slices.Contains(f.slos, o.Name) {
				continue
			}
			seenSLO[o.Name] = true
			if k := o.SLI.Kind(); k != "events" && k != "latency" {
				fmt.Fprintf(e.stderr, "skip %s/%s: a %s SLI cannot be backtested (slokit synthesizes series only for events and latency SLIs)\n", o.Service, o.Name, k)
				continue
			}
			g, err := alerts.Group(o, alerts.Options{})
			if err != nil {
				return err
			}
			if useBuiltins {
				for _, sc := range backtest.Builtin(o) {
					if len(builtinWanted) > 0 && !slices.Contains(builtinWanted, sc.Name) {
						continue
					}
					if sc.LatencyOnly && o.SLI.Latency == nil {
						continue
					}
					jobs = append(jobs, job{o, g, sc})
				}
			}
			for _, sc := range userScenarios {
				jobs = append(jobs, job{o, g, sc})
			}
		}
	}
	for _, name := range f.slos {
		if !seenSLO[name] {
			return &usageError{fmt.Errorf("--slo %s: no SLO of that name in %s", name, strings.Join(f.files, ", "))}
		}
	}
	if len(jobs) == 0 {
		return errors.New("nothing to test: no SLO with an events or latency SLI was selected")
	}

	results, err := runJobs(ctx, e, jobs, backtest.Options{EvalInterval: f.interval, ScrapeInterval: f.interval, Logger: e.log})
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Results []backtest.Result `json:"results"`
			Summary backtest.Summary  `json:"summary"`
		}{results, backtest.Summarize(results)}); err != nil {
			return err
		}
	} else if err := backtest.WriteText(e.stdout, results); err != nil {
		return err
	}
	if s := backtest.Summarize(results); len(s.Violations) > 0 {
		return &CodeError{Code: ExitVerdict, Err: fmt.Errorf("%d expectation(s) failed:\n  %s", len(s.Violations), strings.Join(s.Violations, "\n  "))}
	}
	return nil
}

// runJobs replays jobs on GOMAXPROCS workers and returns results in job order.
func runJobs(ctx context.Context, e *env, jobs []job, opts backtest.Options) ([]backtest.Result, error) {
	results := make([]backtest.Result, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				results[i], errs[i] = backtest.Run(ctx, jobs[i].o, jobs[i].group, jobs[i].sc, opts)
				mu.Lock()
				done++
				fmt.Fprintf(e.stderr, "[%d/%d] %s/%s %s (%s simulated in %s)\n", done, len(jobs),
					jobs[i].o.Service, jobs[i].o.Name, jobs[i].sc.Name, jobs[i].sc.Duration(), time.Since(start).Round(time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []error
	for _, err := range errs {
		if err != nil {
			all = append(all, err)
		}
	}
	if err := errors.Join(all...); err != nil {
		return nil, err
	}
	return results, nil
}
