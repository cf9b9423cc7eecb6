// Package thanoslab starts a multi-cluster Prometheus and Thanos topology on 127.0.0.1:
// one Debian Prometheus per cluster (and per HA replica) with a Thanos sidecar next to
// it, Thanos Query over every sidecar, and Thanos Ruler evaluating global rule files
// through Query and sending alerts to an Alertmanager. It is the proving ground of
// slokit's global SLOs (docs/thanos.md); tests drive it, real binaries run it.
package thanoslab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures a Lab. Every zero value has a documented default.
type Config struct {
	// Dir holds every component's configuration, data and log, one subdirectory each.
	// Required.
	Dir string
	// Thanos and Prometheus are the binaries' paths. Required.
	Thanos, Prometheus string
	// Clusters are the clusters, each with its own Prometheus server(s). At least one.
	Clusters []Cluster
	// RuleFiles are Thanos Ruler's rule files by base name (like "global.yml"). Nil or
	// empty: no ruler is started.
	RuleFiles map[string][]byte
	// AlertmanagerURL receives the ruler's alerts, like http://127.0.0.1:9093. Empty: the
	// ruler sends none.
	AlertmanagerURL string
	// ScrapeInterval is every Prometheus' scrape and rule-evaluation interval. Zero
	// means 1s.
	ScrapeInterval time.Duration
	// EvalInterval is the ruler's default evaluation interval (a rule group's own
	// interval wins). Zero means ScrapeInterval.
	EvalInterval time.Duration
	// ClusterLabel is the external label naming each cluster. Empty means "cluster".
	ClusterLabel string
	// ReplicaLabel is the external label telling HA replicas apart; Query deduplicates
	// on it and the ruler drops it from the alerts it sends. Empty means "replica".
	ReplicaLabel string
	// NonStrict makes Query's sidecar endpoints ordinary (--endpoint) instead of strict:
	// an unreachable sidecar then leaves the fan-out after its failed health check, and
	// queries answer without it and without a warning. False (the default, and what
	// docs/thanos.md recommends) keeps every cluster in every query, so a lost one is a
	// partial response that the rules see.
	NonStrict bool
	// ReadyTimeout bounds each component's start. Zero means 60s.
	ReadyTimeout time.Duration
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// Cluster is one cluster: a Prometheus scraping Targets, with a Thanos sidecar.
type Cluster struct {
	// Name is the cluster label's value, [a-z0-9-]+. Required, unique.
	Name string
	// Targets are host:port addresses scraped at /metrics.
	Targets []string
	// Job is the scrape job's name. Empty means "shortlink".
	Job string
	// Replicas is the number of identical Prometheus servers (an HA pair is 2), each
	// with its own sidecar and a distinct replica label. Zero means 1.
	Replicas int
	// RuleFiles are loaded by this cluster's Prometheus (per-cluster SLOs), by base name.
	RuleFiles map[string][]byte
	// PrepareData, when set, is called with each replica's empty TSDB directory before
	// its Prometheus starts: a benchmark backfills history there (promtool tsdb
	// create-blocks-from). Nil: Prometheus starts empty.
	PrepareData func(dataDir string) error
}

func (c *Config) defaults() {
	if c.ScrapeInterval <= 0 {
		c.ScrapeInterval = time.Second
	}
	if c.EvalInterval <= 0 {
		c.EvalInterval = c.ScrapeInterval
	}
	if c.ClusterLabel == "" {
		c.ClusterLabel = "cluster"
	}
	if c.ReplicaLabel == "" {
		c.ReplicaLabel = "replica"
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 60 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	for i := range c.Clusters {
		if c.Clusters[i].Job == "" {
			c.Clusters[i].Job = "shortlink"
		}
		if c.Clusters[i].Replicas <= 0 {
			c.Clusters[i].Replicas = 1
		}
	}
}

var namePattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// validate reports every problem of c at once.
func (c *Config) validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("a directory (Config.Dir) is required"))
	}
	for what, p := range map[string]string{"Thanos": c.Thanos, "Prometheus": c.Prometheus} {
		if st, err := os.Stat(p); p == "" || err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("%s binary %q not found", what, p))
		}
	}
	if len(c.Clusters) == 0 {
		errs = append(errs, errors.New("at least one cluster is required"))
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		if !namePattern.MatchString(cl.Name) {
			errs = append(errs, fmt.Errorf("clusters[%d]: name %q must match [a-z0-9-]+", i, cl.Name))
		}
		if seen[cl.Name] {
			errs = append(errs, fmt.Errorf("clusters[%d]: name %q is used twice", i, cl.Name))
		}
		seen[cl.Name] = true
	}
	for name := range c.RuleFiles {
		if name != filepath.Base(name) || name == "." {
			errs = append(errs, fmt.Errorf("rule file %q must be a base name", name))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("thanoslab: %w", errors.Join(errs...))
	}
	return nil
}

