package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/internal/load"
)

func newLoadCmd(e *env) *cobra.Command {
	var (
		cfg         load.Config
		mix, output string
		rate        float64
		duration    time.Duration
		timeout     time.Duration
		maxWorkers  uint64
	)
	cmd := &cobra.Command{
		Use:   "load --target URL",
		Short: "Send a steady mix of creates, redirects and misses to a shortlink service",
		Long: `load sends requests at a constant rate to a shortlink service: creates
(POST /api/v1/links), redirects (GET /{code} of created links, not followed) and misses
(GET /{code} of unknown codes), then prints latency percentiles and status codes per kind.

With --duration 0 it runs until interrupted and then prints the summary; interrupting a
run with a duration prints the summary and exits 130.`,
		Example: `  slokit load --target http://127.0.0.1:8080 --rate 50 --duration 1m
  slokit load --target http://127.0.0.1:8080 --mix create=1,redirect=8,miss=1 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &usageError{fmt.Errorf("-o must be text or json, got %q", output)}
			}
			if cfg.Target == "" {
				return &usageError{errors.New("--target is required, like --target http://127.0.0.1:8080")}
			}
			m, err := load.ParseMix(mix)
			if err != nil {
				return &usageError{err}
			}
			cfg.Mix, cfg.Rate, cfg.Duration, cfg.Timeout, cfg.MaxWorkers = m, rate, duration, timeout, maxWorkers
			ctx := cmd.Context()
			g, err := load.Start(ctx, cfg)
			if err != nil {
				return &usageError{err}
			}
			until := "until interrupted"
			if duration > 0 {
				until = "for " + duration.String()
			}
			fmt.Fprintf(e.stderr, "load: %g requests/s (%s) against %s %s\n", rate, m, cfg.Target, until)
			rep := waitWithProgress(ctx, e, g, 5*time.Second)
			if output == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				err = enc.Encode(rep)
			} else {
				err = rep.WriteText(e.stdout)
			}
			if err != nil {
				return err
			}
			if duration > 0 && ctx.Err() != nil {
				return fmt.Errorf("load interrupted after %s: %w", rep.Elapsed.Round(time.Millisecond), ctx.Err())
			}
			if rep.Total.Requests > 0 && rep.Total.Codes[0] == int(rep.Total.Requests) {
				return errors.New("load: no request got a response; is the target running?")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Target, "target", "", "base URL of the shortlink service (required)")
	f.Float64Var(&rate, "rate", 50, "requests per second, all kinds together")
	durationVar(f, &duration, "duration", 30*time.Second, 0, "how long to send; 0 runs until interrupted")
	f.StringVar(&mix, "mix", load.DefaultMix().String(), "weights of the request kinds")
	durationVar(f, &timeout, "timeout", 5*time.Second, time.Millisecond, "per-request timeout")
	f.Uint64Var(&maxWorkers, "max-workers", 256, "most requests in flight at once")
	f.StringVarP(&output, "output", "o", "text", "summary format on stdout: text or json")
	return cmd
}

// waitWithProgress waits for g to end, printing a progress line on stderr every period.
func waitWithProgress(ctx context.Context, e *env, g *load.Generator, period time.Duration) *load.Report {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-g.Done():
			return g.Stop()
		case <-ctx.Done():
			return g.Stop()
		case <-t.C:
			r := g.Snapshot()
			fmt.Fprintf(e.stderr, "load: %s, %d requests, %.2f%% as expected, p99 %s\n", r.Elapsed.Round(time.Second),
				r.Total.Requests, 100*r.Total.OKRatio(), r.Total.Latency.P99.Round(time.Microsecond))
		}
	}
}
