package chaos

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// Clock is the runner's source of time; tests substitute simulated time.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or returns ctx.Err() when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Progress is what the runner reports after every poll.
type Progress struct {
	Phase   Phase
	Elapsed time.Duration
	// Burn is the latest burn rate per window; nil on an event.
	Burn map[time.Duration]float64
	// Alerts are the active alerts of the SLO.
	Alerts []AlertState
	// Spent is the budget fraction spent so far.
	Spent float64
	// Event is a one-line note on a transition ("fault injected", "page/1h firing"), or "".
	Event string
}

// Runner executes one Plan. Its zero optional fields have documented defaults.
type Runner struct {
	Plan     *Plan
	Injector Injector
	Signals  Signals
	Run      Run
	// Journal, when set, records the run before injection so that `slokit chaos cleanup`
	// can remove the fault after a crash; the entry is deleted after a clean removal.
	// It also holds the lock that keeps a second run off the same SLO.
	Journal *Journal
	// Entry is the journal entry to write; RunID and StartedAt are filled in.
	Entry JournalEntry
	// Progress is called after every poll and on every transition; nil ignores progress.
	Progress func(Progress)
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// Clock defaults to RealClock.
	Clock Clock
	// RemoveTimeout bounds the removal of the fault, which runs on a fresh context so
	// that it also happens after Ctrl-C; 0 means 30s.
	RemoveTimeout time.Duration
	// SignalTimeout bounds one read of the signals; 0 means 10s.
	SignalTimeout time.Duration
	// SignalLoss ends the run, removing the fault, when no read of the signals succeeded
	// for this long: a fault must not stay in while nobody watches the SLO. 0 means
	// DefaultSignalLoss.
	SignalLoss time.Duration
}

// DefaultSignalLoss is how long a run goes without an answer from its signals before it
// removes the fault and ends.
const DefaultSignalLoss = 30 * time.Second

// ErrFaultLeft reports that the fault could not be removed; the journal entry is kept
// so that `slokit chaos cleanup` can retry.
var ErrFaultLeft = errors.New("the fault may still be in place")

type runState struct {
	r          *Runner
	res        *Result
	start      time.Time
	tracks     map[string]*AlertTrack
	order      []string
	lastPoll   time.Time
	lastOK     time.Time
	phase      Phase
	failures   int
	lastErr    string
	injected   bool
	removed    bool
	began      time.Time
	ended      time.Time
	interrupt  context.Context    // the caller's context: cancelled means interrupted
	preexisted map[string]bool    // tracks active when the fault was injected
	foreign    map[string]bool    // alert names ignored, logged once
	mit        *mitigationTracker // nil without a mitigation step
	shortBurn  []timedBurn        // the shortest window's burn rate at every poll
}

// timedBurn is one burn rate read at T.
type timedBurn struct {
	T time.Time
	V float64
}

// stopped ends a run early for Cause; Reason says why in a sentence.
type stopped struct {
	cause  Cause
	reason string
}

func (e *stopped) Error() string { return e.reason }

var errTimeout = errors.New("run timeout")

// Execute runs the phases preflight → inject → expect → remove → recover → verdict.
// The fault is removed on every path once injected: success, failed checks, guardrail
// aborts, lost signals, a lost lease, the run's timeout, cancellation of ctx (on a fresh
// context) and panics. The Result is non-nil; err is non-nil when the run could not be
// judged (signals unreachable, injection or removal failed) or ctx was cancelled.
func (r *Runner) Execute(ctx context.Context) (res *Result, err error) {
	r.defaults()
	s := newRunState(r, ctx)
	res = s.res
	if s.mit, err = newMitigationTracker(r.Plan, r.Signals); err != nil {
		s.res.Outcome = Error
		return res, err
	}
	if r.Journal != nil {
		unlock, err := r.Journal.Lock(r.Plan.Objective, r.Run.ID)
		if err != nil {
			s.res.Outcome, s.res.Cause = Error, CauseLocked
			s.res.Reasons = append(s.res.Reasons, err.Error())
			return res, err
		}
		defer unlock()
	}
	runCtx, cancel := s.contexts(ctx)
	defer cancel()
	defer func() {
		// Runs on panics too: a fault must never outlive its run.
		if s.injected && !s.removed {
			if rerr := s.remove(runCtx); rerr != nil && err == nil {
				err = rerr
			}
		}
		s.res.EndedAt = r.Clock.Now()
		s.finishPhase()
		s.res.Alerts = s.sortedTracks()
	}()
	return res, s.end(runCtx, s.phases(runCtx))
}

