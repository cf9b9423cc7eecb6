// Package demo runs slokit's whole loop on one machine: the shortlink service behind an
// instrumented edge and the HTTP fault proxy, steady load, and the local lab (or a real
// Prometheus) evaluating the generated rules, ready for a game day.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/lab"
	"github.com/slokit/slokit/internal/load"
	"github.com/slokit/slokit/sample-service/shortlink"
	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/promsli"
	"github.com/slokit/slokit/slo"
)

//go:embed assets/slos.yaml
var slosYAML []byte

//go:embed assets/gameday.yaml.tmpl
var gameDayTmpl string

//go:embed assets/breaker-slos.yaml
var breakerSLOsYAML []byte

//go:embed assets/breaker-gameday.yaml.tmpl
var breakerGameDayTmpl string

// Names of the files Start writes into Config.Dir.
const (
	FileSLOs       = "slos.yaml"
	FileGameDay    = "gameday.yaml"
	FileRules      = "rules.yml"
	FilePrometheus = "prometheus.yml"
)

// Job is the job label of the edge's scrape target, in the lab and in prometheus.yml.
const Job = "shortlink-demo"

// Config configures a Stack. Every zero value has a documented default.
type Config struct {
	// Dir receives slos.yaml, rules.yml, prometheus.yml and gameday.yaml. Required;
	// created when missing.
	Dir string
	// Listen is the edge's address, the one the load is sent to and Prometheus scrapes.
	// Empty means 127.0.0.1:0 (a free port).
	Listen string
	// Prometheus, when set, is the base URL of a real Prometheus that scrapes the edge
	// and evaluates rules.yml (see prometheus.yml); no lab is started. Empty starts the lab.
	Prometheus string
	// ScrapeInterval is how often the edge is scraped and the rules are evaluated. Zero
	// means 1s.
	ScrapeInterval time.Duration
	// Rate is the load in requests per second (one create and one miss for every eight
	// redirects). Zero means 50.
	Rate float64
	// SteadyWait is the game day's steadyState.wait: how long preflight waits for a
	// healthy SLO. Zero means 75s with the lab (so that an error blip during the warm-up
	// can leave the 1m window) and 5m with Prometheus (time to load the rules and the
	// scrape config).
	SteadyWait time.Duration
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
	// Scenario selects the game day: ScenarioErrors (the default when empty),
	// ScenarioBreaker or ScenarioBreakerOff.
	Scenario string
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.ScrapeInterval <= 0 {
		c.ScrapeInterval = time.Second
	}
	if c.Rate <= 0 {
		c.Rate = 50
	}
	if c.SteadyWait <= 0 {
		c.SteadyWait = 75 * time.Second
		if c.Prometheus != "" {
			c.SteadyWait = 5 * time.Minute
		}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Scenario == "" {
		c.Scenario = ScenarioErrors
	}
}

// SLOSpec returns the demo's embedded SLO spec.
func SLOSpec() []byte { return bytes.Clone(slosYAML) }

// Objective returns the demo's SLO in domain form.
func Objective() (slo.Objective, error) {
	svc, ds := slo.Parse(FileSLOs, slosYAML)
	if err := ds.Err(); err != nil {
		return slo.Objective{}, fmt.Errorf("demo: the embedded SLO spec: %w", err)
	}
	return svc.Objectives[0], nil
}

// Rules returns the demo's generated rule file, every group evaluated every interval.
func Rules(interval time.Duration) (slo.RuleFile, error) { return rulesOf(slosYAML, interval) }

func rulesOf(spec []byte, interval time.Duration) (slo.RuleFile, error) {
	svc, ds := slo.Parse(FileSLOs, spec)
	if err := ds.Err(); err != nil {
		return slo.RuleFile{}, fmt.Errorf("demo: the embedded SLO spec: %w", err)
	}
	for i := range svc.Objectives {
		svc.Objectives[i].ScrapeInterval = interval
		svc.Objectives[i].EvaluationInterval = interval
	}
	rf, err := alerts.RuleFile([]*slo.Service{svc}, alerts.Options{})
	if err != nil {
		return slo.RuleFile{}, fmt.Errorf("demo: generating rules: %w", err)
	}
	// The long group too: the demo's compressed time has no room for its slower pace, and
	// the lab's engine evaluates every rule at one interval, so Prometheus and the lab
	// agree. The game day's deadline still includes the 5s a generated long group would
	// add (alerts.Predict knows the objective, not this override): 5s of slack.
	for i := range rf.Groups {
		rf.Groups[i].Interval = slo.FormatWindow(interval)
	}
	return rf, nil
}

// Stack is a running demo environment. Create it with Start, stop it with Close.
type Stack struct {
	cfg Config
	// EdgeURL is where users (and the load) send requests, like http://127.0.0.1:40123;
	// its /metrics holds the SLIs.
	EdgeURL string
	// ServiceURL is the shortlink service behind the fault proxy.
	ServiceURL string
	// SignalsURL is the Prometheus HTTP API the game day reads: the lab's or Config.Prometheus.
	SignalsURL string
	// Lab is the local lab; nil with Config.Prometheus.
	Lab *lab.Lab
	// Files are the paths Start wrote, by name (FileSLOs, …).
	Files map[string]string
	// DependencyURL is the linkcheck service shortlink asks before redirects (the
	// breaker scenarios); "" otherwise.
	DependencyURL string

	sc          scenario
	proxyListen string // the fault proxy's address, chosen up front in the breaker scenarios

	upstream atomic.Pointer[httputil.ReverseProxy]
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	svc      *shortlink.Server
	store    string
	edge     *http.Server

	mu       sync.Mutex
	gen      *load.Generator
	closed   bool
	serveErr chan error
}

// Start starts the shortlink service (its store in a temporary directory), the edge in
// front of where the fault proxy will be, and the lab (unless Config.Prometheus is
// set), and writes the demo's files into Config.Dir. The load starts with StartLoad,
// once Route has pointed the edge at the fault proxy.
func Start(ctx context.Context, cfg Config) (s *Stack, err error) {
	cfg.defaults()
	if cfg.Dir == "" {
		return nil, errors.New("demo: Config.Dir is required")
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sc, ok := scenarios[cfg.Scenario]
	if !ok {
		cancel()
		return nil, fmt.Errorf("demo: unknown scenario %q; the scenarios are %s", cfg.Scenario, strings.Join(ScenarioNames(), ", "))
	}
	s = &Stack{cfg: cfg, sc: sc, cancel: cancel, Files: map[string]string{}, serveErr: make(chan error, 4)}
	defer func() {
		if err != nil {
			_ = s.Close()
			s = nil
		}
	}()

	if err := s.startService(rctx); err != nil {
		return s, err
	}
	if err := s.startEdge(); err != nil {
		return s, err
	}
	rf, err := rulesOf(sc.spec, cfg.ScrapeInterval)
	if err != nil {
		return s, err
	}
	if err := s.startLab(rctx, rf); err != nil {
		return s, err
	}
	if err := s.writeFiles(rf); err != nil {
		return s, err
	}
	return s, nil
}

// startService starts the shortlink service, its store in a temporary directory,
// behind the linkcheck dependency of the breaker scenarios.
func (s *Stack) startService(rctx context.Context) error {
	var err error
	s.store, err = os.MkdirTemp("", "slokit-demo-store-")
	if err != nil {
		return fmt.Errorf("demo: store directory: %w", err)
	}
	lc, err := s.startDependency(rctx)
	if err != nil {
		return err
	}
	s.svc, err = shortlink.New(shortlink.Config{DBPath: filepath.Join(s.store, "links.db"),
		ServiceName: BackendService, Logger: s.cfg.Log.With("component", "shortlink"),
		ShutdownTimeout: 5 * time.Second, LinkCheck: lc,
		// No Go collector: the lab's OpenMetrics parser rejects go_memstats_alloc_bytes
		// after go_memstats_alloc_bytes_total, and the demo needs only the SLI series.
		Registry: prometheus.NewRegistry()})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: service listener: %w", err)
	}
	s.ServiceURL = "http://" + sl.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.svc.Serve(rctx, sl); err != nil {
			s.serveErr <- err
		}
	}()
	return nil
}

