package chaos

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

const gameDayYAML = `
name: redirect-errors
slo: {file: slos.yaml, name: redirect-availability}
signals: {prometheus: "http://127.0.0.1:9090", tolerance: 10s}
fault: {backend: fake, params: {percent: 50}}
expect:
  - severity: page
mustNotFire:
  - severity: ticket
`

// plan parses src (gameDayYAML when empty) and prepares it against o.
func plan(t *testing.T, src string, o slo.Objective) *Plan {
	t.Helper()
	if src == "" {
		src = gameDayYAML
	}
	g, ds := Parse("gd.yaml", []byte(src), []Backend{fakeBackend{}})
	if g == nil {
		t.Fatal(diagText(ds))
	}
	e, _ := fakeBackend{}.ExpectedErrorRatio(g.Fault.Params)
	p, ds := Prepare(g, o, e)
	if p == nil {
		t.Fatal(diagText(ds))
	}
	return p
}

func newRunner(t *testing.T, p *Plan, w *world) *Runner {
	t.Helper()
	return &Runner{Plan: p, Injector: w, Signals: w, Run: Run{ID: "r1", GameDay: p.GameDay.Name},
		Journal: &Journal{Dir: t.TempDir()}, Clock: w.clock}
}

func TestPreparePredictions(t *testing.T) {
	p := plan(t, "", goodObjective())
	// 99.9%, 30d, e = 0.5: page/1h detects after 14.4·0.001·3600s/0.5 = 103.68s and
	// resets after 300s·(1 − 0.0144/0.5) = 291.36s; page/6h after 6·0.001·21600/0.5 = 259.2s.
	want := PlannedExpectation{
		Selector:        AlertSelector{Severity: slo.Page},
		Tiers:           []slo.Window{slo.DefaultWindows(p.Objective.Period)[0], slo.DefaultWindows(p.Objective.Period)[1]},
		Within:          104*time.Second + 10*time.Second,
		WithinPredicted: true,
		Predicted:       104 * time.Second,
		// The fault is removed once page/1h fired (no fault.duration), before page/6h
		// can: only page/1h's reset counts.
		PredictedReset: 291 * time.Second,
	}
	got := p.Expect[0]
	got.Selector.at = pos{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expectation\n got %+v\nwant %+v", got, want)
	}
	if got, want := reset(p.Objective, want.Tiers[0], 0.5), 291*time.Second; got != want {
		t.Errorf("page/1h reset = %s, want %s", got, want)
	}
	if p.ErrorRatio != 0.5 || p.ErrorRatioSource != "backend" {
		t.Errorf("error ratio %v from %q, want 0.5 from backend", p.ErrorRatio, p.ErrorRatioSource)
	}
	if p.ShortestWindow != 5*time.Minute || p.Recovery.Window != 5*time.Minute {
		t.Errorf("windows: shortest %s recovery %s, want 5m", p.ShortestWindow, p.Recovery.Window)
	}
	// The steady state is checked on the long window of page/1h, the first to fire.
	if p.SteadyState.Window != time.Hour {
		t.Errorf("steady-state window %s, want 1h", p.SteadyState.Window)
	}
	// The recovery deadline covers page/1h's reset and the 5m window emptying, plus tolerance.
	if got, want := p.Recovery.Within, 5*time.Minute+10*time.Second; got != want {
		t.Errorf("recovery within %s, want %s", got, want)
	}
}

// TestPrepareDeadlineIncludesLongGroupLag: page/6h reads its 6h burn rate from the long
// group (recorded every 2m30s), so its default deadline waits that much longer than the
// maths' 259s plus tolerance.
func TestPrepareDeadlineIncludesLongGroupLag(t *testing.T) {
	o := goodObjective()
	lag := o.LongGroupLag()
	if lag <= 0 {
		t.Fatalf("long-group lag %s, want > 0 for a %s evaluation", lag, o.Evaluation())
	}
	p := plan(t, strings.Replace(gameDayYAML, "- severity: page", "- {severity: page, window: 6h}", 1), o)
	e := p.Expect[0]
	if e.Predicted != 259*time.Second || e.Within != 259*time.Second+lag+10*time.Second || !e.WithinPredicted {
		t.Errorf("page/6h: predicted %s within %s, want 4m19s within 4m19s + %s + 10s tolerance", e.Predicted, e.Within, lag)
	}
}

