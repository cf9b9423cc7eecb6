package backtest

import (
	"fmt"
	"math"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// library sizes the built-in scenarios for one SLO.
type library struct {
	o slo.Objective
	// warm is the clean warm-up (the longest alert window), cool the clean tail (the
	// longest short window plus margin), fastLong the fastest tier's long window.
	warm, cool, fastLong time.Duration
}

func newLibrary(o slo.Objective) (library, bool) {
	l := library{o: o}
	var coolShort time.Duration
	for _, w := range o.Tiers() {
		l.warm = max(l.warm, w.Long)
		coolShort = max(coolShort, w.Short)
		if l.fastLong == 0 || w.Long < l.fastLong {
			l.fastLong = w.Long
		}
	}
	l.cool = coolShort + coolShort/10 + 2*time.Minute
	return l, l.warm > 0
}

// Builtin returns the built-in scenario library sized for o: each starts with a clean
// warm-up as long as o's longest alert window, so windows are full when the fault starts,
// and burn rates are multiples of o's error budget. Besides the Workbook's shapes under a
// perfect scrape, it replays the same faults under realistic scrapes (resets, lazily
// created series, several targets, jitter) and the four ways alerts stay silent (events in
// a scrape gap, coarse scrapes, a threshold between buckets, no data).
func Builtin(o slo.Objective) []Scenario {
	l, ok := newLibrary(o)
	if !ok {
		return nil
	}
	out := []Scenario{
		l.totalOutage(),
		l.derivedStep("errors-10pct", "10% of events fail", 0.1),
		// 6.6×, 3.3×, 2.2× and 1.1× sit 10% above the default tiers' thresholds (6, 3,
		// 1), 0.9× just below the lowest.
		l.burn("6x", 6.6), l.burn("3x", 3.3), l.burn("2x", 2.2), l.burn("1x", 1.1), l.burn("0.9x", 0.9),
		l.spikes(), l.lowTraffic(),
	}
	latency := l.derivedStep("latency-degradation", "20% of requests slower than the threshold", 0.2)
	latency.LatencyOnly = true
	out = append(out, latency)
	out = append(out, l.realistic()...)
	return append(out, l.silent()...)
}

// firstToFire is the most severe severity the maths says a step fault of ratio e trips,
// and how long until its fastest tier does.
func (l library) firstToFire(e float64) (slo.SeverityName, time.Duration, bool) {
	for _, sev := range []slo.SeverityName{slo.Page, slo.Ticket} {
		var fastest time.Duration
		for _, w := range l.o.Tiers() {
			if p := alerts.Predict(l.o, w, e); w.Severity == sev && p.Fires && (fastest == 0 || p.Detect < fastest) {
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
// the most severe severity it trips must fire; severities it cannot trip must not. It
// also returns how long the fault lasts: 1.25× the predicted detection.
func (l library) derived(e float64) (Expect, time.Duration) {
	var ex Expect
	sev, detect, ok := l.firstToFire(e)
	if ok {
		ex.MustFire = []slo.SeverityName{sev}
	}
	for _, s := range []slo.SeverityName{slo.Page, slo.Ticket} {
		trips := false
		for _, w := range l.o.Tiers() {
			if w.Severity == s && alerts.Predict(l.o, w, e).Fires {
				trips = true
			}
		}
		if !trips && hasSeverity(l.o, s) {
			ex.MustNotFire = append(ex.MustNotFire, s)
		}
	}
	return ex, max(l.fastLong, roundUp(detect*5/4))
}

func (l library) step(name, desc string, e float64, fault time.Duration, ex Expect) Scenario {
	return Scenario{Name: name, Description: desc, Source: "builtin", Expect: ex, Segments: []Segment{
		{Duration: l.warm},
		{Duration: fault, BadRatio: math.Min(e, 1), Fault: true},
		{Duration: l.cool},
	}}
}

func (l library) derivedStep(name, desc string, e float64) Scenario {
	ex, fault := l.derived(e)
	return l.step(name, desc, e, fault, ex)
}

// totalOutage must page: an SLO whose page cannot fire on a total outage is broken.
func (l library) totalOutage() Scenario {
	_, detect, _ := l.firstToFire(1)
	return l.step("total-outage", "every event fails", 1, max(l.fastLong, roundUp(detect*5/4)), Expect{MustFire: sevs(slo.Page)})
}

// burn is a sustained burn at r× the budget rate.
func (l library) burn(label string, r float64) Scenario {
	e := r * l.o.ErrorBudget()
	sc := l.derivedStep("burn-"+label, fmt.Sprintf("a sustained burn at %g× the budget rate (%.4g%% bad)", r, e*100), e)
	if len(sc.Expect.MustFire) == 0 {
		sc.Segments[1].Duration = l.warm + l.warm/4
	}
	return sc
}

// spikes are six 5-minute total outages, one every 10 minutes. The maths for a step
// fault at their mean ratio (50%) over their hour sets the expectation: the most severe
// severity it trips within the hour must fire.
func (l library) spikes() Scenario {
	var ex Expect
	if sev, d, ok := l.firstToFire(0.5); ok && d <= time.Hour {
		ex.MustFire = sevs(sev)
	}
	sc := Scenario{Name: "spikes", Description: "5-minute 100% error spikes every 10 minutes, six times", Source: "builtin",
		Expect: ex, Segments: []Segment{{Duration: l.warm}}}
	for i := 0; i < 6; i++ {
		sc.Segments = append(sc.Segments,
			Segment{Duration: 5 * time.Minute, BadRatio: 1, Fault: true},
			Segment{Duration: 5 * time.Minute, Fault: i < 5})
	}
	sc.Segments = append(sc.Segments, Segment{Duration: l.cool})
	return sc
}

// lowTraffic is 10 events per hour with one failure inside one scrape interval.
func (l library) lowTraffic() Scenario {
	return Scenario{Name: "low-traffic", Description: "10 events per hour with a single failure (report only: the Workbook's 1000× case)",
		Source: "builtin", Traffic: 10.0 / 3600, Segments: []Segment{
			{Duration: l.warm},
			{Duration: 30 * time.Second, Traffic: 1.0 / 30, BadRatio: 1, Fault: true},
			{Duration: l.cool},
		}}
}

func sevs(s ...slo.SeverityName) []slo.SeverityName { return s }

func hasSeverity(o slo.Objective, sev slo.SeverityName) bool { return len(o.TiersOf(sev)) > 0 }

func roundUp(d time.Duration) time.Duration {
	return (d + time.Minute - 1).Truncate(time.Minute)
}
