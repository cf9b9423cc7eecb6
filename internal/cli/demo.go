package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/slo"
)

// demoPrometheusListen is the edge's address with --prometheus, fixed so that the
// written prometheus.yml stays valid from one run to the next.
const demoPrometheusListen = "127.0.0.1:8089"

type demoOptions struct {
	out, prometheus, listen, echartsJS, output, scenario string
	serveListen                                          string
	serve                                                bool
	rate                                                 float64
	warmup                                               time.Duration // < 0: the expected tier's long window
	noColor                                              bool
}

func newDemoCmd(e *env) *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole loop on one machine: service, load, fault, alert, verdict (about 2 minutes)",
		Long: `Run slokit's whole loop in one process, with nothing installed but Go: the shortlink
sample service behind an instrumented edge and slokit's HTTP fault proxy, steady load,
and the local lab scraping the edge every second and evaluating the rules generated from
a short-period SLO. Once the alert's long window holds a minute of healthy traffic, a game
day runs exactly as 'slokit chaos run' does: preflight, inject 50% errors on redirects,
expect the page within the predicted time, remove the fault, recover, verdict.

Progress goes to stderr, the verdict to stdout; the SLO spec, the generated rules, the
game day, a Prometheus configuration, the JSON result and the HTML report are written
into --out. Everything stops cleanly at the end and on Ctrl-C (the fault is removed
first). With --prometheus the signals come from a real Prometheus, which must scrape the
edge and load the rules: both are in --out/prometheus.yml. See docs/demo.md.

--scenario breaker runs the resilience game day instead: shortlink asks its linkcheck
dependency before every redirect, the fault proxy delays linkcheck past shortlink's
timeout, the latency page must fire, shortlink's circuit breaker must open on its own and
the SLO's 5s burn rate must fall below 1 while the fault is still in; after removal the
breaker must close. --scenario breaker-off runs the same game day against shortlink
without its breaker: the control, which fails with "mitigation … never engaged".

` + exitCodesHelp,
		Example: `  slokit demo
  slokit demo --out /tmp/demo --rate 100
  slokit demo --scenario breaker       # delay → page → breaker opens → SLO recovers under the fault
  slokit demo --scenario breaker-off   # the same game day without the breaker: FAIL
  slokit demo --prometheus http://127.0.0.1:9090   # then: prometheus --config.file=slokit-demo/prometheus.yml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != "text" && o.output != "json" {
				return &usageError{fmt.Errorf("-o must be text or json, got %q", o.output)}
			}
			if o.rate <= 0 {
				return &usageError{fmt.Errorf("--rate must be > 0 requests per second, got %v", o.rate)}
			}
			if !slices.Contains(demo.ScenarioNames(), o.scenario) {
				return &usageError{fmt.Errorf("--scenario must be one of %s, got %q", strings.Join(demo.ScenarioNames(), ", "), o.scenario)}
			}
			if o.listen == "" && o.prometheus != "" {
				o.listen = demoPrometheusListen
			}
			return runDemo(cmd.Context(), e, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "slokit-demo", "`DIR` for the SLO spec, rules, game day, Prometheus config, result.json and report.html")
	f.StringVar(&o.prometheus, "prometheus", "", "read signals from this Prometheus `URL` instead of starting the lab (load DIR/prometheus.yml into it)")
	f.StringVar(&o.listen, "listen", "", "the edge's `ADDRESS` (default 127.0.0.1:0, or "+demoPrometheusListen+" with --prometheus)")
	f.Float64Var(&o.rate, "rate", 50, "load in requests per second")
	f.StringVar(&o.scenario, "scenario", demo.ScenarioErrors, "game day to run: "+strings.Join(demo.ScenarioNames(), ", ")+" (see above)")
	durationVar(f, &o.warmup, "warmup", -1, 0, "healthy traffic to collect before the fault (default: the page's long window, 1m; less makes it fire early)")
	f.StringVarP(&o.output, "output", "o", "text", "result format on stdout: text or json")
	f.StringVar(&o.echartsJS, "echarts-js", "", "ignored: the report draws its charts as inline SVG")
	_ = f.MarkDeprecated("echarts-js", "the report draws its charts as inline SVG and needs no script")
	f.BoolVar(&o.noColor, "no-color", false, "no colour in progress output (colour is used only on a terminal)")
	f.BoolVar(&o.serve, "serve", false, "after the verdict, keep the stack up and serve the web UI (slokit serve) on it until Ctrl-C; the run is recorded in DIR/gamedays.db")
	f.StringVar(&o.serveListen, "serve-listen", "", "the UI's `ADDRESS` with --serve (default "+demoServeListen+", or a free port when it is taken)")
	return cmd
}

func runDemo(ctx context.Context, e *env, o demoOptions) (err error) {
	began := time.Now()
	// The components log warnings only: the progress lines tell the story.
	quiet := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := demo.Start(ctx, demo.Config{Dir: o.out, Listen: o.listen, Prometheus: o.prometheus, Rate: o.rate, Log: quiet, Scenario: o.scenario})
	if err != nil {
		return err
	}
	defer func() {
		rep := stack.StopLoad()
		cerr := stack.Close()
		if rep != nil {
			fmt.Fprintf(e.stderr, "stopped: load (%d requests, %s), fault proxy, edge, %s, service\n",
				rep.Total.Requests, demoCodes(rep.Total.Codes), demoSignalsName(stack))
		}
		fmt.Fprintf(e.stderr, "demo took %s\n", time.Since(began).Round(time.Second))
		if cerr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the demo: %w", cerr))
		}
	}()
	if stack.FaultOnDependency() {
		fmt.Fprintf(e.stderr, "slokit demo --scenario %s: load %g req/s → edge %s (SLIs measured here) → shortlink %s → fault proxy → linkcheck %s\n",
			o.scenario, o.rate, stack.EdgeURL, stack.ServiceURL, stack.DependencyURL)
	} else {
		fmt.Fprintf(e.stderr, "slokit demo: load %g req/s → edge %s (SLIs measured here) → fault proxy → shortlink %s\n",
			o.rate, stack.EdgeURL, stack.ServiceURL)
	}
	if stack.Lab != nil {
		scraped := stack.EdgeURL + "/metrics"
		if stack.FaultOnDependency() {
			scraped += " and " + stack.ServiceURL + "/metrics (the breaker's state)"
		}
		fmt.Fprintf(e.stderr, "lab at %s scrapes %s and evaluates %s every 1s\n",
			stack.SignalsURL, scraped, stack.Files[demo.FileRules])
	} else {
		fmt.Fprintf(e.stderr, `signals from the Prometheus at %s. It must scrape %s every 1s and evaluate %s every 1s;