// startEdge starts the edge: SLIs are measured there, in front of the fault proxy, so
// that requests the proxy aborts count as the users saw them.
func (s *Stack) startEdge() error {
	el, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("demo: edge listener on %s: %w", s.cfg.Listen, err)
	}
	s.EdgeURL = "http://" + el.Addr().String()
	h, err := s.edgeHandler()
	if err != nil {
		_ = el.Close()
		return err
	}
	s.edge = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.edge.Serve(el); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- err
		}
	}()
	return nil
}

// startLab starts the lab evaluating rf, unless Config.Prometheus names the
// Prometheus to read signals from.
func (s *Stack) startLab(rctx context.Context, rf slo.RuleFile) error {
	s.SignalsURL = strings.TrimRight(s.cfg.Prometheus, "/")
	if s.cfg.Prometheus != "" {
		return nil
	}
	var err error
	s.Lab, err = lab.New(lab.Config{
		Targets:        s.targets(),
		Groups:         rf.Groups,
		ScrapeInterval: s.cfg.ScrapeInterval,
		Logger:         s.cfg.Log.With("component", "lab"),
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	s.SignalsURL = s.Lab.URL()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.Lab.Run(rctx); err != nil {
			s.serveErr <- err
		}
	}()
	return nil
}

func (s *Stack) edgeHandler() (http.Handler, error) {
	reg := prometheus.NewRegistry()
	rec, err := promsli.New(reg, promsli.Config{Service: "shortlink"})
	if err != nil {
		return nil, fmt.Errorf("demo: edge instrumentation: %w", err)
	}
	forward := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp := s.upstream.Load()
		if rp == nil {
			http.Error(w, "slokit demo: the fault proxy is not started yet", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	})
	routes := http.NewServeMux()
	for _, p := range []string{shortlink.RouteCreate, shortlink.RouteShow, shortlink.RouteDelete, shortlink.RouteRedirect} {
		routes.Handle(p, forward)
	}
	top := http.NewServeMux()
	top.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	top.Handle("/", sli.Middleware(rec)(routes))
	return top, nil
}

// statusClientClosed is nginx's status for a request whose client went away.
const statusClientClosed = 499

// Route points the edge at upstream (the fault proxy's URL); until then it answers 503.
func (s *Stack) Route(upstream string) error {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return fmt.Errorf("demo: upstream %q: want an http URL like http://127.0.0.1:8081", upstream)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host },
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.cfg.Log.Debug("edge: upstream error", "err", err)
			if r.Context().Err() != nil {
				// The client gave up (a load timeout): not a server error. Like nginx,
				// record 499 "client closed request" rather than 502.
				w.WriteHeader(statusClientClosed)
				return
			}
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	s.upstream.Store(rp)
	return nil
}

