package chaos

import (
	"time"

	"github.com/slokit/slokit/slo"
)

// Outcome is a run's verdict.
type Outcome string

// The outcomes of a run; the CLI maps each to its own exit code.
const (
	// Pass: every expected alert fired in time, none that must not fire did, and the
	// SLO recovered in time.
	Pass Outcome = "pass"
	// Fail: the run completed and at least one check failed.
	Fail Outcome = "fail"
	// Aborted: a guardrail (budget, timeout) or the steady-state check stopped the run.
	Aborted Outcome = "aborted"
	// Interrupted: the context was cancelled (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT).
	Interrupted Outcome = "interrupted"
	// Error: the run could not be judged (signals unreachable, injection or removal
	// failed, another run holds the SLO).
	Error Outcome = "error"
)

// Cause says why a run ended early or failed for something other than its alerts.
type Cause string

// The causes a Result names; "" for a run that went through its phases.
const (
	CauseSteadyState Cause = "steady-state" // preflight: the SLO was not quiet, or history too short
	CauseBudget      Cause = "budget"       // guardrails.maxBudget
	CauseTimeout     Cause = "timeout"      // guardrails.timeout
	CauseSignalLoss  Cause = "signal-loss"  // no answer from the signals for Runner.SignalLoss
	CauseLeaseLost   Cause = "lease-lost"   // the fault's holder removed it (lease ended)
	CauseInterrupted Cause = "interrupted"  // a signal or the caller's context
	CauseNotOnPath   Cause = "fault-not-on-sli-path"
	CauseLocked      Cause = "locked" // another run holds the SLO
)

// Phase names a step of a run.
type Phase string

// The phases of a run, in order.
const (
	PhasePreflight Phase = "preflight"
	PhaseInject    Phase = "inject"
	PhaseExpect    Phase = "expect"
	PhaseRemove    Phase = "remove"
	PhaseRecover   Phase = "recover"
	PhaseVerdict   Phase = "verdict"
)

// Result is everything a run measured; it is written as JSON and drawn in the report.
// Durations are in seconds; a nil pointer means "not measured".
type Result struct {
	RunID       string  `json:"runId"`
	GameDay     string  `json:"gameDay"`
	Description string  `json:"description,omitempty"`
	Service     string  `json:"service"`
	SLO         string  `json:"slo"`
	Objective   float64 `json:"objective"`
	// PeriodSeconds is the SLO period, the denominator of BudgetSpent.
	PeriodSeconds float64 `json:"periodSeconds"`
	Backend       string  `json:"backend"`
	// ErrorRatio is the fault's expected error ratio (0 when unknown) and its source.
	ErrorRatio       float64 `json:"expectedErrorRatio,omitempty"`
	ErrorRatioSource string  `json:"expectedErrorRatioSource,omitempty"`

	Outcome Outcome `json:"outcome"`
	// Cause says why the run ended early (aborted, interrupted, error) or failed for
	// something other than its alerts; "" otherwise.
	Cause   Cause    `json:"cause,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	// TimeoutSeconds is guardrails.timeout, drawn in the report.
	TimeoutSeconds float64 `json:"timeoutSeconds,omitempty"`
	// Fault is what the fault did as its backend counted it (the HTTP fault proxy).
	Fault *FaultResult `json:"fault,omitempty"`

	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"endedAt"`
	// FaultBegan and FaultEnded bound the fault: injection and removal, or the backend's
	// own record of when it took effect (FaultTimer).
	FaultBegan *time.Time `json:"faultBegan,omitempty"`
	FaultEnded *time.Time `json:"faultEnded,omitempty"`
	// FaultTimesFrom is "runner" or "backend".
	FaultTimesFrom string `json:"faultTimesFrom,omitempty"`

	// Tiers are the objective's alert tiers, for the report's threshold lines.
	Tiers        []TierInfo          `json:"tiers"`
	Phases       []PhaseSpan         `json:"phases"`
	SteadyState  SteadyStateResult   `json:"steadyState"`
	Expectations []ExpectationResult `json:"expectations"`
	MustNotFire  []ForbiddenResult   `json:"mustNotFire,omitempty"`
	Recovery     RecoveryResult      `json:"recovery"`
	// Mitigation is the mitigation step's verdict; nil when the game day has none.
	Mitigation *MitigationResult `json:"mitigation,omitempty"`
	Budget     BudgetResult      `json:"budget"`
	// Alerts is every alert of the SLO seen during the run with its transitions.
	Alerts []AlertTrack `json:"alerts"`
	// Samples are the signals read at every poll, for the report's timelines.
	Samples []Sample `json:"samples"`
	// PollErrors counts polls whose signals could not be read.
	PollErrors int `json:"pollErrors,omitempty"`
}

// TierInfo describes one alert tier: it fires when the burn rate over both windows
// exceeds BurnRate.
type TierInfo struct {
	Name     string  `json:"name"` // like "page/1h"
	BurnRate float64 `json:"burnRate"`
	Long     string  `json:"long"`
	Short    string  `json:"short"`
	Disabled bool    `json:"disabled,omitempty"`
}

