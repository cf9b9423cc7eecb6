package chaos

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

// breakerWorld is the world with a circuit breaker: it opens openAfter the fault began
// (never when 0), after which the service sheds the fault: the shortest window's burn
// rate falls to residual once a whole window has passed. It closes closeAfter the
// fault's removal (or never, with stuck).
type breakerWorld struct {
	*world
	openAfter, closeAfter time.Duration
	residual              float64
	stuck, openBefore     bool
}

// relieved reports whether the shortest window holds only shed traffic at now: the
// breaker opened a whole window before, while the fault was in.
func (b *breakerWorld) relieved(now time.Time) bool {
	b.mu.Lock()
	in, out := b.injectAt, b.removeAt
	b.mu.Unlock()
	if in.IsZero() || b.openAfter == 0 {
		return false
	}
	at := in.Add(b.openAfter + b.o.RatioWindows()[0])
	return !now.Before(at) && (out.IsZero() || !out.Before(at))
}

func (b *breakerWorld) open(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	in, out := b.injectAt, b.removeAt
	b.mu.Unlock()
	switch {
	case in.IsZero():
		return b.openBefore, 0
	case b.openAfter == 0 || now.Sub(in) < b.openAfter:
		return false, 0
	case !out.IsZero() && !b.stuck && now.Sub(out) >= b.closeAfter:
		return false, 0
	}
	return true, now.Sub(in.Add(b.openAfter))
}

func (b *breakerWorld) Condition(ctx context.Context, expr string) (bool, error) {
	on, _ := b.open(b.clock.Now())
	return on, nil
}

func (b *breakerWorld) BurnRates(ctx context.Context, o slo.Objective) (map[time.Duration]float64, error) {
	m, err := b.world.BurnRates(ctx, o)
	if err != nil {
		return nil, err
	}
	if now := b.clock.Now(); b.relieved(now) {
		m[o.RatioWindows()[0]] = b.residual
		if on, _ := b.open(now); !on {
			m[o.RatioWindows()[0]] = b.baseline
		}
	}
	return m, nil
}

// Alerts resolve once the breaker relieved the short windows.
func (b *breakerWorld) Alerts(ctx context.Context, o slo.Objective) ([]AlertState, error) {
	if b.relieved(b.clock.Now()) {
		return nil, nil
	}
	return b.world.Alerts(ctx, o)
}

var _ ConditionReader = (*breakerWorld)(nil)

const mitigationYAML = gameDayYAML + `mitigation:
  name: breaker-open
  active: circuit_breaker_state{breaker="linkcheck",state="closed"} == 0
  within: 5m
`

