package shortlink

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/slokit/slokit/sample-service/linkcheck"
	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/promsli"
)

// DependencyLinkCheck is the dependency and breaker label of the link-safety service.
const DependencyLinkCheck = "linkcheck"

// LinkCheckConfig configures the link-safety dependency (sample-service/linkcheck) that
// shortlink asks before every redirect. Every zero value has a documented default.
type LinkCheckConfig struct {
	// URL is the base URL of the linkcheck service, like http://127.0.0.1:8090. Empty
	// disables the check: redirects are served straight from the store.
	URL string
	// Timeout bounds each call. Zero means 300ms.
	Timeout time.Duration
	// CacheTTL is how long a verdict stays usable by the fallback. Zero means 10m.
	CacheTTL time.Duration
	// CacheSize bounds the verdicts kept. Zero means 10000.
	CacheSize int
	// Breaker configures the circuit breaker around the calls.
	Breaker BreakerConfig
	// Transport sends the calls. Nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
}

// BreakerConfig configures the circuit breaker (sony/gobreaker) in front of linkcheck.
// Closed, it counts calls over a rolling Window and opens once at least MinCalls were
// made and FailureRatio of them failed (errors, timeouts and, with SlowCall, slow
// answers). Open, it rejects calls for OpenFor; then, half-open, it lets HalfOpenCalls
// probes through: all succeed → closed, one fails → open again.
type BreakerConfig struct {
	// Disabled sends every call to linkcheck and waits for it: the control a game day
	// uses to show what the breaker is worth. No breaker metrics are exported.
	Disabled bool
	// Window is the rolling window the failure ratio is computed over, in 10 buckets.
	// Zero means 60s.
	Window time.Duration
	// FailureRatio in (0,1] opens the breaker. Zero means 0.5.
	FailureRatio float64
	// MinCalls is the fewest calls in Window before the breaker may open. Zero means 20.
	MinCalls uint32
	// OpenFor is how long the breaker stays open before probing. Zero means 30s.
	OpenFor time.Duration
	// HalfOpenCalls is the number of probes let through when half-open. Zero means 1.
	HalfOpenCalls uint32
	// SlowCall, when positive, makes an answer slower than it count as a failure for the
	// breaker (the answer is still used). Zero counts only errors and timeouts.
	SlowCall time.Duration
}

func (c *LinkCheckConfig) defaults() {
	c.Timeout = cmp.Or(c.Timeout, 300*time.Millisecond)
	c.CacheTTL = cmp.Or(c.CacheTTL, 10*time.Minute)
	c.Breaker.Window = cmp.Or(c.Breaker.Window, time.Minute)
	c.Breaker.OpenFor = cmp.Or(c.Breaker.OpenFor, 30*time.Second)
	c.CacheSize = cmp.Or(c.CacheSize, 10000)
	c.Breaker.FailureRatio = cmp.Or(c.Breaker.FailureRatio, 0.5)
	c.Breaker.MinCalls = cmp.Or(c.Breaker.MinCalls, 20)
	c.Breaker.HalfOpenCalls = cmp.Or(c.Breaker.HalfOpenCalls, 1)
	if c.Transport == nil {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
}

func (c *LinkCheckConfig) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("LinkCheck.URL must be an http(s) URL like http://127.0.0.1:8090, got %q", c.URL)
	}
	b := c.Breaker
	switch {
	case c.Timeout < 0 || c.CacheTTL < 0 || b.Window < 0 || b.OpenFor < 0 || b.SlowCall < 0:
		return errors.New("LinkCheck durations must not be negative")
	case c.CacheSize < 0:
		return fmt.Errorf("LinkCheck.CacheSize must not be negative, got %d", c.CacheSize)
	case !(b.FailureRatio > 0 && b.FailureRatio <= 1):
		return fmt.Errorf("LinkCheck.Breaker.FailureRatio must be in (0,1], got %v", b.FailureRatio)
	case b.Window < 10*time.Millisecond:
		return fmt.Errorf("LinkCheck.Breaker.Window must be at least 10ms, got %s", b.Window)
	}
	return nil
}

