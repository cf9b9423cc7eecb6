package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// Latency distributions of HTTPDelay.
const (
	DistFixed   = "fixed"   // every delayed request waits Latency
	DistUniform = "uniform" // uniform in [Latency-Jitter, Latency+Jitter]
	DistNormal  = "normal"  // normal with mean Latency and standard deviation Jitter
)

// HTTPFault is what the proxy does to matching requests while the fault is active.
// At least one of Abort and Delay is set.
type HTTPFault struct {
	// Abort answers a share of the matching requests itself, without forwarding them.
	Abort *HTTPAbort
	// Delay holds a share of the matching requests before forwarding them.
	Delay *HTTPDelay
	// Match restricts the fault to some requests; the zero value matches all.
	Match HTTPMatch
}

// HTTPAbort answers Percent of the requests with Status.
type HTTPAbort struct {
	// Percent of matching requests aborted, in (0,100].
	Percent float64
	// Status is the status code sent; 0 means 503.
	Status int
}

// HTTPDelay delays Percent of the requests by a latency drawn from Distribution.
type HTTPDelay struct {
	// Percent of matching requests delayed, in (0,100].
	Percent float64
	// Latency is the fixed delay, or the distribution's centre.
	Latency time.Duration
	// Jitter is the half-width (uniform) or standard deviation (normal); ignored by fixed.
	Jitter time.Duration
	// Distribution is DistFixed, DistUniform or DistNormal; "" means DistFixed.
	Distribution string
}

// HTTPMatch selects the requests a fault applies to. Both conditions must hold when
// both are set.
type HTTPMatch struct {
	// Routes are Go ServeMux patterns ("GET /{code}", "/api/"); a request matches when
	// one of them would route it. Empty matches every request.
	Routes []string
	// PathPrefix matches requests whose URL path starts with it. Empty matches all.
	PathPrefix string
}

// Validate reports the first problem of f.
func (f *HTTPFault) Validate() error {
	if f.Abort == nil && f.Delay == nil {
		return errors.New("an HTTP fault needs abort, delay or both")
	}
	if a := f.Abort; a != nil {
		if !(a.Percent > 0 && a.Percent <= 100) {
			return fmt.Errorf("abort percent must be in (0,100], got %v", a.Percent)
		}
		if a.Status != 0 && (a.Status < 100 || a.Status > 599) {
			return fmt.Errorf("abort status must be an HTTP status in [100,599], got %d", a.Status)
		}
	}
	if dl := f.Delay; dl != nil {
		if !(dl.Percent > 0 && dl.Percent <= 100) {
			return fmt.Errorf("delay percent must be in (0,100], got %v", dl.Percent)
		}
		if dl.Latency < 0 || dl.Jitter < 0 {
			return fmt.Errorf("delay latency and jitter must be >= 0, got %v and %v", dl.Latency, dl.Jitter)
		}
		switch dl.Distribution {
		case "", DistFixed, DistUniform, DistNormal:
		default:
			return fmt.Errorf("delay distribution must be fixed, uniform or normal, got %q", dl.Distribution)
		}
	}
	_, err := newMatcher(f.Match)
	return err
}

// matcher is a compiled HTTPMatch.
type matcher struct {
	mux    *http.ServeMux // nil: every route
	prefix string
}

func newMatcher(m HTTPMatch) (mt *matcher, err error) {
	mt = &matcher{prefix: m.PathPrefix}
	if len(m.Routes) == 0 {
		return mt, nil
	}
	mt.mux = http.NewServeMux()
	for _, r := range m.Routes {
		func() {
			defer func() {
				if v := recover(); v != nil {
					err = errors.Join(err, fmt.Errorf("route %q: %v", r, v))
				}
			}()
			mt.mux.Handle(r, http.NotFoundHandler())
		}()
	}
	return mt, err
}

func (m *matcher) match(r *http.Request) bool {
	if m.prefix != "" && !strings.HasPrefix(r.URL.Path, m.prefix) {
		return false
	}
	if m.mux == nil {
		return true
	}
	_, pattern := m.mux.Handler(r)
	return pattern != ""
}