func (r *Runner) defaults() {
	if r.Clock == nil {
		r.Clock = RealClock{}
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	r.RemoveTimeout = cmp.Or(r.RemoveTimeout, 30*time.Second)
	r.SignalTimeout = cmp.Or(r.SignalTimeout, 10*time.Second)
	r.SignalLoss = cmp.Or(r.SignalLoss, DefaultSignalLoss)
}

func newRunState(r *Runner, ctx context.Context) *runState {
	p := r.Plan
	o := p.Objective
	s := &runState{r: r, tracks: map[string]*AlertTrack{}, start: r.Clock.Now(), interrupt: ctx, preexisted: map[string]bool{}, foreign: map[string]bool{}}
	s.lastOK = s.start
	s.res = &Result{
		RunID: r.Run.ID, GameDay: p.GameDay.Name, Description: p.GameDay.Description,
		Service: o.Service, SLO: o.Name, Objective: o.Target, PeriodSeconds: o.Period.Seconds(),
		Backend: p.GameDay.Fault.Backend, ErrorRatio: p.ErrorRatio, ErrorRatioSource: p.ErrorRatioSource,
		StartedAt: s.start, TimeoutSeconds: p.Timeout.Seconds(),
		Budget: BudgetResult{Max: p.MaxBudget},
		Recovery: RecoveryResult{Window: slo.FormatWindow(p.Recovery.Window), BurnRateBelow: p.Recovery.BurnRateBelow,
			WithinSeconds: p.Recovery.Within.Seconds(), WithinPredicted: p.Recovery.WithinPredicted},
	}
	for _, w := range o.Windows() {
		s.res.Tiers = append(s.res.Tiers, TierInfo{Name: w.Name(), BurnRate: w.BurnRate,
			Long: slo.FormatWindow(w.Long), Short: slo.FormatWindow(w.Short), Disabled: !o.Enabled(w.Severity)})
	}
	return s
}

// contexts derives the run's context: it ends at the run's timeout (every phase honours
// it, also a call that blocks) and when the injector loses its fault's lease.
func (s *runState) contexts(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancelCause := context.WithCancelCause(ctx)
	cancelT := context.CancelFunc(func() {})
	if _, real := s.r.Clock.(RealClock); real {
		ctx, cancelT = context.WithTimeoutCause(ctx, s.r.Plan.Timeout, errTimeout)
	}
	if lh, ok := s.r.Injector.(LeaseHolder); ok {
		go func() {
			select {
			case err := <-lh.Lost():
				cancelCause(&stopped{CauseLeaseLost, "the fault's lease was lost: " + err.Error()})
			case <-ctx.Done():
			}
		}()
	}
	return ctx, func() { cancelT(); cancelCause(nil) }
}

// phases runs the phases in order; a non-nil error ends the run (see end).
func (s *runState) phases(ctx context.Context) error {
	if err := s.preflight(ctx); err != nil {
		return err
	}
	if err := s.inject(ctx); err != nil {
		return err
	}
	if err := s.expect(ctx); err != nil {
		return err
	}
	s.enter(PhaseRemove)
	if err := s.remove(ctx); err != nil {
		return err
	}
	if err := s.recover(ctx); err != nil {
		return err
	}
	s.enter(PhaseVerdict)
	s.verdict()
	return nil
}

// end finishes a run that err ended early: the fault is removed at once, the outcome
// and the reason recorded, and the expectations judged as measured so far. It returns
// the error Execute returns: nil for an abort, ctx's error for an interruption.
func (s *runState) end(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var st *stopped
	if !errors.As(err, &st) {
		if s.res.Outcome == "" {
			s.res.Outcome = Error
			s.reason("%v", err)
		}
		return err
	}
	s.res.Cause = st.cause
	s.reason("%s", st.reason)
	s.res.Outcome = Aborted
	if st.cause == CauseInterrupted {
		s.res.Outcome = Interrupted
	}
	var rerr error
	if s.injected && !s.removed {
		s.enter(PhaseRemove)
		rerr = s.remove(ctx)
	}
	if s.injected {
		s.enter(PhaseVerdict)
		s.verdict()
	}
	if st.cause == CauseInterrupted {
		return errors.Join(s.interrupt.Err(), rerr)
	}
	return rerr
}

// cause explains why ctx ended.
func (s *runState) cause(ctx context.Context) error {
	if s.interrupt.Err() != nil {
		return &stopped{CauseInterrupted, "interrupted"}
	}
	c := context.Cause(ctx)
	var st *stopped
	switch {
	case errors.As(c, &st):
		return st
	case errors.Is(c, errTimeout):
		return &stopped{CauseTimeout, fmt.Sprintf("guardrail: the run took %s, over guardrails.timeout %s", fmtDur(s.r.Clock.Now().Sub(s.start)), fmtDur(s.r.Plan.Timeout))}
	}
	return &stopped{CauseInterrupted, "interrupted"}
}

// preflight starts the backend, checks the signals answer, then polls until the steady
// state holds or steadyState.wait passes.
func (s *runState) preflight(ctx context.Context) error {
	r, p := s.r, s.r.Plan
	s.enter(PhasePreflight)
	if pg, ok := r.Signals.(Pinger); ok {
		cctx, cancel := context.WithTimeout(ctx, r.SignalTimeout)
		err := pg.Ping(cctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return s.cause(ctx)
			}
			return fmt.Errorf("nothing was injected: %w", err)
		}
	}
	if br, ok := r.Signals.(BudgetReader); ok {
		if v, err := br.BudgetRemaining(ctx, p.Objective); err == nil {
			s.res.Budget.RemainingBefore = ptrF(v)
		} else {
			r.Log.Debug("budget remaining unavailable", "err", err)
		}
	}
	if st, ok := r.Injector.(Starter); ok {
		if err := st.Start(ctx); err != nil {
			return fmt.Errorf("starting the %s backend (no fault applied yet): %w", p.GameDay.Fault.Backend, err)
		}
	}
	for first := true; ; first = false {
		burn, active, err := s.tick(ctx, !first)
		if isStop(err) {
			return err
		}
		if err == nil {
			var reasons []string
			s.res.SteadyState, reasons = s.steadyState(ctx, burn, active)
			if s.res.SteadyState.Met {
				return nil
			}
			if r.Clock.Now().Sub(s.start) >= p.SteadyState.Wait {
				return &stopped{CauseSteadyState, strings.Join(reasons, "; ")}
			}
		}
	}
}

