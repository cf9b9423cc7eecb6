package backtest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

func loadSLOs(t testing.TB, file string) map[string]slo.Objective {
	t.Helper()
	svcs, ds := slo.LoadFiles(file)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]slo.Objective{}
	for _, s := range svcs {
		for _, o := range s.Objectives {
			out[o.Name] = o
		}
	}
	return out
}

// TestSilentConditionsNowAlert replays the four ways the first generation of rules stayed
// silent (docs/rules.md, "Proof"): through rules v2 every must-fire alert fires. With the
// no-data alert disabled, the conditions it covers are silent again and the verdict names
// the reason.
func TestSilentConditionsNowAlert(t *testing.T) {
	short := shortlink(t)
	fix := loadSLOs(t, "testdata/silent-slos.yaml")
	cases := []struct {
		o        slo.Objective
		scenario string
		sev      slo.SeverityName
		reason   string // with the no-data alert disabled; "" when another alert fires
	}{
		{short["redirect-availability"], "gap-outage", slo.Page, ""},
		{fix["weekly-availability"], "coarse-scrape", slo.Page, ""},
		{fix["latency"], "between-buckets", NoData, `bucket missing: the histogram has no le="0.25" bucket (layout 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 2.5, 5, 10)`},
		{short["redirect-availability"], "missing-data", NoData, "series absent: every scrape failed for 1h from 3d"},
		{short["redirect-availability"], "series-absent", NoData, "series absent: the SLI's series were not exposed for 1h from 3d"},
		{short["redirect-availability"], "metric-renamed", NoData, "http_requests_total → http_requests_v2_total"},
	}
	if testing.Short() {
		cases = cases[:1]
	}
	for _, c := range cases {
		t.Run(c.o.Name+"/"+c.scenario, func(t *testing.T) {
			t.Parallel()
			if r := runBuiltin(t, c.o, c.scenario); len(r.Silent) != 0 || !r.Fired(c.sev) {
				t.Fatalf("silent = %+v, want %s to fire", r.Silent, c.sev)
			}
			if c.reason == "" {
				return
			}
			o := c.o
			o.Alerting.NoData.Disabled = true
			r := runBuiltin(t, o, c.scenario)
			if len(r.Silent) != 1 || r.Silent[0].Severity != c.sev {
				t.Fatalf("without the no-data alert: silent = %+v, want %s silent", r.Silent, c.sev)
			}
			if got := strings.Join(r.Silent[0].Reasons, "; "); !strings.Contains(got, c.reason) {
				t.Errorf("reasons = %s\nwant one containing %s", got, c.reason)
			}
		})
	}
}

// TestRealisticScrapesStillAlert replays the 10% fault under counter resets, lazily
// created series, several targets and jitter: the alerts behave as under a perfect scrape.
func TestRealisticScrapesStillAlert(t *testing.T) {
	o := shortlink(t)["redirect-availability"]
	names := []string{"counter-reset", "lazy-first-error", "multi-instance", "scrape-jitter"}
	if testing.Short() {
		names = names[:1]
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := runBuiltin(t, o, name)
			if len(r.Violations) > 0 {
				t.Errorf("violations: %v", r.Violations)
			}
			for _, tr := range r.Tiers {
				if tr.Mismatch != "" {
					t.Errorf("%s: %s", tierName(tr), tr.Mismatch)
				}
			}
		})
	}
}

func TestScrapeModel(t *testing.T) {
	o := shortlink(t)["redirect-availability"]
	sc := Scenario{Name: "m", Scrape: Scrape{Interval: time.Minute, Offset: 20 * time.Second, Instances: 2, Lazy: true},
		Segments: []Segment{{Duration: 3 * time.Minute}, {Duration: 2 * time.Minute, BadRatio: 1, Restart: true}, {Duration: 2 * time.Minute, Missing: true}, {Duration: time.Minute}}}
	in, err := inputFor(o, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range in {
		var b strings.Builder
		b.WriteString(s.labels.Get("code") + "/" + s.labels.Get("instance") + ":")
		for i, at := range s.ts {
			v := fmt.Sprint(s.vs[i])
			if math.IsNaN(s.vs[i]) {
				v = "stale"
			}
			fmt.Fprintf(&b, " %s=%s", fmtDur(at), v)
		}
		got = append(got, b.String())
	}
	// Target 0 at 20s+k·1m, target 1 at 50s+k·1m; 5 rps each; the restart at 3m resets
	// the counters, the error series appears with the first error; the gap from 5m to 7m
	// writes staleness markers and the counters keep counting through it.
	want := []string{
		"500/i-0: 3m20s=100 4m20s=400 5m20s=stale 7m20s=600",
		"200/i-0: 20s=100 1m20s=400 2m20s=700 3m20s=0 4m20s=0 5m20s=stale 7m20s=700",
		"500/i-1: 3m50s=250 4m50s=550 5m50s=stale 7m50s=600",
		"200/i-1: 50s=250 1m50s=550 2m50s=850 3m50s=0 4m50s=0 5m50s=stale 7m50s=850",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
