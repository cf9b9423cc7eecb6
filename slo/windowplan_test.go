package slo

import (
	"strings"
	"testing"
	"time"
)

// TestWindowPlan pins where every burn window is computed (fast group, long group from the
// raw counters, from the recorded base rates, derived) and the lag the fast group's
// alerts see on each page tier, for the default tiers, custom tiers, short periods, raw
// SLIs, disabled severities, one group (evaluation ≥ 2m30s) and global objectives.
func TestWindowPlan(t *testing.T) {
	day := 24 * time.Hour
	raw := func(o Objective) Objective {
		o.SLI = SLI{Raw: &RawSLI{ErrorRatio: `1 - avg_over_time(up[{{.window}}])`}}
		return o
	}
	for _, tc := range []struct {
		name string
		o    Objective
		want string // fast windows | long windows with their sources ; page tier lags
	}{
		{"default 30d", eventsObjective(30 * day),
			"5m 30m 1h | 2h:long-raw 6h:base-rates 1d:derived 3d:derived ; page/1h:0s page/6h:2m30s"},
		{"default 7d", eventsObjective(7 * day),
			"2m 7m 14m 1h24m | 28m:long-raw 5h36m:base-rates 16h48m:derived ; page/14m:0s page/1h24m:0s"},
		// 1d: every window under 6h, the longest (the ticket tier's 2h24m) is the base.
		{"short period 1d", eventsObjective(day),
			"2m 12m | 4m:long-raw 48m:long-raw 2h24m:base-rates ; page/2m:0s page/12m:0s"},
		{"custom tiers", func() Objective {
			o := eventsObjective(30 * day)
			o.Alerting.Windows = []Window{{Page, 2 * time.Hour, 10 * time.Minute, 10}, {Ticket, day, time.Hour, 2}}
			return o
		}(), "10m | 1h:long-raw 2h:base-rates 1d:derived ; page/2h:2m30s"},
		{"page disabled", func() Objective {
			o := eventsObjective(30 * day)
			o.Alerting.Page.Disabled = true
			return o
		}(), "| 5m:long-raw 30m:long-raw 1h:long-raw 2h:long-raw 6h:base-rates 1d:derived 3d:derived ;"},
		{"one group (evaluation 2m30s)", func() Objective {
			o := eventsObjective(30 * day)
			o.ScrapeInterval = time.Minute
			o.EvaluationInterval = 150 * time.Second
			return o
		}(), "5m 30m 1h | 2h:long-raw 6h:base-rates 1d:derived 3d:derived ; page/1h:0s page/6h:0s"},
		{"raw SLI", raw(eventsObjective(30 * day)),
			"5m 30m 1h 6h | 2h:long-raw 1d:long-raw 3d:long-raw ; page/1h:0s page/6h:0s"},
		{"raw SLI, page disabled: the no-data window stays fast", func() Objective {
			o := raw(eventsObjective(30 * day))
			o.Alerting.Page.Disabled = true
			return o
		}(), "5m | 30m:long-raw 1h:long-raw 2h:long-raw 6h:long-raw 1d:long-raw 3d:long-raw ;"},
		{"global", func() Objective {
			o := eventsObjective(30 * day)
			o.Scope.Global = true
			return o
		}(), "5m 30m 1h 2h 6h | 1d:derived 3d:derived ; page/1h:0s page/6h:0s"},
	} {
		p := tc.o.WindowPlan()
		var got []string
		for _, w := range p.Fast {
			if p.Source[w] != FastRaw {
				t.Errorf("%s: fast window %s is %s", tc.name, FormatWindow(w), p.Source[w])
			}
			got = append(got, FormatWindow(w))
		}
		got = append(got, "|")
		for _, w := range p.Long {
			got = append(got, FormatWindow(w)+":"+strings.ReplaceAll(p.Source[w].String(), " ", "-"))
		}
		got = append(got, ";")
		for _, w := range tc.o.TiersOf(Page) {
			got = append(got, w.Name()+":"+max(tc.o.WindowLag(w.Long), tc.o.WindowLag(w.Short)).String())
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, g, tc.want)
		}
		if n := len(p.Fast) + len(p.Long); n != len(tc.o.BurnWindows()) {
			t.Errorf("%s: %d windows planned, want %d", tc.name, n, len(tc.o.BurnWindows()))
		}
	}
}
