// Command thanos measures what going global costs: N SLOs evaluated in every cluster's own
// Prometheus (scope: cluster) against the same N SLOs evaluated once over every cluster
// by Thanos Ruler through Thanos Query (scope: global), on the topology of
// internal/thanoslab with the real binaries. It prints a Markdown table (docs/rules.md,
// "Cost of going global").
//
//	THANOS=$(bash .ci/thanos.sh) go run ./bench/thanos [-slos 20] [-measure 2m]
//
// Each phase starts a fresh topology whose Prometheus servers hold -history of raw
// counters (backfilled with promtool, so the burn-rate windows up to -history read real
// samples), scrapes a synthetic target per cluster that continues the same counters,
// lets two evaluation rounds pass, then samples for -measure: the rule groups' last
// evaluation durations (prometheus_rule_group_last_duration_seconds, summed over the
// evaluators, median over rounds) and the CPU time of every component (/proc/<pid>/stat).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// options are the command's flags.
type options struct {
	slos, pods, clusters int
	history, interval    time.Duration
	measure              time.Duration
	thanos, prometheus   string
	promtool             string
	keep                 bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/thanos:", err)
		os.Exit(1)
	}
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("thanos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.slos, "slos", 20, "number of SLOs")
	fs.IntVar(&o.pods, "pods", 5, "pods per SLO route in each cluster (two series each: code 200 and 500)")
	fs.IntVar(&o.clusters, "clusters", 2, "number of clusters")
	fs.DurationVar(&o.history, "history", 6*time.Hour, "raw counter history backfilled into every Prometheus")
	fs.DurationVar(&o.interval, "interval", 15*time.Second, "scrape and rule-evaluation interval")
	fs.DurationVar(&o.measure, "measure", 2*time.Minute, "how long each phase is measured")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.slos < 1 || o.pods < 1 || o.clusters < 1 || o.interval < time.Second || o.measure < 2*o.interval {
		return o, fmt.Errorf("want -slos, -pods, -clusters ≥ 1, -interval ≥ 1s and -measure ≥ 2 intervals")
	}
	var err error
	if o.thanos = os.Getenv("THANOS"); o.thanos == "" {
		return o, fmt.Errorf("set THANOS to the Thanos binary: THANOS=$(bash .ci/thanos.sh)")
	}
	if o.prometheus, err = exec.LookPath("prometheus"); err != nil {
		return o, fmt.Errorf("prometheus not on PATH (apt-get install prometheus): %w", err)
	}
	if o.promtool, err = exec.LookPath("promtool"); err != nil {
		return o, fmt.Errorf("promtool not on PATH (apt-get install prometheus): %w", err)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	dir, err := os.MkdirTemp("", "slokit-bench-thanos-")
	if err != nil {
		return err
	}
	if o.keep {
		log.Info("keeping the work directory", "dir", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	w := workload{slos: o.slos, pods: o.pods, origin: time.Now().Add(-o.history - time.Hour).Truncate(time.Minute)}
	var results []phaseResult
	for _, global := range []bool{false, true} {
		res, err := phase(ctx, o, w, filepath.Join(dir, modeName(global)), global, log)
		if err != nil {
			return fmt.Errorf("%s phase: %w", modeName(global), err)
		}
		results = append(results, res)
	}
	report(stdout, o, results)
	return nil
}

func modeName(global bool) string {
	if global {
		return "global"
	}
	return "per-cluster"
}
