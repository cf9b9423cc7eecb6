// Package promsli is the sli.Recorder that writes request SLIs into a Prometheus
// registry passed in by the caller.
package promsli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slokit/slokit/sli"
)

// ExemplarFunc returns the exemplar labels (such as {"trace_id": "…"}) for the request
// whose context is ctx, or nil when the request carries none. sli/otelsli.TraceExemplar
// is the OpenTelemetry one. It is called once per request, so it should return nil
// without allocating when there is nothing to attach.
type ExemplarFunc func(ctx context.Context) map[string]string

// Config configures a Recorder. The zero value of every field but Service is usable.
type Config struct {
	// Service is the value of the service label on every series. Required.
	Service string
	// Buckets are the latency histogram's upper bounds in seconds, ascending. Nil means
	// sli.DefaultBuckets(). Cardinality: one series per bucket per (route, method).
	Buckets []float64
	// NativeHistogramBucketFactor, when above 1, also records the latency as a native
	// histogram with that growth factor (1.1 is a common choice); 0 records only the
	// classic histogram the SLO specs query.
	NativeHistogramBucketFactor float64
	// Exemplar, when set, attaches exemplars to latency observations. Nil means none.
	Exemplar ExemplarFunc
	// ExemplarInterval is the least time between two exemplars of one histogram bucket;
	// 0 means 1s, negative attaches one to every observation that has one. A bucket
	// exposes only its latest exemplar and Prometheus keeps at most one per scrape, so
	// more frequent exemplars are never seen; skipping them saves client_golang's
	// exemplar allocations on most traced requests.
	ExemplarInterval time.Duration
}

// Recorder records sli observations into Prometheus metrics. Create it with New.
type Recorder struct {
	service  string
	exemplar ExemplarFunc
	exEvery  time.Duration // ExemplarInterval resolved; <= 0: no limit
	buckets  []float64
	epoch    time.Time // monotonic reference for exemplar spacing

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// inFlight backs the in-flight gauge: one atomic add per change, where
	// prometheus.Gauge's float needs a compare-and-swap loop.
	inFlight atomic.Int64

	mu     sync.Mutex                        // serialises adding routes
	routes atomic.Pointer[map[string]*route] // copy-on-write: lock-free reads
}

var _ sli.Recorder = (*Recorder)(nil)

// route holds the pre-resolved series of one route pattern.
type route struct {
	name    string
	methods [numMethods]atomic.Pointer[method]
}

// method holds the pre-resolved series of one (route, method).
type method struct {
	observe   prometheus.Observer
	exemplars prometheus.ExemplarObserver // nil when the observer does not take exemplars
	// lastExemplar[i] is when bucket i (len(buckets) is +Inf) last got an exemplar, as
	// time since Recorder.epoch; 0 means never.
	lastExemplar []atomic.Int64
	// codes[c/100-1] holds the counters of status class c/100, indexed by c%100.
	codes [9]atomic.Pointer[[100]atomic.Pointer[counter]]
}

type counter struct{ c prometheus.Counter }

const numMethods = 10

// methodIndex maps sli.NormalizeMethod's output to a slot.
func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "CONNECT":
		return 6
	case "OPTIONS":
		return 7
	case "TRACE":
		return 8
	}
	return 9
}

