package chaos

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// fakeClock is simulated time: Sleep advances it instantly.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// world is a simulated service + Prometheus: while the fault is in place the SLO burns
// at e/b; alerts follow the Workbook formulas, shifted by lag.
type world struct {
	clock *fakeClock
	o     slo.Objective
	e     float64 // error ratio the fault really causes
	lag   time.Duration

	mu        sync.Mutex
	calls     []string // "inject", "remove"
	injectAt  time.Time
	removeAt  time.Time
	active    bool
	injectErr error
	removeErr error
	// removeCtxErr is the error of the context Remove was called with.
	removeCtxErr error
	// baseline is the burn rate without the fault.
	baseline float64
	// preAlerts are alerts active before any fault.
	preAlerts []AlertState
	// onPoll runs at every BurnRates call with the simulated elapsed time since inject.
	onPoll func(sinceInject time.Duration)
}

func (w *world) Inject(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, "inject")
	if w.injectErr != nil {
		return w.injectErr
	}
	w.active, w.injectAt = true, w.clock.Now()
	return nil
}

func (w *world) Remove(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, "remove")
	w.removeCtxErr = ctx.Err()
	if w.removeErr != nil {
		return w.removeErr
	}
	if w.active {
		w.active, w.removeAt = false, w.clock.Now()
	}
	return nil
}

func (w *world) BurnRates(ctx context.Context, o slo.Objective) (map[time.Duration]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	now, active, in, out := w.clock.Now(), w.active, w.injectAt, w.removeAt
	w.mu.Unlock()
	if w.onPoll != nil && !in.IsZero() {
		w.onPoll(now.Sub(in))
	}
	b := o.ErrorBudget()
	out5 := w.baseline
	shortest := o.RatioWindows()[0]
	switch {
	case active:
		out5 = w.e / b
	case !out.IsZero() && now.Sub(out) < shortest:
		out5 = w.e / b * (1 - float64(now.Sub(out))/float64(shortest))
	}
	return map[time.Duration]float64{shortest: out5, time.Hour: out5 / 2}, nil
}

func (w *world) Alerts(ctx context.Context, o slo.Objective) ([]AlertState, error) {
	w.mu.Lock()
	now, in, out := w.clock.Now(), w.injectAt, w.removeAt
	w.mu.Unlock()
	out2 := append([]AlertState(nil), w.preAlerts...)
	if in.IsZero() {
		return out2, nil
	}
	for _, t := range o.Windows() {
		det := detect(o, t, w.e)
		if det == 0 {
			continue
		}
		fire := in.Add(det + w.lag)
		if now.Before(fire) || !out.IsZero() && !now.Before(out.Add(reset(o, t, w.e)+w.lag)) {
			continue
		}
		if !out.IsZero() && fire.After(out) {
			continue
		}
		out2 = append(out2, AlertState{Name: "ShortlinkRedirectAvailability", Severity: t.Severity,
			Window: t.Long, State: "firing", ActiveAt: fire})
	}
	return out2, nil
}

func (w *world) Calls() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}

// fakeBackend validates params {percent: N} strictly and estimates e = N/100.
type fakeBackend struct{ w *world }

func (fakeBackend) Name() string { return "fake" }

// fakeParams is fakeBackend's typed fault.
type fakeParams struct{ percent float64 }

func (fakeBackend) Parse(file string, params *yaml.Node) (FaultParams, slo.Diagnostics) {
	d := newDecoder(file)
	var fp fakeParams
	d.Mapping(params, "fault.params",
		strictyaml.Required("percent", func(n *yaml.Node, p string) {
			if d.float(n, p, &fp.percent) && (fp.percent <= 0 || fp.percent > 100) {
				d.Errf(n, p, "must be in (0,100], got %v", fp.percent)
			}
		}),
	)
	if len(d.Diags.Errors()) > 0 {
		return nil, d.Diags
	}
	return &fp, d.Diags
}

func (b fakeBackend) New(params FaultParams, run Run) (Injector, error) {
	if _, ok := params.(*fakeParams); !ok {
		return nil, errors.New("params not from Parse")
	}
	if b.w == nil {
		return nil, errors.New("no world")
	}
	return b.w, nil
}

func (fakeBackend) ExpectedErrorRatio(params FaultParams) (float64, bool) {
	if fp, ok := params.(*fakeParams); ok {
		return fp.percent / 100, true
	}
	return 0, false
}

var (
	_ Backend   = fakeBackend{}
	_ Estimator = fakeBackend{}
	_ Injector  = (*world)(nil)
	_ Signals   = (*world)(nil)
)

// goodObjective is the DESIGN.md redirect SLO: 99.9% over 30d, default tiers.
func goodObjective() slo.Objective {
	return slo.Objective{Service: "shortlink", Name: "redirect-availability", Target: 0.999,
		Period: 30 * 24 * time.Hour, Alerting: slo.Alerting{Name: "ShortlinkRedirectAvailability"}}
}