func isStop(err error) bool {
	var st *stopped
	return errors.As(err, &st)
}

// inject writes the journal entry, then applies the fault.
func (s *runState) inject(ctx context.Context) error {
	r, p := s.r, s.r.Plan
	s.enter(PhaseInject)
	if r.Journal != nil {
		e := r.Entry
		e.RunID, e.GameDay, e.StartedAt = r.Run.ID, r.Run.GameDay, s.start
		if e.Backend == "" {
			e.Backend = p.GameDay.Fault.Backend
		}
		if err := r.Journal.Write(e); err != nil {
			return fmt.Errorf("writing the run journal before injection (nothing was injected): %w", err)
		}
	}
	for key, t := range s.tracks {
		s.preexisted[key] = t.Active
	}
	s.injected = true // Remove is safe after a failed or partial Inject.
	if err := r.Injector.Inject(ctx); err != nil {
		if ctx.Err() != nil {
			return s.cause(ctx)
		}
		return fmt.Errorf("injecting the %s fault: %w", p.GameDay.Fault.Backend, err)
	}
	s.began = r.Clock.Now()
	s.note("fault injected")
	return nil
}

// expect holds the fault for fault.duration, or until every expectation fired or
// missed its deadline, polling the signals and the guardrails.
func (s *runState) expect(ctx context.Context) error {
	r, p := s.r, s.r.Plan
	s.enter(PhaseExpect)
	for {
		if _, _, err := s.tick(ctx, true); isStop(err) {
			return err
		}
		if err := s.guardrails(); err != nil {
			return err
		}
		held := r.Clock.Now().Sub(s.began)
		if p.Hold > 0 && held >= p.Hold || p.Hold == 0 && s.expectationsSettled(held) && s.mit.faultSettled(r.Clock.Now(), s.began) {
			return nil
		}
	}
}

