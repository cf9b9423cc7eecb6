// Package lab is a one-process stand-in for Prometheus: it scrapes targets, evaluates
// rule groups in the embedded engine and serves the Prometheus HTTP API subset that
// client_golang's api/prometheus/v1 and the game-day runner read.
package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	dto "github.com/prometheus/client_model/go"

	"github.com/slokit/slokit/internal/engine"
	"github.com/slokit/slokit/slo"
)

// Target is one scrape target.
type Target struct {
	// URL of the metrics endpoint, like http://127.0.0.1:8080/metrics.
	URL string
	// Job is the job label. Empty means "slokit-lab".
	Job string
	// Labels are added to every scraped series (after job and instance).
	Labels map[string]string
}

// Config configures a Lab. Every zero value has a documented default.
type Config struct {
	Targets []Target
	// Groups are the rule groups evaluated every EvalInterval.
	Groups []slo.RuleGroup
	// ScrapeInterval is how often each target is scraped. Zero means 5s.
	ScrapeInterval time.Duration
	// EvalInterval is how often the rules are evaluated. Zero means ScrapeInterval.
	EvalInterval time.Duration
	// Retention is the history kept beyond what the rules need. Zero means 1h, enough
	// for the game-day runner's range queries.
	Retention time.Duration
	// Listen is the HTTP API's address. Empty means 127.0.0.1:0 (a free port).
	Listen string
	// Logger receives scrape and evaluation errors. Nil discards them.
	Logger *slog.Logger
	// Client scrapes the targets and posts alerts. Nil means a client with a
	// ScrapeInterval timeout.
	Client *http.Client
	// AlertmanagerURL, when set, receives firing and resolved alerts after every
	// evaluation on its /api/v2/alerts, as Prometheus sends them. Empty: none are sent.
	AlertmanagerURL string
}

func (c *Config) defaults() {
	if c.ScrapeInterval <= 0 {
		c.ScrapeInterval = 5 * time.Second
	}
	if c.EvalInterval <= 0 {
		c.EvalInterval = c.ScrapeInterval
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.ScrapeInterval}
	}
}

// Lab scrapes, evaluates and serves. Create it with New, start it with Run.
type Lab struct {
	cfg  Config
	eng  *engine.Engine
	ln   net.Listener
	mu   sync.Mutex
	up   map[string]bool
	scr  int // completed scrape rounds
	eval int // completed evaluations
	// resolved holds alerts resolved since the last send to Alertmanager.
	resolved []engine.Transition
}

// New validates cfg, loads its rules and binds the API's listener, so URL is known before
// Run starts.
func New(cfg Config) (*Lab, error) {
	cfg.defaults()
	for i, t := range cfg.Targets {
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("lab: targets[%d]: URL %q must be an absolute http(s) URL", i, t.URL)
		}
	}
	if cfg.AlertmanagerURL != "" {
		if u, err := url.Parse(cfg.AlertmanagerURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("lab: Alertmanager URL %q must be an absolute http(s) URL", cfg.AlertmanagerURL)
		}
	}
	l := &Lab{cfg: cfg, up: map[string]bool{}}
	extra := cfg.Retention
	if extra <= 0 {
		extra = time.Hour
	}
	// A first engine learns what the rules need; the lab keeps Retention on top of it.
	probe := engine.New(engine.Options{Interval: cfg.EvalInterval})
	if err := probe.LoadGroups(cfg.Groups); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	eng := engine.New(engine.Options{Interval: cfg.EvalInterval, Logger: cfg.Logger, Retention: probe.Retention() + extra,
		OnTransition: func(tr engine.Transition) {
			if tr.From == engine.StateFiring && tr.To == engine.StateInactive {
				l.resolved = append(l.resolved, tr)
			}
		}})
	if err := eng.LoadGroups(cfg.Groups); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("lab: listen on %s: %w", cfg.Listen, err)
	}
	l.eng, l.ln = eng, ln
	return l, nil
}

// URL is the API's base URL, like http://127.0.0.1:39123.
func (l *Lab) URL() string { return "http://" + l.ln.Addr().String() }

// Engine is the lab's evaluation engine (for queries in process).
func (l *Lab) Engine() *engine.Engine { return l.eng }

// Run scrapes, evaluates and serves until ctx is done; it then closes the listener and
// returns nil (or the server's error if it failed).
func (l *Lab) Run(ctx context.Context) error {
	srv := &http.Server{Handler: l.handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l.ln) }()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.loop(ctx)
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// loop scrapes every ScrapeInterval and evaluates every EvalInterval, aligned to them.
func (l *Lab) loop(ctx context.Context) {
	scrape := time.NewTicker(l.cfg.ScrapeInterval)
	defer scrape.Stop()
	eval := time.NewTicker(l.cfg.EvalInterval)
	defer eval.Stop()
	l.scrapeAll(ctx, time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-scrape.C:
			l.scrapeAll(ctx, now)
		case now := <-eval.C:
			if err := l.eng.EvalAt(ctx, now); err != nil && ctx.Err() == nil {
				l.cfg.Logger.Warn("rule evaluation failed", "err", err)
			}
			if err := l.notify(ctx, now); err != nil && ctx.Err() == nil {
				l.cfg.Logger.Warn("sending alerts to Alertmanager failed", "url", l.cfg.AlertmanagerURL, "err", err)
			}
			l.mu.Lock()
			l.eval++
			l.mu.Unlock()
		}
	}
}

func (l *Lab) scrapeAll(ctx context.Context, now time.Time) {
	var wg sync.WaitGroup
	for _, t := range l.cfg.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.scrape(ctx, t, now)
			l.mu.Lock()
			l.up[t.URL] = err == nil
			l.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				l.cfg.Logger.Debug("scrape failed", "target", t.URL, "err", err)
			}
		}()
	}
	wg.Wait()
	l.mu.Lock()
	l.scr++
	l.mu.Unlock()
}

// scrape reads one target and appends its samples at now, plus up{job,instance}.
func (l *Lab) scrape(ctx context.Context, t Target, now time.Time) error {
	job := t.Job
	if job == "" {
		job = "slokit-lab"
	}
	u, _ := url.Parse(t.URL)
	base := map[string]string{"job": job, "instance": u.Host}
	for k, v := range t.Labels {
		base[k] = v
	}
	up := 0.0
	defer func() {
		m := map[string]string{labels.MetricName: "up"}
		for k, v := range base {
			m[k] = v
		}
		_ = l.eng.Append(labels.FromMap(m), now, up)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", `application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1`)
	resp, err := l.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %s", t.URL, resp.Status)
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	var fams []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("%s: parse: %w", t.URL, err)
		}
		fams = append(fams, mf)
	}
	vec, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.TimeFromUnixNano(now.UnixNano())}, fams...)
	if err != nil {
		return fmt.Errorf("%s: %w", t.URL, err)
	}
	for _, s := range vec {
		m := make(map[string]string, len(s.Metric)+len(base))
		for k, v := range s.Metric {
			m[string(k)] = string(v)
		}
		for k, v := range base {
			m[k] = v
		}
		// Samples are stamped with the scrape time, as Prometheus does by default.
		if err := l.eng.Append(labels.FromMap(m), now, float64(s.Value)); err != nil {
			return err
		}
	}
	up = 1
	return nil
}

// Status reports how many scrape rounds and evaluations have completed.
func (l *Lab) Status() (scrapes, evals int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.scr, l.eval
}