func TestPrepareRejects(t *testing.T) {
	disabled := goodObjective()
	disabled.Alerting.Page.Disabled = true
	tests := []struct {
		name string
		src  string
		o    slo.Objective
		want string
	}{
		{
			name: "fault too small for the page",
			src:  strings.Replace(gameDayYAML, "percent: 50", "percent: 0.5", 1),
			o:    goodObjective(),
			want: "gd.yaml:7:5: expect[0]: the fault cannot fire page: its expected error ratio 0.005 (backend) is a burn rate of 5×, and page/1h fires only when the error ratio over 1h and 5m exceeds 14.4 × 0.001 = 0.0144; page/6h fires only when the error ratio over 6h and 30m exceeds 6 × 0.001 = 0.006; a tier fires only if e > B·b (raise the fault's error ratio or expect a slower tier)\n",
		},
		{
			name: "tier the SLO does not have",
			src:  strings.Replace(gameDayYAML, "- severity: page", "- {severity: page, window: 2h}", 1),
			o:    goodObjective(),
			want: "gd.yaml:7:5: expect[0]: shortlink-redirect-availability has no page/2h alert tier; its tiers are page/1h (14.4× over 1h and 5m), page/6h (6× over 6h and 30m), ticket/1d (3× over 1d and 2h), ticket/3d (1× over 3d and 6h)\n",
		},
		{
			name: "severity disabled",
			src:  gameDayYAML,
			o:    disabled,
			want: "gd.yaml:7:5: expect[0]: shortlink-redirect-availability has no page alert tier; its tiers are ticket/1d (3× over 1d and 2h), ticket/3d (1× over 3d and 6h)\n",
		},
		{
			name: "unknown error ratio needs deadlines",
			src:  strings.Replace(gameDayYAML, "params: {percent: 50}", "params: {percent: 50}}\nexpectedErrorRatio: 0.5\nx: {", 1),
			o:    goodObjective(),
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ds := Parse("gd.yaml", []byte(tt.src), []Backend{fakeBackend{}})
			if g == nil {
				if tt.want == "" {
					return // the parse itself rejected it, as intended for the malformed case
				}
				t.Fatal(diagText(ds))
			}
			e, _ := fakeBackend{}.ExpectedErrorRatio(g.Fault.Params)
			p, ds := Prepare(g, tt.o, e)
			if p != nil {
				t.Fatalf("want rejection, got a plan")
			}
			if got := diagText(ds); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestPrepareUnknownErrorRatio(t *testing.T) {
	g, ds := Parse("gd.yaml", []byte(gameDayYAML), nil) // no backend: nothing estimated
	if g == nil {
		t.Fatal(diagText(ds))
	}
	_, ds = Prepare(g, goodObjective(), 0)
	want := "gd.yaml: recovery.within: required when the fault's error ratio is unknown: set expectedErrorRatio so slokit can predict the reset time, or set recovery.within\n" +
		"gd.yaml:7:5: expect[0].within: required when the fault's error ratio is unknown: set expectedErrorRatio so slokit can predict the detection time, or set within\n"
	if got := diagText(ds); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRunPass(t *testing.T) {
	w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5, lag: 3 * time.Second}
	p := plan(t, "", w.o)
	r := newRunner(t, p, w)
	var phases []Phase
	r.Progress = func(pr Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != pr.Phase {
			phases = append(phases, pr.Phase)
		}
	}
	res, err := r.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Pass {
		t.Fatalf("outcome %s, reasons %q", res.Outcome, res.Reasons)
	}
	wantPhases := []Phase{PhasePreflight, PhaseInject, PhaseExpect, PhaseRemove, PhaseRecover, PhaseVerdict}
	if !reflect.DeepEqual(phases, wantPhases) {
		t.Errorf("progress phases %v, want %v", phases, wantPhases)
	}
	var spans []Phase
	for _, s := range res.Phases {
		spans = append(spans, s.Phase)
	}
	if !reflect.DeepEqual(spans, wantPhases) {
		t.Errorf("result phases %v, want %v", spans, wantPhases)
	}
	if got := w.Calls(); !reflect.DeepEqual(got, []string{"inject", "remove"}) {
		t.Errorf("injector calls %v", got)
	}
	e := res.Expectations[0]
	// The world fires page/1h at the predicted 104s plus 3s of lag; ActiveAt gives the
	// exact firing time.
	if e.DetectedSeconds == nil || *e.DetectedSeconds != 107 || e.FiredTier != "page/1h" || !e.Met {
		t.Errorf("expectation %+v (detected %v)", e, deref(e.DetectedSeconds))
	}
	if *e.DetectionMinusPredicted != 3 {
		t.Errorf("detection − predicted = %v, want 3", *e.DetectionMinusPredicted)
	}
	// Reset: 291s predicted + 3s lag, observed at the first 1s poll at or after it.
	if e.ResetSeconds == nil || *e.ResetSeconds != 294 || *e.PredictedResetSeconds != 291 {
		t.Errorf("reset %v predicted %v, want 294 and 291", deref(e.ResetSeconds), deref(e.PredictedResetSeconds))
	}
	if !res.Recovery.Met || res.Recovery.RecoveredSeconds == nil {
		t.Errorf("recovery %+v", res.Recovery)
	}
	// The fault ran 107s at a burn of 500 and decayed over 5m: budget ≈ 500·(107+150)/2592000.
	if res.Budget.Spent < 0.045 || res.Budget.Spent > 0.055 {
		t.Errorf("budget spent %.4f, want ≈ 0.05", res.Budget.Spent)
	}
	if entries, _ := r.Journal.List(); len(entries) != 0 {
		t.Errorf("journal not deleted after clean removal: %+v", entries)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestRunFailures(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		setup   func(w *world)
		outcome Outcome
		reason  string
	}{
		{
			name:    "alert never fires",
			setup:   func(w *world) { w.e = 0.001 }, // the fault is far weaker than declared
			outcome: Fail,
			reason:  "page did not fire within 1m54s of the fault (predicted 1m44s)",
		},
		{
			name:    "alert too late",
			src:     strings.Replace(gameDayYAML, "fault: {backend: fake,", "fault: {duration: 3m, backend: fake,", 1),
			setup:   func(w *world) { w.lag = 20 * time.Second },
			outcome: Fail,
			reason:  "page/1h fired after 2m4s, later than the 1m54s allowed",
		},
		{
			name:    "must-not-fire fires",
			src:     strings.Replace(gameDayYAML, "fault: {backend: fake,", "fault: {duration: 30m, backend: fake,", 1) + "guardrails: {maxBudget: 1}\n",
			outcome: Fail,
			reason:  "ticket/1d fired 8m38s after the fault began but must not fire",
		},
		{
			name:    "budget guardrail",
			src:     gameDayYAML + "guardrails: {maxBudget: 0.01}\n",
			outcome: Aborted,
			reason:  "guardrail: the run spent 1.0% of the period's error budget, over guardrails.maxBudget 1.0%",
		},
		{
			name:    "timeout guardrail",
			src:     gameDayYAML + "guardrails: {timeout: 1m}\n",
			outcome: Aborted,
			reason:  "guardrail: the run took 1m1s, over guardrails.timeout 1m0s",
		},
		{
			name:    "steady state burning",
			setup:   func(w *world) { w.baseline = 3 },
			outcome: Aborted,
			reason:  "steady state not met: the 1h burn rate is 1.5, above steadyState.maxBurnRate 1; wait until the SLO is healthy",
		},
		{
			name: "steady state alerting",
			setup: func(w *world) {
				w.preAlerts = []AlertState{{Severity: slo.Ticket, Window: 72 * time.Hour, State: "firing"}}
			},
			outcome: Aborted,
			reason:  "steady state not met: alerts of shortlink-redirect-availability are already active (ticket/3d firing); a run must start from a quiet SLO",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5}
			if tt.setup != nil {
				tt.setup(w)
			}
			r := newRunner(t, plan(t, tt.src, w.o), w)
			res, err := r.Execute(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s (reasons %q)", res.Outcome, tt.outcome, res.Reasons)
			}
			found := false
			for _, rs := range res.Reasons {
				found = found || strings.HasPrefix(rs, tt.reason)
			}
			if !found {
				t.Errorf("reasons %q lack %q", res.Reasons, tt.reason)
			}
			calls := w.Calls()
			if tt.outcome == Aborted && strings.HasPrefix(tt.reason, "steady") {
				if len(calls) != 0 {
					t.Errorf("preflight failure must inject nothing, got %v", calls)
				}
				return
			}
			if !reflect.DeepEqual(calls, []string{"inject", "remove"}) {
				t.Errorf("injector calls %v, want inject then remove", calls)
			}
			if tt.outcome == Aborted && (len(res.Expectations) != 1 || res.Phases[len(res.Phases)-1].Phase != PhaseVerdict) {
				t.Errorf("an aborted run still reports its expectations: %+v, phases %+v", res.Expectations, res.Phases)
			}
			if w.active {
				t.Error("fault still active")
			}
		})
	}
}

// TestRunInterrupted cancels the run mid-fault, as Ctrl-C or SIGTERM do: the fault is
// removed on a context that is not cancelled, and the journal entry goes away.
func TestRunInterrupted(t *testing.T) {
	w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.onPoll = func(since time.Duration) {
		if since >= 30*time.Second {
			cancel()
		}
	}
	r := newRunner(t, plan(t, "", w.o), w)
	res, err := r.Execute(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.Outcome != Interrupted {
		t.Errorf("outcome %s", res.Outcome)
	}
	if got := w.Calls(); !reflect.DeepEqual(got, []string{"inject", "remove"}) {
		t.Errorf("calls %v", got)
	}
	if w.removeCtxErr != nil {
		t.Errorf("Remove got a dead context: %v", w.removeCtxErr)
	}
	if w.active {
		t.Error("fault still active after interruption")
	}
	if entries, _ := r.Journal.List(); len(entries) != 0 {
		t.Errorf("journal left: %+v", entries)
	}
}

func TestRunPanicRemovesFault(t *testing.T) {
	w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5}
	w.onPoll = func(since time.Duration) {
		if since >= 10*time.Second {
			panic("signal source bug")
		}
	}
	r := newRunner(t, plan(t, "", w.o), w)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		_, _ = r.Execute(context.Background())
	}()
	if got := w.Calls(); !reflect.DeepEqual(got, []string{"inject", "remove"}) {
		t.Errorf("calls %v", got)
	}
	if w.active {
		t.Error("fault still active after panic")
	}
}

func TestRunInjectFails(t *testing.T) {
	w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5, injectErr: errors.New("port in use")}
	r := newRunner(t, plan(t, "", w.o), w)
	_, err := r.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "injecting the fake fault: port in use") {
		t.Fatalf("err = %v", err)
	}
	if got := w.Calls(); !reflect.DeepEqual(got, []string{"inject", "remove"}) {
		t.Errorf("a failed inject must still be removed: calls %v", got)
	}
}

