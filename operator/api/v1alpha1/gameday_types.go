package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// GameDay is one slokit game day as a Kubernetes object: a Chaos Mesh fault injected
// into the GameDay's namespace while the operator watches an SLO's burn rates and
// alerts in Prometheus, then a verdict. Without a schedule it runs once per generation
// of its spec; with one it runs like a CronJob.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=gd,categories=slokit
// +kubebuilder:printcolumn:name="SLO",type=string,JSONPath=`.spec.slo.name`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule.cron`
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Running",type=string,JSONPath=`.status.conditions[?(@.type=="Running")].status`
// +kubebuilder:printcolumn:name="Last",type=string,JSONPath=`.status.runs[0].outcome`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GameDay struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GameDaySpec   `json:"spec"`
	Status GameDayStatus `json:"status,omitempty"`
}

// GameDaySpec mirrors a game-day file (docs/gameday.md) with two changes: the SLO is a
// ServiceLevelObjective object of the same namespace, and the fault is always Chaos
// Mesh's, created in the GameDay's own namespace.
//
// +kubebuilder:validation:XValidation:rule="has(self.expect) || has(self.mitigation)",message="set expect (the alerts the fault must fire) or mitigation"
type GameDaySpec struct {
	// Description is free text for the report.
	// +optional
	Description string `json:"description,omitempty"`
	// SLO names the objective under test.
	SLO GameDaySLORef `json:"slo"`
	// Signals says where burn rates and alerts are read.
	// +optional
	Signals GameDaySignals `json:"signals,omitempty"`
	// Fault is the Chaos Mesh fault.
	Fault GameDayFault `json:"fault"`
	// ExpectedErrorRatio is the error ratio the fault should cause: a fraction like
	// "0.5" or a percentage like "50%". Chaos Mesh faults do not imply one.
	// +optional
	ExpectedErrorRatio string `json:"expectedErrorRatio,omitempty"`
	// SteadyState is checked before the fault is injected.
	// +optional
	SteadyState *SteadyState `json:"steadyState,omitempty"`
	// Expect lists the alerts that must fire while the fault is in place.
	// +optional
	// +kubebuilder:validation:MinItems=1
	Expect []Expectation `json:"expect,omitempty"`
	// MustNotFire lists alerts that must not fire at any time during the run.
	// +optional
	MustNotFire []AlertSelector `json:"mustNotFire,omitempty"`
	// Recovery is what "recovered" means after the fault is removed.
	// +optional
	Recovery *Recovery `json:"recovery,omitempty"`
	// Mitigation is what must engage on its own under the fault.
	// +optional
	Mitigation *Mitigation `json:"mitigation,omitempty"`
	// Guardrails stop a run that does more harm than it should.
	// +optional
	Guardrails *Guardrails `json:"guardrails,omitempty"`
	// Schedule runs the game day repeatedly; absent means once per generation.
	// +optional
	Schedule *Schedule `json:"schedule,omitempty"`
}

// GameDaySLORef names a ServiceLevelObjective object in the GameDay's namespace.
type GameDaySLORef struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// GameDaySignals says where the run reads signals.
type GameDaySignals struct {
	// Prometheus is the base URL of a Prometheus-compatible HTTP API; empty means the
	// operator's --gameday-prometheus.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://`
	Prometheus string `json:"prometheus,omitempty"`
	// PollInterval is how often signals are read (default 1s).
	// +optional
	PollInterval string `json:"pollInterval,omitempty"`
	// Tolerance is added to predicted times when they become deadlines (default 2m).
	// +optional
	Tolerance string `json:"tolerance,omitempty"`
}

