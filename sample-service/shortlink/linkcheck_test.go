package shortlink

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/slokit/slokit/sample-service/linkcheck"
	"github.com/slokit/slokit/sli"
)

// slowLinkCheck is the real linkcheck handler behind a switchable delay, the fault a
// resilience game day injects.
type slowLinkCheck struct {
	delay atomic.Int64 // nanoseconds
	calls atomic.Int64
	h     http.Handler
}

func startLinkCheck(t *testing.T, blocked ...string) (*slowLinkCheck, string) {
	t.Helper()
	lc := &slowLinkCheck{h: linkcheck.Handler(linkcheck.Config{Blocked: blocked})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lc.calls.Add(1)
		if d := time.Duration(lc.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		lc.h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return lc, hs.URL
}

// fastBreaker trips after 4 calls of which half failed within 2s, probes after 300ms.
func fastBreaker(url string) LinkCheckConfig {
	return LinkCheckConfig{URL: url, Timeout: 50 * time.Millisecond,
		Breaker: BreakerConfig{Window: 2 * time.Second, MinCalls: 4, FailureRatio: 0.5, OpenFor: 300 * time.Millisecond}}
}

// sample returns the value of the series of metric whose labels include want.
func sample(t *testing.T, reg prometheus.Gatherer, metric string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != metric {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			return value(m)
		}
	}
	t.Fatalf("no series %s%v", metric, want)
	return 0
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

func timedRedirect(t *testing.T, base, code string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	r := do(t, "GET", base+"/"+code, "", nil)
	return r.status, time.Since(start)
}

func TestLinkCheckVerdicts(t *testing.T) {
	t.Parallel()
	_, url := startLinkCheck(t, "evil.example")
	cfg := testConfig(t)
	cfg.LinkCheck = fastBreaker(url)
	s, hs := newTestServer(t, cfg)
	good := createLink(t, hs.URL, "https://example.com/ok")
	bad := createLink(t, hs.URL, "https://www.evil.example/x")

	if st, _ := timedRedirect(t, hs.URL, good.Code); st != http.StatusFound {
		t.Errorf("allowed target: status %d, want 302", st)
	}
	r := do(t, "GET", hs.URL+"/"+bad.Code, "", nil)
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), `"link_blocked"`) || !strings.Contains(string(r.body), "evil.example") {
		t.Errorf("blocked target: %d %s; want 403 link_blocked naming the host", r.status, r.body)
	}
	dep := map[string]string{sli.LabelService: "shortlink", sli.LabelDependency: DependencyLinkCheck}
	if got := sample(t, s.Registry(), sli.MetricDependencyAnswers, with(dep, sli.LabelSource, sli.SourceDependency)); got != 2 {
		t.Errorf("answers from the dependency = %v, want 2", got)
	}
	if got := sample(t, s.Registry(), sli.MetricDependencyCalls, with(dep, sli.LabelOutcome, sli.OutcomeOK)); got != 2 {
		t.Errorf("ok calls = %v, want 2", got)
	}
	if got := sample(t, s.Registry(), sli.MetricBreakerState, map[string]string{sli.LabelBreaker: DependencyLinkCheck, sli.LabelState: sli.BreakerClosed}); got != 1 {
		t.Errorf("breaker closed = %v, want 1", got)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

// TestBreakerOpensUnderDelayAndCloses is the resilience flow in miniature: linkcheck
// slows past the timeout, redirects keep being served from the fallback, the breaker
// opens and redirects are fast again while the delay is still in; once it is removed a
// probe closes the breaker.
func TestBreakerOpensUnderDelayAndCloses(t *testing.T) {
	t.Parallel()
	lc, url := startLinkCheck(t)
	cfg := testConfig(t)
	cfg.LinkCheck = fastBreaker(url)
	sr := tracetest.NewSpanRecorder()
	cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	s, hs := newTestServer(t, cfg)
	cached := createLink(t, hs.URL, "https://example.com/seen")
	fresh := createLink(t, hs.URL, "https://example.com/never-checked")
	timedRedirect(t, hs.URL, cached.Code) // its verdict is now cached

	lc.delay.Store(int64(time.Second))
	for i := range 3 { // 1 ok + 3 timeouts: MinCalls reached with 75% failed, the breaker opens
		st, took := timedRedirect(t, hs.URL, fresh.Code)
		if st != http.StatusFound || took < 50*time.Millisecond {
			t.Fatalf("redirect %d under delay: %d after %s; want 302 after the 50ms timeout", i, st, took)
		}
	}
	state := func(want string) float64 {
		return sample(t, s.Registry(), sli.MetricBreakerState, map[string]string{sli.LabelBreaker: DependencyLinkCheck, sli.LabelState: want})
	}
	if state(sli.BreakerOpen) != 1 {
		t.Fatalf("breaker not open after 3 timeouts in 4 calls")
	}
	calls := lc.calls.Load()
	for _, code := range []string{fresh.Code, cached.Code} {
		// Not waiting for linkcheck is proven by its call count below, not by a latency
		// bound a loaded CI machine could break.
		if st, _ := timedRedirect(t, hs.URL, code); st != http.StatusFound {
			t.Errorf("redirect with the breaker open: %d, want 302", st)
		}
	}
	if lc.calls.Load() != calls {
		t.Errorf("linkcheck was called while the breaker was open")
	}
	dep := map[string]string{sli.LabelDependency: DependencyLinkCheck}
	for k, want := range map[string]float64{sli.SourceCache: 1, sli.SourceDefault: 4, sli.SourceDependency: 1} {
		if got := sample(t, s.Registry(), sli.MetricDependencyAnswers, with(dep, sli.LabelSource, k)); got != want {
			t.Errorf("answers from %s = %v, want %v", k, got, want)
		}
	}
	if got := sample(t, s.Registry(), sli.MetricDependencyCalls, with(dep, sli.LabelOutcome, sli.OutcomeRejected)); got != 2 {
		t.Errorf("rejected calls = %v, want 2", got)
	}

	lc.delay.Store(0)
	time.Sleep(350 * time.Millisecond) // OpenFor: the next call is a probe
	if state(sli.BreakerHalfOpen) != 1 {
		t.Errorf("breaker not half-open after OpenFor")
	}
	timedRedirect(t, hs.URL, fresh.Code)
	if state(sli.BreakerClosed) != 1 {
		t.Errorf("breaker not closed after a successful probe")
	}
	for _, tr := range [][2]string{{sli.BreakerClosed, sli.BreakerOpen}, {sli.BreakerOpen, sli.BreakerHalfOpen}, {sli.BreakerHalfOpen, sli.BreakerClosed}} {
		if got := sample(t, s.Registry(), sli.MetricBreakerTransitions, map[string]string{sli.LabelFrom: tr[0], sli.LabelTo: tr[1]}); got != 1 {
			t.Errorf("transitions %s→%s = %v, want 1", tr[0], tr[1], got)
		}
	}
	events := map[string]int{}
	for _, sp := range sr.Ended() {
		for _, e := range sp.Events() {
			events[e.Name]++
		}
	}
	for _, name := range []string{"circuit_breaker.state_change", "circuit_breaker.rejected", "linkcheck.fallback"} {
		if events[name] == 0 {
			t.Errorf("no span event %q; events %v", name, events)
		}
	}
}

// TestBreakerDisabledWaitsForEveryTimeout is the control: without the breaker every
// redirect waits for linkcheck's timeout.
func TestBreakerDisabledWaitsForEveryTimeout(t *testing.T) {
	t.Parallel()
	lc, url := startLinkCheck(t)
	cfg := testConfig(t)
	cfg.LinkCheck = fastBreaker(url)
	cfg.LinkCheck.Breaker.Disabled = true
	s, hs := newTestServer(t, cfg)
	l := createLink(t, hs.URL, "https://example.com/")
	lc.delay.Store(int64(time.Second))
	for i := range 8 {
		if st, took := timedRedirect(t, hs.URL, l.Code); st != http.StatusFound || took < 50*time.Millisecond {
			t.Fatalf("redirect %d: %d after %s; want 302 after the timeout", i, st, took)
		}
	}
	if got := sample(t, s.Registry(), sli.MetricDependencyCalls, map[string]string{sli.LabelOutcome: sli.OutcomeTimeout}); got != 8 {
		t.Errorf("timeouts = %v, want 8", got)
	}
	mfs, _ := s.Registry().Gather()
	for _, mf := range mfs {
		if mf.GetName() == sli.MetricBreakerState {
			t.Errorf("a disabled breaker exports %s", sli.MetricBreakerState)
		}
	}
}

func TestLinkCheckDownFailsOpen(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.NotFoundHandler())
	url := hs.URL
	hs.Close() // connection refused
	cfg := testConfig(t)
	cfg.LinkCheck = fastBreaker(url)
	_, srv := newTestServer(t, cfg)
	l := createLink(t, srv.URL, "https://example.com/")
	if st, _ := timedRedirect(t, srv.URL, l.Code); st != http.StatusFound {
		t.Errorf("linkcheck down: status %d, want 302 (fail open)", st)
	}
}

func TestLinkCheckConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  LinkCheckConfig
		want string
	}{
		{LinkCheckConfig{URL: "ftp://x"}, "LinkCheck.URL must be an http(s) URL"},
		{LinkCheckConfig{URL: "http://x", Breaker: BreakerConfig{FailureRatio: 1.5}}, "FailureRatio must be in (0,1]"},
		{LinkCheckConfig{URL: "http://x", Timeout: -1}, "must not be negative"},
	} {
		cfg := testConfig(t)
		cfg.LinkCheck = tc.cfg
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