// recover polls until the recovery window's burn rate is under the bound with no alert
// firing, or recovery.within passes.
func (s *runState) recover(ctx context.Context) error {
	r, p := s.r, s.r.Plan
	s.enter(PhaseRecover)
	for {
		burn, active, err := s.tick(ctx, true)
		if isStop(err) {
			return err
		}
		since := r.Clock.Now().Sub(s.ended)
		if err == nil {
			v, ok := burn[p.Recovery.Window]
			if ok && v < p.Recovery.BurnRateBelow && !anyFiring(active) && s.res.Recovery.RecoveredSeconds == nil {
				s.res.Recovery.RecoveredSeconds = secs(since)
				s.res.Recovery.Met = since <= p.Recovery.Within
				s.note("recovered")
			}
		}
		if (s.res.Recovery.RecoveredSeconds != nil || since > p.Recovery.Within) && s.mit.releaseSettled(r.Clock.Now(), s.ended) {
			return nil
		}
		if err := s.guardrails(); err != nil {
			return err
		}
	}
}

func anyFiring(active []AlertState) bool {
	for _, a := range active {
		if a.State == "firing" {
			return true
		}
	}
	return false
}

// tick is the one poll step of every phase: it sleeps one poll interval (when sleep is
// set) and reads the signals. It returns a *stopped when the run must end (interrupted,
// timed out, lease lost, signals lost for SignalLoss) and the read's error otherwise.
func (s *runState) tick(ctx context.Context, sleep bool) (map[time.Duration]float64, []AlertState, error) {
	r := s.r
	if sleep {
		if err := r.Clock.Sleep(ctx, r.Plan.PollInterval); err != nil {
			return nil, nil, s.cause(ctx)
		}
	}
	burn, active, err := s.poll(ctx)
	if err == nil {
		return burn, active, nil
	}
	if ctx.Err() != nil {
		return nil, nil, s.cause(ctx)
	}
	if gap := r.Clock.Now().Sub(s.lastOK); gap >= r.SignalLoss {
		what := "nothing was injected"
		if s.injected {
			what = "the fault was removed"
		}
		return nil, nil, &stopped{CauseSignalLoss, fmt.Sprintf("signals lost: no answer from %s for %s (%d failed reads, last: %v); %s and the run ended: a fault must not stay in while nobody watches the SLO",
			r.Signals, fmtDur(gap), s.failures, err, what)}
	}
	return nil, nil, err
}

func (s *runState) enter(p Phase) {
	s.finishPhase()
	now := s.r.Clock.Now()
	s.phase = p
	s.res.Phases = append(s.res.Phases, PhaseSpan{Phase: p, Start: now, End: now})
	s.r.Log.Info("phase", "phase", p, "run", s.r.Run.ID)
	s.progress(nil, nil, "phase "+string(p))
}

func (s *runState) finishPhase() {
	if n := len(s.res.Phases); n > 0 {
		s.res.Phases[n-1].End = s.r.Clock.Now()
	}
}

func (s *runState) reason(format string, args ...any) {
	s.res.Reasons = append(s.res.Reasons, fmt.Sprintf(format, args...))
}

func (s *runState) note(event string) { s.progress(nil, nil, event) }

func (s *runState) progress(burn map[time.Duration]float64, active []AlertState, event string) {
	if s.r.Progress == nil {
		return
	}
	s.r.Progress(Progress{Phase: s.phase, Elapsed: s.r.Clock.Now().Sub(s.start), Burn: burn,
		Alerts: active, Spent: s.res.Budget.Spent, Event: event})
}

