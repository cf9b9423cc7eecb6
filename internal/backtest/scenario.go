package backtest

import (
	"fmt"
	"math"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// Scenario is an incident shape replayed through an SLO's rules: traffic and the share of
// bad events (errors, or requests slower than the latency threshold) over time.
type Scenario struct {
	// Name identifies the scenario ([a-z0-9-]+).
	Name        string
	Description string
	// Traffic is the default events per second of every segment. Zero means 10.
	Traffic float64
	// Segments follow each other from time 0.
	Segments []Segment
	// Expect says which severities must and must not fire.
	Expect Expect
	// LatencyOnly scenarios apply only to latency SLIs.
	LatencyOnly bool
	// Source is "builtin" or the file the scenario came from.
	Source string
}

// Segment is a stretch of constant traffic and bad-event ratio.
type Segment struct {
	Duration time.Duration
	// Traffic in events per second; zero means the scenario's Traffic.
	Traffic float64
	// BadRatio is the fraction of events that are bad, in [0,1].
	BadRatio float64
	// Missing means no scrape succeeds during the segment (the events still happen and
	// show up in the counters after it).
	Missing bool
	// Fault marks the segment as part of the incident; detection is measured from the
	// first fault segment's start and reset from the last one's end.
	Fault bool
}

// Expect lists the severities that must and must not fire during a scenario.
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

// StepFault returns the bad ratio of a scenario whose fault is one constant step under
// the same traffic as the rest: the case the Workbook's formulas predict.
func (s Scenario) StepFault() (e float64, ok bool) {
	var faults []Segment
	tr := -1.0
	for _, g := range s.Segments {
		if g.Missing {
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

// missingAt reports whether a scrape at t fails.
func (s Scenario) missingAt(t time.Duration) bool {
	var at time.Duration
	for _, g := range s.Segments {
		if t >= at && t < at+g.Duration {
			return g.Missing
		}
		at += g.Duration
	}
	return false
}

// Builtin returns the built-in scenario library sized for o: each starts with a clean
// warm-up as long as o's longest alert window, so windows are full when the fault starts,
// and burn rates are multiples of o's error budget.
func Builtin(o slo.Objective) []Scenario {
	b := o.ErrorBudget()
	var warm, coolShort, fastLong time.Duration
	for _, w := range o.Tiers() {
		warm = max(warm, w.Long)
		coolShort = max(coolShort, w.Short)
		if fastLong == 0 || w.Long < fastLong {
			fastLong = w.Long
		}
	}
	if warm == 0 {
		return nil
	}
	cool := coolShort + coolShort/10 + 2*time.Minute
	page, ticket := slo.Page, slo.Ticket
	// firstToFire is the most severe severity the maths says a step fault of ratio e
	// trips, and how long until its fastest tier does.
	firstToFire := func(e float64) (slo.SeverityName, time.Duration, bool) {
		for _, sev := range []slo.SeverityName{page, ticket} {
			var fastest time.Duration
			for _, w := range o.Tiers() {
				if p := alerts.Predict(o, w, e); w.Severity == sev && p.Fires && (fastest == 0 || p.Detect < fastest) {
					fastest = p.Detect
				}
			}
			if fastest > 0 {
				return sev, fastest, true
			}
		}
		return "", 0, false
	}
	// derived expects what the maths says of a step fault of ratio e lasting long enough:
	// the most severe severity it trips must fire; severities it cannot trip must not.
	derived := func(e float64) (Expect, time.Duration) {
		var ex Expect
		sev, detect, ok := firstToFire(e)
		if ok {
			ex.MustFire = []slo.SeverityName{sev}
		}
		for _, s := range []slo.SeverityName{page, ticket} {
			trips := false
			for _, w := range o.Tiers() {
				if w.Severity == s && alerts.Predict(o, w, e).Fires {
					trips = true
				}
			}
			if !trips && hasSeverity(o, s) {
				ex.MustNotFire = append(ex.MustNotFire, s)
			}
		}
		return ex, max(fastLong, roundUp(detect*5/4))
	}
	step := func(name, desc string, e float64, fault time.Duration, ex Expect) Scenario {
		return Scenario{Name: name, Description: desc, Source: "builtin", Expect: ex, Segments: []Segment{
			{Duration: warm},
			{Duration: fault, BadRatio: math.Min(e, 1), Fault: true},
			{Duration: cool},
		}}
	}
	derivedStep := func(name, desc string, e float64) Scenario {
		ex, fault := derived(e)
		return step(name, desc, e, fault, ex)
	}
	// A sustained burn at r× the budget rate; 6.6×, 3.3×, 2.2× and 1.1× sit 10% above
	// the default tiers' thresholds (6, 3, 1), 0.9× just below the lowest.
	burn := func(label string, r float64) Scenario {
		e := r * b
		sc := derivedStep("burn-"+label, fmt.Sprintf("a sustained burn at %g× the budget rate (%.4g%% bad)", r, e*100), e)
		if len(sc.Expect.MustFire) == 0 {
			sc.Segments[1].Duration = warm + warm/4
		}
		return sc
	}
	// A total outage must page: an SLO whose page cannot fire on one is broken.
	_, outageDetect, _ := firstToFire(1)
	out := []Scenario{
		step("total-outage", "every event fails", 1, max(fastLong, roundUp(outageDetect*5/4)), Expect{MustFire: []slo.SeverityName{page}}),
		derivedStep("errors-10pct", "10% of events fail", 0.1),
		burn("6x", 6.6),
		burn("3x", 3.3),
		burn("2x", 2.2),
		burn("1x", 1.1),
		burn("0.9x", 0.9),
	}
	must := func(s ...slo.SeverityName) []slo.SeverityName { return s }
	// Six 5-minute total outages, one every 10 minutes.
	// The maths for a step fault at the spikes' mean ratio (50%) over their hour sets
	// the expectation: the most severe severity it trips within the hour must fire.
	var spikeExpect Expect
	if sev, d, ok := firstToFire(0.5); ok && d <= time.Hour {
		spikeExpect.MustFire = must(sev)
	}
	spikes := Scenario{Name: "spikes", Description: "5-minute 100% error spikes every 10 minutes, six times", Source: "builtin",
		Expect: spikeExpect, Segments: []Segment{{Duration: warm}}}
	for i := 0; i < 6; i++ {
		spikes.Segments = append(spikes.Segments,
			Segment{Duration: 5 * time.Minute, BadRatio: 1, Fault: true},
			Segment{Duration: 5 * time.Minute, Fault: i < 5})
	}
	spikes.Segments = append(spikes.Segments, Segment{Duration: cool})
	// 10 events per hour; one failure inside one scrape interval.
	low := Scenario{Name: "low-traffic", Description: "10 events per hour with a single failure (report only: the Workbook's 1000× case)",
		Source: "builtin", Traffic: 10.0 / 3600, Segments: []Segment{
			{Duration: warm},
			{Duration: 30 * time.Second, Traffic: 1.0 / 30, BadRatio: 1, Fault: true},
			{Duration: cool},
		}}
	missing := Scenario{Name: "missing-data", Description: "scrapes fail for one fast-page window during clean traffic",
		Source: "builtin", Expect: Expect{MustNotFire: must(page, ticket)}, Segments: []Segment{
			{Duration: warm},
			{Duration: fastLong, Missing: true},
			{Duration: cool},
		}}
	latency := derivedStep("latency-degradation", "20% of requests slower than the threshold", 0.2)
	latency.LatencyOnly = true
	out = append(out, spikes, low, missing, latency)
	return out
}

func roundUp(d time.Duration) time.Duration {
	return (d + time.Minute - 1).Truncate(time.Minute)
}