// verdictResult is what a redirect learns about its target.
type verdictResult struct {
	blocked bool
	reason  string
	source  string // sli.SourceDependency, SourceCache or SourceDefault
}

// checker asks linkcheck through the breaker, falling back to cached verdicts and, for
// targets it has never seen, to allowing the redirect (fail open: a redirect without a
// verdict is counted as such, the correctness SLI).
type checker struct {
	cfg     LinkCheckConfig
	verdict string // the verdict endpoint, without the query
	client  *http.Client
	cb      *gobreaker.CircuitBreaker[verdictResult] // nil when disabled
	dep     *promsli.Dependency
	cache   *verdictCache
	log     *slog.Logger

	transitions atomic.Uint64
	last        atomic.Pointer[[2]string] // the latest transition, from and to
}

func newChecker(cfg LinkCheckConfig, service string, reg prometheus.Registerer, tp trace.TracerProvider, log *slog.Logger) (*checker, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rt := cfg.Transport
	if tp != nil {
		rt = otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(tp))
	}
	dep, err := promsli.NewDependency(reg, promsli.DependencyConfig{Service: service, Dependency: DependencyLinkCheck})
	if err != nil {
		return nil, err
	}
	c := &checker{cfg: cfg, verdict: strings.TrimSuffix(cfg.URL, "/") + linkcheck.PathVerdict,
		client: &http.Client{Transport: rt}, dep: dep, cache: newVerdictCache(cfg.CacheSize, cfg.CacheTTL),
		log: log.With("dependency", DependencyLinkCheck)}
	if cfg.Breaker.Disabled {
		return c, nil
	}
	return c, c.newBreaker(service, reg)
}

func (c *checker) newBreaker(service string, reg prometheus.Registerer) error {
	b := c.cfg.Breaker
	var metrics *promsli.Breaker
	c.cb = gobreaker.NewCircuitBreaker[verdictResult](gobreaker.Settings{
		Name:         DependencyLinkCheck,
		MaxRequests:  b.HalfOpenCalls,
		Interval:     b.Window,
		BucketPeriod: b.Window / 10,
		Timeout:      b.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			return n.Requests >= b.MinCalls && float64(n.TotalFailures) >= b.FailureRatio*float64(n.Requests)
		},
		// A request whose client went away says nothing about linkcheck.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			c.last.Store(&[2]string{from.String(), to.String()})
			c.transitions.Add(1)
			if metrics != nil {
				metrics.Transition(from.String(), to.String())
			}
			c.log.Info("circuit breaker state change", "breaker", DependencyLinkCheck, "from", from.String(), "to", to.String())
		},
	})
	var err error
	metrics, err = promsli.NewBreaker(reg, promsli.BreakerConfig{Service: service, Name: DependencyLinkCheck,
		State: func() string { return c.cb.State().String() }})
	return err
}

// errSlow marks an answer slower than BreakerConfig.SlowCall: a failure for the breaker,
// but an answer all the same.
type errSlow struct{ v verdictResult }

func (e errSlow) Error() string {
	return "linkcheck answered slower than the breaker's slow-call threshold"
}

// check returns the verdict for target, never failing: when linkcheck cannot answer it
// falls back to the cache, then to allowing the redirect.
func (c *checker) check(ctx context.Context, target string) verdictResult {
	v, err := c.call(ctx, target)
	if slow := (errSlow{}); errors.As(err, &slow) {
		v, err = slow.v, nil
	}
	if err == nil {
		c.cache.put(target, v, time.Now())
		c.dep.Answer(sli.SourceDependency)
		return v
	}
	v, ok := c.cache.get(target, time.Now())
	if ok {
		v.source = sli.SourceCache
	} else {
		v = verdictResult{source: sli.SourceDefault}
	}
	c.dep.Answer(v.source)
	trace.SpanFromContext(ctx).AddEvent("linkcheck.fallback", trace.WithAttributes(
		attribute.String("source", v.source), attribute.String("error", err.Error())))
	return v
}