// GameDayFault is one Chaos Mesh object, created in the GameDay's namespace.
type GameDayFault struct {
	// Duration is how long the fault stays in place; empty means until every expected
	// alert fired or missed its deadline.
	// +optional
	Duration string `json:"duration,omitempty"`
	// Kind is the Chaos Mesh kind.
	// +kubebuilder:validation:Enum=NetworkChaos;PodChaos;HTTPChaos;StressChaos
	Kind string `json:"kind"`
	// Name is the object's name; empty means slokit-<game day>-<run id>.
	// +optional
	Name string `json:"name,omitempty"`
	// InjectTimeout bounds the wait for AllInjected (default 2m).
	// +optional
	InjectTimeout string `json:"injectTimeout,omitempty"`
	// RemoveTimeout bounds the wait for the object to be gone (default 1m).
	// +optional
	RemoveTimeout string `json:"removeTimeout,omitempty"`
	// Spec is the Chaos Mesh spec, exactly as in the custom resource; slokit checks it
	// against Chaos Mesh's Go types and webhook rules.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Spec runtime.RawExtension `json:"spec"`
}

// SteadyState is checked in preflight.
type SteadyState struct {
	// +optional
	Window string `json:"window,omitempty"`
	// +optional
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Minimum=0
	MaxBurnRate float64 `json:"maxBurnRate,omitempty"`
	// +optional
	NoAlerts *bool `json:"noAlerts,omitempty"`
	// +optional
	Wait string `json:"wait,omitempty"`
}

// AlertSelector picks alert tiers of the SLO under test.
type AlertSelector struct {
	// +kubebuilder:validation:Enum=page;ticket
	Severity string `json:"severity"`
	// Window is the tier's long window; empty matches every tier of Severity.
	// +optional
	Window string `json:"window,omitempty"`
}

// Expectation is one alert that must fire within a time.
type Expectation struct {
	AlertSelector `json:",inline"`
	// Within is the deadline from injection; empty means the predicted detection time
	// plus the tolerance.
	// +optional
	Within string `json:"within,omitempty"`
}

// Recovery is checked after the fault is removed.
type Recovery struct {
	// +optional
	Within string `json:"within,omitempty"`
	// +optional
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Minimum=0
	BurnRateBelow float64 `json:"burnRateBelow,omitempty"`
	// +optional
	Window string `json:"window,omitempty"`
}

// Mitigation is a resilience mechanism that must engage under the fault.
type Mitigation struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Active is a PromQL condition true while the mitigation is engaged.
	// +kubebuilder:validation:MinLength=1
	Active string `json:"active"`
	// +kubebuilder:validation:MinLength=1
	Within string `json:"within"`
	// +optional
	Relief *Relief `json:"relief,omitempty"`
	// +optional
	Release *Release `json:"release,omitempty"`
}

// Relief is the burn-rate relief the mitigation must bring.
type Relief struct {
	// +optional
	Window string `json:"window,omitempty"`
	// +optional
	BurnRateBelow float64 `json:"burnRateBelow,omitempty"`
	// +optional
	Within string `json:"within,omitempty"`
}

// Release is when the mitigation must disengage after the fault.
type Release struct {
	// +optional
	Within string `json:"within,omitempty"`
}

// Guardrails stop a run early.
type Guardrails struct {
	// MaxBudget is the largest fraction of the error budget the run may spend ("0.2" or
	// "20%"; default 20%).
	// +optional
	MaxBudget string `json:"maxBudget,omitempty"`
	// Timeout bounds the whole run.
	// +optional
	Timeout string `json:"timeout,omitempty"`
}

// Concurrency policies of a scheduled GameDay, as CronJob's.
const (
	// ConcurrencyAllow starts a run even when another of the same GameDay is running.
	ConcurrencyAllow = "Allow"
	// ConcurrencyForbid skips a scheduled run while another is running.
	ConcurrencyForbid = "Forbid"
	// ConcurrencyReplace stops the running run (its fault removed) and starts the new one.
	ConcurrencyReplace = "Replace"
)

