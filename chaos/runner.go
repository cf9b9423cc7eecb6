package chaos

import (
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
	Burn    map[string]float64
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
	// MaxPollErrors is how many consecutive failed polls abort the run; 0 means 30.
	MaxPollErrors int
}

// ErrFaultLeft reports that the fault could not be removed; the journal entry is kept
// so that `slokit chaos cleanup` can retry.
var ErrFaultLeft = errors.New("the fault may still be in place")

type runState struct {
	r        *Runner
	res      *Result
	start    time.Time
	tracks   map[string]*AlertTrack
	order    []string
	lastPoll time.Time
	phase    Phase
	failures int
	injected bool
	removed  bool
	began    time.Time
	ended    time.Time
	mit      *mitigationTracker // nil without a mitigation step
}

// Execute runs the phases preflight → inject → expect → remove → recover → verdict.
// The fault is removed on every path once injected: success, failed checks, guardrail
// aborts, cancellation of ctx (on a fresh context) and panics. The Result is non-nil
// whenever preflight started; err is non-nil when the run could not be judged (signals
// unreachable, injection or removal failed) or ctx was cancelled.
func (r *Runner) Execute(ctx context.Context) (res *Result, err error) {
	if r.Clock == nil {
		r.Clock = RealClock{}
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	p := r.Plan
	o := p.Objective
	s := &runState{r: r, tracks: map[string]*AlertTrack{}, start: r.Clock.Now()}
	s.res = &Result{
		RunID: r.Run.ID, GameDay: p.GameDay.Name, Description: p.GameDay.Description,
		Service: o.Service, SLO: o.Name, Objective: o.Target, PeriodSeconds: o.Period.Seconds(),
		Backend: p.GameDay.Fault.Backend, ErrorRatio: p.ErrorRatio, ErrorRatioSource: p.ErrorRatioSource,
		StartedAt: s.start,
		Budget:    BudgetResult{Max: p.MaxBudget},
		Recovery: RecoveryResult{Window: p.Recovery.Window, BurnRateBelow: p.Recovery.BurnRateBelow,
			WithinSeconds: p.Recovery.Within.Seconds(), WithinPredicted: p.Recovery.WithinPredicted},
	}
	res = s.res
	if s.mit, err = newMitigationTracker(p, r.Signals); err != nil {
		return res, err
	}
	for _, w := range o.Windows() {
		s.res.Tiers = append(s.res.Tiers, TierInfo{Name: w.Name(), BurnRate: w.BurnRate,
			Long: slo.FormatWindow(w.Long), Short: slo.FormatWindow(w.Short), Disabled: !o.Enabled(w.Severity)})
	}
	defer func() {
		// Runs on panics too: a fault must never outlive its run.
		if s.injected && !s.removed {
			if rerr := s.remove(ctx); rerr != nil && err == nil {
				err = rerr
			}
		}
		s.res.EndedAt = r.Clock.Now()
		s.finishPhase()
		s.res.Alerts = s.sortedTracks()
	}()

	// preflight
	s.enter(PhasePreflight)
	if br, ok := r.Signals.(BudgetReader); ok {
		if v, err := br.BudgetRemaining(ctx, o); err == nil {
			s.res.Budget.RemainingBefore = ptrF(v)
		} else {
			r.Log.Warn("budget remaining unavailable", "err", err)
		}
	}
	if st, ok := r.Injector.(Starter); ok {
		if err := st.Start(ctx); err != nil {
			return res, fmt.Errorf("starting the %s backend (no fault applied yet): %w", p.GameDay.Fault.Backend, err)
		}
	}
	for {
		burn, active, err := s.poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				s.res.Outcome = Interrupted
				return res, ctx.Err()
			}
			if r.Clock.Now().Sub(s.start) >= p.SteadyState.Wait {
				return res, fmt.Errorf("preflight: reading signals for %s: %w", o.ID(), err)
			}
		} else {
			var reasons []string
			s.res.SteadyState, reasons = steadyState(p, burn, active)
			if s.res.SteadyState.Met {
				break
			}
			if r.Clock.Now().Sub(s.start) >= p.SteadyState.Wait {
				s.res.Reasons = append(s.res.Reasons, reasons...)
				s.res.Outcome = Aborted
				return res, nil
			}
		}
		if err := r.Clock.Sleep(ctx, p.PollInterval); err != nil {
			s.res.Outcome = Interrupted
			return res, err
		}
	}

	// inject
	s.enter(PhaseInject)
	if r.Journal != nil {
		e := r.Entry
		e.RunID, e.GameDay, e.StartedAt = r.Run.ID, r.Run.GameDay, s.start
		if e.Backend == "" {
			e.Backend = p.GameDay.Fault.Backend
		}
		if err := r.Journal.Write(e); err != nil {
			return res, fmt.Errorf("writing the run journal before injection (nothing was injected): %w", err)
		}
	}
	s.injected = true // Remove is safe after a failed or partial Inject.
	if err := r.Injector.Inject(ctx); err != nil {
		if ctx.Err() != nil {
			s.res.Outcome = Interrupted
			return res, ctx.Err()
		}
		return res, fmt.Errorf("injecting the %s fault: %w", p.GameDay.Fault.Backend, err)
	}
	s.began = r.Clock.Now()
	s.note("fault injected")

	// expect
	s.enter(PhaseExpect)
	for {
		if err := r.Clock.Sleep(ctx, p.PollInterval); err != nil {
			s.res.Outcome = Interrupted
			return res, err
		}
		if _, _, err := s.poll(ctx); err != nil {
			if ctx.Err() != nil {
				s.res.Outcome = Interrupted
				return res, ctx.Err()
			}
			if s.failures >= or0(r.MaxPollErrors, 30) {
				return res, fmt.Errorf("reading signals failed %d times in a row: %w", s.failures, err)
			}
		}
		if s.guardrails() {
			return res, s.aborted(ctx)
		}
		held := r.Clock.Now().Sub(s.began)
		if p.Hold > 0 {
			if held >= p.Hold {
				break
			}
		} else if s.expectationsSettled(held) && s.mit.faultSettled(r.Clock.Now(), s.began) {
			break
		}
	}

	// remove
	s.enter(PhaseRemove)
	if err := s.remove(ctx); err != nil {
		return res, err
	}

	// recover
	s.enter(PhaseRecover)
	for {
		if err := r.Clock.Sleep(ctx, p.PollInterval); err != nil {
			s.res.Outcome = Interrupted
			return res, err
		}
		burn, active, err := s.poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				s.res.Outcome = Interrupted
				return res, ctx.Err()
			}
			if s.failures >= or0(r.MaxPollErrors, 30) {
				return res, fmt.Errorf("reading signals failed %d times in a row: %w", s.failures, err)
			}
			continue
		}
		since := r.Clock.Now().Sub(s.ended)
		v, ok := burn[p.Recovery.Window]
		firing := false
		for _, a := range active {
			firing = firing || a.State == "firing"
		}
		if ok && v < p.Recovery.BurnRateBelow && !firing && s.res.Recovery.RecoveredSeconds == nil {
			s.res.Recovery.RecoveredSeconds = secs(since)
			s.res.Recovery.Met = since <= p.Recovery.Within
			s.note("recovered")
		}
		if (s.res.Recovery.RecoveredSeconds != nil || since > p.Recovery.Within) && s.mit.releaseSettled(r.Clock.Now(), s.ended) {
			break
		}
		if s.guardrails() {
			return res, s.aborted(ctx)
		}
	}

	// verdict
	s.enter(PhaseVerdict)
	s.verdict()
	return res, nil
}