// TestRunRemoveFailsKeepsJournal: when removal fails the journal entry stays so that
// cleanup can retry, and Cleanup then removes the fault and the entry.
func TestRunRemoveFailsKeepsJournal(t *testing.T) {
	w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5, removeErr: errors.New("apiserver unreachable")}
	r := newRunner(t, plan(t, "", w.o), w)
	r.Entry = JournalEntry{Params: "percent: 50\n"}
	_, err := r.Execute(context.Background())
	if !errors.Is(err, ErrFaultLeft) {
		t.Fatalf("err = %v, want ErrFaultLeft", err)
	}
	entries, _ := r.Journal.List()
	if len(entries) != 1 || entries[0].RunID != "r1" || entries[0].Backend != "fake" {
		t.Fatalf("journal %+v", entries)
	}
	w.removeErr = nil
	// The entry's PID is this process; Cleanup does not treat its own process as alive.
	out, err := Cleanup(context.Background(), r.Journal, []Backend{fakeBackend{w}}, CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []CleanupResult{{RunID: "r1", GameDay: "redirect-errors", Backend: "fake", Removed: []string{"fake fault of run r1"}}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("cleanup %+v, want %+v", out, want)
	}
	if w.active {
		t.Error("fault still active after cleanup")
	}
	if entries, _ := r.Journal.List(); len(entries) != 0 {
		t.Errorf("journal left after cleanup: %+v", entries)
	}
}