%s does both: run 'prometheus --config.file=%s', or add its scrape job and rule file to
your configuration and reload (curl -X POST %s/-/reload). Waiting for the SLO's series…
`, stack.SignalsURL, strings.TrimPrefix(stack.EdgeURL, "http://"), stack.Files[demo.FileRules],
			stack.Files[demo.FilePrometheus], stack.Files[demo.FilePrometheus], stack.SignalsURL)
	}
	run, err := prepareDemo(ctx, stack, "")
	if err != nil {
		return err
	}
	defer func() {
		stack.StopLoad() // before the proxy goes, so no request meets a closed proxy
		run.close()
	}()
	writePlan(e.stderr, run.path, run.setup.Plan)
	res, runErr := run.execute(ctx, e.stderr, quiet, o.warmup, !o.noColor)
	if res == nil {
		if ctx.Err() != nil {
			return &CodeError{Code: ExitInterrupted, Err: fmt.Errorf("demo interrupted before the fault was injected: %w", runErr)}
		}
		return runErr
	}
	resultFile := filepath.Join(o.out, "result.json")
	reportFile := filepath.Join(o.out, "report.html")
	if err := writeRunOutputs(e, res, o.output, resultFile, reportFile); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(e.stderr, "result written to %s\n", resultFile)
	if res.Budget.RemainingAfter != nil {
		fmt.Fprintf(e.stderr, "note: %s covers the %s period but the demo's traffic is only %s old, so it extrapolates this run's burn; "+
			"the budget spent above is the run's share of a full %s budget\n", slo.MetricBudgetRemaining,
			slo.FormatWindow(time.Duration(res.PeriodSeconds*float64(time.Second))), time.Since(began).Round(time.Second), slo.FormatWindow(time.Duration(res.PeriodSeconds*float64(time.Second))))
	}
	if o.serve {
		if err := serveDemo(ctx, e, o, stack, res); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runExitError(res, runErr)
}

func demoSignalsName(s *demo.Stack) string {
	if s.Lab != nil {
		return "lab"
	}
	return "(your Prometheus keeps running)"
}

func demoCodes(codes map[int]int) string {
	var parts []string
	for _, c := range []int{201, 302, 404, 502, 503} {
		if n := codes[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, c))
		}
	}
	other := 0
	for c, n := range codes {
		switch c {
		case 201, 302, 404, 502, 503:
		default:
			other += n
		}
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("%d other", other))
	}
	return strings.Join(parts, " ")
}

// demoRun is the demo's game day, loaded from the file the stack wrote through the same
// loader as 'slokit chaos run', with its fault proxy started and the load flowing
// through it.
type demoRun struct {
	path  string
	setup *chaos.Setup
	inj   chaos.Injector
	sig   *promsource.Source
	stack *demo.Stack
	run   chaos.Run
}

// prepareDemo loads stack's game day (prometheus, when set, overrides its signals),
// builds and starts its fault proxy with the fault off, routes the edge through it and
// starts the load.
func prepareDemo(ctx context.Context, stack *demo.Stack, prometheus string) (*demoRun, error) {
	path := stack.Files[demo.FileGameDay]
	setup, err := chaos.Load(path, backends(), prometheus)
	if err != nil {
		return nil, err
	}
	sig, err := promsource.NewSplit(setup.Plan.GameDay.Signals.Prometheus, setup.Plan.GameDay.Signals.AlertsURL)
	if err != nil {
		return nil, err
	}
	r := &demoRun{path: path, setup: setup, sig: sig, stack: stack,
		run: chaos.Run{ID: newChaosRunID(), GameDay: setup.Plan.GameDay.Name}}
	r.inj, err = setup.Backend.New(setup.Plan.GameDay.Fault.Params, r.run)
	if err != nil {
		return nil, fmt.Errorf("building the %s fault: %w", setup.Plan.GameDay.Fault.Backend, err)
	}
	st, ok := r.inj.(chaos.Starter)
	u, ok2 := r.inj.(interface{ URL() string })
	if !ok || !ok2 {
		r.close()
		return nil, fmt.Errorf("the demo needs a fault proxy that starts before the fault, got %T", r.inj)
	}
	if err := st.Start(ctx); err != nil {
		r.close()
		return nil, fmt.Errorf("starting the fault proxy: %w", err)
	}
	upstream := u.URL()
	if stack.FaultOnDependency() {
		upstream = stack.ServiceURL // the proxy is on shortlink's way to linkcheck
	}
	if err := stack.Route(upstream); err != nil {
		r.close()
		return nil, err
	}
	if err := stack.StartLoad(ctx); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// close stops the fault proxy (removing any fault).
func (r *demoRun) close() {
	if c, ok := r.inj.(io.Closer); ok {
		_ = c.Close()
	}
}

// warmupWindow is the long window of the expected tiers: the history the predictions
// assume healthy when the fault begins.
func (r *demoRun) warmupWindow() time.Duration {
	var w time.Duration
	for _, x := range r.setup.Plan.Expect {
		for _, t := range x.Tiers {
			w = max(w, t.Long)
		}
	}
	return w
}

// execute warms up (warmup < 0: the expected tiers' long window) and runs the game day
// with the chaos runner, printing progress on e.stderr.
func (r *demoRun) execute(ctx context.Context, stderr io.Writer, log *slog.Logger, warmup time.Duration, color bool) (*chaos.Result, error) {
	plan := r.setup.Plan
	window := r.warmupWindow()
	if warmup < 0 {
		warmup = window
	}
	fmt.Fprintf(stderr, "warm-up: collecting %s of healthy traffic so that the %s window holds no start-up\n",
		warmup, slo.FormatWindow(window))
	var last time.Duration = -time.Hour
	err := demo.WarmUp(ctx, r.sig, plan.Objective, window, warmup, plan.SteadyState.Wait, func(st demo.WarmUpStatus) {
		if st.Elapsed-last < 5*time.Second {
			return
		}
		last = st.Elapsed
		burn := "no burn-rate series yet"
		switch {
		case st.Err != nil:
			burn = "signals unreadable: " + st.Err.Error()
		case len(st.Burn) > 0:
			burn = "burn " + formatBurn(st.Burn)
		}
		fmt.Fprintf(stderr, "[%7s] warm-up   %s of %s healthy  %s\n", st.Elapsed.Round(time.Second), st.Filled.Round(time.Second), warmup, burn)
	})
	if err != nil {
		return nil, err
	}
	pp := newProgressPrinter(stderr, color)
	fmt.Fprintf(stderr, "game day %s, run %s: %s on %s/%s, signals from %s\n", plan.GameDay.Name, r.run.ID,
		plan.GameDay.Fault.Backend, plan.Objective.Service, plan.Objective.Name, r.sig)
	runner := &chaos.Runner{Plan: plan, Injector: r.inj, Signals: r.sig, Run: r.run, Progress: pp.print, Log: log}
	res, err := runner.Execute(ctx)
	pp.done()
	return res, err
}