// StartLoad sends Config.Rate requests per second to the edge until Close.
func (s *Stack) StartLoad(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != nil {
		return nil
	}
	gen, err := load.Start(context.WithoutCancel(ctx), load.Config{Target: s.EdgeURL, Rate: s.cfg.Rate})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	s.gen = gen
	return nil
}

// StopLoad stops the load and waits for the requests in flight; it returns the final
// report, or nil when no load was started.
func (s *Stack) StopLoad() *load.Report {
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	if gen == nil {
		return nil
	}
	return gen.Stop()
}

// Close stops the load, then the edge, the lab and the service (draining them), and
// removes the service's store. It returns every failure of any of them.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.StopLoad()
	var errs []error
	if s.edge != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.edge.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("demo: edge shutdown: %w", err))
		}
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	close(s.serveErr)
	for err := range s.serveErr {
		errs = append(errs, err)
	}
	if s.svc != nil {
		errs = append(errs, s.svc.Close())
	}
	if s.store != "" {
		errs = append(errs, os.RemoveAll(s.store))
	}
	return errors.Join(errs...)
}

// gameDayVars fill the game-day template.
type gameDayVars struct {
	Edge, Service, Prometheus, ProxyListen, Dependency string
	SteadyWait, Timeout                                string
}

func (s *Stack) writeFiles(rf slo.RuleFile) error {
	rules, err := yaml.Marshal(rf)
	if err != nil {
		return fmt.Errorf("demo: rules: %w", err)
	}
	rules = append([]byte("# Code generated by slokit demo from slos.yaml; DO NOT EDIT.\n"), rules...)
	iv := slo.FormatWindow(s.cfg.ScrapeInterval)
	promCfg := fmt.Sprintf(`# Prometheus configuration for slokit demo --prometheus: scrape the demo's edge and
# evaluate rules.yml every %[1]s. Run: prometheus --config.file=%[3]s
global: {scrape_interval: %[1]s, evaluation_interval: %[1]s}
rule_files: [%[4]s]
scrape_configs:
  - job_name: %[5]s
    static_configs: [{targets: ["%[2]s"]}]
`, iv, strings.TrimPrefix(s.EdgeURL, "http://"), FilePrometheus, FileRules, Job)
	if s.sc.dependency {
		promCfg += fmt.Sprintf("  - job_name: %s  # the breaker's state\n    static_configs: [{targets: [%q]}]\n",
			BackendJob, strings.TrimPrefix(s.ServiceURL, "http://"))
	}
	var gd bytes.Buffer
	tmpl, err := template.New("gameday").Parse(s.sc.gameDay)
	if err != nil {
		return fmt.Errorf("demo: game-day template: %w", err)
	}
	planned := s.cfg.SteadyWait + 3*time.Minute
	proxy := "127.0.0.1:0"
	if s.proxyListen != "" {
		proxy = s.proxyListen
	}
	if err := tmpl.Execute(&gd, gameDayVars{Edge: s.EdgeURL, Service: s.ServiceURL, Prometheus: s.SignalsURL,
		Dependency: s.DependencyURL, ProxyListen: proxy, SteadyWait: slo.FormatWindow(s.cfg.SteadyWait), Timeout: slo.FormatWindow(planned)}); err != nil {
		return fmt.Errorf("demo: game-day template: %w", err)
	}
	for name, data := range map[string][]byte{FileSLOs: s.sc.spec, FileRules: rules, FilePrometheus: []byte(promCfg), FileGameDay: gd.Bytes()} {
		p := filepath.Join(s.cfg.Dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		s.Files[name] = p
	}
	return nil
}

// WarmUpStatus is reported while WarmUp waits.
type WarmUpStatus struct {
	// Elapsed is the time since WarmUp began; Filled how much of Fill has passed since
	// the SLO's burn rate first appeared.
	Elapsed, Filled, Fill time.Duration
	// Burn is the latest burn rate per window.
	Burn map[time.Duration]float64
	// Err is why the signals could not be read at this poll, or nil.
	Err error
}

// WarmUp waits until the SLO's burn rate over window appears in sig and then for fill
// more, so that the alert's long window holds only healthy traffic when the fault begins
// (the predictions assume it; a younger history makes the alert fire early). It reports
// every poll to progress (may be nil) and fails when the burn rate is still missing
// after wait.
func WarmUp(ctx context.Context, sig chaos.Signals, o slo.Objective, window, fill, wait time.Duration, progress func(WarmUpStatus)) error {
	start := time.Now()
	var first time.Time
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		burn, err := sig.BurnRates(ctx, o)
		now := time.Now()
		if err == nil {
			if _, ok := burn[window]; ok && first.IsZero() {
				first = now
			}
		}
		st := WarmUpStatus{Elapsed: now.Sub(start), Fill: fill, Burn: burn, Err: err}
		if !first.IsZero() {
			st.Filled = min(now.Sub(first), fill)
		}
		if progress != nil {
			progress(st)
		}
		switch {
		case !first.IsZero() && now.Sub(first) >= fill:
			return nil
		case first.IsZero() && now.Sub(start) > wait:
			why := "no burn-rate series yet"
			if err != nil {
				why = err.Error()
			}
			return fmt.Errorf("warm-up: no %s burn rate of %s after %s (%s); is the edge scraped and are the rules loaded?",
				slo.FormatWindow(window), o.ID(), wait, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