// poll reads the signals once, records a sample, follows alert transitions and
// integrates the budget spent. A read is bounded by SignalTimeout and by what is left of
// SignalLoss, so a frozen Prometheus cannot hold the run past it.
func (s *runState) poll(ctx context.Context) (map[time.Duration]float64, []AlertState, error) {
	r := s.r
	o := r.Plan.Objective
	left := r.SignalLoss - r.Clock.Now().Sub(s.lastOK)
	cctx, cancel := context.WithTimeout(ctx, max(100*time.Millisecond, min(r.SignalTimeout, left)))
	defer cancel()
	burn, err := r.Signals.BurnRates(cctx, o)
	var active []AlertState
	if err == nil {
		active, err = r.Signals.Alerts(cctx, o)
		active = s.ours(active)
	}
	now := r.Clock.Now()
	if err != nil {
		s.failed(err)
		return nil, nil, err
	}
	if s.failures > 0 {
		r.Log.Info("signals answer again", "after", fmtDur(now.Sub(s.lastOK)), "failed reads", s.failures)
	}
	s.failures, s.lastErr, s.lastOK = 0, "", now
	for w, v := range burn {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(burn, w) // no traffic: no ratio; and JSON cannot carry NaN
		}
	}
	if v, ok := burn[r.Plan.ShortestWindow]; ok {
		if !s.lastPoll.IsZero() {
			s.res.Budget.Spent += v * now.Sub(s.lastPoll).Seconds() / o.Period.Seconds()
		}
		s.shortBurn = append(s.shortBurn, timedBurn{now, v})
	}
	s.lastPoll = now
	for _, e := range s.mit.observe(cctx, now, s.began, s.ended, burn) {
		s.event(burn, active, e)
	}
	sample := Sample{T: now, Phase: s.phase, Burn: burnByLabel(burn)}
	seen := map[string]bool{}
	for _, a := range active {
		key := tierName(a.Severity, a.Window)
		sample.Alerts = append(sample.Alerts, key+"="+a.State)
		seen[key] = true
		s.track(key, a, now, burn, active)
	}
	sort.Strings(sample.Alerts)
	for _, key := range s.order {
		t := s.tracks[key]
		if t.Active && !seen[key] {
			t.Active, t.Firing = false, false
			t.ResolvedAt = ptrTime(now)
			s.preexisted[key] = false
			s.event(burn, active, key+" resolved")
		}
	}
	s.res.Samples = append(s.res.Samples, sample)
	s.progress(burn, active, "")
	return burn, active, nil
}

