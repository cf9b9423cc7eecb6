package alerts_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/slo"
)

// TestDerivedWindowsAreTrafficWeighted evaluates the generated rules with the Prometheus
// PromQL engine over traffic that varies a hundredfold: a busy hour at 2% errors among
// quiet hours at 10%. The derived long windows must report bad events over all events
// (what a raw rate() over the window reports), within the documented edge smear of one
// 5m window — not the average of 5-minute ratios, which is off by a factor of three here.
func TestDerivedWindowsAreTrafficWeighted(t *testing.T) {
	o := goodObjective()
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The group's interval (the objective's evaluation interval) is what the derived
	// windows' floor assumes.
	e := engine.New(engine.Options{Interval: o.Evaluation()})
	if err := e.LoadGroups([]slo.RuleGroup{g}); err != nil {
		t.Fatal(err)
	}
	type phase struct {
		until     time.Duration
		rps, errs float64
	}
	phases := []phase{{2 * time.Hour, 10, 0}, {3 * time.Hour, 1000, 0.02}, {8 * time.Hour, 10, 0.10}}
	good := labels.FromStrings("__name__", "http_requests_total", "job", "shop", "handler", "/checkout", "code", "200")
	bad := labels.FromStrings("__name__", "http_requests_total", "job", "shop", "handler", "/checkout", "code", "500")
	start := time.Unix(1_700_000_000, 0).UTC()
	end := start.Add(8 * time.Hour)
	var nGood, nBad float64
	for at := time.Duration(0); at <= 8*time.Hour; at += time.Minute {
		if at > 0 {
			p := phases[0]
			for _, ph := range phases {
				if at <= ph.until {
					p = ph
					break
				}
			}
			n := p.rps * 60
			nGood += n * (1 - p.errs)
			nBad += n * p.errs
		}
		if err := e.Append(good, start.Add(at), nGood); err != nil {
			t.Fatal(err)
		}
		if err := e.Append(bad, start.Add(at), nBad); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := e.Run(ctx, start, end); err != nil {
		t.Fatal(err)
	}
	query := func(q string) float64 {
		t.Helper()
		v, _, err := e.Query(ctx, q, end)
		if err != nil {
			t.Fatal(err)
		}
		vec, ok := v.(promql.Vector)
		if !ok || len(vec) != 1 {
			t.Fatalf("%s: got %v, want one sample", q, v)
		}
		return vec[0].F
	}
	ratio := func(w time.Duration) float64 {
		return query(slo.SeriesSelector(o, slo.MetricBurnRate, w)) * o.ErrorBudget()
	}
	// Over the last 6h: 3.6M requests at 2% and 180k at 10% → 90k / 3.78M = 2.38%.
	const exact = 90000.0 / 3780000
	base := ratio(6 * time.Hour)
	avgOfRatios := query(`avg_over_time((` + slo.SeriesSelector(o, slo.MetricBurnRate, 5*time.Minute) + `)[6h:1m]) * ` + slo.PromNumber(o.ErrorBudget()))
	t.Logf("6h error ratio: exact %.5f, slokit (raw, recorded base) %.5f, average of 5m ratios %.5f", exact, base, avgOfRatios)
	if math.Abs(base-exact)/exact > 0.02 {
		t.Errorf("6h ratio %.5f, want the traffic-weighted %.5f within 2%%", base, exact)
	}
	if math.Abs(avgOfRatios-exact)/exact < 1 {
		t.Errorf("average of ratios %.5f is close to %.5f: the scenario no longer tells the two apart", avgOfRatios, exact)
	}
	// The derived 1d window covers all 8h: 0.4M requests at 0% (2h), 3.6M at 2%, 180k at 10%.
	const exact1d = 90000.0 / 3852000
	derived := ratio(24 * time.Hour)
	t.Logf("1d error ratio: exact %.5f, slokit derived %.5f", exact1d, derived)
	if math.Abs(derived-exact1d)/exact1d > 0.15 {
		t.Errorf("derived 1d ratio %.5f, want the traffic-weighted %.5f within the documented smear (15%% here)", derived, exact1d)
	}
	// The short windows are exact: the last hour was 10% errors throughout.
	if r := ratio(time.Hour); math.Abs(r-0.1) > 1e-9 {
		t.Errorf("1h ratio %.6f, want 0.1", r)
	}
}
