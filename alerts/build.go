package alerts

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slokit/slokit/slo"
)

// objectiveRules are the rules ServiceGroups places for one per-cluster objective: its
// recording rules by group and its alerts, or the first error building them.
type objectiveRules struct {
	fast, long []slo.Rule
	alerts     alertRules
	err        error
}

// buildObjectives builds the rules of every per-cluster objective of objs, in parallel on
// up to GOMAXPROCS goroutines: out[i] belongs to objs[i] (zero for global objectives).
// Each objective's rules depend on that objective alone, so the result, like the order
// ServiceGroups reads it in, does not depend on scheduling. With discard, only the
// errors are kept (validate's check), so the rules are garbage as soon as they are built.
func buildObjectives(objs []slo.Objective, opts Options, discard bool) []objectiveRules {
	out := make([]objectiveRules, len(objs))
	parallel(len(objs), func(i int) {
		o := objs[i]
		if o.IsGlobal() {
			return
		}
		fr, lr, err := slo.RecordingRuleSets(o)
		if err != nil {
			out[i].err = err
			return
		}
		as, err := alertSet(o, opts, false)
		if err != nil {
			out[i].err = err
			return
		}
		if !discard {
			out[i] = objectiveRules{fast: fr, long: lr, alerts: as}
		}
	})
	return out
}

// byEvaluation returns the indexes of the per-cluster objectives of objs grouped by
// evaluation interval, the intervals in order of first use and the objectives in input
// order within each: the order ServiceGroups writes them in.
func byEvaluation(objs []slo.Objective) (evals []time.Duration, byEval map[time.Duration][]int) {
	byEval = map[time.Duration][]int{}
	for i, o := range objs {
		if o.IsGlobal() {
			continue // Thanos Ruler's: ThanosRuleFile
		}
		ev := o.Evaluation()
		if _, ok := byEval[ev]; !ok {
			evals = append(evals, ev)
		}
		byEval[ev] = append(byEval[ev], i)
	}
	return evals, byEval
}

// Check returns the error RuleFile and then ThanosRuleFile would return for s alone (nil
// when every rule of s can be generated) without keeping the rules: validate's check.
// The per-cluster objectives are built in parallel, and the first error in the order
// ServiceGroups builds them in is returned, as RuleFile does.
func Check(s *slo.Service, opts Options) error {
	opts.checkOnly = true
	built := buildObjectives(s.Objectives, opts, true)
	evals, byEval := byEvaluation(s.Objectives)
	for _, ev := range evals {
		for _, i := range byEval[ev] {
			if built[i].err != nil {
				return built[i].err
			}
		}
	}
	_, err := ThanosRuleFile([]*slo.Service{s}, opts)
	return err
}

// parallelBatch is how many items a worker of parallel takes at a time: large enough
// that the shared counter costs nothing, small enough to keep the workers busy to the end.
const parallelBatch = 16

// parallel calls fn(i) for every i in [0, n) on up to GOMAXPROCS goroutines and returns
// when all calls have returned. fn must be safe to call concurrently for distinct i.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+parallelBatch-1)/parallelBatch)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(parallelBatch)) - parallelBatch
				if start >= n {
					return
				}
				for i := start; i < min(start+parallelBatch, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}
