package promsli

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slokit/slokit/sli"
)

// DependencyConfig configures a Dependency recorder.
type DependencyConfig struct {
	// Service is the service label, the caller's name. Required.
	Service string
	// Dependency is the dependency label, the callee's name. Required.
	Dependency string
	// Buckets are the call latency histogram's upper bounds in seconds, ascending. Nil
	// means sli.DefaultBuckets(). Cardinality: one series per bucket per dependency.
	Buckets []float64
}

// Dependency records a service's calls to one dependency and the answers it used:
// sli.MetricDependencyCalls, sli.MetricDependencyDuration and
// sli.MetricDependencyAnswers. Every outcome and source series exists from the start
// at 0, so an SLO's bad selector is never absent. Safe for concurrent use; recording
// allocates nothing.
type Dependency struct {
	calls    map[string]prometheus.Counter
	answers  map[string]prometheus.Counter
	duration prometheus.Observer
}

// NewDependency registers the dependency metrics of cfg.Dependency with reg. Several
// dependencies and services may share a registry.
func NewDependency(reg prometheus.Registerer, cfg DependencyConfig) (*Dependency, error) {
	if reg == nil {
		return nil, errors.New("promsli: nil Registerer")
	}
	if cfg.Service == "" || cfg.Dependency == "" {
		return nil, fmt.Errorf("promsli: DependencyConfig needs Service and Dependency, got %q and %q", cfg.Service, cfg.Dependency)
	}
	buckets := slices.Clone(cfg.Buckets)
	if buckets == nil {
		buckets = sli.DefaultBuckets()
	}
	constLabels := prometheus.Labels{sli.LabelService: cfg.Service, sli.LabelDependency: cfg.Dependency}
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: sli.MetricDependencyCalls, ConstLabels: constLabels,
		Help: "Calls to a dependency by outcome (ok, error, timeout, rejected by the circuit breaker).",
	}, []string{sli.LabelOutcome})
	answers := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: sli.MetricDependencyAnswers, ConstLabels: constLabels,
		Help: "Answers used in place of a dependency's, by source (dependency, cache, default).",
	}, []string{sli.LabelSource})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: sli.MetricDependencyDuration, ConstLabels: constLabels, Buckets: buckets,
		Help: "Latency of calls sent to a dependency, in seconds (timeouts included).",
	})
	for _, c := range []prometheus.Collector{calls, answers, duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("promsli: register metrics of dependency %q of %q: %w", cfg.Dependency, cfg.Service, err)
		}
	}
	d := &Dependency{calls: map[string]prometheus.Counter{}, answers: map[string]prometheus.Counter{}, duration: duration}
	for _, o := range []string{sli.OutcomeOK, sli.OutcomeError, sli.OutcomeTimeout, sli.OutcomeRejected} {
		d.calls[o] = calls.WithLabelValues(o)
	}
	for _, s := range []string{sli.SourceDependency, sli.SourceCache, sli.SourceDefault} {
		d.answers[s] = answers.WithLabelValues(s)
	}
	return d, nil
}

// Call records one call that ended with outcome (sli.OutcomeOK, …) after took; a
// rejected call's latency is not observed, since nothing was sent. An unknown outcome
// counts as sli.OutcomeError.
func (d *Dependency) Call(outcome string, took time.Duration) {
	c, ok := d.calls[outcome]
	if !ok {
		c = d.calls[sli.OutcomeError]
	}
	c.Inc()
	if outcome != sli.OutcomeRejected {
		d.duration.Observe(took.Seconds())
	}
}

// Answer records that an answer from source (sli.SourceDependency, …) was used. An
// unknown source counts as sli.SourceDefault.
func (d *Dependency) Answer(source string) {
	c, ok := d.answers[source]
	if !ok {
		c = d.answers[sli.SourceDefault]
	}
	c.Inc()
}

// BreakerConfig configures a Breaker.
type BreakerConfig struct {
	// Service is the service label. Required.
	Service string
	// Name is the breaker label. Required.
	Name string
	// State returns the breaker's current state (sli.BreakerClosed, …); it is called at
	// every scrape, so that a state that changes with time (open → half-open after its
	// timeout) is exported when it happens. Required.
	State func() string
}

// Breaker exports a circuit breaker: sli.MetricBreakerState, read from
// BreakerConfig.State at scrape time, and sli.MetricBreakerTransitions, counted by
// Transition (call it from the breaker library's state-change hook).
type Breaker struct {
	transitions *prometheus.CounterVec
	state       func() string
	desc        *prometheus.Desc
}

// NewBreaker registers the metrics of one breaker with reg.
func NewBreaker(reg prometheus.Registerer, cfg BreakerConfig) (*Breaker, error) {
	if reg == nil {
		return nil, errors.New("promsli: nil Registerer")
	}
	if cfg.Service == "" || cfg.Name == "" || cfg.State == nil {
		return nil, errors.New("promsli: BreakerConfig needs Service, Name and State")
	}
	constLabels := prometheus.Labels{sli.LabelService: cfg.Service, sli.LabelBreaker: cfg.Name}
	b := &Breaker{
		state: cfg.State,
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: sli.MetricBreakerTransitions, ConstLabels: constLabels,
			Help: "Circuit breaker state changes, by the state left and the state entered.",
		}, []string{sli.LabelFrom, sli.LabelTo}),
		desc: prometheus.NewDesc(sli.MetricBreakerState,
			"Circuit breaker state: 1 for the current state (closed, half-open, open), 0 for the others.",
			[]string{sli.LabelState}, constLabels),
	}
	for _, c := range []prometheus.Collector{b.transitions, b} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("promsli: register metrics of breaker %q of %q: %w", cfg.Name, cfg.Service, err)
		}
	}
	for _, t := range [][2]string{{sli.BreakerClosed, sli.BreakerOpen}, {sli.BreakerOpen, sli.BreakerHalfOpen},
		{sli.BreakerHalfOpen, sli.BreakerOpen}, {sli.BreakerHalfOpen, sli.BreakerClosed}} {
		b.transitions.WithLabelValues(t[0], t[1])
	}
	return b, nil
}

// Transition counts one change of state from → to.
func (b *Breaker) Transition(from, to string) { b.transitions.WithLabelValues(from, to).Inc() }

// Describe implements prometheus.Collector for the state gauge.
func (b *Breaker) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector: one series per state, 1 for the current one.
func (b *Breaker) Collect(ch chan<- prometheus.Metric) {
	cur := b.state()
	for _, s := range sli.BreakerStates() {
		v := 0.0
		if s == cur {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, v, s)
	}
}
