package livelint_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/livelint"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// startTarget serves, on 127.0.0.1, request counters (codes 200 and 500), a classic
// latency histogram (buckets 0.1, 0.25, 0.5) and a native one, all ticking on every
// scrape.
func startTarget(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"route", "code"})
	classic := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.25, 0.5}})
	native := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rpc_duration_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1})
	reg.MustRegister(reqs, classic, native)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.WithLabelValues("/a", "200").Add(10)
		reqs.WithLabelValues("/a", "500").Inc()
		classic.Observe(0.05)
		native.Observe(0.05)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

const liveConfig = `global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yaml]
scrape_configs:
  - job_name: fast
    scrape_interval: 1s
    static_configs: [{targets: ['%[1]s']}]
  - job_name: slow
    scrape_interval: 2s
    static_configs: [{targets: ['%[1]s']}]
`

// A recording rule every 3s: series that no scrape target matches, whose interval only
// the spacing of their samples tells.
const liveRules = `groups:
  - name: recorded
    interval: 3s
    rules:
      - record: live:requests:sum
        expr: sum without (job, instance, route) (http_requests_total{job="fast"})
`

// TestLiveLintRealPrometheus checks testdata/live.yaml against the Debian Prometheus
// (native histograms on) scraping a real target: every finding, with its position, is in
// testdata/live.golden, and the clean SLO has none.
func TestLiveLintRealPrometheus(t *testing.T) {
	t.Parallel()
	target := startTarget(t)
	prom := testutil.StartPrometheusArgs(t, fmt.Sprintf(liveConfig, target), func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(liveRules), 0o644); err != nil {
			t.Fatal(err)
		}
	}, "--enable-feature=native-histograms")
	c, err := livelint.NewClient(prom.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(ctx, t, c, `count_over_time(live:requests:sum{code="500"}[1m]) >= 4`)
	waitFor(ctx, t, c, `count_over_time(http_requests_total{job="slow",code="500"}[1m]) >= 4`)

	spec := filepath.Join("testdata", "live.yaml")
	svcs, ds := slo.LoadFiles(spec)
	if errs := ds.Errors(); len(errs) > 0 {
		t.Fatalf("static errors: %v", errs)
	}
	got, err := (&livelint.Checker{Prometheus: c}).Check(ctx, svcs)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range got {
		b.WriteString(strings.ReplaceAll(d.String(), prom.URL, "PROMETHEUS") + "\n")
		if strings.Contains(d.Path, "slos[0]") {
			t.Errorf("the clean SLO has a finding: %s", d)
		}
	}
	golden.Check(t, filepath.Join("testdata", "live.golden"), []byte(b.String()))
}

// waitFor polls q until it returns a sample.
func waitFor(ctx context.Context, t *testing.T, c *livelint.Client, q string) {
	t.Helper()
	for {
		if s, err := c.Query(ctx, q); err == nil && len(s) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: still empty: %v", q, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// TestUnreachable: a server that is not there is one clear error, not a finding per SLO.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	port := testutil.FreePort(t)
	c, err := livelint.NewClient(fmt.Sprintf("http://127.0.0.1:%d", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	svcs, _ := slo.LoadFiles(filepath.Join("testdata", "live.yaml"))
	_, err = (&livelint.Checker{Prometheus: c}).Check(context.Background(), svcs)
	if err == nil || !strings.Contains(err.Error(), "is unreachable") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Check against a closed port: %v, want an unreachable error", err)
	}
}

// TestTimeout: a server that never answers is cut by the context's deadline.
func TestTimeout(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := livelint.NewClient(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	svcs, _ := slo.LoadFiles(filepath.Join("testdata", "live.yaml"))
	start := time.Now()
	_, err = (&livelint.Checker{Prometheus: c}).Check(ctx, svcs)
	if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("Check against a silent server: %v, want a timeout error", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %s, want about the 200ms deadline", el)
	}
}

// TestNotPrometheus: an HTTP server that is not Prometheus is named as such.
func TestNotPrometheus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, _ := livelint.NewClient(srv.URL, nil)
	_, err := c.Version(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not the Prometheus API") {
		t.Errorf("Version from a 404 server: %v", err)
	}
}
