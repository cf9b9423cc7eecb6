package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ServiceLevelObjective is one slokit/v1 SLO of a service as a Kubernetes object. The
// operator validates it with slokit's spec rules and keeps one PrometheusRule
// (recording rules and multiwindow multi-burn-rate alerts) in step with it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=slo;slos,categories=slokit
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.service`
// +kubebuilder:printcolumn:name="Objective",type=number,JSONPath=`.spec.objective`
// +kubebuilder:printcolumn:name="Period",type=string,JSONPath=`.spec.period`
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServiceLevelObjective struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ServiceLevelObjectiveSpec   `json:"spec"`
	Status ServiceLevelObjectiveStatus `json:"status,omitempty"`
}

// ServiceLevelObjectiveSpec mirrors one entry of a slokit/v1 file's slos list, plus the
// service it belongs to (docs/spec.md describes every field).
type ServiceLevelObjectiveSpec struct {
	// Service is the service the SLO belongs to (the slokit/v1 service field).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Service string `json:"service"`
	// Name is the SLO's name within its service; empty means metadata.name.
	// +optional
	Name string `json:"name,omitempty"`
	// Objective is the target percentage of good events, like 99.9.
	Objective float64 `json:"objective"`
	// Period is the rolling compliance window, a Prometheus duration; empty means 30d.
	// +optional
	Period string `json:"period,omitempty"`
	// Description is free text for humans.
	// +optional
	Description string `json:"description,omitempty"`
	// Labels are added to every rule and alert of the SLO.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// ScrapeInterval is how often the SLI's series are scraped, a Prometheus duration;
	// empty means slokit's default (30s). Every rate() window is kept several scrapes long.
	// +optional
	ScrapeInterval string `json:"scrapeInterval,omitempty"`
	// EvaluationInterval is the rule groups' interval; empty means ScrapeInterval.
	// +optional
	EvaluationInterval string `json:"evaluationInterval,omitempty"`
	// SLI says how good and bad events are counted.
	SLI SLI `json:"sli"`
	// Alerting tunes the burn-rate alerts; absent means slokit's defaults.
	// +optional
	Alerting *Alerting `json:"alerting,omitempty"`
}

// SLI is exactly one of events, latency or raw.
//
// +kubebuilder:validation:XValidation:rule="(has(self.events) ? 1 : 0) + (has(self.latency) ? 1 : 0) + (has(self.raw) ? 1 : 0) == 1",message="set exactly one of events, latency, raw"
type SLI struct {
	// +optional
	Events *EventsSLI `json:"events,omitempty"`
	// +optional
	Latency *LatencySLI `json:"latency,omitempty"`
	// +optional
	Raw *RawSLI `json:"raw,omitempty"`
}

// EventsSLI counts bad and total events with two PromQL counter selectors.
type EventsSLI struct {
	// +kubebuilder:validation:MinLength=1
	Bad string `json:"bad"`
	// +kubebuilder:validation:MinLength=1
	Total string `json:"total"`
}

// LatencySLI counts requests slower than a histogram bucket as bad.
type LatencySLI struct {
	// Histogram is the histogram's metric name, without _bucket.
	// +kubebuilder:validation:MinLength=1
	Histogram string `json:"histogram"`
	// Selector holds the label matchers of the histogram's series.
	// +optional
	Selector map[string]string `json:"selector,omitempty"`
	// Threshold is the latency bound, a duration like 100ms (a bucket of the histogram).
	// +kubebuilder:validation:MinLength=1
	Threshold string `json:"threshold"`
}

// RawSLI is a PromQL error-ratio expression with a {{.window}} placeholder.
type RawSLI struct {
	// +kubebuilder:validation:MinLength=1
	ErrorRatio string `json:"errorRatio"`
}

// Alerting tunes the SLO's burn-rate alerts.
type Alerting struct {
	// Name is the alert name; empty means slokit's default from service and SLO name.
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// +optional
	Page *Severity `json:"page,omitempty"`
	// +optional
	Ticket *Severity `json:"ticket,omitempty"`
	// Windows replaces the tier catalogue.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Windows []Window `json:"windows,omitempty"`
}

// Severity configures the page or ticket alert.
type Severity struct {
	// Disabled drops this severity's alert rule.
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Window is one alerting tier.
type Window struct {
	// +kubebuilder:validation:Enum=page;ticket
	Severity string `json:"severity"`
	// +kubebuilder:validation:MinLength=1
	Long string `json:"long"`
	// +kubebuilder:validation:MinLength=1
	Short string `json:"short"`
	// +kubebuilder:validation:ExclusiveMinimum=true
	// +kubebuilder:validation:Minimum=0
	BurnRate float64 `json:"burnRate"`
}

// Condition types of a ServiceLevelObjective's status.
const (
	// ConditionValid is True when the spec passes slokit's validation; when False its
	// message lists every problem with its field path.
	ConditionValid = "Valid"
	// ConditionRulesApplied is True when the PrometheusRule holds the rules of the
	// current generation.
	ConditionRulesApplied = "RulesApplied"
	// ConditionReady is True when both are.
	ConditionReady = "Ready"
)

// ServiceLevelObjectiveStatus is what the operator last did with the spec.
type ServiceLevelObjectiveStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are Valid, RulesApplied and Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// PrometheusRule names the generated PrometheusRule in the object's namespace.
	// +optional
	PrometheusRule string `json:"prometheusRule,omitempty"`
	// RecordingRules and AlertingRules count the rules generated.
	// +optional
	RecordingRules int32 `json:"recordingRules,omitempty"`
	// +optional
	AlertingRules int32 `json:"alertingRules,omitempty"`
}

// ServiceLevelObjectiveList is a list of ServiceLevelObjectives.
//
// +kubebuilder:object:root=true
type ServiceLevelObjectiveList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceLevelObjective `json:"items"`
}
