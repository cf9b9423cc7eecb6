package serve

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/internal/lab"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

// shop is a live service for the browser test: 20 checkouts and 20 browses per second,
// a fraction of the checkouts failing with 503 while a fault is set.
type shop struct {
	errBits atomic.Uint64 // float64 bits of the checkout error ratio
	reqs    *prometheus.CounterVec
	URL     string
}

func startShop(t testing.TB) *shop {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := &shop{reqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "Requests."},
		[]string{"service", "route", "code"})}
	reg.MustRegister(s.reqs)
	for _, rc := range [][2]string{{"checkout", "200"}, {"checkout", "503"}, {"browse", "200"}, {"browse", "500"}} {
		s.reqs.WithLabelValues("shop", rc[0], rc[1]) // exist at 0, so the bad rate is 0, not absent
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		acc := 0.0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s.reqs.WithLabelValues("shop", "browse", "200").Inc()
			if acc += math.Float64frombits(s.errBits.Load()); acc >= 1 {
				acc--
				s.reqs.WithLabelValues("shop", "checkout", "503").Inc()
			} else {
				s.reqs.WithLabelValues("shop", "checkout", "200").Inc()
			}
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait(); srv.Close() })
	s.URL = srv.URL
	return s
}

func (s *shop) setErrors(ratio float64) { s.errBits.Store(math.Float64bits(ratio)) }

// switchBackend is a game-day fault backend over the shop: params {errorRatio: R}.
type switchBackend struct{ s *shop }

type switchParams struct {
	ErrorRatio float64 `yaml:"errorRatio"`
}

func (switchBackend) Name() string { return "shop-errors" }

func (switchBackend) Parse(file string, params *yaml.Node) (chaos.FaultParams, slo.Diagnostics) {
	var p switchParams
	if params == nil || params.Decode(&p) != nil || p.ErrorRatio <= 0 || p.ErrorRatio > 1 {
		return nil, slo.Diagnostics{{File: file, Path: "fault.params", Message: "want {errorRatio: (0,1]}"}}
	}
	return &p, nil
}

func (b switchBackend) New(params chaos.FaultParams, _ chaos.Run) (chaos.Injector, error) {
	p, ok := params.(*switchParams)
	if !ok {
		return nil, fmt.Errorf("params %T not from Parse", params)
	}
	return &switchFault{s: b.s, ratio: p.ErrorRatio}, nil
}

func (switchBackend) ExpectedErrorRatio(params chaos.FaultParams) (float64, bool) {
	p, ok := params.(*switchParams)
	if !ok {
		return 0, false
	}
	return p.ErrorRatio, true
}

type switchFault struct {
	s     *shop
	ratio float64
}

func (f *switchFault) Inject(context.Context) error { f.s.setErrors(f.ratio); return nil }
func (f *switchFault) Remove(context.Context) error { f.s.setErrors(0); return nil }

var (
	_ chaos.Backend   = switchBackend{}
	_ chaos.Estimator = switchBackend{}
)

const liveGameDay = `name: checkout-outage
description: Every checkout fails; the fast page must fire in time and the SLO recover.
slo:
  file: %s
  name: checkout-availability
signals:
  prometheus: %s
  pollInterval: 1s
  tolerance: 10s
fault:
  backend: shop-errors
  params: {errorRatio: 1}
steadyState:
  window: 24s
  maxBurnRate: 1
  wait: 60s
expect:
  - severity: page
recovery:
  burnRateBelow: 1
guardrails:
  maxBudget: 10%%
  timeout: 3m
`

// liveFixture is the shop scraped every second by a lab evaluating the rules of
// testdata/live.yaml and ghost.yaml, after a real game day recorded in the store.
type liveFixture struct {
	shop   *shop
	lab    *lab.Lab
	store  *store.Store
	svcs   []*slo.Service
	result *chaos.Result
}

func newLiveFixture(t *testing.T) *liveFixture {
	t.Helper()
	f := &liveFixture{shop: startShop(t), svcs: loadSpecs(t, "testdata/live.yaml", "testdata/ghost.yaml")}
	rf, err := alerts.RuleFile(f.svcs, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rf.Groups {
		rf.Groups[i].Interval = "1s"
	}
	f.lab, err = lab.New(lab.Config{Targets: []lab.Target{{URL: f.shop.URL + "/metrics", Job: "shop"}}, Groups: rf.Groups,
		ScrapeInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = f.lab.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	f.store, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "gamedays.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	// The prediction assumes a full long window of healthy traffic.
	time.Sleep(26 * time.Second)
	f.result = f.runGameDay(t)
	if err := f.store.Record(context.Background(), f.result, "chaos run"); err != nil {
		t.Fatal(err)
	}
	return f
}

// runGameDay runs the game day with slokit's own runner and signals.
func (f *liveFixture) runGameDay(t *testing.T) *chaos.Result {
	t.Helper()
	spec, _ := filepath.Abs("testdata/live.yaml")
	path := filepath.Join(t.TempDir(), "gameday.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(liveGameDay, spec, f.lab.URL())), 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	bk := switchBackend{s: f.shop}
	g, ds := chaos.Parse(path, data, []chaos.Backend{bk})
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	plan, ds := chaos.Prepare(g, f.svcs[0].Objectives[0], 1)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	sig, err := promsource.New(f.lab.URL())
	if err != nil {
		t.Fatal(err)
	}
	run := chaos.Run{ID: fmt.Sprintf("t%07x", time.Now().UnixNano()&0xfffffff), GameDay: g.Name}
	inj, _ := bk.New(g.Fault.Params, run)
	res, err := (&chaos.Runner{Plan: plan, Injector: inj, Signals: sig, Run: run}).Execute(context.Background())
	if err != nil || res == nil || res.Outcome != chaos.Pass {
		t.Fatalf("game day: %v, %+v", err, res)
	}
	return res
}

// holdFault injects a total outage of checkout again and waits until its page fires.
func (f *liveFixture) holdFault(t *testing.T) {
	t.Helper()
	f.shop.setErrors(1)
	t.Cleanup(func() { f.shop.setErrors(0) })
	sig, _ := promsource.New(f.lab.URL())
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		as, err := sig.Alerts(context.Background(), f.svcs[0].Objectives[0])
		for _, a := range as {
			if err == nil && a.State == "firing" {
				return
			}
		}
	}
	t.Fatal("the checkout page did not fire within 40s of a total outage")
}