// New creates a Recorder and registers its three metrics with reg. Several services may
// share a registry; New fails when reg already holds a Recorder for cfg.Service.
func New(reg prometheus.Registerer, cfg Config) (*Recorder, error) {
	if reg == nil {
		return nil, errors.New("promsli: nil Registerer: pass prometheus.NewRegistry() or your registry")
	}
	if cfg.Service == "" {
		return nil, errors.New("promsli: Config.Service is empty: set it to the service label value the SLO specs select")
	}
	buckets := slices.Clone(cfg.Buckets) // the caller may reuse theirs
	if buckets == nil {
		buckets = sli.DefaultBuckets()
	}
	for i := 1; i < len(buckets); i++ {
		if !(buckets[i] > buckets[i-1]) {
			return nil, fmt.Errorf("promsli: Config.Buckets must be strictly ascending, got %v", buckets)
		}
	}
	if cfg.ExemplarInterval == 0 {
		cfg.ExemplarInterval = time.Second
	}
	if f := cfg.NativeHistogramBucketFactor; f != 0 && f <= 1 {
		return nil, fmt.Errorf("promsli: Config.NativeHistogramBucketFactor must be 0 or above 1, got %v", f)
	}
	constLabels := prometheus.Labels{sli.LabelService: cfg.Service}
	r := &Recorder{
		service:  cfg.Service,
		exemplar: cfg.Exemplar,
		exEvery:  cfg.ExemplarInterval,
		buckets:  buckets,
		epoch:    time.Now(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        sli.MetricRequests,
			Help:        "HTTP requests served, by route pattern, method and status code.",
			ConstLabels: constLabels,
		}, []string{sli.LabelRoute, sli.LabelMethod, sli.LabelCode}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        sli.MetricDuration,
			Help:                        "HTTP request latency in seconds, by route pattern and method.",
			ConstLabels:                 constLabels,
			Buckets:                     buckets,
			NativeHistogramBucketFactor: cfg.NativeHistogramBucketFactor,
		}, []string{sli.LabelRoute, sli.LabelMethod}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        sli.MetricInFlight,
		Help:        "HTTP requests being served.",
		ConstLabels: constLabels,
	}, func() float64 { return float64(r.inFlight.Load()) })
	for _, c := range []prometheus.Collector{r.requests, r.duration, inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("promsli: register metrics for service %q: %w", cfg.Service, err)
		}
	}
	empty := map[string]*route{}
	r.routes.Store(&empty)
	return r, nil
}

// Started increments the in-flight gauge.
func (r *Recorder) Started() { r.inFlight.Add(1) }

// Done decrements the in-flight gauge, counts the request and observes its latency. After
// the first request of a (route, method, code) it allocates nothing unless an exemplar is
// attached.
func (r *Recorder) Done(ctx context.Context, o sli.Observation) {
	r.inFlight.Add(-1)
	m := r.method(o.Route, o.Method)
	r.counter(m, o.Route, o.Method, o.Code).Inc()
	secs := o.Duration.Seconds()
	if r.exemplar != nil && m.exemplars != nil {
		if ex := r.exemplar(ctx); ex != nil && r.exemplarDue(m, secs) {
			m.exemplars.ObserveWithExemplar(secs, ex)
			return
		}
	}
	m.observe.Observe(secs)
}

// exemplarDue reports whether the bucket secs falls in may take an exemplar now, and if
// so claims it.
func (r *Recorder) exemplarDue(m *method, secs float64) bool {
	if r.exEvery < 0 {
		return true
	}
	slot := &m.lastExemplar[sort.SearchFloat64s(r.buckets, secs)]
	now := int64(time.Since(r.epoch)) + 1 // never 0, which means "never"
	last := slot.Load()
	if last != 0 && now-last < int64(r.exEvery) {
		return false
	}
	return slot.CompareAndSwap(last, now)
}

func (r *Recorder) route(name string) *route {
	if rt, ok := (*r.routes.Load())[name]; ok {
		return rt
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.routes.Load()
	if rt, ok := old[name]; ok {
		return rt
	}
	next := make(map[string]*route, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	rt := &route{name: name}
	next[name] = rt
	r.routes.Store(&next)
	return rt
}

func (r *Recorder) method(routeName, name string) *method {
	rt := r.route(routeName)
	slot := &rt.methods[methodIndex(name)]
	if m := slot.Load(); m != nil {
		return m
	}
	obs := r.duration.WithLabelValues(routeName, name)
	m := &method{observe: obs, lastExemplar: make([]atomic.Int64, len(r.buckets)+1)}
	m.exemplars, _ = obs.(prometheus.ExemplarObserver)
	if slot.CompareAndSwap(nil, m) {
		return m
	}
	return slot.Load()
}

func (r *Recorder) counter(m *method, routeName, methodName string, code int) prometheus.Counter {
	if code < 100 || code > 999 {
		// net/http rejects these; count them together rather than grow the label set.
		code = 999
	}
	class := &m.codes[code/100-1]
	codes := class.Load()
	if codes == nil {
		class.CompareAndSwap(nil, new([100]atomic.Pointer[counter]))
		codes = class.Load()
	}
	slot := &codes[code%100]
	if c := slot.Load(); c != nil {
		return c.c
	}
	c := &counter{c: r.requests.WithLabelValues(routeName, methodName, strconv.Itoa(code))}
	if slot.CompareAndSwap(nil, c) {
		return c.c
	}
	return slot.Load().c
}
