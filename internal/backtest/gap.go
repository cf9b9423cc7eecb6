package backtest

import (
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

// gapFault returns the shape predictGap covers: one fault of constant ratio e lasting d
// that starts with a scrape gap of g ≥ d (every scrape fails, the counters keep
// counting), under constant traffic, the rest seen cleanly.
func (s Scenario) gapFault() (e float64, d, g time.Duration, ok bool) {
	fs, fe, has := s.FaultWindow()
	gaps := s.spans(func(x Segment) bool { return x.Missing })
	if !has || len(gaps) != 1 || gaps[0].From != fs || gaps[0].To < fe {
		return 0, 0, 0, false
	}
	tr := s.traffic(s.Segments[0])
	for _, x := range s.Segments {
		switch {
		case x.Restart || x.Absent || x.Renamed || s.traffic(x) != tr:
			return 0, 0, 0, false
		case x.Fault && e == 0:
			e = x.BadRatio
		case x.Fault && x.BadRatio != e, !x.Fault && x.BadRatio != 0:
			return 0, 0, 0, false
		}
	}
	return e, fe - fs, gaps[0].To - fs, e > 0
}

// predictGap is what tier w does under a fault of ratio e lasting d at the start of a
// scrape gap of g: the counters carry the fault's events, and a window sees them at the
// first scrape after the gap, as one jump from the last scrape before it. A window holds
// that last scrape only when it is longer than the gap plus one scrape interval, so a
// short window shorter than that never sees the fault (it is over when data returns).
// Otherwise the tier fires at the first evaluation after the gap when both windows,
// counting the fault's e·d of events against their whole length, burn above its
// threshold; later evaluations only lose the jump. There is no reset prediction: the
// tier fires after the fault ended.
func predictGap(o slo.Objective, w slo.Window, e float64, d, g, scrape time.Duration) alerts.Prediction {
	th := w.BurnRate * o.ErrorBudget()
	p := alerts.Prediction{Window: w, ErrorRatio: e, Threshold: th}
	bad := e * d.Seconds()
	p.Fires = w.Short > g+scrape && bad/w.Short.Seconds() > th && bad/w.Long.Seconds() > th
	if p.Fires {
		p.Detect = g
		p.BudgetAtDetect = bad / (o.ErrorBudget() * o.Period.Seconds())
	}
	return p
}

// gapOutage is a total outage hidden in a scrape gap (a Prometheus restart during the
// incident). It is sized on the page tier with the longest short window: the gap lasts
// two thirds of that window and the outage its first three quarters, or, when the
// tier's long window needs a longer outage to trip (low objectives), the outage lasts
// 1.1× the tier's predicted detection and the gap grows up to four scrapes below the
// short window. The counters carry every failed event once scraping resumes. The most
// severe severity predictGap says trips (with 5% of margin) must fire; none is report
// only.
func (l library) gapOutage() Scenario {
	slow := l.o.Tiers()[0]
	for _, w := range l.o.Tiers() {
		if w.Severity == slo.Page && (slow.Severity != slo.Page || w.Short > slow.Short) {
			slow = w
		}
	}
	scrape := l.o.Scrape()
	gap := (slow.Short * 2 / 3).Round(time.Second)
	outage := gap * 3 / 4
	if need := roundUp(alerts.Predict(l.o, slow, 1).Detect * 11 / 10); need > outage {
		if g := min(max(gap, need*4/3), slow.Short-4*scrape); need <= g {
			gap, outage = g, need
		}
	}
	var ex Expect
	for _, sev := range []slo.SeverityName{slo.Page, slo.Ticket} {
		for _, w := range l.o.TiersOf(sev) {
			if p := predictGap(l.o, w, 1/1.05, outage, gap+scrape, scrape); p.Fires && len(ex.MustFire) == 0 {
				ex.MustFire = sevs(sev)
			}
		}
	}
	return Scenario{Name: "gap-outage", Source: "builtin", Expect: ex,
		Description: "a total outage inside a scrape gap: every scrape fails while every event fails, the counters carry them",
		Segments: []Segment{
			{Duration: l.warm},
			{Duration: outage, BadRatio: 1, Fault: true, Missing: true},
			{Duration: gap - outage, Missing: true},
			{Duration: l.cool},
		}}
}