// call asks linkcheck through the breaker and records the call.
func (c *checker) call(ctx context.Context, target string) (verdictResult, error) {
	if c.cb == nil {
		return c.ask(ctx, target)
	}
	n := c.transitions.Load()
	v, err := c.cb.Execute(func() (verdictResult, error) { return c.ask(ctx, target) })
	span := trace.SpanFromContext(ctx)
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		c.dep.Call(sli.OutcomeRejected, 0)
		span.AddEvent("circuit_breaker.rejected", trace.WithAttributes(
			attribute.String("breaker", DependencyLinkCheck), attribute.String("reason", err.Error())))
	}
	if c.transitions.Load() != n {
		if t := c.last.Load(); t != nil {
			span.AddEvent("circuit_breaker.state_change", trace.WithAttributes(
				attribute.String("breaker", DependencyLinkCheck), attribute.String("from", t[0]), attribute.String("to", t[1])))
		}
	}
	return v, err
}

// ask makes one call to linkcheck under the configured timeout.
func (c *checker) ask(ctx context.Context, target string) (verdictResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	start := time.Now()
	v, err := c.get(ctx, target)
	took := time.Since(start)
	switch {
	case err == nil:
		c.dep.Call(sli.OutcomeOK, took)
	case errors.Is(err, context.DeadlineExceeded):
		c.dep.Call(sli.OutcomeTimeout, took)
		return v, fmt.Errorf("linkcheck: no answer within %s: %w", c.cfg.Timeout, err)
	default:
		c.dep.Call(sli.OutcomeError, took)
		return v, err
	}
	if s := c.cfg.Breaker.SlowCall; s > 0 && took > s {
		return v, errSlow{v}
	}
	return v, nil
}

func (c *checker) get(ctx context.Context, target string) (verdictResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.verdict+"?url="+url.QueryEscape(target), nil)
	if err != nil {
		return verdictResult{}, fmt.Errorf("linkcheck: %w", err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return verdictResult{}, fmt.Errorf("linkcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return verdictResult{}, fmt.Errorf("linkcheck: status %d", resp.StatusCode)
	}
	var body linkcheck.Verdict
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil {
		return verdictResult{}, fmt.Errorf("linkcheck: reading the verdict: %w", err)
	}
	switch body.Verdict {
	case linkcheck.Allow:
		return verdictResult{source: sli.SourceDependency}, nil
	case linkcheck.Block:
		return verdictResult{blocked: true, reason: body.Reason, source: sli.SourceDependency}, nil
	}
	return verdictResult{}, fmt.Errorf("linkcheck: unknown verdict %q", body.Verdict)
}

// verdictCache keeps recent verdicts for the fallback. When full, putting a new target
// evicts an arbitrary one.
type verdictCache struct {
	mu   sync.Mutex
	max  int
	ttl  time.Duration
	data map[string]cachedVerdict
}

type cachedVerdict struct {
	v  verdictResult
	at time.Time
}

func newVerdictCache(size int, ttl time.Duration) *verdictCache {
	return &verdictCache{max: size, ttl: ttl, data: make(map[string]cachedVerdict)}
}

func (vc *verdictCache) put(target string, v verdictResult, now time.Time) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if _, ok := vc.data[target]; !ok && len(vc.data) >= vc.max {
		for k := range vc.data {
			delete(vc.data, k)
			break
		}
	}
	if vc.max > 0 {
		vc.data[target] = cachedVerdict{v: v, at: now}
	}
}

func (vc *verdictCache) get(target string, now time.Time) (verdictResult, bool) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	e, ok := vc.data[target]
	if !ok || now.Sub(e.at) > vc.ttl {
		return verdictResult{}, false
	}
	return e.v, true
}
