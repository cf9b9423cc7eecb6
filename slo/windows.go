package slo

import (
	"sort"
	"time"
)

// SeverityName is the class of an alert tier: a page wakes someone, a ticket waits for
// working hours.
type SeverityName string

// The two severities slokit generates.
const (
	Page   SeverityName = "page"
	Ticket SeverityName = "ticket"
)

// Window is one tier of the multiwindow multi-burn-rate alerts: the condition fires when
// the error ratio over both Long and Short exceeds BurnRate × error budget.
type Window struct {
	Severity SeverityName
	Long     time.Duration
	Short    time.Duration
	BurnRate float64
}

// BasePeriod is the period the Workbook's tier table is written for.
const BasePeriod = 30 * 24 * time.Hour

// DefaultWindows returns the Google SRE Workbook tiers for period, each window scaled by
// period/30d and rounded to the second: page 14.4× over 1h/5m and 6× over 6h/30m, ticket
// 3× over 1d/2h and 1× over 3d/6h. Tiers are ordered fastest first.
func DefaultWindows(period time.Duration) []Window {
	base := []Window{
		{Page, time.Hour, 5 * time.Minute, 14.4},
		{Page, 6 * time.Hour, 30 * time.Minute, 6},
		{Ticket, 24 * time.Hour, 2 * time.Hour, 3},
		{Ticket, 72 * time.Hour, 6 * time.Hour, 1},
	}
	out := make([]Window, len(base))
	for i, w := range base {
		out[i] = Window{w.Severity, ScaleWindow(w.Long, period), ScaleWindow(w.Short, period), w.BurnRate}
	}
	return out
}

// ScaleWindow scales a window written for a 30d period to period, rounded to the
// second and never below one second.
func ScaleWindow(w, period time.Duration) time.Duration {
	scaled := time.Duration(float64(w) * float64(period) / float64(BasePeriod)).Round(time.Second)
	if scaled < time.Second {
		scaled = time.Second
	}
	return scaled
}

// DefaultScrapeInterval is the scrape interval assumed when a spec gives none.
const DefaultScrapeInterval = 30 * time.Second

// MinScrapesPerWindow is how many scrape intervals every generated rate() window spans at
// least: rate() needs two samples in its window, and with a scrape out of phase with the
// rule evaluation a window of fewer than four scrapes is often empty.
const MinScrapesPerWindow = 4

// RawWindowLimit is the longest window read from the raw counters at every evaluation.
// Longer windows are derived from the recorded rates over the base window (BaseWindow).
const RawWindowLimit = 6 * time.Hour

// Scrape is o's scrape interval: ScrapeInterval, else DefaultScrapeInterval.
func (o Objective) Scrape() time.Duration {
	if o.ScrapeInterval > 0 {
		return o.ScrapeInterval
	}
	return DefaultScrapeInterval
}

// Evaluation is the interval of o's rule group: EvaluationInterval, else Scrape.
func (o Objective) Evaluation() time.Duration {
	if o.EvaluationInterval > 0 {
		return o.EvaluationInterval
	}
	return o.Scrape()
}

// LongGroupMaxInterval bounds the interval of the long-window rule group: below
// Prometheus' 5m lookback, so that the alerts, evaluated more often, always find the
// latest long-window burn rates (Pyrra evaluates its period window every 2m30s too).
const LongGroupMaxInterval = 150 * time.Second

// LongGroupFactor is how many evaluation intervals the long-window group waits between
// evaluations, at most (see LongEvaluation).
const LongGroupFactor = 5

// LongEvaluation is the interval of the group holding o's long windows (the base-window
// rates, the windows derived from them and the period's budget): LongGroupFactor
// evaluation intervals, reduced to a multiple of the evaluation interval no longer than
// LongGroupMaxInterval, and never below one evaluation interval. 2m30s for the default 30s.
func (o Objective) LongEvaluation() time.Duration {
	ev := o.Evaluation()
	k := min(LongGroupFactor, int(LongGroupMaxInterval/ev))
	return ev * time.Duration(max(k, 1))
}

// LongGroupLag is what evaluating o's long rules and ticket alert in their own group adds
// to their detection and reset: one LongEvaluation, or nothing when it equals the
// evaluation interval (then one group holds every rule) and for a global objective (one
// group per SLO on Thanos Ruler).
func (o Objective) LongGroupLag() time.Duration {
	if l := o.LongEvaluation(); l > o.Evaluation() && !o.IsGlobal() {
		return l
	}
	return 0
}

// MinWindow is the shortest rate() window o may use: MinScrapesPerWindow scrapes.
func (o Objective) MinWindow() time.Duration { return MinScrapesPerWindow * o.Scrape() }

// Windows returns the tiers in force for o: its override when set, else DefaultWindows,
// made safe for o's scrape interval (SafeWindows). A slokit/v1 override too short for
// the scrape interval is refused by validation; imported tiers (Pyrra's, OpenSLO alert
// policies) are raised.
func (o Objective) Windows() []Window {
	if len(o.Alerting.Windows) > 0 {
		return SafeWindows(o.Alerting.Windows, o.MinWindow())
	}
	return SafeWindows(DefaultWindows(o.Period), o.MinWindow())
}

// SafeWindows raises every window shorter than floor to floor, so that none is too short
// to hold samples. A long window raised from L to L' gets its burn rate scaled by L/L', so
// that the tier still fires after spending the same share of the budget (B·L/P); a short
// window raised only confirms the burn over a longer stretch.
func SafeWindows(ws []Window, floor time.Duration) []Window {
	out := make([]Window, len(ws))
	for i, w := range ws {
		if w.Long < floor {
			w.BurnRate *= float64(w.Long) / float64(floor)
			w.Long = floor
		}
		if w.Short < floor {
			w.Short = floor
		}
		if w.Short > w.Long {
			w.Short = w.Long
		}
		out[i] = w
	}
	return out
}

