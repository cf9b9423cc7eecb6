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

// Windows returns the tiers in force for o: its override when set, else DefaultWindows.
func (o Objective) Windows() []Window {
	if len(o.Alerting.Windows) > 0 {
		return o.Alerting.Windows
	}
	return DefaultWindows(o.Period)
}

// RatioWindows returns every distinct window over which o's error ratio is recorded:
// each tier's long and short windows plus the period, sorted ascending.
func (o Objective) RatioWindows() []time.Duration {
	seen := map[time.Duration]bool{o.Period: true}
	for _, w := range o.Windows() {
		seen[w.Long] = true
		seen[w.Short] = true
	}
	out := make([]time.Duration, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