// active is one injected fault; removed is closed when it is taken away so that
// requests held by its delay are released at once.
type active struct {
	fault   HTTPFault
	match   *matcher
	removed chan struct{}
	// matched, aborted and delayed count the requests the fault saw and what it did.
	matched, aborted, delayed atomic.Int64
}

// stats reports a's counters; nil reports zeros.
func (a *active) stats() chaos.FaultStats {
	if a == nil {
		return chaos.FaultStats{}
	}
	ab, dl := a.aborted.Load(), a.delayed.Load()
	return chaos.FaultStats{Matched: a.matched.Load(), Injected: max(ab, dl), Errors: ab}
}

// HTTPProxyConfig configures an HTTPProxy.
type HTTPProxyConfig struct {
	// Listen is the address the proxy listens on, like 127.0.0.1:8081 (port 0 picks one).
	Listen string
	// Target is the base URL requests are forwarded to, like http://127.0.0.1:8080.
	Target string
	// Fault is what Inject applies; nil means the proxy only forwards until SetFault.
	Fault *HTTPFault
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// HTTPProxy is a reverse proxy in front of a target that aborts or delays requests while
// a fault is active and forwards them untouched otherwise. It implements chaos.Injector:
// Inject applies the configured fault, Remove returns to forwarding; the proxy keeps
// serving in between so load can run through it for the whole game day.
type HTTPProxy struct {
	cfg    HTTPProxyConfig
	target *url.URL
	log    *slog.Logger
	rp     *httputil.ReverseProxy
	fault  atomic.Pointer[active]
	// last is the most recent fault, kept after removal for FaultStats.
	last atomic.Pointer[active]

	mu   sync.Mutex
	srv  *http.Server
	addr string
	done chan struct{}
}

var (
	_ chaos.Injector     = (*HTTPProxy)(nil)
	_ chaos.FaultCounter = (*HTTPProxy)(nil)
	_ http.Handler       = (*HTTPProxy)(nil)
)

// NewHTTPProxy checks cfg and builds a proxy; Start makes it listen.
func NewHTTPProxy(cfg HTTPProxyConfig) (*HTTPProxy, error) {
	u, err := url.Parse(cfg.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http-proxy: target %q: want an http(s) URL like http://127.0.0.1:8080", cfg.Target)
	}
	if cfg.Listen == "" {
		return nil, errors.New("http-proxy: listen is empty: want an address like 127.0.0.1:8081")
	}
	if cfg.Fault != nil {
		if err := cfg.Fault.Validate(); err != nil {
			return nil, fmt.Errorf("http-proxy: %w", err)
		}
	}
	p := &HTTPProxy{cfg: cfg, target: u, log: cfg.Log}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Debug("http-proxy: upstream error", "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return p, nil
}

// Start listens on the configured address and serves in the background until Close.
// Calling it again is a no-op.
func (p *HTTPProxy) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return nil
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("http-proxy: listen: %w", err)
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.addr = l.Addr().String()
	p.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("http-proxy stopped", "err", err)
		}
	}(p.srv, p.done)
	p.log.Info("http-proxy listening", "listen", p.addr, "target", p.target.String())
	return nil
}

// URL is the proxy's base URL once started, like http://127.0.0.1:8081.
func (p *HTTPProxy) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addr == "" {
		return ""
	}
	return "http://" + p.addr
}

// Close removes the fault and stops the proxy, closing its connections.
func (p *HTTPProxy) Close() error {
	p.SetFault(nil)
	p.mu.Lock()
	srv, done := p.srv, p.done
	p.srv = nil
	p.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	return err
}

// SetFault applies f at once (nil forwards everything); requests held by the previous
// fault's delay are released.
func (p *HTTPProxy) SetFault(f *HTTPFault) error {
	_, err := p.swapFault(f)
	return err
}

// swapFault applies f and returns the counters of the fault it replaced.
func (p *HTTPProxy) swapFault(f *HTTPFault) (chaos.FaultStats, error) {
	var next *active
	if f != nil {
		if err := f.Validate(); err != nil {
			return chaos.FaultStats{}, fmt.Errorf("http-proxy: %w", err)
		}
		m, _ := newMatcher(f.Match)
		next = &active{fault: *f, match: m, removed: make(chan struct{})}
		p.last.Store(next)
	}
	old := p.fault.Swap(next)
	if old != nil {
		close(old.removed)
	}
	return old.stats(), nil
}