func or0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
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

func (s *runState) progress(burn map[string]float64, active []AlertState, event string) {
	if s.r.Progress == nil {
		return
	}
	s.r.Progress(Progress{Phase: s.phase, Elapsed: s.r.Clock.Now().Sub(s.start), Burn: burn,
		Alerts: active, Spent: s.res.Budget.Spent, Event: event})
}

// poll reads the signals once, records a sample, follows alert transitions and
// integrates the budget spent.
func (s *runState) poll(ctx context.Context) (map[string]float64, []AlertState, error) {
	r := s.r
	o := r.Plan.Objective
	cctx, cancel := context.WithTimeout(ctx, orD(r.SignalTimeout, 10*time.Second))
	defer cancel()
	burn, err := r.Signals.BurnRates(cctx, o)
	var active []AlertState
	if err == nil {
		active, err = r.Signals.Alerts(cctx, o)
	}
	now := r.Clock.Now()
	if err != nil {
		s.failures++
		s.res.PollErrors++
		r.Log.Warn("reading signals", "err", err, "consecutive", s.failures)
		return nil, nil, err
	}
	s.failures = 0
	for w, v := range burn {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(burn, w) // no traffic: no ratio; and JSON cannot carry NaN
		}
	}
	if v, ok := burn[r.Plan.ShortestWindow]; ok && !s.lastPoll.IsZero() {
		s.res.Budget.Spent += v * now.Sub(s.lastPoll).Seconds() / o.Period.Seconds()
	}
	s.lastPoll = now
	for _, e := range s.mit.observe(cctx, now, s.began, s.ended, burn) {
		s.event(burn, active, e)
	}
	sample := Sample{T: now, Phase: s.phase, Burn: burn}
	seen := map[string]bool{}
	for _, a := range active {
		key := string(a.Severity) + "/" + a.Window
		sample.Alerts = append(sample.Alerts, key+"="+a.State)
		seen[key] = true
		t := s.tracks[key]
		if t == nil {
			t = &AlertTrack{Name: a.Name, Severity: a.Severity, Window: a.Window}
			s.tracks[key] = t
			s.order = append(s.order, key)
		}
		if !t.Active {
			t.Active = true
			t.ResolvedAt = nil
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
	sort.Strings(sample.Alerts)
	for _, key := range s.order {
		t := s.tracks[key]
		if t.Active && !seen[key] {
			t.Active, t.Firing = false, false
			t.ResolvedAt = ptrTime(now)
			s.event(burn, active, key+" resolved")
		}
	}
	s.res.Samples = append(s.res.Samples, sample)
	s.progress(burn, active, "")
	return burn, active, nil
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

func (s *runState) event(burn map[string]float64, active []AlertState, e string) {
	s.r.Log.Info("alert", "transition", e)
	s.progress(burn, active, e)
}

func orD(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// firedFor returns the first track matching sel that fired at or after the fault began.
func (s *runState) firedFor(sel AlertSelector) *AlertTrack {
	var best *AlertTrack
	for _, key := range s.order {
		t := s.tracks[key]
		if t.FiringAt == nil || !sel.matches(t.Severity, t.Window) {
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

// guardrails aborts the run when the budget or the timeout is exceeded.
func (s *runState) guardrails() bool {
	p := s.r.Plan
	if s.res.Budget.Spent > p.MaxBudget {
		s.res.Outcome = Aborted
		s.reason("guardrail: the run spent %.1f%% of the period's error budget, over guardrails.maxBudget %.1f%%", 100*s.res.Budget.Spent, 100*p.MaxBudget)
		return true
	}
	if el := s.r.Clock.Now().Sub(s.start); el > p.Timeout {
		s.res.Outcome = Aborted
		s.reason("guardrail: the run took %s, over guardrails.timeout %s", fmtDur(el), fmtDur(p.Timeout))
		return true
	}
	return false
}

// remove takes the fault away on a fresh context, so that it also runs after ctx was
// cancelled, and deletes the journal entry once removal succeeded.
func (s *runState) remove(ctx context.Context) error {
	r := s.r
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orD(r.RemoveTimeout, 30*time.Second))
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
	s.note("fault removed")
	if r.Journal != nil {
		if err := r.Journal.Delete(r.Run.ID); err != nil {
			r.Log.Warn("deleting the run journal", "err", err)
		}
	}
	return nil
}

// verdict judges the run from what was measured.
func (s *runState) verdict() {
	p := s.r.Plan
	pass := true
	for _, e := range p.Expect {
		er := ExpectationResult{Alert: e.Selector.String(), WithinSeconds: e.Within.Seconds(), WithinPredicted: e.WithinPredicted}
		for _, w := range e.Tiers {
			er.Tiers = append(er.Tiers, w.Name())
		}
		if e.Predicted > 0 {
			er.PredictedSeconds = secs(e.Predicted)
			er.PredictedResetSeconds = secs(e.PredictedReset)
		}
		if t := s.firedFor(e.Selector); t != nil {
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
		} else if s.res.Outcome != Aborted {
			s.reason("%s did not fire within %s of the fault (predicted %s)", e.Selector, fmtDur(e.Within), predictedText(e.Predicted))
		}
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
	if s.res.Outcome == Aborted {
		// Stopped by a guardrail: the expectations are reported as measured so far; the
		// recovery was never watched.
	} else if !s.res.Recovery.Met {
		pass = false
		if s.res.Recovery.RecoveredSeconds == nil {
			s.reason("did not recover within %s of the fault's end: the %s burn rate stayed at or above %g or an alert kept firing",
				fmtDur(p.Recovery.Within), p.Recovery.Window, p.Recovery.BurnRateBelow)
		}
	}
	if br, ok := s.r.Signals.(BudgetReader); ok {
		ctx, cancel := context.WithTimeout(context.Background(), orD(s.r.SignalTimeout, 10*time.Second))
		if v, err := br.BudgetRemaining(ctx, p.Objective); err == nil {
			s.res.Budget.RemainingAfter = ptrF(v)
		}
		cancel()
	}
	if s.mit != nil {
		pass = s.judgeMitigation() && pass
	}
	switch {
	case s.res.Outcome == Aborted:
	case pass:
		s.res.Outcome = Pass
	default:
		s.res.Outcome = Fail
	}
}

// aborted finishes a run a guardrail stopped: the fault is removed at once and the
// expectations are judged as measured so far, keeping the Aborted outcome.
func (s *runState) aborted(ctx context.Context) error {
	var err error
	if s.injected && !s.removed {
		s.enter(PhaseRemove)
		err = s.remove(ctx)
	}
	s.enter(PhaseVerdict)
	s.verdict()
	return err
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

// steadyState checks the preflight conditions on one poll's signals.
func steadyState(p *Plan, burn map[string]float64, active []AlertState) (SteadyStateResult, []string) {
	o := p.Objective
	ss := SteadyStateResult{Window: p.SteadyState.Window, MaxBurnRate: p.SteadyState.MaxBurnRate, NoAlerts: p.SteadyState.NoAlerts, Met: true}
	var reasons []string
	if v, ok := burn[p.SteadyState.Window]; ok {
		ss.BurnRate = ptrF(v)
		if v > p.SteadyState.MaxBurnRate {
			ss.Met = false
			reasons = append(reasons, fmt.Sprintf("steady state not met: the %s burn rate is %.3g, above steadyState.maxBurnRate %g; wait until the SLO is healthy", p.SteadyState.Window, v, p.SteadyState.MaxBurnRate))
		}
	} else {
		ss.Met = false
		reasons = append(reasons, fmt.Sprintf("steady state unknown: no %s{%s=%q,%s=%q,%s=%q} series; are slokit's rules loaded and is the service scraped and receiving traffic?",
			slo.MetricBurnRate, slo.LabelService, o.Service, slo.LabelSLO, o.Name, slo.LabelWindow, p.SteadyState.Window))
	}
	if p.SteadyState.NoAlerts && len(active) > 0 {
		ss.Met = false
		var names []string
		for _, a := range active {
			names = append(names, fmt.Sprintf("%s/%s %s", a.Severity, a.Window, a.State))
		}
		reasons = append(reasons, fmt.Sprintf("steady state not met: alerts of %s are already active (%s); a run must start from a quiet SLO", o.ID(), strings.Join(names, ", ")))
	}
	return ss, reasons
}
