package thanoslab

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// writeFiles writes files (base name → content) into dir and returns their paths, sorted.
func writeFiles(dir string, files map[string][]byte) ([]string, error) {
	var paths []string
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// prometheusConfig is one replica's prometheus.yml: its cluster's targets, rules and
// external labels (cluster and replica), which the sidecar requires and Query reads.
func (l *Lab) prometheusConfig(cl Cluster, replica string, rules []string) string {
	iv := l.cfg.ScrapeInterval.String()
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", iv, iv)
	fmt.Fprintf(&b, "  external_labels: {%s: %q, %s: %q}\n", l.cfg.ClusterLabel, cl.Name, l.cfg.ReplicaLabel, replica)
	if len(rules) > 0 {
		b.WriteString("rule_files:\n")
		for _, r := range rules {
			fmt.Fprintf(&b, "  - %q\n", r)
		}
	}
	fmt.Fprintf(&b, "scrape_configs:\n  - job_name: %q\n    static_configs:\n      - targets: [", cl.Job)
	for i, t := range cl.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", t)
	}
	b.WriteString("]\n")
	return b.String()
}

// startReplica starts replica i of cl: a Prometheus and its sidecar, both ready.
func (l *Lab) startReplica(ctx context.Context, cl Cluster, i int) (Replica, error) {
	r := Replica{Cluster: cl.Name, Replica: fmt.Sprintf("%s-%d", cl.Name, i)}
	name := PrometheusOf(cl.Name, i)
	dir := filepath.Join(l.cfg.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	rules, err := writeFiles(dir, cl.RuleFiles)
	if err != nil {
		return r, err
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(l.prometheusConfig(cl, r.Replica, rules)), 0o644); err != nil {
		return r, err
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	r.PrometheusURL = "http://" + addr
	data := filepath.Join(dir, "data")
	if cl.PrepareData != nil {
		if err := os.MkdirAll(data, 0o755); err != nil {
			return r, err
		}
		if err := cl.PrepareData(data); err != nil {
			return r, fmt.Errorf("%s: preparing its data: %w", name, err)
		}
	}
	p, err := spawn(l.cfg.Dir, name, l.cfg.Prometheus, "--config.file="+cfgPath, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--web.enable-lifecycle", "--log.level=warn",
		// The sidecar uploads nothing here, but Thanos asks for equal block durations.
		"--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h")
	if err != nil {
		return r, err
	}
	l.add(p)
	if err := p.waitReady(ctx, r.PrometheusURL+"/-/ready", l.cfg.ReadyTimeout); err != nil {
		return r, err
	}
	if r.SidecarGRPC, err = freeAddr(); err != nil {
		return r, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return r, err
	}
	r.SidecarURL = "http://" + httpAddr
	sc := SidecarOf(cl.Name, i)
	p, err = spawn(l.cfg.Dir, sc, l.cfg.Thanos, "sidecar", "--prometheus.url="+r.PrometheusURL, "--tsdb.path="+data,
		"--grpc-address="+r.SidecarGRPC, "--http-address="+httpAddr, "--log.level=warn")
	if err != nil {
		return r, err
	}
	l.add(p)
	if err := p.waitReady(ctx, r.SidecarURL+"/-/ready", l.cfg.ReadyTimeout); err != nil {
		return r, err
	}
	l.cfg.Log.Info("cluster replica ready", "cluster", cl.Name, "replica", r.Replica, "prometheus", r.PrometheusURL, "sidecar", r.SidecarGRPC)
	return r, nil
}

// endpointsConfig is a Query's --endpoint.sd-config: every sidecar (strict or not) and
// the ruler (when rulerGRPC is set), whose recorded series the global alerts read back.
func (l *Lab) endpointsConfig(strict bool, rulerGRPC string) string {
	var b strings.Builder
	b.WriteString("endpoints:\n")
	for _, r := range l.Replicas {
		fmt.Fprintf(&b, "  - address: %q\n    strict: %t\n", r.SidecarGRPC, strict)
	}
	if rulerGRPC != "" {
		fmt.Fprintf(&b, "  - address: %q\n", rulerGRPC)
	}
	return b.String()
}

// startQuery starts the lab's Thanos Query over every sidecar (strict unless NonStrict)
// and the ruler to come.
func (l *Lab) startQuery(ctx context.Context, rulerGRPC string) (err error) {
	l.QueryURL, err = l.runQuery(ctx, ComponentQuery, !l.cfg.NonStrict, rulerGRPC)
	return err
}

// AddQuery starts one more Thanos Query, named name, over every sidecar (not the
// ruler), strict or not, and returns its HTTP URL once it sees every sidecar: a test
// compares what two Query configurations make of the same failure.
func (l *Lab) AddQuery(ctx context.Context, name string, strict bool) (string, error) {
	if !namePattern.MatchString(name) || l.proc(name) != nil {
		return "", fmt.Errorf("thanoslab: query name %q must match [a-z0-9-]+ and be new", name)
	}
	u, err := l.runQuery(ctx, name, strict, "")
	if err != nil {
		return "", fmt.Errorf("thanoslab: %w", err)
	}
	return u, nil
}

// runQuery starts a Thanos Query and waits until it is ready and lists every sidecar as
// healthy.
func (l *Lab) runQuery(ctx context.Context, name string, strict bool, rulerGRPC string) (string, error) {
	dir := filepath.Join(l.cfg.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	sd := filepath.Join(dir, "endpoints.yml")
	if err := os.WriteFile(sd, []byte(l.endpointsConfig(strict, rulerGRPC)), 0o644); err != nil {
		return "", err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return "", err
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return "", err
	}
	u := "http://" + httpAddr
	p, err := spawn(l.cfg.Dir, name, l.cfg.Thanos, "query", "--http-address="+httpAddr,
		"--grpc-address="+grpcAddr, "--endpoint.sd-config-file="+sd,
		"--query.replica-label="+l.cfg.ReplicaLabel, "--log.level=warn")
	if err != nil {
		return "", err
	}
	l.add(p)
	if err := p.waitReady(ctx, u+"/-/ready", l.cfg.ReadyTimeout); err != nil {
		return "", err
	}
	return u, l.waitStores(ctx, u, p)
}

// startRuler starts Thanos Ruler on the rule files, querying Query and sending to the
// Alertmanager, and waits until it is ready.
func (l *Lab) startRuler(ctx context.Context, grpcAddr, httpAddr string) error {
	dir := filepath.Join(l.cfg.Dir, ComponentRuler)
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		return err
	}
	rules, err := writeFiles(rulesDir, l.cfg.RuleFiles)
	if err != nil {
		return err
	}
	l.RulerURL = "http://" + httpAddr
	args := []string{"rule", "--data-dir=" + filepath.Join(dir, "data"),
		"--eval-interval=" + l.cfg.EvalInterval.String(), "--query=" + l.QueryURL,
		"--grpc-address=" + grpcAddr, "--http-address=" + httpAddr,
		// One ruler, labelled like an HA replica: Query deduplicates its series on the
		// label, and the alerts reach Alertmanager without it.
		fmt.Sprintf("--label=%s=%q", l.cfg.ReplicaLabel, "ruler-0"), "--alert.label-drop=" + l.cfg.ReplicaLabel,
		"--log.level=warn"}
	for _, r := range rules {
		args = append(args, "--rule-file="+r)
	}
	if l.cfg.AlertmanagerURL != "" {
		args = append(args, "--alertmanagers.url="+l.cfg.AlertmanagerURL)
	}
	p, err := spawn(l.cfg.Dir, ComponentRuler, l.cfg.Thanos, args...)
	if err != nil {
		return err
	}
	l.add(p)
	if err := p.waitReady(ctx, l.RulerURL+"/-/ready", l.cfg.ReadyTimeout); err != nil {
		return err
	}
	l.cfg.Log.Info("ruler ready", "url", l.RulerURL, "rule files", len(rules))
	return nil
}

// waitStores waits until the Query at u lists every sidecar as a healthy store.
func (l *Lab) waitStores(ctx context.Context, u string, p *proc) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ReadyTimeout)
	defer cancel()
	var last error
	for {
		healthy, err := healthyStores(ctx, u)
		last = err
		if err == nil {
			missing := 0
			for _, r := range l.Replicas {
				if !healthy[r.SidecarGRPC] {
					missing++
				}
			}
			if missing == 0 {
				return nil
			}
			last = fmt.Errorf("%d of %d sidecars not yet healthy in Query's /api/v1/stores", missing, len(l.Replicas))
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while waiting for its stores; its log:\n%s", p.name, p.tail(40))
		case <-ctx.Done():
			return fmt.Errorf("%s: sidecars not healthy after %s: %v; its log:\n%s", p.name, l.cfg.ReadyTimeout, last, p.tail(40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
