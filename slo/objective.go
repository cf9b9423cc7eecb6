package slo

import (
	"fmt"
	"time"
)

// Service is one validated slokit/v1 (or imported Sloth/OpenSLO) document: a service and
// its objectives, in domain types. Generators take only this type, never the wire spec.
type Service struct {
	// Name of the service, [a-z0-9-]+ (Sloth and OpenSLO names are kept as given).
	Name string
	// Labels copied onto every generated rule and alert. Never nil after Load.
	Labels map[string]string
	// Objectives in file order.
	Objectives []Objective
	// Source is the file the service was read from ("" when built in code).
	Source string
	// Origins tells, for imported specs (Sloth, OpenSLO, Pyrra), where each SLO's fields
	// came from: Origins[slo name][field] with fields "name", "objective", "period",
	// "sli", "labels", "alerting". Nil for slokit/v1 files.
	Origins map[string]map[string]Origin
	// Positions locates, in slokit/v1 files, the fields of each valid SLO that checks
	// against a running Prometheus report on: Positions[slo name][field], with the Field*
	// constants as keys (Where reads it). Nil for imported specs and services built in code.
	Positions map[string]map[string]Origin
}

// Origin locates the source of one imported field.
type Origin struct {
	// File, Line and Col locate the source node (Line 0: a default, not in the file).
	File      string
	Line, Col int
	// Path is the field's path in the source document ("slos[0].objective").
	Path string
	// Note explains a default or a mapping ("Sloth's default period").
	Note string
}

// String renders "file:line:col path (note)".
func (o Origin) String() string {
	s := o.File
	if o.Line > 0 {
		s += fmt.Sprintf(":%d:%d", o.Line, o.Col)
	}
	if o.Path != "" {
		s += " " + o.Path
	}
	if o.Note != "" {
		s += " (" + o.Note + ")"
	}
	return s
}

// Objective is one SLO in domain form.
type Objective struct {
	// Service is the owning service's name.
	Service string
	// Name is the SLO name, unique within the service.
	Name string
	// Target is the objective as a ratio in (0,1): 99.9% is 0.999.
	Target float64
	// Period is the rolling compliance window (30d when the spec omits it).
	Period time.Duration
	// Description is free text for humans; may be empty.
	Description string
	// Labels are the service labels merged with the SLO's own labels.
	Labels map[string]string
	// SLI says how good and bad events are measured. Exactly one kind is set.
	SLI SLI
	// Alerting configures the generated burn-rate alerts.
	Alerting Alerting
	// ScrapeInterval is how often Prometheus scrapes the SLI's series; zero means
	// DefaultScrapeInterval (the spec warns when it is absent). Every rate() window is at
	// least MinScrapesPerWindow of it.
	ScrapeInterval time.Duration
	// EvaluationInterval is the interval of the SLO's rule group; zero means the scrape
	// interval.
	EvaluationInterval time.Duration
	// Scope says whether the SLO is evaluated per cluster (the zero value: in each
	// cluster's Prometheus) or once over every cluster (Thanos Ruler).
	Scope Scope
}

// ErrorBudget is 1 − Target: the fraction of events allowed to be bad over the period.
func (o Objective) ErrorBudget() float64 { return 1 - o.Target }

// ID is the stable identifier "<service>-<slo>" used in rule group names.
func (o Objective) ID() string { return o.Service + "-" + o.Name }

// SLI is the indicator of an Objective; exactly one of its fields is non-nil.
type SLI struct {
	Events  *EventsSLI
	Latency *LatencySLI
	Raw     *RawSLI
}

// Kind names the SLI kind that is set: "events", "latency", "raw" or "" when none is.
func (s SLI) Kind() string {
	switch {
	case s.Events != nil:
		return "events"
	case s.Latency != nil:
		return "latency"
	case s.Raw != nil:
		return "raw"
	}
	return ""
}

// EventsSLI counts bad and total events with two counter selectors; the generator
// builds the rate() expressions around them.
type EventsSLI struct {
	// Bad is a PromQL series selector of counters of bad events.
	Bad string
	// Total is a PromQL series selector of counters of all events.
	Total string
}

// LatencySLI treats requests faster than Threshold as good, read from a classic histogram.
type LatencySLI struct {
	// Histogram is the histogram's base metric name, without _bucket/_count suffixes.
	Histogram string
	// Selector holds equality matchers applied to the histogram's series.
	Selector map[string]string
	// Threshold is the latency under which a request is good; it must be a bucket boundary.
	Threshold time.Duration
	// Buckets are the histogram's declared bucket boundaries (nil: not declared, and the
	// threshold is not checked statically).
	Buckets []time.Duration
	// Native reads a native histogram with histogram_fraction instead of the classic
	// _bucket/_count series.
	Native bool
}

// ThresholdLE renders Threshold as the histogram's le label value in seconds, the way
// Prometheus client libraries format bucket boundaries (0.1, 0.25, 1, 2.5).
func (l LatencySLI) ThresholdLE() string {
	return formatLE(l.Threshold.Seconds())
}

func formatLE(seconds float64) string {
	return fmt.Sprintf("%g", seconds)
}

// RawSLI is an error-ratio PromQL template; "{{.window}}" is replaced by each window's
// range (for example "5m").
type RawSLI struct {
	ErrorRatio string
}

// Alerting configures the burn-rate alerts of one Objective.
type Alerting struct {
	// Name is the alert name shared by both severities; defaults to a CamelCase form of
	// service and SLO names.
	Name string
	// Labels and Annotations are added to both severities' alerts.
	Labels      map[string]string
	Annotations map[string]string
	// Page and Ticket configure the two severities.
	Page   Severity
	Ticket Severity
	// Windows overrides the default tier catalogue when non-empty (see DefaultWindows).
	Windows []Window
	// NoData configures the alert on absent SLI series.
	NoData NoData
}

// NoData configures the alert that fires when the SLI's total series (or, for latency,
// the threshold bucket) has been absent for For: without data no burn-rate alert can fire.
type NoData struct {
	// Disabled drops the alert.
	Disabled bool
	// For is how long the series must be absent; zero means DefaultNoDataFor.
	For time.Duration
	// Labels default to {severity: page}.
	Labels      map[string]string
	Annotations map[string]string
}

// DefaultNoDataFor is how long an SLI's series must be absent before its no-data alert fires.
const DefaultNoDataFor = 5 * time.Minute

// Severity configures one severity's alert rule.
type Severity struct {
	// Disabled drops the severity's alert rule.
	Disabled bool
	// Labels default to {severity: page} or {severity: ticket}.
	Labels      map[string]string
	Annotations map[string]string
}
