package promsli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/promsli"
)

func TestDependencyExposition(t *testing.T) {
	reg := prometheus.NewRegistry()
	d, err := promsli.NewDependency(reg, promsli.DependencyConfig{Service: "shortlink", Dependency: "linkcheck", Buckets: []float64{0.1, 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	d.Call(sli.OutcomeOK, 20*time.Millisecond)
	d.Call(sli.OutcomeTimeout, 300*time.Millisecond)
	d.Call(sli.OutcomeRejected, 0)
	d.Call("bogus", 0)
	d.Answer(sli.SourceCache)
	d.Answer("bogus")
	want := `
# HELP dependency_answers_total Answers used in place of a dependency's, by source (dependency, cache, default).
# TYPE dependency_answers_total counter
dependency_answers_total{dependency="linkcheck",service="shortlink",source="cache"} 1
dependency_answers_total{dependency="linkcheck",service="shortlink",source="default"} 1
dependency_answers_total{dependency="linkcheck",service="shortlink",source="dependency"} 0
# HELP dependency_call_duration_seconds Latency of calls sent to a dependency, in seconds (timeouts included).
# TYPE dependency_call_duration_seconds histogram
dependency_call_duration_seconds_bucket{dependency="linkcheck",service="shortlink",le="0.1"} 2
dependency_call_duration_seconds_bucket{dependency="linkcheck",service="shortlink",le="0.25"} 2
dependency_call_duration_seconds_bucket{dependency="linkcheck",service="shortlink",le="+Inf"} 3
dependency_call_duration_seconds_sum{dependency="linkcheck",service="shortlink"} 0.32
dependency_call_duration_seconds_count{dependency="linkcheck",service="shortlink"} 3
# HELP dependency_calls_total Calls to a dependency by outcome (ok, error, timeout, rejected by the circuit breaker).
# TYPE dependency_calls_total counter
dependency_calls_total{dependency="linkcheck",outcome="error",service="shortlink"} 1
dependency_calls_total{dependency="linkcheck",outcome="ok",service="shortlink"} 1
dependency_calls_total{dependency="linkcheck",outcome="rejected",service="shortlink"} 1
dependency_calls_total{dependency="linkcheck",outcome="timeout",service="shortlink"} 1
`
	if got := exposition(t, reg); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	// A second dependency of the same service shares the registry.
	if _, err := promsli.NewDependency(reg, promsli.DependencyConfig{Service: "shortlink", Dependency: "store"}); err != nil {
		t.Errorf("second dependency: %v", err)
	}
	if _, err := promsli.NewDependency(reg, promsli.DependencyConfig{Service: "shortlink", Dependency: "linkcheck"}); err == nil {
		t.Error("the same dependency twice: no error")
	}
	if _, err := promsli.NewDependency(reg, promsli.DependencyConfig{Service: "shortlink"}); err == nil {
		t.Error("no dependency name: no error")
	}
}

func TestBreakerExposition(t *testing.T) {
	reg := prometheus.NewRegistry()
	state := sli.BreakerClosed
	b, err := promsli.NewBreaker(reg, promsli.BreakerConfig{Service: "shortlink", Name: "linkcheck", State: func() string { return state }})
	if err != nil {
		t.Fatal(err)
	}
	b.Transition(sli.BreakerClosed, sli.BreakerOpen)
	state = sli.BreakerOpen
	want := `
# HELP circuit_breaker_state Circuit breaker state: 1 for the current state (closed, half-open, open), 0 for the others.
# TYPE circuit_breaker_state gauge
circuit_breaker_state{breaker="linkcheck",service="shortlink",state="closed"} 0
circuit_breaker_state{breaker="linkcheck",service="shortlink",state="half-open"} 0
circuit_breaker_state{breaker="linkcheck",service="shortlink",state="open"} 1
# HELP circuit_breaker_transitions_total Circuit breaker state changes, by the state left and the state entered.
# TYPE circuit_breaker_transitions_total counter
circuit_breaker_transitions_total{breaker="linkcheck",from="closed",service="shortlink",to="open"} 1
circuit_breaker_transitions_total{breaker="linkcheck",from="half-open",service="shortlink",to="closed"} 0
circuit_breaker_transitions_total{breaker="linkcheck",from="half-open",service="shortlink",to="open"} 0
circuit_breaker_transitions_total{breaker="linkcheck",from="open",service="shortlink",to="half-open"} 0
`
	if got := exposition(t, reg); got != strings.TrimPrefix(want, "\n") {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if _, err := promsli.NewBreaker(reg, promsli.BreakerConfig{Service: "shortlink", Name: "other", State: func() string { return sli.BreakerClosed }}); err != nil {
		t.Errorf("second breaker: %v", err)
	}
	if _, err := promsli.NewBreaker(reg, promsli.BreakerConfig{Service: "shortlink", Name: "x"}); err == nil {
		t.Error("no State func: no error")
	}
}

func BenchmarkDependencyCall(b *testing.B) {
	d, err := promsli.NewDependency(prometheus.NewRegistry(), promsli.DependencyConfig{Service: "s", Dependency: "d"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Call(sli.OutcomeOK, time.Millisecond)
		d.Answer(sli.SourceDependency)
	}
}

// exposition renders reg in the text format, families sorted by name.
func exposition(t *testing.T, reg prometheus.Gatherer) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}