func TestCleanupSkipsLiveRuns(t *testing.T) {
	j := &Journal{Dir: t.TempDir()}
	if err := j.Write(JournalEntry{RunID: "live", Backend: "fake", PID: os.Getppid()}); err != nil {
		t.Fatal(err)
	}
	w := &world{clock: newFakeClock()}
	out, err := Cleanup(context.Background(), j, []Backend{fakeBackend{w}}, CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !strings.Contains(out[0].Skipped, "still running") || len(w.Calls()) != 0 {
		t.Errorf("live run not skipped: %+v, calls %v", out, w.Calls())
	}
	if _, err := os.Stat(filepath.Join(j.Dir, "live.json")); err != nil {
		t.Errorf("live entry removed: %v", err)
	}
}

// startingWorld is an injector that must be started before preflight, like a proxy.
type startingWorld struct{ *world }

func (s startingWorld) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "start")
	return nil
}

// TestRunWaitsForSteadyState starts the backend first, then waits (steadyState.wait)
// while the start-up still burns, and only injects once the SLO is healthy.
func TestRunWaitsForSteadyState(t *testing.T) {
	w := &world{clock: newFakeClock(), o: goodObjective(), e: 0.5, baseline: 5}
	begin := w.clock.Now()
	w.onPoll = nil
	p := plan(t, gameDayYAML+"steadyState: {wait: 1m}\n", w.o)
	r := newRunner(t, p, w)
	r.Injector = startingWorld{w}
	var injectedAfter time.Duration
	r.Progress = func(pr Progress) {
		if w.clock.Now().Sub(begin) >= 20*time.Second {
			w.baseline = 0.2 // healthy from 20s on
		}
		if pr.Event == "fault injected" {
			injectedAfter = pr.Elapsed
		}
	}
	res, err := r.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Pass {
		t.Fatalf("outcome %s: %q", res.Outcome, res.Reasons)
	}
	if got := w.Calls(); !reflect.DeepEqual(got, []string{"start", "inject", "remove"}) {
		t.Errorf("calls %v, want start before inject", got)
	}
	if injectedAfter < 20*time.Second || injectedAfter > 22*time.Second {
		t.Errorf("injected after %s, want as soon as the SLO is healthy (20-21s)", injectedAfter)
	}
	if !res.SteadyState.Met || res.SteadyState.Window != "1h" || *res.SteadyState.BurnRate != 0.1 {
		t.Errorf("steady state %+v", res.SteadyState)
	}
}