// Replica is one Prometheus server of a cluster and its sidecar.
type Replica struct {
	// Cluster and Replica are the server's external labels' values.
	Cluster, Replica string
	// PrometheusURL is the server's HTTP API, like http://127.0.0.1:39123.
	PrometheusURL string
	// SidecarGRPC is the sidecar's StoreAPI address (host:port); SidecarURL its HTTP.
	SidecarGRPC, SidecarURL string
}

// Lab is a running topology. Create it with Start, stop it with Close.
type Lab struct {
	cfg Config
	// Replicas are the Prometheus servers, cluster by cluster.
	Replicas []Replica
	// QueryURL is Thanos Query's HTTP API (the Prometheus API over every cluster).
	QueryURL string
	// RulerURL is Thanos Ruler's HTTP API (its /api/v1/alerts and /api/v1/rules); ""
	// without rule files.
	RulerURL string

	mu     sync.Mutex
	procs  []*proc // in start order
	closed bool
	stopFn func() bool
}

// Component names, as Kill and Logs take them.
const (
	ComponentQuery = "query"
	ComponentRuler = "ruler"
)

// PrometheusOf names the Prometheus of cluster's replica i ("prometheus-a-0").
func PrometheusOf(cluster string, i int) string { return fmt.Sprintf("prometheus-%s-%d", cluster, i) }

// SidecarOf names the sidecar of cluster's replica i ("sidecar-a-0").
func SidecarOf(cluster string, i int) string { return fmt.Sprintf("sidecar-%s-%d", cluster, i) }

// Start starts every component, waits until each is ready and Query sees every cluster's
// sidecar, and returns the running lab. Cancelling ctx stops the lab (as Close does).
func Start(ctx context.Context, cfg Config) (l *Lab, err error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l = &Lab{cfg: cfg}
	defer func() {
		if err != nil {
			err = fmt.Errorf("thanoslab: %w", err)
			_ = l.Close()
			l = nil
		}
	}()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return l, err
	}
	for _, cl := range cfg.Clusters {
		for i := range cl.Replicas {
			r, err := l.startReplica(ctx, cl, i)
			if err != nil {
				return l, err
			}
			l.Replicas = append(l.Replicas, r)
		}
	}
	var rulerGRPC, rulerHTTP string
	if len(cfg.RuleFiles) > 0 {
		if rulerGRPC, err = freeAddr(); err != nil {
			return l, err
		}
		if rulerHTTP, err = freeAddr(); err != nil {
			return l, err
		}
	}
	if err := l.startQuery(ctx, rulerGRPC); err != nil {
		return l, err
	}
	if len(cfg.RuleFiles) > 0 {
		if err := l.startRuler(ctx, rulerGRPC, rulerHTTP); err != nil {
			return l, err
		}
	}
	l.stopFn = context.AfterFunc(ctx, func() { _ = l.Close() })
	return l, nil
}

func (l *Lab) add(p *proc) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.procs = append(l.procs, p)
}

func (l *Lab) proc(name string) *proc {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.procs {
		if p.name == name {
			return p
		}
	}
	return nil
}

// Components lists the started components' names in start order.
func (l *Lab) Components() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.procs))
	for _, p := range l.procs {
		out = append(out, p.name)
	}
	return out
}

// Kill ends one component at once (SIGKILL), as a crash or a partition would: its
// address stops answering. Names are those of Components.
func (l *Lab) Kill(name string) error {
	p := l.proc(name)
	if p == nil {
		return fmt.Errorf("thanoslab: no component %q; the components are %s", name, strings.Join(l.Components(), ", "))
	}
	l.cfg.Log.Info("killing", "component", name)
	p.kill()
	return nil
}

// PIDs returns the process id of every running component by name, for resource
// accounting (/proc/<pid>/stat).
func (l *Lab) PIDs() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for _, p := range l.procs {
		if done, _ := p.exited(); !done {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	return out
}

// Err reports components that exited without being killed or closed, or nil.
func (l *Lab) Err() error {
	l.mu.Lock()
	procs := slices.Clone(l.procs)
	l.mu.Unlock()
	var errs []error
	for _, p := range procs {
		if err := p.unexpectedExit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Logs returns the last lines lines of every component's log, for a failing test.
func (l *Lab) Logs(lines int) string {
	l.mu.Lock()
	procs := slices.Clone(l.procs)
	l.mu.Unlock()
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "==== %s (%s)\n%s\n", p.name, p.logPath, p.tail(lines))
	}
	return b.String()
}

// Close stops every component, the last started first, and reports those that had
// exited on their own.
func (l *Lab) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	procs := slices.Clone(l.procs)
	stopFn := l.stopFn
	l.mu.Unlock()
	if stopFn != nil {
		stopFn()
	}
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].unexpectedExit(); err != nil {
			errs = append(errs, err)
		}
		procs[i].stop(10 * time.Second)
	}
	return errors.Join(errs...)
}
