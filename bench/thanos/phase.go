package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/thanoslab"
	"github.com/slokit/slokit/slo"
)

// phaseResult is one mode's measurement.
type phaseResult struct {
	mode         string
	rulesPerSLO  float64
	rounds       int
	evalSeconds  float64            // median over rounds of the summed group durations
	cpuPerRound  map[string]float64 // component kind → CPU seconds per evaluation round
	evaluators   int
	measuredOver time.Duration
	load         string // /proc/loadavg's 1, 5 and 15 minute averages when measured
}

// generate returns the rule file of spec: per-cluster rules for Prometheus, or the
// Thanos Ruler file of global SLOs, and the number of rules.
func generate(spec []byte, global bool) ([]byte, int, error) {
	svc, ds := slo.Parse("bench.yaml", spec)
	if err := ds.Err(); err != nil {
		return nil, 0, err
	}
	services := []*slo.Service{svc}
	var rf slo.RuleFile
	var err error
	if global {
		rf, err = alerts.ThanosRuleFile(services, alerts.Options{})
	} else {
		rf, err = alerts.RuleFile(services, alerts.Options{})
	}
	if err != nil {
		return nil, 0, err
	}
	n := 0
	for _, g := range rf.Groups {
		n += len(g.Rules)
	}
	b, err := yaml.Marshal(rf)
	return append([]byte(slo.GeneratedHeader), b...), n, err
}

// serveTargets starts one synthetic target per cluster and returns their addresses.
func serveTargets(ctx context.Context, w workload, n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: w.handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		context.AfterFunc(ctx, func() { _ = srv.Close() })
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// backfiller returns a PrepareData hook that writes -history of w's counters for the
// target at instance into a replica's empty TSDB with promtool.
func backfiller(o options, w workload, dir, instance string) func(string) error {
	return func(data string) error {
		om := filepath.Join(dir, "history-"+strings.ReplaceAll(instance, ":", "_")+".om")
		f, err := os.Create(om)
		if err != nil {
			return err
		}
		end := time.Now().Add(-o.interval).Truncate(o.interval)
		if err := w.backfill(f, instance, end.Add(-o.history), end, o.interval); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		defer os.Remove(om)
		out, err := exec.Command(o.promtool, "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput()
		if err != nil {
			return fmt.Errorf("promtool: %w: %s", err, out)
		}
		return nil
	}
}

// phase starts the topology for one mode, waits two evaluation rounds and measures.
func phase(ctx context.Context, o options, w workload, dir string, global bool, log *slog.Logger) (phaseResult, error) {
	res := phaseResult{mode: modeName(global)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	rules, n, err := generate(w.spec(global, o.interval), global)
	if err != nil {
		return res, err
	}
	res.rulesPerSLO = float64(n) / float64(o.slos)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	targets, err := serveTargets(ctx, w, o.clusters)
	if err != nil {
		return res, err
	}
	cfg := thanoslab.Config{Dir: dir, Thanos: o.thanos, Prometheus: o.prometheus, ScrapeInterval: o.interval,
		ReadyTimeout: 2 * time.Minute, Log: log}
	for i, t := range targets {
		cl := thanoslab.Cluster{Name: fmt.Sprintf("c%d", i), Targets: []string{t}, Job: "bench", PrepareData: backfiller(o, w, dir, t)}
		if !global {
			cl.RuleFiles = map[string][]byte{"bench.rules.yaml": rules}
		}
		cfg.Clusters = append(cfg.Clusters, cl)
	}
	if global {
		cfg.RuleFiles = map[string][]byte{"bench.thanos.rules.yaml": rules}
	}
	log.Info("starting", "mode", res.mode, "slos", o.slos, "rules", n, "clusters", o.clusters)
	lab, err := thanoslab.Start(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer lab.Close()
	evaluators := []string{lab.RulerURL}
	if !global {
		evaluators = nil
		for _, r := range lab.Replicas {
			evaluators = append(evaluators, r.PrometheusURL)
		}
	}
	res.evaluators = len(evaluators)
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(2*o.interval + 5*time.Second):
	}
	return measure(ctx, o, lab, evaluators, res)
}

// measure samples the evaluators' group durations every interval for o.measure and the
// components' CPU time at both ends.
func measure(ctx context.Context, o options, lab *thanoslab.Lab, evaluators []string, res phaseResult) (phaseResult, error) {
	pids := lab.PIDs()
	before := cpuTimes(pids)
	start := time.Now()
	var rounds []float64
	for time.Since(start) < o.measure {
		sum := 0.0
		for _, u := range evaluators {
			s, err := groupSeconds(ctx, u)
			if err != nil {
				return res, err
			}
			sum += s
		}
		rounds = append(rounds, sum)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(o.interval):
		}
	}
	res.measuredOver = time.Since(start)
	after := cpuTimes(pids)
	res.load = loadAverage()
	if err := lab.Err(); err != nil {
		return res, err
	}
	perRound := float64(res.measuredOver) / float64(o.interval)
	res.cpuPerRound = map[string]float64{}
	for name, t := range after {
		res.cpuPerRound[kind(name)] += (t - before[name]) / perRound
	}
	slices.Sort(rounds)
	res.rounds = len(rounds)
	res.evalSeconds = rounds[len(rounds)/2]
	return res, nil
}

// kind groups components: prometheus-c0-0 → prometheus, sidecar-c1-0 → sidecar.
func kind(name string) string {
	k, _, _ := strings.Cut(name, "-")
	return k
}

// groupSeconds sums prometheus_rule_group_last_duration_seconds of slokit's bench groups
// on an evaluator's /metrics (Prometheus and Thanos Ruler export the same metric).
func groupSeconds(ctx context.Context, base string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum, found := 0.0, 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "prometheus_rule_group_last_duration_seconds{") || !strings.Contains(line, "slokit-bench-") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s/metrics: %q: %w", base, line, err)
		}
		sum += v
		found++
	}
	if found == 0 {
		return 0, fmt.Errorf("%s/metrics: no prometheus_rule_group_last_duration_seconds of the bench's groups", base)
	}
	return sum, sc.Err()
}

// cpuTimes reads user+system CPU seconds of every pid from /proc (100 ticks a second).
func cpuTimes(pids map[string]int) map[string]float64 {
	out := map[string]float64{}
	for name, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name in parentheses: state is field 3; utime and
		// stime are fields 14 and 15.
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		out[name] = (u + s) / 100
	}
	return out
}

// loadAverage is the machine's 1, 5 and 15 minute load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}
