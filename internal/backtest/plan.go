package backtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// Job is one SLO × scenario replay.
type Job struct {
	Objective slo.Objective
	Groups    []slo.RuleGroup
	Scenario  Scenario
}

// Selection says what to backtest.
type Selection struct {
	// Builtins names built-in scenarios; empty with no Scenarios means every built-in.
	Builtins []string
	// Scenarios are user scenarios (from ParseScenarios).
	Scenarios []Scenario
	// SLOs restricts the run to SLOs of these names; empty means all.
	SLOs []string
	// Rules, when set, replaces each SLO's generated rules with the groups of a foreign
	// rule file (see LoadRules and GroupsFor); run them with Options.ForeignRules.
	Rules []slo.RuleGroup
}

// ErrUnknownSLO is returned (wrapped) by Plan when a selected SLO name matches none.
var ErrUnknownSLO = errors.New("no SLO of that name")

// BuiltinNames lists the built-in scenarios, in library order.
func BuiltinNames() []string {
	var out []string
	for _, sc := range Builtin(slo.Objective{Target: 0.999, Period: slo.BasePeriod}) {
		out = append(out, sc.Name)
	}
	return out
}

// Plan returns the jobs of a selection over services, and a notice for every SLO that
// cannot be backtested.
func Plan(services []*slo.Service, sel Selection) ([]Job, []string, error) {
	for _, name := range sel.Builtins {
		if !slices.Contains(BuiltinNames(), name) {
			return nil, nil, fmt.Errorf("unknown scenario %q: built-ins are %s", name, strings.Join(BuiltinNames(), ", "))
		}
	}
	useBuiltins := len(sel.Scenarios) == 0 || len(sel.Builtins) > 0
	var jobs []Job
	var notices []string
	seen := map[string]bool{}
	for _, svc := range services {
		for _, o := range svc.Objectives {
			if len(sel.SLOs) > 0 && !slices.Contains(sel.SLOs, o.Name) {
				continue
			}
			seen[o.Name] = true
			if k := o.SLI.Kind(); k != "events" && k != "latency" {
				notices = append(notices, fmt.Sprintf("skip %s/%s: a %s SLI cannot be backtested (slokit synthesizes series only for events and latency SLIs)", o.Service, o.Name, k))
				continue
			}
			if l := o.SLI.Latency; l != nil && l.Native {
				notices = append(notices, fmt.Sprintf("skip %s/%s: a native-histogram latency SLI cannot be backtested (the replay engine holds float samples only; classic histograms are replayed with their real bucket layout)", o.Service, o.Name))
				continue
			}
			js, err := jobsFor(o, sel, useBuiltins)
			if err != nil {
				return nil, nil, err
			}
			jobs = append(jobs, js...)
		}
	}
	for _, name := range sel.SLOs {
		if !seen[name] {
			return nil, nil, fmt.Errorf("--slo %s: %w", name, ErrUnknownSLO)
		}
	}
	return jobs, notices, nil
}

func jobsFor(o slo.Objective, sel Selection, useBuiltins bool) ([]Job, error) {
	g := GroupsFor(sel.Rules, o)
	if sel.Rules == nil {
		own, err := alerts.Group(o, alerts.Options{})
		if err != nil {
			return nil, err
		}
		g = []slo.RuleGroup{own}
	}
	var out []Job
	if useBuiltins {
		for _, sc := range Builtin(o) {
			if len(sel.Builtins) > 0 && !slices.Contains(sel.Builtins, sc.Name) {
				continue
			}
			if sc.LatencyOnly && o.SLI.Latency == nil {
				continue
			}
			out = append(out, Job{o, g, sc})
		}
	}
	for _, sc := range sel.Scenarios {
		out = append(out, Job{o, g, sc})
	}
	return out, nil
}

// Progress is called after each finished job with the count done so far.
type Progress func(done, total int, j Job, took time.Duration)

// RunAll replays jobs on workers goroutines (zero: GOMAXPROCS) and returns the results in
// job order. progress may be nil.
func RunAll(ctx context.Context, jobs []Job, opts Options, workers int, progress Progress) ([]Result, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]Result, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				j := jobs[i]
				results[i], errs[i] = RunGroups(ctx, j.Objective, j.Groups, j.Scenario, opts)
				mu.Lock()
				done++
				if progress != nil {
					progress(done, len(jobs), j, time.Since(start))
				}
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
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

// ScenarioArgs sorts --scenario arguments into built-in names and scenarios read from
// files (an argument naming an existing file, or ending in .yaml or .yml, is a file).
func ScenarioArgs(args []string) (builtins []string, user []Scenario, diags slo.Diagnostics, err error) {
	for _, s := range args {
		if st, serr := os.Stat(s); serr == nil && !st.IsDir() {
			data, rerr := os.ReadFile(s)
			if rerr != nil {
				return nil, nil, nil, rerr
			}
			scs, ds := ParseScenarios(s, data)
			diags = append(diags, ds...)
			user = append(user, scs...)
			continue
		}
		if strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml") {
			return nil, nil, nil, fmt.Errorf("scenario file %s: not found", s)
		}
		builtins = append(builtins, s)
	}
	return builtins, user, diags, nil
}