// Schedule runs a GameDay at the times of a cron expression, with CronJob's semantics.
//
// +kubebuilder:validation:XValidation:rule="!self.cron.contains('TZ=')",message="set timeZone instead of TZ= or CRON_TZ= in cron"
type Schedule struct {
	// Cron is a standard five-field cron expression (or @hourly, @daily, @every 2h…).
	// +kubebuilder:validation:MinLength=1
	Cron string `json:"cron"`
	// TimeZone is an IANA time zone name like Europe/Paris; empty means UTC.
	// +optional
	TimeZone string `json:"timeZone,omitempty"`
	// ConcurrencyPolicy says what happens when a run is due while another runs.
	// +optional
	// +kubebuilder:default=Forbid
	// +kubebuilder:validation:Enum=Allow;Forbid;Replace
	ConcurrencyPolicy string `json:"concurrencyPolicy,omitempty"`
	// Suspend stops new runs; a running run goes on.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// StartingDeadlineSeconds: a run that missed its time by more than this is skipped
	// (the operator was down); absent means no deadline, as with CronJob.
	// +optional
	// +kubebuilder:validation:Minimum=0
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty"`
	// SuccessfulRunsHistoryLimit is how many passed runs are kept (default 3).
	// +optional
	// +kubebuilder:validation:Minimum=0
	SuccessfulRunsHistoryLimit *int32 `json:"successfulRunsHistoryLimit,omitempty"`
	// FailedRunsHistoryLimit is how many runs that did not pass are kept (default 1).
	// +optional
	// +kubebuilder:validation:Minimum=0
	FailedRunsHistoryLimit *int32 `json:"failedRunsHistoryLimit,omitempty"`
}

// Condition types of a GameDay's status.
const (
	// ConditionRunning is True while a run of the GameDay is in progress.
	ConditionRunning = "Running"
)

// GameDayRun is one run of a GameDay.
type GameDayRun struct {
	// ID is the run's identifier; Chaos Mesh objects carry it in label slokit.dev/run-id.
	ID string `json:"id"`
	// ScheduledTime is the schedule time the run was started for; absent for one-shot runs.
	// +optional
	ScheduledTime *metav1.Time `json:"scheduledTime,omitempty"`
	// StartTime is when the run started.
	StartTime metav1.Time `json:"startTime"`
	// CompletionTime is when it ended; absent while it runs.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// Phase is the run's current phase (preflight, inject, expect, remove, recover,
	// verdict), or done.
	Phase string `json:"phase"`
	// Outcome is pass, fail, aborted, interrupted or error once the run ended.
	// +optional
	Outcome string `json:"outcome,omitempty"`
	// Cause says why a run ended early (steady-state, budget, timeout, operator-lost…).
	// +optional
	Cause string `json:"cause,omitempty"`
	// Message is the verdict's reasons.
	// +optional
	Message string `json:"message,omitempty"`
	// Fault is the Chaos Mesh object, "Kind namespace/name".
	// +optional
	Fault string `json:"fault,omitempty"`
	// Report names the ConfigMap holding result.json and report.html.
	// +optional
	Report string `json:"report,omitempty"`
	// Generation is the GameDay generation the run executed.
	// +optional
	Generation int64 `json:"generation,omitempty"`
	// DetectedSeconds are the measured detection times of the expected alerts.
	// +optional
	DetectedSeconds []string `json:"detectedSeconds,omitempty"`
}

// GameDayStatus is what the operator did with the GameDay.
type GameDayStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are Valid and Running.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Active are the runs in progress; an operator that finds one it did not start
	// (its predecessor was killed) removes the run's fault by its labels and records
	// the run as aborted.
	// +optional
	Active []GameDayRun `json:"active,omitempty"`
	// Runs are the finished runs, newest first, bounded by the history limits.
	// +optional
	Runs []GameDayRun `json:"runs,omitempty"`
	// LastScheduleTime is the last schedule time a run was started for (or skipped).
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`
	// NextScheduleTime is the next schedule time.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`
	// LastRunGeneration is the generation of the last one-shot run started.
	// +optional
	LastRunGeneration int64 `json:"lastRunGeneration,omitempty"`
}

// GameDayList is a list of GameDays.
//
// +kubebuilder:object:root=true
type GameDayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GameDay `json:"items"`
}
