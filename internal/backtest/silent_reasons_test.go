package backtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

// TestSilentReasonsNamed gives the backtester rules that stay silent for the two reasons
// rules v2 no longer shows on the built-in scenarios, and checks that the verdict is
// SILENT with that reason: a page over windows summed from 5-minute recorded rates under
// gap-outage ("events lost in a gap"), and rules v2's page tiers of a 7-day SLO under a
// total outage scraped every 10 minutes, longer than both page tiers' short windows
// ("too few samples in window").
func TestSilentReasonsNamed(t *testing.T) {
	anchor := loadSLOs(t, "testdata/anchors/slokit.yaml")["availability"]
	summed, err := LoadRules("testdata/silent-rules/summed-windows.yaml")
	if err != nil {
		t.Fatal(err)
	}
	weekly := loadSLOs(t, "testdata/silent-slos.yaml")["weekly-availability"]
	coarse := Scenario{Name: "scraped-every-10m", Scrape: Scrape{Interval: 10 * time.Minute, Offset: 3 * time.Minute},
		Segments: []Segment{{Duration: 17 * time.Hour}, {Duration: time.Hour, BadRatio: 1, Fault: true}, {Duration: time.Hour}},
		Expect:   Expect{MustFire: []slo.SeverityName{slo.Page}}}
	cases := []struct {
		name    string
		o       slo.Objective
		sel     Selection
		foreign bool
		reason  string
	}{
		{"gap-outage/summed-windows", anchor, Selection{Builtins: []string{"gap-outage"}, Rules: summed}, true,
			"events lost in a gap: 9000 bad events (34.7% of the budget) happened during a 20m scrape gap"},
		{"coarse-scrape/weekly", weekly, Selection{Scenarios: []Scenario{coarse}}, false,
			"too few samples in window: the 7m window held fewer than two scrapes at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			jobs, _, err := Plan([]*slo.Service{{Name: c.o.Service, Objectives: []slo.Objective{c.o}}}, c.sel)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := RunAll(context.Background(), jobs, Options{ForeignRules: c.foreign}, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			r := rs[0]
			if len(r.Silent) != 1 || r.Silent[0].Severity != slo.Page {
				t.Fatalf("silent = %+v, want the page silent (violations %v)", r.Silent, r.Violations)
			}
			got := strings.Join(r.Silent[0].Reasons, "; ")
			if !strings.Contains(got, c.reason) {
				t.Errorf("reasons = %s\nwant one containing %s", got, c.reason)
			}
			t.Logf("SILENT page: %s", got)
		})
	}
}