// sweepingBackend also sweeps leftovers by run ID, as the Chaos Mesh backend does.
type sweepingBackend struct {
	fakeBackend
	swept *[]string
}

func (b sweepingBackend) Sweep(ctx context.Context, runID string) ([]string, error) {
	*b.swept = append(*b.swept, runID)
	return []string{"networkchaos/slokit-" + runID}, nil
}

func TestCleanupSweeps(t *testing.T) {
	j := &Journal{Dir: t.TempDir()}
	g, ds := Parse("gd.yaml", []byte(gameDayYAML), []Backend{fakeBackend{}})
	if g == nil {
		t.Fatal(diagText(ds))
	}
	e, err := NewJournalEntry(g)
	if err != nil {
		t.Fatal(err)
	}
	e.RunID, e.PID = "dead1", 0
	if err := j.Write(e); err != nil {
		t.Fatal(err)
	}
	// The params survive the journal: the re-created injector gets the same node.
	entries, _ := j.List()
	n, err := entries[0].ParamsNode()
	if err != nil {
		t.Fatal(err)
	}
	fp, pds := (fakeBackend{}).Parse("", n)
	if ratio, ok := (fakeBackend{}).ExpectedErrorRatio(fp); len(pds) != 0 || !ok || ratio != 0.5 {
		t.Errorf("params after the journal: %v %v", ratio, ok)
	}
	w := &world{clock: newFakeClock(), active: true}
	var swept []string
	b := sweepingBackend{fakeBackend{w}, &swept}
	out, err := Cleanup(context.Background(), j, []Backend{b}, CleanupOptions{Sweep: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []CleanupResult{
		{RunID: "dead1", GameDay: "redirect-errors", Backend: "fake", Removed: []string{"fake fault of run dead1", "networkchaos/slokit-dead1"}},
		{RunID: "", Backend: "fake", Removed: []string{"networkchaos/slokit-"}},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("cleanup\n got %+v\nwant %+v", out, want)
	}
	if !reflect.DeepEqual(swept, []string{"dead1", ""}) || w.active {
		t.Errorf("swept %q, fault active %v", swept, w.active)
	}
}