func runMitigation(t *testing.T, b *breakerWorld, src string) *Result {
	t.Helper()
	b.world = &world{clock: newFakeClock(), o: goodObjective(), e: 0.5, lag: 3 * time.Second}
	if b.residual == 0 {
		b.residual = 0.3
	}
	p := plan(t, src, b.o)
	r := &Runner{Plan: p, Injector: b, Signals: b, Run: Run{ID: "r1", GameDay: p.GameDay.Name},
		Journal: &Journal{Dir: t.TempDir()}, Clock: b.clock}
	res, err := r.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMitigationPass(t *testing.T) {
	res := runMitigation(t, &breakerWorld{openAfter: 200 * time.Second, closeAfter: 20 * time.Second}, mitigationYAML)
	if res.Outcome != Pass {
		t.Fatalf("outcome %s, reasons %q", res.Outcome, res.Reasons)
	}
	m := res.Mitigation
	// The page fires at 107s; the breaker opens at 200s (93s after the page); the 5m
	// window holds only shed traffic 300s later, within the default 5m10s.
	if deref(m.EngagedSeconds) != 200.0 || deref(m.EngagedAfterAlertSeconds) != 93.0 || deref(m.ReliefSeconds) != 300.0 {
		t.Errorf("engaged %v (after alert %v), relief %v; want 200, 93, 300", deref(m.EngagedSeconds), deref(m.EngagedAfterAlertSeconds), deref(m.ReliefSeconds))
	}
	if m.ReliefWindow != "5m" || m.ReliefWithinSeconds != 310 || m.ReleaseWithinSeconds != res.Recovery.WithinSeconds {
		t.Errorf("defaults: window %s, relief within %v, release within %v (recovery %v)", m.ReliefWindow, m.ReliefWithinSeconds, m.ReleaseWithinSeconds, res.Recovery.WithinSeconds)
	}
	if deref(m.ReleasedSeconds) != 20.0 || !m.Engaged || !m.Relieved || !m.Released {
		t.Errorf("released %v, verdicts %v %v %v", deref(m.ReleasedSeconds), m.Engaged, m.Relieved, m.Released)
	}
	if len(m.Intervals) != 1 || m.Intervals[0].End == nil || m.Intervals[0].End.Sub(m.Intervals[0].Start) != 320*time.Second {
		t.Errorf("intervals %+v, want one of 320s (open 300s under the fault + 20s after)", m.Intervals)
	}
	// The fault was held until the relief, not just until the page.
	if held := res.FaultEnded.Sub(*res.FaultBegan); held != 500*time.Second {
		t.Errorf("fault held %s, want 500s (until the relief)", held)
	}
}

func TestMitigationFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    *breakerWorld
		src  string
		want []string
	}{
		{"breaker disabled", &breakerWorld{}, mitigationYAML,
			[]string{"mitigation breaker-open never engaged: `circuit_breaker_state{breaker=\"linkcheck\",state=\"closed\"} == 0` returned nothing during the 5m1s the fault was held (allowed 5m0s)"}},
		{"engaged late", &breakerWorld{openAfter: 400 * time.Second, closeAfter: time.Second},
			strings.Replace(mitigationYAML, "fault: {backend: fake,", "fault: {backend: fake, duration: 15m,", 1),
			[]string{"mitigation breaker-open engaged after 6m40s, later than the 5m0s allowed"}},
		{"no relief", &breakerWorld{openAfter: 100 * time.Second, closeAfter: time.Second, residual: 2}, mitigationYAML,
			[]string{"the 5m burn rate did not fall below 1 while the fault was still in (mitigation breaker-open active, allowed 5m10s)"}},
		{"stuck open", &breakerWorld{openAfter: 100 * time.Second, stuck: true}, mitigationYAML + "  release: {within: 1m}\n",
			[]string{"mitigation breaker-open was still active 1m0s after the fault was removed: `circuit_breaker_state{breaker=\"linkcheck\",state=\"closed\"} == 0` kept returning samples"}},
		{"open before the fault", &breakerWorld{openBefore: true, openAfter: 100 * time.Second, closeAfter: time.Second}, mitigationYAML,
			[]string{"mitigation breaker-open was already active before the fault"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runMitigation(t, tc.b, tc.src)
			if res.Outcome != Fail {
				t.Errorf("outcome %s, want fail; reasons %q", res.Outcome, res.Reasons)
			}
			for _, w := range tc.want {
				found := false
				for _, r := range res.Reasons {
					found = found || strings.HasPrefix(r, w)
				}
				if !found {
					t.Errorf("reasons %q\nlack %q", res.Reasons, w)
				}
			}
		})
	}
}

func TestMitigationParseErrors(t *testing.T) {
	for _, tc := range []struct{ block, want string }{
		{"mitigation: {name: Breaker, active: up, within: 1m}",
			"gd.yaml:10:20: mitigation.name: must match [a-z0-9-]+, got \"Breaker\""},
		{"mitigation: {name: b, active: 'rate(x[1m]', within: 1m}",
			"gd.yaml:10:31: mitigation.active: not valid PromQL"},
		{"mitigation: {name: b, active: 'x[1m]', within: 1m}",
			"gd.yaml:10:31: mitigation.active: must yield an instant vector (active while it returns a sample), got a range vector"},
		{"mitigation: {name: b, active: up}",
			"gd.yaml:10:13: mitigation.within: required"},
		{"mitigation: {name: b, active: up, within: 1m, relief: {burn: 1}}",
			`gd.yaml:10:56: mitigation.relief: unknown field "burn"`},
	} {
		_, ds := Parse("gd.yaml", []byte(gameDayYAML+tc.block+"\n"), []Backend{fakeBackend{}})
		if got := diagText(ds); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.block, got, tc.want)
		}
	}
	g, ds := Parse("gd.yaml", []byte(gameDayYAML+"mitigation: {name: b, active: up, within: 1m, relief: {window: 7m}}\n"), []Backend{fakeBackend{}})
	if g == nil {
		t.Fatal(diagText(ds))
	}
	if _, ds := Prepare(g, goodObjective(), 0.5); !strings.Contains(diagText(ds), "mitigation.relief.window: shortlink-redirect-availability has no burn rate over 7m") {
		t.Errorf("relief window: %s", diagText(ds))
	}
}