// BurnWindows returns every distinct window of o's tiers, sorted ascending: the windows
// MetricBurnRate is recorded over.
func (o Objective) BurnWindows() []time.Duration {
	seen := map[time.Duration]bool{}
	for _, w := range o.Windows() {
		seen[w.Long] = true
		seen[w.Short] = true
	}
	return sortedWindows(seen)
}

// RatioWindows returns BurnWindows plus the period, sorted ascending: every window over
// which o's error ratio is known (the period's through MetricBudgetRemaining).
func (o Objective) RatioWindows() []time.Duration {
	seen := map[time.Duration]bool{o.Period: true}
	for _, w := range o.BurnWindows() {
		seen[w] = true
	}
	return sortedWindows(seen)
}

// BaseWindow is the longest burn window read from the raw counters: the longest of
// BurnWindows up to RawWindowLimit (the shortest burn window when all are longer). Windows
// above it, and the period, are derived from the rates recorded over it.
func (o Objective) BaseWindow() time.Duration {
	ws := o.BurnWindows()
	base := ws[0]
	for _, w := range ws {
		if w <= RawWindowLimit {
			base = w
		}
	}
	return base
}

func sortedWindows(seen map[time.Duration]bool) []time.Duration {
	out := make([]time.Duration, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// WindowSource is how, and in which rule group, the burn rate over one window is computed
// (Objective.WindowSourceOf; docs/rules.md, "Which windows are computed where").
type WindowSource int

// The four ways a burn window is computed.
const (
	// FastRaw: read from the raw counters in the fast group, at every evaluation (the
	// windows the page and no-data alerts read, shorter than the base window).
	FastRaw WindowSource = iota
	// LongRaw: read from the raw counters in the long group, every LongEvaluation (the
	// windows only the ticket alert reads).
	LongRaw
	// BaseRates: the base window, the recorded bad rate over it divided by the recorded
	// total rate, in the long group right after it records them.
	BaseRates
	// Derived: longer than the base window, summed from the recorded base rates in the
	// long group.
	Derived
)

// String names s: "fast raw", "long raw", "base rates" or "derived".
func (s WindowSource) String() string {
	switch s {
	case LongRaw:
		return "long raw"
	case BaseRates:
		return "base rates"
	case Derived:
		return "derived"
	}
	return "fast raw"
}

// WindowPlan lists o's burn windows by the group that computes them (RecordingRuleSets).
type WindowPlan struct {
	// Fast are the windows computed in the fast group (all FastRaw), ascending.
	Fast []time.Duration
	// Long are the windows computed in the long group (LongRaw, BaseRates, Derived),
	// ascending.
	Long []time.Duration
	// Base is BaseWindow. Rates reports whether the long group records the bad and total
	// rates over it: events and latency SLIs whose period is longer than the base window.
	Base  time.Duration
	Rates bool
	// Source is how each window is computed.
	Source map[time.Duration]WindowSource
}

// WindowPlan says where each of o's burn windows is computed:
//
//   - a window longer than the base window is derived from the recorded base rates
//     (Derived; raw SLIs, which record no rates, read their template over it: LongRaw);
//   - the base window's burn rate divides the recorded base rates (BaseRates) when they
//     are recorded;
//   - a shorter window (or the base window without recorded rates) is read from the raw
//     counters in the fast group when an enabled page tier reads it (or, for a raw SLI,
//     when it is the shortest window, which the no-data alert watches): FastRaw; else in
//     the long group, where only the ticket alert reads it: LongRaw.
//
// A global objective (one group per SLO on Thanos Ruler) reads every window up to the base
// raw (FastRaw) and derives the longer ones.
func (o Objective) WindowPlan() WindowPlan {
	base := o.BaseWindow()
	p := WindowPlan{Base: base, Rates: o.SLI.Raw == nil && o.Period > base, Source: map[time.Duration]WindowSource{}}
	ws := o.BurnWindows()
	fast := map[time.Duration]bool{}
	for _, t := range o.TiersOf(Page) {
		fast[t.Long], fast[t.Short] = true, true
	}
	if o.SLI.Raw != nil && !o.Alerting.NoData.Disabled {
		fast[ws[0]] = true
	}
	for _, w := range ws {
		var s WindowSource
		switch {
		case w > base && p.Rates:
			s = Derived
		case w > base:
			s = LongRaw
		case o.IsGlobal():
			s = FastRaw
		case w == base && p.Rates:
			s = BaseRates
		case fast[w]:
			s = FastRaw
		default:
			s = LongRaw
		}
		p.Source[w] = s
		if s == FastRaw {
			p.Fast = append(p.Fast, w)
		} else {
			p.Long = append(p.Long, w)
		}
	}
	return p
}

// WindowSourceOf is how the burn rate over w, one of BurnWindows, is computed (WindowPlan).
func (o Objective) WindowSourceOf(w time.Duration) WindowSource { return o.WindowPlan().Source[w] }

// WindowLag is how old the burn rate over w can be when the fast group's alerts read it,
// beside the scrape and evaluation intervals: LongGroupLag for a window computed in the
// long group, nothing for one computed in the fast group.
func (o Objective) WindowLag(w time.Duration) time.Duration {
	if o.WindowSourceOf(w) == FastRaw {
		return 0
	}
	return o.LongGroupLag()
}
