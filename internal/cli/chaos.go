package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/chaos/report"
	"github.com/slokit/slokit/slo"
)

func newChaosCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Game days: inject a fault and prove the SLO's alerts fire and the SLO recovers",
		Long: `A game day injects a fault, watches an SLO's burn rates and alerts, removes the fault
on every path (success, failure, guardrail, lost signals, SIGINT, SIGTERM, SIGHUP, SIGQUIT) and judges whether the right
alert fired within the time the alert maths predicts. See docs/gameday.md.

` + exitCodesHelp,
	}
	cmd.AddCommand(newChaosRunCmd(e), newChaosValidateCmd(e), newChaosCleanupCmd(e), newChaosProxyCmd(e), newChaosWatchdogCmd(e))
	return cmd
}

func chaosWarnings(w io.Writer, ds slo.Diagnostics) {
	for _, d := range ds {
		fmt.Fprintln(w, d.String())
	}
}

func newChaosRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func journalDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return chaos.DefaultJournalDir()
}

func newChaosRunCmd(e *env) *cobra.Command {
	var (
		o         runOptions
		echartsJS string
	)
	cmd := &cobra.Command{
		Use:   "run GAMEDAY.yaml",
		Short: "Run a game day: preflight, inject, expect, remove, recover, verdict",
		Long: `Run a game day. Progress goes to stderr; the result to stdout (-o text|json), to --result
as JSON and to --report as a self-contained HTML page.

Before injecting, the run is recorded in a journal (--journal-dir, default
$XDG_STATE_HOME/slokit/runs) so that 'slokit chaos cleanup' can remove the fault if
slokit is killed; the entry is deleted once the fault is removed. The journal directory
also holds one lock per SLO: a second run on the same SLO is refused.

SIGINT, SIGTERM, SIGHUP and SIGQUIT remove the fault and exit 130. When Prometheus has
not answered for --signal-loss the fault is removed and the run aborted. For traffic
that matters, point the http-proxy backend at a long-lived 'slokit chaos proxy'
(params.control): its faults carry a lease and end by themselves if this process dies.

` + exitCodesHelp,
		Args: chaosExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "text" && o.output != "json" {
				return &usageError{fmt.Errorf("-o must be text or json, got %q", o.output)}
			}
			return runGameDay(cmd.Context(), e, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "text", "result format on stdout: text or json")
	f.StringVar(&o.resultFile, "result", "", "also write the JSON result to this file")
	f.StringVar(&o.reportFile, "report", "", "write a self-contained HTML report (inline SVG timelines of burn rates, SLI and budget; alert marks, deadlines, guardrails; measured vs predicted) to this file")
	f.StringVar(&echartsJS, "echarts-js", "", "ignored: the report draws its charts as inline SVG")
	_ = f.MarkDeprecated("echarts-js", "the report draws its charts as inline SVG and needs no script")
	f.StringVar(&o.journal, "journal-dir", "", "directory of run journals (default $XDG_STATE_HOME/slokit/runs)")
	f.StringVar(&o.prometheus, "prometheus", "", "override signals.prometheus of the game day")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in progress output (colour is used only on a terminal)")
	f.DurationVar(&o.signalLoss, "signal-loss", chaos.DefaultSignalLoss, "remove the fault and end the run when Prometheus has not answered for this long")
	addStoreFlag(f, &o.storeDB, "record the finished run")
	return cmd
}

// runOptions are the flags of `chaos run`.
type runOptions struct {
	output, resultFile, reportFile, journal, prometheus, storeDB string
	noColor                                                      bool
	signalLoss                                                   time.Duration
}

// runGameDay loads, runs and reports one game day.
func runGameDay(ctx context.Context, e *env, path string, o runOptions) error {
	setup, err := chaos.Load(path, backends(), o.prometheus)
	if err != nil {
		return err
	}
	chaosWarnings(e.stderr, setup.Warnings)
	plan := setup.Plan
	dir, err := journalDir(o.journal)
	if err != nil {
		return err
	}
	sig, err := promsource.NewSplit(plan.GameDay.Signals.Prometheus, plan.GameDay.Signals.AlertsURL)
	if err != nil {
		return err
	}
	run := chaos.Run{ID: newChaosRunID(), GameDay: plan.GameDay.Name, Timeout: plan.Timeout}
	inj, err := setup.Backend.New(plan.GameDay.Fault.Params, run)
	if err != nil {
		return fmt.Errorf("building the %s fault: %w", plan.GameDay.Fault.Backend, err)
	}
	if c, ok := inj.(io.Closer); ok {
		defer c.Close()
	}
	entry, err := chaos.NewJournalEntry(plan.GameDay)
	if err != nil {
		return err
	}
	pp := newProgressPrinter(e.stderr, !o.noColor)
	fmt.Fprintf(e.stderr, "game day %s, run %s: %s on %s/%s, signals from %s\n", plan.GameDay.Name, run.ID,
		plan.GameDay.Fault.Backend, plan.Objective.Service, plan.Objective.Name, sig)
	r := &chaos.Runner{Plan: plan, Injector: inj, Signals: sig, Run: run,
		Journal: &chaos.Journal{Dir: dir}, Entry: entry, Progress: pp.print, Log: e.log, SignalLoss: o.signalLoss}
	res, runErr := r.Execute(ctx)
	pp.done()
	if res == nil || res.Outcome == chaos.Error && res.FaultBegan == nil {
		return runErr // one line: nothing was injected, there is no verdict to print
	}
	recordRun(ctx, e, o.storeDB, res, "chaos run")
	if err := writeRunOutputs(e, res, o.output, o.resultFile, o.reportFile); err != nil {
		return errors.Join(runErr, err)
	}
	return runExitError(res, runErr)
}

// runExitError maps a run's outcome to the documented exit codes.
func runExitError(res *chaos.Result, runErr error) error {
	reasons := strings.Join(res.Reasons, "; ")
	switch {
	case res.Outcome == chaos.Interrupted && res.FaultBegan == nil:
		return &CodeError{Code: ExitInterrupted, Err: fmt.Errorf("game day %s interrupted before any fault was injected", res.GameDay)}
	case res.Outcome == chaos.Interrupted && runErr != nil && errors.Is(runErr, chaos.ErrFaultLeft):
		return &CodeError{Code: ExitInterrupted, Err: runErr}
	case res.Outcome == chaos.Interrupted:
		return &CodeError{Code: ExitInterrupted, Err: fmt.Errorf("game day %s interrupted; the fault was removed", res.GameDay)}
	case runErr != nil:
		return runErr
	case res.Outcome == chaos.Aborted:
		return &CodeError{Code: ExitAborted, Err: fmt.Errorf("game day %s aborted: %s", res.GameDay, reasons)}
	case res.Outcome == chaos.Fail:
		return &CodeError{Code: ExitVerdict, Err: fmt.Errorf("game day %s failed: %s", res.GameDay, reasons)}
	}
	return nil
}

func writeRunOutputs(e *env, res *chaos.Result, output, resultFile, reportFile string) error {
	var errs []error
	if output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		errs = append(errs, enc.Encode(res))
	} else {
		errs = append(errs, writeResultText(e.stdout, res))
	}
	if resultFile != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err == nil {
			err = os.WriteFile(resultFile, append(b, '\n'), 0o644)
		}
		errs = append(errs, err)
	}
	if reportFile != "" {
		f, err := os.Create(reportFile)
		if err == nil {
			err = report.Write(f, res, report.Options{})
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			fmt.Fprintf(e.stderr, "report written to %s\n", reportFile)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func chaosSecs(s *float64) string {
	if s == nil {
		return "—"
	}
	return (time.Duration(*s * float64(time.Second))).Round(time.Second).String()
}

func chaosMark(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}

// writeResultText prints the verdict for humans.
func writeResultText(w io.Writer, res *chaos.Result) error {
	var b strings.Builder
	outcome := strings.ToUpper(string(res.Outcome))
	if res.Cause != "" {
		outcome += " (" + string(res.Cause) + ")"
	}
	fmt.Fprintf(&b, "game day %s (run %s) on %s/%s: %s\n", res.GameDay, res.RunID, res.Service, res.SLO, outcome)
	if res.FaultBegan == nil && len(res.Expectations) == 0 {
		b.WriteString("  nothing was injected\n")
		for _, r := range res.Reasons {
			fmt.Fprintf(&b, "  reason: %s\n", r)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, x := range res.Expectations {
		allowed := chaosSecs(&x.WithinSeconds)
		if x.WithinPredicted {
			allowed += " = predicted + rules' lag + tolerance"
		}
		if x.DetectedSeconds != nil {
			fmt.Fprintf(&b, "  expect %-12s fired %s after %s (predicted %s, allowed %s)  %s\n",
				x.Alert, x.FiredTier, chaosSecs(x.DetectedSeconds), chaosSecs(x.PredictedSeconds), allowed, chaosMark(x.Met))
		} else {
			fmt.Fprintf(&b, "  expect %-12s did not fire (predicted %s, allowed %s)  %s\n", x.Alert, chaosSecs(x.PredictedSeconds), allowed, chaosMark(x.Met))
		}
		if under := resolvedUnderFault(res, x.FiredTier); under != "" {
			fmt.Fprintf(&b, "  reset  %-12s %s\n", x.FiredTier, under)
		} else if x.FiredTier != "" {
			fmt.Fprintf(&b, "  reset  %-12s %s after the fault ended (predicted %s)\n", x.FiredTier, chaosSecs(x.ResetSeconds), chaosSecs(x.PredictedResetSeconds))
		}
	}
	for _, m := range res.MustNotFire {
		if m.Fired {
			fmt.Fprintf(&b, "  must not fire %-5s %s fired  FAILED\n", m.Alert, m.FiredTier)
		} else {
			fmt.Fprintf(&b, "  must not fire %-5s did not fire  ok\n", m.Alert)
		}
	}
	rc := res.Recovery
	fmt.Fprintf(&b, "  recovery: %s burn < %g and no alert firing after %s (allowed %s)  %s\n",
		rc.Window, rc.BurnRateBelow, chaosSecs(rc.RecoveredSeconds), chaosSecs(&rc.WithinSeconds), chaosMark(rc.Met))
	writeMitigationText(&b, res.Mitigation)
	fmt.Fprintf(&b, "  budget spent: %.2f%% of the period's error budget (guardrail %.0f%%)", 100*res.Budget.Spent, 100*res.Budget.Max)
	if res.Budget.RemainingBefore != nil && res.Budget.RemainingAfter != nil {
		fmt.Fprintf(&b, "; %s %.2f%% → %.2f%%", slo.MetricBudgetRemaining, 100**res.Budget.RemainingBefore, 100**res.Budget.RemainingAfter)
	}
	b.WriteString("\n")
	if f := res.Fault; f != nil {
		fmt.Fprintf(&b, "  fault: matched %d requests, failed %d, delayed or failed %d; SLI peak burn %.3g  %s\n",
			f.Matched, f.Errors, f.Injected, f.PeakBurnRate, chaosMark(!f.NotOnPath))
	}
	for _, r := range res.Reasons {
		fmt.Fprintf(&b, "  reason: %s\n", r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// progressPrinter renders runner progress on stderr: a status line rewritten in place
// with colour on a terminal, plain lines every few seconds otherwise.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	color bool
	last  time.Duration
	open  bool // a status line is on screen (TTY only)
}

func newProgressPrinter(w io.Writer, color bool) *progressPrinter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressPrinter{w: w, tty: tty, color: color && tty && os.Getenv("NO_COLOR") == ""}
}

const plainEvery = 5 * time.Second

func (p *progressPrinter) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *progressPrinter) print(pr chaos.Progress) {
	head := fmt.Sprintf("[%7s] %-9s", pr.Elapsed.Round(time.Second), pr.Phase)
	if pr.Event != "" {
		ev := pr.Event
		switch {
		case strings.HasSuffix(ev, " firing"):
			ev = p.paint("1;31", ev)
		case strings.HasSuffix(ev, " pending"):
			ev = p.paint("33", ev)
		case strings.HasSuffix(ev, " resolved"), ev == "recovered":
			ev = p.paint("32", ev)
		}
		p.clear()
		fmt.Fprintf(p.w, "%s %s\n", p.paint("36", head), ev)
		return
	}
	if pr.Burn == nil {
		return
	}
	if !p.tty && pr.Elapsed-p.last < plainEvery && p.last != 0 {
		return
	}
	p.last = pr.Elapsed
	line := head + " burn " + formatBurn(pr.Burn) + fmt.Sprintf("  budget %.2f%%", 100*pr.Spent)
	if len(pr.Alerts) > 0 {
		var a []string
		for _, s := range pr.Alerts {
			a = append(a, slo.Window{Severity: s.Severity, Long: s.Window}.Name()+" "+s.State)
		}
		line += "  alerts " + strings.Join(a, ", ")
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.open = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progressPrinter) clear() {
	if p.open {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.open = false
	}
}

func (p *progressPrinter) done() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// formatBurn lists burn rates by window length: "5m=12.3 30m=4.1 1h=2 1d12h=0.5 30d=0.1".
func formatBurn(burn map[time.Duration]float64) string {
	out := make([]string, 0, len(burn))
	for _, w := range slices.Sorted(maps.Keys(burn)) {
		out = append(out, fmt.Sprintf("%s=%.3g", slo.FormatWindow(w), burn[w]))
	}
	return strings.Join(out, " ")
}

func newChaosValidateCmd(e *env) *cobra.Command {
	var prometheus string
	cmd := &cobra.Command{
		Use:   "validate GAMEDAY.yaml...",
		Short: "Check game days and print their plan: predicted detection and reset, deadlines, guardrails",
		Args:  chaosMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all slo.Diagnostics
			for _, path := range args {
				setup, err := chaos.Load(path, backends(), prometheus)
				if err != nil {
					var ve *slo.ValidationError
					if errors.As(err, &ve) {
						all = append(all, ve.Diagnostics...)
						continue
					}
					return err
				}
				chaosWarnings(e.stderr, setup.Warnings)
				writePlan(e.stdout, path, setup.Plan)
			}
			return all.Err()
		},
	}
	cmd.Flags().StringVar(&prometheus, "prometheus", "", "override signals.prometheus of the game days")
	return cmd
}

func writePlan(w io.Writer, path string, p *chaos.Plan) {
	o := p.Objective
	e := "unknown"
	if p.ErrorRatio > 0 {
		e = fmt.Sprintf("%g (from the %s), a %.3g× burn", p.ErrorRatio, p.ErrorRatioSource, p.ErrorRatio/o.ErrorBudget())
	}
	fmt.Fprintf(w, "%s: ok: %s on %s/%s (%s%% over %s), fault %s, error ratio %s\n",
		path, p.GameDay.Name, o.Service, o.Name, o.ObjectivePercent(), slo.FormatWindow(o.Period), p.GameDay.Fault.Backend, e)
	ss := p.SteadyState
	quiet := ""
	if ss.NoAlerts {
		quiet = " and no alert active"
	}
	fmt.Fprintf(w, "  steady state: %s burn ≤ %g%s (waiting up to %s)\n", slo.FormatWindow(ss.Window), ss.MaxBurnRate, quiet, ss.Wait)
	for _, x := range p.Expect {
		how := "set in the file"
		if x.WithinPredicted {
			how = "predicted + " + p.Tolerance.String() + " tolerance"
			if lag := x.Within - x.Predicted - p.Tolerance; lag > 0 {
				how = "predicted + " + lag.String() + " rules' lag + " + p.Tolerance.String() + " tolerance"
			}
		}
		pred := "unknown"
		if x.Predicted > 0 {
			pred = x.Predicted.String()
		}
		fmt.Fprintf(w, "  expect %s: predicted detection %s, reset %s; deadline %s (%s)\n", x.Selector, pred, x.PredictedReset, x.Within, how)
	}
	for _, m := range p.MustNotFire {
		fmt.Fprintf(w, "  must not fire: %s\n", m)
	}
	hold := "until the expected alerts fire or miss their deadline"
	if p.Mitigation != nil {
		hold += ", and the mitigation relieves the SLO or misses its deadline"
	}
	if p.Hold > 0 {
		hold = p.Hold.String()
	}
	fmt.Fprintf(w, "  fault held: %s\n", hold)
	fmt.Fprintf(w, "  recovery: %s burn < %g and no alert firing within %s\n", slo.FormatWindow(p.Recovery.Window), p.Recovery.BurnRateBelow, p.Recovery.Within)
	writePlanMitigation(w, p.Mitigation)
	fmt.Fprintf(w, "  guardrails: at most %.0f%% of the period's budget, timeout %s\n", 100*p.MaxBudget, p.Timeout)
}

func newChaosCleanupCmd(e *env) *cobra.Command {
	var (
		journal, runID, output string
		force, sweep           bool
	)
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove faults that killed runs left behind, from the run journal and by backend sweeps",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &usageError{fmt.Errorf("-o must be text or json, got %q", output)}
			}
			dir, err := journalDir(journal)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			out, cerr := chaos.Cleanup(ctx, &chaos.Journal{Dir: dir}, backends(),
				chaos.CleanupOptions{RunID: runID, Force: force, Sweep: sweep})
			if output == "json" {
				if out == nil {
					out = []chaos.CleanupResult{}
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else {
				if len(out) == 0 {
					fmt.Fprintf(e.stdout, "nothing to clean up in %s\n", dir)
				}
				for _, r := range out {
					switch {
					case r.File != "":
						fmt.Fprintf(e.stdout, "%s: %s\n", r.File, r.Skipped)
					case r.Error != "":
						fmt.Fprintf(e.stdout, "run %s (%s): FAILED: %s\n", r.RunID, r.Backend, r.Error)
					case r.Skipped != "":
						fmt.Fprintf(e.stdout, "run %s (%s): skipped: %s\n", r.RunID, r.Backend, r.Skipped)
					default:
						fmt.Fprintf(e.stdout, "run %s (%s): removed %s\n", r.RunID, r.Backend, strings.Join(r.Removed, ", "))
					}
				}
			}
			return cerr
		},
	}
	f := cmd.Flags()
	f.StringVar(&journal, "journal-dir", "", "directory of run journals (default $XDG_STATE_HOME/slokit/runs)")
	f.StringVar(&runID, "run", "", "clean only this run ID")
	f.BoolVar(&force, "force", false, "also clean entries whose slokit process still runs")
	f.BoolVar(&sweep, "sweep", false, "also ask each backend to sweep leftovers of every slokit run (for example Chaos Mesh objects by label)")
	f.StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

// chaosExactArgs requires n positional arguments, as a usage error.
func chaosExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}

// chaosMinArgs requires at least n positional arguments, as a usage error.
func chaosMinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return &usageError{fmt.Errorf("%s needs at least %d argument(s)", cmd.CommandPath(), n)}
		}
		return nil
	}
}
