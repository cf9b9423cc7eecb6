package backtest

import (
	"time"

	"github.com/slokit/slokit/slo"
)

// NoData is the expectation class of an alert on absent SLI data (an alerting rule whose
// expression uses absent or absent_over_time), beside the page and ticket severities.
const NoData slo.SeverityName = "nodata"

// Scenario is an incident shape replayed through an SLO's rules: traffic and the share of
// bad events (errors, or requests slower than the latency threshold) over time, and,
// separately, how Prometheus sees them (Scrape).
type Scenario struct {
	// Name identifies the scenario ([a-z0-9-]+).
	Name        string
	Description string
	// Traffic is the default events per second of every segment. Zero means 10.
	Traffic float64
	// Scrape is how Prometheus samples the counters. The zero value is a perfect scrape
	// every Options.ScrapeInterval, in phase with evaluation.
	Scrape Scrape
	// Segments follow each other from time 0.
	Segments []Segment
	// Expect says which severities (and NoData) must and must not fire.
	Expect Expect
	// LatencyOnly scenarios apply only to latency SLIs.
	LatencyOnly bool
	// Source is "builtin" or the file the scenario came from.
	Source string
}

// Scrape is the scrape model of a scenario: when samples exist and which series they hold.
type Scrape struct {
	// Interval between scrapes of one target. Zero means Options.ScrapeInterval.
	Interval time.Duration
	// Offset is the phase of the scrapes against rule evaluation: the first target is
	// scraped at Offset + k·Interval, evaluations run at k·EvalInterval. Zero: in phase.
	Offset time.Duration
	// Jitter delays each scrape by a deterministic pseudo-random amount in [0, Jitter).
	// Zero: none. Must be below Interval.
	Jitter time.Duration
	// Instances is the number of targets (pods) exposing the counters; events are split
	// evenly among them and each series carries instance="i-N" when there are several.
	// Target N is scraped N·Interval/Instances after the first. Zero means 1.
	Instances int
	// Lazy creates the bad-event counter on the first bad event (as client libraries do
	// for a label set first used by the first 5xx) instead of at 0 before the scenario.
	Lazy bool
	// NoStaleness disables staleness markers: by default, like Prometheus, a series that a
	// successful scrape no longer exposes, or whose target's scrape fails, gets a marker.
	NoStaleness bool
	// Buckets is the latency histogram's bucket layout (upper bounds in seconds, +Inf
	// implied). Nil means the spec's declared buckets, else DefaultBuckets.
	Buckets []float64
}

// DefaultBuckets is the Prometheus client libraries' default histogram layout.
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Segment is a stretch of constant traffic and bad-event ratio, and of what Prometheus
// sees of it.
type Segment struct {
	Duration time.Duration
	// Traffic in events per second; zero means the scenario's Traffic.
	Traffic float64
	// BadRatio is the fraction of events that are bad, in [0,1].
	BadRatio float64
	// Missing means every scrape fails during the segment (targets down or Prometheus
	// restarting): no samples, while the counters keep counting, so the events show up
	// in the counters after it.
	Missing bool
	// Restart resets every counter to 0 at the segment's start (a process restart).
	Restart bool
	// Absent means the SLI's series are not exposed during the segment (scrapes succeed):
	// the events are not counted, and the counters start again from 0 after it.
	Absent bool
	// Renamed exposes the SLI's series under another metric name during the segment
	// (RenamedMetric), counting from 0; the original names come back from 0 after it.
	Renamed bool
	// Fault marks the segment as part of the incident; detection is measured from the
	// first fault segment's start and reset from the last one's end.
	Fault bool
}

// Expect lists the severities (page, ticket, NoData) that must and must not fire.
type Expect struct {
	MustFire    []slo.SeverityName `json:"mustFire,omitempty"`
	MustNotFire []slo.SeverityName `json:"mustNotFire,omitempty"`
}

// Duration is the scenario's total length.
func (s Scenario) Duration() time.Duration {
	var d time.Duration
	for _, g := range s.Segments {
		d += g.Duration
	}
	return d
}

func (s Scenario) traffic(g Segment) float64 {
	switch {
	case g.Traffic > 0:
		return g.Traffic
	case s.Traffic > 0:
		return s.Traffic
	}
	return 10
}

// FaultWindow returns when the fault starts and ends; ok is false without fault segments.
func (s Scenario) FaultWindow() (start, end time.Duration, ok bool) {
	var at time.Duration
	for _, g := range s.Segments {
		if g.Fault {
			if !ok {
				start, ok = at, true
			}
			end = at + g.Duration
		}
		at += g.Duration
	}
	return start, end, ok
}

// clean reports whether g is seen by Prometheus as it happens.
func (g Segment) clean() bool { return !g.Missing && !g.Restart && !g.Absent && !g.Renamed }

// StepFault returns the bad ratio of a scenario whose fault is one constant step under
// the same traffic as the rest, seen cleanly: the case the Workbook's formulas predict.
func (s Scenario) StepFault() (e float64, ok bool) {
	var faults []Segment
	tr := -1.0
	for _, g := range s.Segments {
		if !g.clean() {
			return 0, false
		}
		if tr >= 0 && s.traffic(g) != tr {
			return 0, false
		}
		tr = s.traffic(g)
		if g.Fault {
			faults = append(faults, g)
		} else if g.BadRatio != 0 {
			return 0, false
		}
	}
	if len(faults) != 1 {
		return 0, false
	}
	return faults[0].BadRatio, true
}

// events returns the good and bad events between 0 and t.
func (s Scenario) events(t time.Duration) (good, bad float64) {
	var at time.Duration
	for _, g := range s.Segments {
		d := min(g.Duration, t-at)
		if d <= 0 {
			break
		}
		n := s.traffic(g) * d.Seconds()
		bad += n * g.BadRatio
		good += n * (1 - g.BadRatio)
		at += g.Duration
	}
	return good, bad
}

// segmentAt returns the index of the segment holding t and its start (the last segment
// for t at or past the end).
func (s Scenario) segmentAt(t time.Duration) (int, time.Duration) {
	var at time.Duration
	for i, g := range s.Segments {
		if t < at+g.Duration || i == len(s.Segments)-1 {
			return i, at
		}
		at += g.Duration
	}
	return 0, 0
}

// span is a stretch [From, To) of a scenario.
type span struct{ From, To time.Duration }

// spans returns the stretches of segments for which pick holds, merged when adjacent.
func (s Scenario) spans(pick func(Segment) bool) []span {
	var out []span
	var at time.Duration
	for _, g := range s.Segments {
		if pick(g) {
			if n := len(out); n > 0 && out[n-1].To == at {
				out[n-1].To = at + g.Duration
			} else {
				out = append(out, span{at, at + g.Duration})
			}
		}
		at += g.Duration
	}
	return out
}