// ours keeps the alerts named as o's rules name them (slo.Objective.AlertName); an alert with
// the SLO's labels but another name is not the alert under test.
func (s *runState) ours(active []AlertState) []AlertState {
	want := s.r.Plan.Objective.AlertName()
	out := active[:0]
	for _, a := range active {
		if a.Name != "" && a.Name != want {
			if !s.foreign[a.Name] {
				s.foreign[a.Name] = true
				s.r.Log.Warn("ignoring an alert that carries this SLO's labels but not its alert name", "alertname", a.Name, "want", want)
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// failed counts a failed read; the same error repeated is logged once.
func (s *runState) failed(err error) {
	s.failures++
	s.res.PollErrors++
	if msg := err.Error(); msg != s.lastErr {
		s.lastErr = msg
		s.r.Log.Warn("reading signals", "err", err, "failed reads", s.failures)
	}
}

// track follows one active alert's transitions.
func (s *runState) track(key string, a AlertState, now time.Time, burn map[time.Duration]float64, active []AlertState) {
	t := s.tracks[key]
	if t == nil {
		t = &AlertTrack{Name: a.Name, Severity: a.Severity, Window: slo.FormatWindow(a.Window), long: a.Window}
		s.tracks[key] = t
		s.order = append(s.order, key)
	}
	if !t.Active {
		t.Active = true
		t.ResolvedAt = nil
		if t.FiringAt != nil && !s.began.IsZero() && t.FiringAt.Before(s.began) {
			t.FiringAt = nil // it fired before the fault; this is a new activation
		}
		at := now
		if !a.ActiveAt.IsZero() && a.ActiveAt.Before(now) && (s.began.IsZero() || !a.ActiveAt.Before(s.began)) {
			at = a.ActiveAt
		}
		t.PendingAt = ptrTime(at)
		if a.State == "pending" {
			s.event(burn, active, key+" pending")
		}
	}
	if a.State == "firing" && !t.Firing {
		t.Firing = true
		at := now
		// An alert without `for:` fires at the evaluation that made it active; when
		// it was never seen pending, ActiveAt is a closer firing time than the poll.
		if t.PendingAt != nil && t.PendingAt.Before(now) && !s.sawPending(key) {
			at = *t.PendingAt
		}
		if t.FiringAt == nil {
			t.FiringAt = ptrTime(at)
		}
		s.event(burn, active, key+" firing")
	}
}

func (s *runState) sawPending(key string) bool {
	for _, smp := range s.res.Samples {
		for _, a := range smp.Alerts {
			if a == key+"=pending" {
				return true
			}
		}
	}
	return false
}

func (s *runState) event(burn map[time.Duration]float64, active []AlertState, e string) {
	s.r.Log.Info("alert", "transition", e)
	s.progress(burn, active, e)
}

// firedFor returns the first track matching sel that fired after the fault began; an
// alert already active when the fault was injected does not count until it resolved
// and fired again.
func (s *runState) firedFor(sel AlertSelector) *AlertTrack {
	var best *AlertTrack
	for _, key := range s.order {
		t := s.tracks[key]
		if t.FiringAt == nil || s.preexisted[key] || !sel.matches(t.Severity, t.long) {
			continue
		}
		if best == nil || t.FiringAt.Before(*best.FiringAt) {
			best = t
		}
	}
	return best
}

func (s *runState) expectationsSettled(held time.Duration) bool {
	for _, e := range s.r.Plan.Expect {
		if s.firedFor(e.Selector) == nil && held <= e.Within {
			return false
		}
	}
	return true
}

// guardrails stops the run when the budget or the timeout is exceeded.
func (s *runState) guardrails() error {
	p := s.r.Plan
	if s.res.Budget.Spent > p.MaxBudget {
		return &stopped{CauseBudget, fmt.Sprintf("guardrail: the run spent %.1f%% of the period's error budget, over guardrails.maxBudget %.1f%%", 100*s.res.Budget.Spent, 100*p.MaxBudget)}
	}
	if el := s.r.Clock.Now().Sub(s.start); el > p.Timeout {
		return &stopped{CauseTimeout, fmt.Sprintf("guardrail: the run took %s, over guardrails.timeout %s", fmtDur(el), fmtDur(p.Timeout))}
	}
	return nil
}

// remove takes the fault away on a fresh context, so that it also runs after ctx was
// cancelled, and deletes the journal entry once removal succeeded.
func (s *runState) remove(ctx context.Context) error {
	r := s.r
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.RemoveTimeout)
	defer cancel()
	err := r.Injector.Remove(rctx)
	s.ended = r.Clock.Now()
	if s.began.IsZero() {
		s.began = s.ended
	}
	if err != nil {
		s.reason("removing the fault failed: %v; run `slokit chaos cleanup` to retry", err)
		return fmt.Errorf("%w: removing it failed: %v (the journal entry for run %s is kept; run `slokit chaos cleanup`)", ErrFaultLeft, err, r.Run.ID)
	}
	s.removed = true
	s.res.FaultBegan, s.res.FaultEnded, s.res.FaultTimesFrom = ptrTime(s.began), ptrTime(s.ended), "runner"
	if ft, ok := r.Injector.(FaultTimer); ok {
		if b, e, err := ft.FaultTimes(rctx); err == nil && !b.IsZero() {
			s.began, s.res.FaultBegan, s.res.FaultTimesFrom = b, ptrTime(b), "backend"
			if !e.IsZero() {
				s.ended, s.res.FaultEnded = e, ptrTime(e)
			}
		} else if err != nil {
			r.Log.Warn("backend fault times unavailable; measuring from injection and removal", "err", err)
		}
	}
	if fc, ok := r.Injector.(FaultCounter); ok {
		if st, ok := fc.FaultStats(); ok {
			s.res.Fault = &FaultResult{FaultStats: st}
		}
	}
	s.note("fault removed")
	if r.Journal != nil {
		if err := r.Journal.Delete(r.Run.ID); err != nil {
			r.Log.Warn("deleting the run journal", "err", err)
		}
	}
	return nil
}

// verdict judges the run from what was measured. An aborted or interrupted run keeps
// its outcome: its expectations are reported as measured so far.
func (s *runState) verdict() {
	p := s.r.Plan
	pass := true
	for _, e := range p.Expect {
		er := s.judgeExpectation(e)
		pass = pass && er.Met
		s.res.Expectations = append(s.res.Expectations, er)
	}
	for _, m := range p.MustNotFire {
		fr := ForbiddenResult{Alert: m.String()}
		if t := s.firedFor(m); t != nil {
			fr.Fired, fr.FiredTier = true, t.Tier()
			pass = false
			s.reason("%s fired %s after the fault began but must not fire", t.Tier(), fmtDur(t.FiringAt.Sub(s.began)))
		}
		s.res.MustNotFire = append(s.res.MustNotFire, fr)
	}
	done := s.res.Outcome == ""
	if done && !s.res.Recovery.Met {
		pass = false
		if s.res.Recovery.RecoveredSeconds == nil {
			s.reason("did not recover within %s of the fault's end: the %s burn rate stayed at or above %g or an alert kept firing",
				fmtDur(p.Recovery.Within), slo.FormatWindow(p.Recovery.Window), p.Recovery.BurnRateBelow)
		}
	}
	if !s.checkFaultPath() {
		pass = false
	}
	if br, ok := s.r.Signals.(BudgetReader); ok && s.res.Cause != CauseSignalLoss {
		wait := s.r.SignalTimeout
		if !done {
			wait = min(wait, 2*time.Second) // an ended run reports what it can, quickly
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		if v, err := br.BudgetRemaining(ctx, p.Objective); err == nil {
			s.res.Budget.RemainingAfter = ptrF(v)
		}
		cancel()
	}
	if s.mit != nil {
		pass = s.judgeMitigation() && pass
	}
	switch {
	case !done:
	case pass:
		s.res.Outcome = Pass
	default:
		s.res.Outcome = Fail
	}
}

func (s *runState) judgeExpectation(e PlannedExpectation) ExpectationResult {
	p := s.r.Plan
	er := ExpectationResult{Alert: e.Selector.String(), WithinSeconds: e.Within.Seconds(), WithinPredicted: e.WithinPredicted}
	for _, w := range e.Tiers {
		er.Tiers = append(er.Tiers, w.Name())
	}
	if e.Predicted > 0 {
		er.PredictedSeconds = secs(e.Predicted)
		er.PredictedResetSeconds = secs(e.PredictedReset)
	}
	t := s.firedFor(e.Selector)
	if t == nil {
		if s.res.Outcome == "" {
			s.reason("%s did not fire within %s of the fault (predicted %s)%s", e.Selector, fmtDur(e.Within), predictedText(e.Predicted), s.alreadyActive(e.Selector))
		}
		return er
	}
	det := t.FiringAt.Sub(s.began)
	er.DetectedSeconds, er.FiredTier = secs(det), t.Tier()
	er.Met = det <= e.Within
	if e.Predicted > 0 {
		er.DetectionMinusPredicted = ptrF(det.Seconds() - e.Predicted.Seconds())
		// Predict the reset of the tier that actually fired.
		for _, w := range e.Tiers {
			if w.Name() == t.Tier() {
				er.PredictedResetSeconds = secs(reset(p.Objective, w, p.ErrorRatio))
			}
		}
	}
	if t.ResolvedAt != nil && !t.ResolvedAt.Before(s.ended) {
		er.ResetSeconds = secs(t.ResolvedAt.Sub(s.ended))
	}
	if !er.Met {
		s.reason("%s fired after %s, later than the %s allowed", t.Tier(), fmtDur(det), fmtDur(e.Within))
	}
	return er
}

// alreadyActive explains an expectation met only by an alert that was active before
// the fault.
func (s *runState) alreadyActive(sel AlertSelector) string {
	for key, pre := range s.preexisted {
		if t := s.tracks[key]; pre && sel.matches(t.Severity, t.long) {
			return fmt.Sprintf("; %s was already active when the fault was injected, so it proves nothing about this fault", key)
		}
	}
	return ""
}

// checkFaultPath compares what the fault did, as its backend counted it, with what the
// SLI saw: a fault that failed requests the SLI never measured is not on the SLI's
// traffic path, and the run proves nothing about the alerting. It reports false when
// the run must fail for it.
func (s *runState) checkFaultPath() bool {
	f := s.res.Fault
	if f == nil || !s.removed {
		return true
	}
	short := s.r.Plan.ShortestWindow
	for _, b := range s.shortBurn {
		if !b.T.Before(s.began) && !b.T.After(s.ended.Add(short)) {
			f.PeakBurnRate = max(f.PeakBurnRate, b.V)
		}
	}
	if s.ended.Sub(s.began) < short+2*s.r.Plan.PollInterval {
		return true // too short a fault for the SLI's shortest window to show it
	}
	b := s.r.Plan.Objective.ErrorBudget()
	switch {
	case f.Matched == 0:
		f.NotOnPath = true
		s.res.Cause = cmp.Or(s.res.Cause, CauseNotOnPath)
		s.reason("the fault matched no request while it was in place: no traffic went through the fault (is the load sent to the proxy? does match select the SLI's requests?)")
		return false
	case f.Errors == 0:
		return true // delays: what the SLI makes of them depends on its threshold
	}
	if want := float64(f.Errors) / float64(f.Matched) / b; f.PeakBurnRate < max(1, want/10) {
		f.NotOnPath = true
		s.res.Cause = cmp.Or(s.res.Cause, CauseNotOnPath)
		s.reason("fault not on the SLI's traffic path: the fault failed %d of %d requests (a %.3g× burn on them), but the SLI's %s burn rate peaked at %.3g; the SLI is measured where the fault does not reach (behind the proxy, or on other traffic)",
			f.Errors, f.Matched, want, slo.FormatWindow(short), f.PeakBurnRate)
		return false
	}
	return true
}

func predictedText(d time.Duration) string {
	if d == 0 {
		return "unknown"
	}
	return fmtDur(d)
}

func (s *runState) sortedTracks() []AlertTrack {
	out := make([]AlertTrack, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, *s.tracks[k])
	}
	return out
}

// steadyState checks the preflight conditions on one poll's signals, and that the
// signals hold as much history as the windows the predictions rely on.
func (s *runState) steadyState(ctx context.Context, burn map[time.Duration]float64, active []AlertState) (SteadyStateResult, []string) {
	p := s.r.Plan
	o := p.Objective
	window := slo.FormatWindow(p.SteadyState.Window)
	ss := SteadyStateResult{Window: window, MaxBurnRate: p.SteadyState.MaxBurnRate, NoAlerts: p.SteadyState.NoAlerts, Met: true}
	var reasons []string
	if v, ok := burn[p.SteadyState.Window]; ok {
		ss.BurnRate = ptrF(v)
		if v > p.SteadyState.MaxBurnRate {
			ss.Met = false
			reasons = append(reasons, fmt.Sprintf("steady state not met: the %s burn rate is %.3g, above steadyState.maxBurnRate %g; wait until the SLO is healthy", window, v, p.SteadyState.MaxBurnRate))
		}
	} else {
		ss.Met = false
		reasons = append(reasons, fmt.Sprintf("steady state unknown: no %s{%s=%q,%s=%q,%s=%q} series; are slokit's rules loaded and is the service scraped and receiving traffic?",
			slo.MetricBurnRate, slo.LabelService, o.Service, slo.LabelSLO, o.Name, slo.LabelWindow, window))
	}
	if p.SteadyState.NoAlerts && len(active) > 0 {
		ss.Met = false
		var names []string
		for _, a := range active {
			names = append(names, tierName(a.Severity, a.Window)+" "+a.State)
		}
		reasons = append(reasons, fmt.Sprintf("steady state not met: alerts of %s are already active (%s); a run must start from a quiet SLO", o.ID(), strings.Join(names, ", ")))
	}
	if hr, ok := s.r.Signals.(HistoryReader); ok && p.HistoryNeeded > 0 {
		covered, err := hr.HistoryCovers(ctx, o, p.HistoryNeeded)
		ss.HistoryNeeded = slo.FormatWindow(p.HistoryNeeded)
		ss.HistoryShort = err == nil && !covered
		if ss.HistoryShort {
			ss.Met = false
			reasons = append(reasons, fmt.Sprintf("history too short: %s holds less than %s of %s's SLI, the long window the predicted detection relies on; a fault now would fire the alert early and the measurement would mean nothing (give steadyState.wait time to fill it)",
				s.r.Signals, slo.FormatWindow(p.HistoryNeeded), o.ID()))
		}
	}
	return ss, reasons
}
