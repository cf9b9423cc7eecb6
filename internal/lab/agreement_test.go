package lab

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// TestLabAgreesWithPrometheus scrapes one target with the lab and with the Debian
// Prometheus, evaluating the same rules at the same 1s intervals, turns errors on and then
// off, and checks that both see the alert fire and resolve within two evaluation intervals
// of each other.
func TestLabAgreesWithPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and waits for an alert to fire and resolve")
	}
	var failing atomic.Bool
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "demo_requests_total", Help: "requests"}, []string{"code"})
	reg.MustRegister(reqs)
	reqs.WithLabelValues("500").Add(0)
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(target.Close)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				if failing.Load() {
					reqs.WithLabelValues("500").Inc()
				} else {
					reqs.WithLabelValues("200").Inc()
				}
			}
		}
	}()
	groups := []slo.RuleGroup{{Name: "demo", Interval: "1s", Rules: []slo.Rule{
		{Record: "demo:error:ratio", Expr: `sum(rate(demo_requests_total{code="500"}[5s])) / sum(rate(demo_requests_total[5s]))`},
		{Alert: "DemoErrors", Expr: `demo:error:ratio > 0.5`, Labels: map[string]string{"severity": "page"}},
	}}}
	rules, err := yaml.Marshal(slo.RuleFile{Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	prom := testutil.StartPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: demo
    static_configs: [{targets: [%q]}]
`, target.Listener.Addr().String()), func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	l, err := New(Config{Targets: []Target{{URL: target.URL + "/metrics", Job: "demo"}}, ScrapeInterval: time.Second, Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	startLab(t, l)

	clients := map[string]v1.API{}
	for name, u := range map[string]string{"lab": l.URL(), "prometheus": prom.URL} {
		c, err := api.NewClient(api.Config{Address: u})
		if err != nil {
			t.Fatal(err)
		}
		clients[name] = v1.NewAPI(c)
	}
	// waitFor polls both until each reports the alert firing (or not) and returns when.
	waitFor := func(firing bool) map[string]time.Time {
		seen := map[string]time.Time{}
		deadline := time.Now().Add(60 * time.Second)
		for len(seen) < 2 && time.Now().Before(deadline) {
			for name, c := range clients {
				if _, done := seen[name]; done {
					continue
				}
				res, err := c.Alerts(context.Background())
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := false
				for _, a := range res.Alerts {
					got = got || (a.State == v1.AlertStateFiring && a.Labels["alertname"] == "DemoErrors")
				}
				if got == firing {
					seen[name] = time.Now()
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(seen) < 2 {
			t.Fatalf("after 60s only %v saw firing=%v", seen, firing)
		}
		return seen
	}
	// Let both collect a clean baseline.
	time.Sleep(8 * time.Second)
	failing.Store(true)
	fired := waitFor(true)
	failing.Store(false)
	resolved := waitFor(false)
	const tolerance = 2 * time.Second // two evaluation intervals
	for what, at := range map[string]map[string]time.Time{"fired": fired, "resolved": resolved} {
		d := at["lab"].Sub(at["prometheus"])
		t.Logf("%s: lab − prometheus = %v", what, d.Round(10*time.Millisecond))
		if d > tolerance || d < -tolerance {
			t.Errorf("%s: the lab and Prometheus differ by %v, more than two evaluation intervals", what, d)
		}
	}
}