// FaultStats counts the requests the most recent fault matched and failed or delayed,
// also after it was removed; ok is false before any fault was set.
func (p *HTTPProxy) FaultStats() (chaos.FaultStats, bool) {
	a := p.last.Load()
	return a.stats(), a != nil
}

// Inject starts the proxy if it is not running and applies the configured fault.
func (p *HTTPProxy) Inject(ctx context.Context) error {
	if p.cfg.Fault == nil {
		return errors.New("http-proxy: no fault configured")
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	p.log.Info("http-proxy: fault injected", "listen", p.cfg.Listen)
	return p.SetFault(p.cfg.Fault)
}

// Remove returns the proxy to forwarding; it is idempotent and safe after a failed Inject.
func (p *HTTPProxy) Remove(context.Context) error {
	if p.fault.Load() != nil {
		p.log.Info("http-proxy: fault removed", "listen", p.cfg.Listen)
	}
	return p.SetFault(nil)
}

// ServeHTTP applies the active fault, if any, then forwards the request.
func (p *HTTPProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a := p.fault.Load(); a != nil && a.match.match(r) {
		a.matched.Add(1)
		if dl := a.fault.Delay; dl != nil && hit(dl.Percent) {
			a.delayed.Add(1)
			t := time.NewTimer(dl.sample())
			select {
			case <-t.C:
			case <-a.removed:
				t.Stop()
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if ab := a.fault.Abort; ab != nil && hit(ab.Percent) {
			a.aborted.Add(1)
			status := ab.Status
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Slokit-Fault", "abort")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, "slokit http-proxy: request aborted by an injected fault (%d)\n", status)
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

func hit(percent float64) bool { return percent >= 100 || rand.Float64()*100 < percent }

// sample draws one delay, never negative.
func (d *HTTPDelay) sample() time.Duration {
	var v float64
	switch d.Distribution {
	case DistUniform:
		v = float64(d.Latency) + (rand.Float64()*2-1)*float64(d.Jitter)
	case DistNormal:
		v = float64(d.Latency) + rand.NormFloat64()*float64(d.Jitter)
	default:
		v = float64(d.Latency)
	}
	return time.Duration(math.Max(0, v))
}

// HTTPProxyBackend builds HTTP fault proxies from game-day files:
//
//	fault:
//	  backend: http-proxy
//	  params:
//	    listen: 127.0.0.1:8081            # where the load generator sends traffic
//	    target: http://127.0.0.1:8080     # the service
//	    abort: {percent: 50, status: 503} # optional
//	    delay: {percent: 100, latency: 300ms, jitter: 50ms, distribution: normal} # optional
//	    match: {routes: ["GET /{code}"], pathPrefix: /}                           # optional
//
// That proxy lives inside the slokit process that runs the game day: the traffic path
// ends with the run (and with a kill -9 of it), which suits a demo or a CI lab. For
// traffic that matters, run the proxy as its own long-lived process (`slokit chaos
// proxy`) and drive it through its control API; the fault then carries a lease and the
// proxy removes it by itself when the run dies or stalls:
//
//	params:
//	  control: unix:///run/slokit/shortlink.sock # or http://127.0.0.1:8474
//	  tokenFile: /run/slokit/shortlink.token     # optional with a unix socket
//	  lease: 1500ms                              # optional, default 1.5s
//	  abort: {percent: 50, status: 503}
//
// An in-process proxy implements Start and Close: the runner starts it before preflight
// so load flows through it, and closes it after the run. Inject starts it too when the
// runner did not.
type HTTPProxyBackend struct {
	// Log receives the proxies' diagnostics; nil discards them.
	Log *slog.Logger
}

var (
	_ chaos.Backend   = HTTPProxyBackend{}
	_ chaos.Estimator = HTTPProxyBackend{}
)

// Name is "http-proxy".
func (HTTPProxyBackend) Name() string { return "http-proxy" }

// Parse decodes params strictly into the proxy's typed fault (*HTTPProxyParams).
func (HTTPProxyBackend) Parse(file string, params *yaml.Node) (chaos.FaultParams, slo.Diagnostics) {
	cfg, ds := decodeHTTPProxy(file, params)
	if len(ds.Errors()) > 0 {
		return nil, ds
	}
	return &cfg, ds
}

// New builds the proxy; it does not listen until Start or Inject.
func (b HTTPProxyBackend) New(params chaos.FaultParams, run chaos.Run) (chaos.Injector, error) {
	p, ok := params.(*HTTPProxyParams)
	if !ok || p == nil {
		return nil, fmt.Errorf("http-proxy: params %T are not from HTTPProxyBackend.Parse", params)
	}
	cfg := *p
	cfg.Log = b.Log
	if cfg.Log != nil {
		cfg.Log = cfg.Log.With("run", run.ID)
	}
	if cfg.Control != "" {
		rc := RemoteProxyConfig{Control: cfg.Control, Fault: cfg.Fault, Lease: cfg.Lease, RunID: run.ID, Log: cfg.Log}
		if cfg.TokenFile != "" {
			tok, err := ReadToken(cfg.TokenFile)
			if err != nil {
				return nil, err
			}
			rc.Token = tok
		}
		return NewRemoteProxy(rc)
	}
	return NewHTTPProxy(cfg.HTTPProxyConfig)
}

// ExpectedErrorRatio is the abort share: an abort of 50% of requests causes 0.5 on the
// requests it matches. Delays alone report no ratio, as it depends on the SLO threshold.
func (HTTPProxyBackend) ExpectedErrorRatio(params chaos.FaultParams) (float64, bool) {
	cfg, ok := params.(*HTTPProxyParams)
	if !ok || cfg == nil || cfg.Fault == nil || cfg.Fault.Abort == nil {
		return 0, false
	}
	if s := cfg.Fault.Abort.Status; s != 0 && s < 500 {
		return 0, false // 4xx are not server errors to most availability SLIs
	}
	return cfg.Fault.Abort.Percent / 100, true
}

// HTTPProxyParams are the typed params of the http-proxy backend: an in-process proxy
// (Listen, Target) or a long-lived one driven through its control API (Control).
type HTTPProxyParams struct {
	HTTPProxyConfig
	Control, TokenFile string
	Lease              time.Duration
}

func decodeHTTPProxy(file string, n *yaml.Node) (HTTPProxyParams, slo.Diagnostics) {
	d := newDecoder(file)
	var cfg HTTPProxyParams
	f := &HTTPFault{}
	var abortNode, delayNode *yaml.Node
	seen := d.Mapping(n, paramsPath,
		strictyaml.Optional("listen", func(n *yaml.Node, p string) { d.hostPort(n, p, &cfg.Listen) }),
		strictyaml.Optional("target", func(n *yaml.Node, p string) {
			d.Str(n, p, &cfg.Target)
			if u, err := url.Parse(cfg.Target); cfg.Target != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
				d.Errf(n, p, "must be an http(s) URL like http://127.0.0.1:8080, got %q", cfg.Target)
			}
		}),
		strictyaml.Optional("control", func(n *yaml.Node, p string) {
			d.Str(n, p, &cfg.Control)
			if _, _, err := controlClient(cfg.Control); cfg.Control != "" && err != nil {
				d.Errf(n, p, "must be unix:///path/to.sock or http://127.0.0.1:PORT (the control API of `slokit chaos proxy`), got %q", cfg.Control)
			}
		}),
		strictyaml.Optional("tokenFile", func(n *yaml.Node, p string) { d.Str(n, p, &cfg.TokenFile) }),
		strictyaml.Optional("lease", func(n *yaml.Node, p string) {
			d.duration(n, p, &cfg.Lease)
			if cfg.Lease != 0 && (cfg.Lease < MinLease || cfg.Lease > MaxLease) {
				d.Errf(n, p, "must be in [%s,%s], got %s", MinLease, MaxLease, cfg.Lease)
			}
		}),
		strictyaml.Optional("abort", func(n *yaml.Node, p string) {
			abortNode = n
			f.Abort = &HTTPAbort{}
			d.Mapping(n, p,
				strictyaml.Required("percent", func(n *yaml.Node, p string) { d.percent(n, p, &f.Abort.Percent) }),
				strictyaml.Optional("status", func(n *yaml.Node, p string) { d.integer(n, p, 100, 599, &f.Abort.Status) }),
			)
		}),
		strictyaml.Optional("delay", func(n *yaml.Node, p string) {
			delayNode = n
			f.Delay = &HTTPDelay{}
			s := d.Mapping(n, p,
				strictyaml.Optional("percent", func(n *yaml.Node, p string) { d.percent(n, p, &f.Delay.Percent) }),
				strictyaml.Required("latency", func(n *yaml.Node, p string) { d.duration(n, p, &f.Delay.Latency) }),
				strictyaml.Optional("jitter", func(n *yaml.Node, p string) { d.duration(n, p, &f.Delay.Jitter) }),
				strictyaml.Optional("distribution", func(n *yaml.Node, p string) {
					d.oneOf(n, p, &f.Delay.Distribution, DistFixed, DistUniform, DistNormal)
				}),
			)
			if _, ok := s["percent"]; !ok {
				f.Delay.Percent = 100
			}
			if _, ok := s["jitter"]; ok && (f.Delay.Distribution == "" || f.Delay.Distribution == DistFixed) {
				d.Errf(s["jitter"], p+".jitter", "jitter needs distribution uniform or normal")
			}
		}),
		strictyaml.Optional("match", func(n *yaml.Node, p string) { d.httpMatch(n, p, &f.Match) }),
	)
	if abortNode == nil && delayNode == nil && isMapping(n) {
		d.Errf(n, paramsPath, "needs abort, delay or both: a proxy without a fault injects nothing")
	}
	checkProxyMode(d, n, seen)
	if f.Abort != nil || f.Delay != nil {
		cfg.Fault = f
	}
	return cfg, d.Diagnostics()
}

// checkProxyMode requires either control (a long-lived proxy) or listen and target (a
// proxy inside this slokit process), and the fields of one mode only.
func checkProxyMode(d *decoder, n *yaml.Node, seen map[string]*yaml.Node) {
	if !isMapping(n) || seen == nil {
		return
	}
	_, remote := seen["control"]
	if remote {
		for _, k := range []string{"listen", "target"} {
			if kn, ok := seen[k]; ok {
				d.Errf(kn, paramsPath+"."+k, "set control (a long-lived `slokit chaos proxy`) or listen and target (a proxy inside this run), not both")
			}
		}
		return
	}
	for _, k := range []string{"tokenFile", "lease"} {
		if kn, ok := seen[k]; ok {
			d.Errf(kn, paramsPath+"."+k, "applies only with control (a long-lived `slokit chaos proxy`)")
		}
	}
	for _, k := range []string{"listen", "target"} {
		if _, ok := seen[k]; !ok {
			d.Errf(n, paramsPath, "needs control (the control API of a long-lived `slokit chaos proxy`, which keeps the traffic path up whatever happens to the run) or listen and target (a proxy inside this run, for demos): %s is missing", k)
			return
		}
	}
}

func (d *decoder) httpMatch(n *yaml.Node, p string, m *HTTPMatch) {
	d.Mapping(n, p,
		strictyaml.Optional("routes", func(n *yaml.Node, p string) {
			d.StrList(n, p, &m.Routes)
			for i, r := range m.Routes {
				if _, err := newMatcher(HTTPMatch{Routes: m.Routes[:i+1]}); err != nil && r != "" {
					d.Errf(n.Content[i], fmt.Sprintf("%s[%d]", p, i), "not a ServeMux pattern like \"GET /{code}\": %v", err)
					break
				}
			}
		}),
		strictyaml.Optional("pathPrefix", func(n *yaml.Node, p string) {
			d.Str(n, p, &m.PathPrefix)
			if m.PathPrefix != "" && !strings.HasPrefix(m.PathPrefix, "/") {
				d.Errf(n, p, "must start with /, got %q", m.PathPrefix)
			}
		}),
	)
}
