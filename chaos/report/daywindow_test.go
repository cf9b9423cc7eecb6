package report

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/slo"
)

// A spec whose page tier watches 1d12h: a window Prometheus writes with two units.
const dayAndHalfSpec = `version: slokit/v1
service: shortlink
slos:
  - name: redirect-availability
    objective: 99.9
    period: 30d
    sli:
      events:
        bad: http_requests_total{code=~"5.."}
        total: http_requests_total
    alerting:
      name: ShortlinkRedirectAvailability
      windows:
        - {severity: page, long: 1d12h, short: 3h, burnRate: 14.4}
        - {severity: ticket, long: 3d, short: 6h, burnRate: 1}
`

const dayAndHalfGameDay = `name: day-and-half
slo: {file: slos.yaml, name: redirect-availability}
signals: {prometheus: "http://127.0.0.1:9090", pollInterval: 1m, tolerance: 2m}
fault: {backend: sim}
expectedErrorRatio: 0.5
steadyState: {window: 1d12h}
expect:
  - {severity: page, window: 1d12h}
recovery: {window: 3h}
guardrails: {maxBudget: 100%}   # a 14.4x tier over 1d12h spends 72% of the budget by design
`

// TestDayAndHalfWindowEndToEnd runs a game day whose tier's long window is 1d12h
// through the real planner and runner, on simulated time with signals computed
// exactly from the fault's span, and renders its report: the window is a duration
// from the game-day file to the runner and becomes "1d12h" only in the result's JSON,
// the progress and the report, which order it between 3h and 3d.
func TestDayAndHalfWindowEndToEnd(t *testing.T) {
	svc, ds := slo.Parse("slos.yaml", []byte(dayAndHalfSpec))
	if len(ds.Errors()) > 0 {
		t.Fatal(ds)
	}
	o := svc.Objectives[0]
	g, ds := chaos.Parse("gd.yaml", []byte(dayAndHalfGameDay), nil)
	if g == nil {
		t.Fatal(ds)
	}
	p, ds := chaos.Prepare(g, o, 0)
	if p == nil {
		t.Fatal(ds)
	}
	if p.SteadyState.Window != 36*time.Hour || p.Expect[0].Tiers[0].Long != 36*time.Hour {
		t.Fatalf("plan: steady-state window %v, tier %v; want 36h", p.SteadyState.Window, p.Expect[0].Tiers[0])
	}
	sim := &simulation{clock: &stepClock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, o: o, e: 0.5}
	var events []string
	r := &chaos.Runner{Plan: p, Injector: sim, Signals: sim, Clock: sim.clock, Run: chaos.Run{ID: "r1", GameDay: g.Name},
		Progress: func(pr chaos.Progress) {
			if pr.Event != "" {
				events = append(events, pr.Event)
			}
		}}
	res, err := r.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != chaos.Pass {
		t.Fatalf("outcome %s: %v", res.Outcome, res.Reasons)
	}
	if e := res.Expectations[0]; e.FiredTier != "page/1d12h" || !e.Met || strings.Join(e.Tiers, ",") != "page/1d12h" {
		t.Errorf("expectation %+v, want page/1d12h met", e)
	}
	if res.SteadyState.Window != "1d12h" || res.Tiers[0].Long != "1d12h" {
		t.Errorf("steady-state window %q, first tier %+v", res.SteadyState.Window, res.Tiers[0])
	}
	if !strings.Contains(strings.Join(events, "\n"), "page/1d12h firing") {
		t.Errorf("progress events lack page/1d12h firing: %q", events)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"1d12h":`)) || !bytes.Contains(js, []byte(`"window":"1d12h"`)) {
		t.Error("JSON result lacks the 1d12h burn rates or alert window")
	}
	var buf bytes.Buffer
	if err := Write(&buf, res, Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"page/1d12h fired after", `>page/1d12h firing</text>`} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	var names []string
	for _, m := range regexp.MustCompile(`data-name="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		names = append(names, m[1])
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "3h 6h 1d12h 3d") {
		t.Errorf("burn-rate series %q, want them ordered 3h 6h 1d12h 3d", got)
	}
}

// stepClock is simulated time: Sleep moves it on.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

// simulation is a fault of error ratio e held from inject to remove, with the burn rate
// over each window computed exactly from how much of the window the fault covers, and a
// tier firing while both of its windows burn above its rate.
type simulation struct {
	clock          *stepClock
	o              slo.Objective
	e              float64
	inject, remove time.Time
}

func (s *simulation) Inject(context.Context) error { s.inject = s.clock.now; return nil }

func (s *simulation) Remove(context.Context) error {
	if !s.inject.IsZero() && s.remove.IsZero() {
		s.remove = s.clock.now
	}
	return nil
}

func (s *simulation) burn(w time.Duration) float64 {
	if s.inject.IsZero() {
		return 0
	}
	now := s.clock.now
	end := now
	if !s.remove.IsZero() {
		end = s.remove
	}
	from := s.inject
	if start := now.Add(-w); start.After(from) {
		from = start
	}
	covered := end.Sub(from)
	return max(0, covered.Seconds()/w.Seconds()) * s.e / s.o.ErrorBudget()
}

func (s *simulation) BurnRates(context.Context, slo.Objective) (map[time.Duration]float64, error) {
	out := map[time.Duration]float64{}
	for _, w := range s.o.RatioWindows() {
		out[w] = s.burn(w)
	}
	return out, nil
}

func (s *simulation) Alerts(context.Context, slo.Objective) ([]chaos.AlertState, error) {
	var out []chaos.AlertState
	for _, w := range s.o.Tiers() {
		if s.burn(w.Long) > w.BurnRate && s.burn(w.Short) > w.BurnRate {
			out = append(out, chaos.AlertState{Name: s.o.AlertName(), Severity: w.Severity, Window: w.Long, State: "firing"})
		}
	}
	return out, nil
}