// PhaseSpan is when one phase ran.
type PhaseSpan struct {
	Phase Phase     `json:"phase"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// SteadyStateResult is the preflight check's finding.
type SteadyStateResult struct {
	Window      string   `json:"window"`
	BurnRate    *float64 `json:"burnRate,omitempty"`
	MaxBurnRate float64  `json:"maxBurnRate"`
	NoAlerts    bool     `json:"noAlerts"`
	Met         bool     `json:"met"`
	// HistoryNeeded is the long window the predictions rely on; HistoryShort is set
	// when the signals held less history than that.
	HistoryNeeded string `json:"historyNeeded,omitempty"`
	HistoryShort  bool   `json:"historyShort,omitempty"`
}

// FaultResult is the backend's count of the fault against what the SLI saw.
type FaultResult struct {
	FaultStats
	// PeakBurnRate is the highest burn rate on the shortest window while the fault was
	// in place (and one short window after).
	PeakBurnRate float64 `json:"peakBurnRate"`
	// NotOnPath is set when the fault failed requests the SLI did not see.
	NotOnPath bool `json:"notOnSliPath,omitempty"`
}

// ExpectationResult is one expected alert's verdict.
type ExpectationResult struct {
	Alert string `json:"alert"`
	// Tiers are the matching tiers the fault can fire, like ["page/1h"].
	Tiers                   []string `json:"tiers"`
	WithinSeconds           float64  `json:"withinSeconds"`
	WithinPredicted         bool     `json:"withinPredicted"`
	PredictedSeconds        *float64 `json:"predictedDetectionSeconds,omitempty"`
	DetectedSeconds         *float64 `json:"detectedSeconds,omitempty"`
	FiredTier               string   `json:"firedTier,omitempty"`
	PredictedResetSeconds   *float64 `json:"predictedResetSeconds,omitempty"`
	ResetSeconds            *float64 `json:"resetSeconds,omitempty"`
	Met                     bool     `json:"met"`
	DetectionMinusPredicted *float64 `json:"detectionMinusPredictedSeconds,omitempty"`
}

// ForbiddenResult is one must-not-fire selector's verdict.
type ForbiddenResult struct {
	Alert string `json:"alert"`
	Fired bool   `json:"fired"`
	// FiredTier names the tier that fired when Fired.
	FiredTier string `json:"firedTier,omitempty"`
}

// RecoveryResult is the recovery check's verdict.
type RecoveryResult struct {
	Window          string  `json:"window"`
	BurnRateBelow   float64 `json:"burnRateBelow"`
	WithinSeconds   float64 `json:"withinSeconds"`
	WithinPredicted bool    `json:"withinPredicted"`
	// RecoveredSeconds is the time from the fault's end until the burn rate was under
	// the bound and no alert of the SLO was firing.
	RecoveredSeconds *float64 `json:"recoveredSeconds,omitempty"`
	Met              bool     `json:"met"`
}

// BudgetResult is the error budget the run spent.
type BudgetResult struct {
	// Spent is the fraction of the period's budget spent, integrated from the shortest
	// window's burn rate: Σ burn·Δt / period.
	Spent float64 `json:"spent"`
	// Max is the guardrail.
	Max float64 `json:"max"`
	// RemainingBefore and RemainingAfter are MetricBudgetRemaining at the start and end,
	// when the signal source exposes it.
	RemainingBefore *float64 `json:"remainingBefore,omitempty"`
	RemainingAfter  *float64 `json:"remainingAfter,omitempty"`
}

// AlertTrack follows one alert tier of the SLO through the run.
type AlertTrack struct {
	Name       string           `json:"name"`
	Severity   slo.SeverityName `json:"severity"`
	Window     string           `json:"window"`
	PendingAt  *time.Time       `json:"pendingAt,omitempty"`
	FiringAt   *time.Time       `json:"firingAt,omitempty"`
	ResolvedAt *time.Time       `json:"resolvedAt,omitempty"`
	// Active is true while the alert is pending or firing.
	Active bool          `json:"-"`
	Firing bool          `json:"-"`
	long   time.Duration // Window as a duration, for the runner's selectors
}

// Tier names the track like "page/1h".
func (a *AlertTrack) Tier() string { return string(a.Severity) + "/" + a.Window }

// Sample is the signals read at one poll.
type Sample struct {
	T     time.Time `json:"t"`
	Phase Phase     `json:"phase"`
	// Burn is the burn rate per window, keyed by the window in Prometheus syntax ("1h").
	Burn map[string]float64 `json:"burn"`
	// Alerts lists the active tiers as "page/1h=firing".
	Alerts []string `json:"alerts,omitempty"`
}

// burnByLabel keys burn rates by their window in Prometheus syntax, for the JSON result.
func burnByLabel(burn map[time.Duration]float64) map[string]float64 {
	if burn == nil {
		return nil
	}
	out := make(map[string]float64, len(burn))
	for w, v := range burn {
		out[slo.FormatWindow(w)] = v
	}
	return out
}

// tierName names a tier like "page/1h" (slo.Window.Name).
func tierName(s slo.SeverityName, long time.Duration) string {
	return slo.Window{Severity: s, Long: long}.Name()
}

func secs(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

func ptrTime(t time.Time) *time.Time { return &t }

func ptrF(f float64) *float64 { return &f }
