package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/slokit/slokit/internal/lab"
	"github.com/slokit/slokit/sample-service/linkcheck"
	"github.com/slokit/slokit/sample-service/shortlink"
)

// The demo's scenarios (Config.Scenario).
const (
	// ScenarioErrors: half of the redirects fail behind the fault proxy; the
	// availability page must fire and the SLO recover once the fault is removed.
	ScenarioErrors = "errors"
	// ScenarioBreaker: linkcheck, shortlink's dependency, slows past its timeout behind
	// the fault proxy; the latency page fires, shortlink's circuit breaker opens and the
	// SLO recovers while the fault is still in.
	ScenarioBreaker = "breaker"
	// ScenarioBreakerOff is ScenarioBreaker's game day against shortlink without its
	// breaker: the control, which must fail with "mitigation … never engaged".
	ScenarioBreakerOff = "breaker-off"
)

// BackendService is the service label of the shortlink service behind the edge, and
// BackendJob its scrape job in the breaker scenarios (for circuit_breaker_state).
const (
	BackendService = "shortlink-backend"
	BackendJob     = "shortlink-backend"
)

// scenario is one game day of the demo with its SLO spec.
type scenario struct {
	spec    []byte
	gameDay string
	// dependency: shortlink asks linkcheck through the fault proxy, the edge routes
	// straight to shortlink, and shortlink's own metrics are scraped too.
	dependency, breakerOff bool
}

var scenarios = map[string]scenario{
	ScenarioErrors:     {spec: slosYAML, gameDay: gameDayTmpl},
	ScenarioBreaker:    {spec: breakerSLOsYAML, gameDay: breakerGameDayTmpl, dependency: true},
	ScenarioBreakerOff: {spec: breakerSLOsYAML, gameDay: breakerGameDayTmpl, dependency: true, breakerOff: true},
}

// ScenarioNames lists the scenarios, sorted.
func ScenarioNames() []string {
	var out []string
	for k := range scenarios {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// FaultOnDependency reports whether the scenario's fault proxy sits between shortlink
// and linkcheck (the edge then routes straight to the service) rather than in front of
// the service.
func (s *Stack) FaultOnDependency() bool { return s.sc.dependency }

// DemoBreaker is the breaker of the breaker scenarios, sized for a demo: it opens once
// half of at least 20 calls in a rolling 60s window failed (about 30s into a total
// failure, after the demo's page), and probes after 5s.
func DemoBreaker() shortlink.BreakerConfig {
	return shortlink.BreakerConfig{Window: time.Minute, FailureRatio: 0.5, MinCalls: 20, OpenFor: 5 * time.Second}
}

// startDependency starts linkcheck and reserves the fault proxy's address in the
// breaker scenarios, and returns shortlink's LinkCheck configuration (zero otherwise).
func (s *Stack) startDependency(ctx context.Context) (shortlink.LinkCheckConfig, error) {
	if !s.sc.dependency {
		return shortlink.LinkCheckConfig{}, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return shortlink.LinkCheckConfig{}, fmt.Errorf("demo: linkcheck listener: %w", err)
	}
	s.DependencyURL = "http://" + l.Addr().String()
	srv := &http.Server{Handler: linkcheck.Handler(linkcheck.Config{Blocked: []string{"evil.example"}}), ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- err
		}
	}()
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	// The fault proxy starts later (with the game day); its address goes into the game
	// day and into shortlink now. Listening and closing frees a port the kernel does
	// not hand out again at once.
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return shortlink.LinkCheckConfig{}, fmt.Errorf("demo: fault proxy address: %w", err)
	}
	s.proxyListen = pl.Addr().String()
	_ = pl.Close()
	b := DemoBreaker()
	b.Disabled = s.sc.breakerOff
	return shortlink.LinkCheckConfig{URL: "http://" + s.proxyListen, Breaker: b}, nil
}

// targets are the lab's scrape targets: the edge, and shortlink itself in the breaker
// scenarios.
func (s *Stack) targets() []lab.Target {
	t := []lab.Target{{URL: s.EdgeURL + "/metrics", Job: Job}}
	if s.sc.dependency {
		t = append(t, lab.Target{URL: s.ServiceURL + "/metrics", Job: BackendJob})
	}
	return t
}
