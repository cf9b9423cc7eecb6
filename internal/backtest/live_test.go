package backtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// TestLiveBucketsFromPrometheus: the Debian Prometheus scrapes a client_golang histogram
// whose layout is not the spec's; UseLiveBuckets replaces the declared layout with it, so
// a threshold the live histogram has pages on latency-degradation, and one it lacks (the
// spec declared it, the client does not expose it) is reported SILENT, bucket missing.
func TestLiveBucketsFromPrometheus(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "latency",
		Buckets: []float64{0.05, 0.1, 0.3, 1}}, []string{"service", "route", "method"})
	reg.MustRegister(h)
	h.WithLabelValues("shortlink", "GET /{code}", "GET").Observe(0.02)
	h.WithLabelValues("shortlink", "POST /api/v1/links", "POST").Observe(0.02)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	prom := testutil.StartPrometheus(t, fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: app\n    static_configs: [{targets: [%q]}]\n", l.Addr().String()), nil)
	cl, err := api.NewClient(api.Config{Address: prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	papi := v1.NewAPI(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, ok, err := LiveBuckets(ctx, papi, *shortlink(t)["redirect-latency"].SLI.Latency); err == nil && ok {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("Prometheus did not scrape the histogram within 30s")
		case <-time.After(200 * time.Millisecond):
		}
	}
	svcs, ds := slo.LoadFiles("../../examples/shortlink.yaml")
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	notices, err := UseLiveBuckets(ctx, papi, svcs)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(notices, "\n")
	for _, want := range []string{
		"shortlink/redirect-latency: replaying the live layout of http_request_duration_seconds (0.05, 0.1, 0.3, 1)",
		`shortlink/create-latency: replaying the live layout of http_request_duration_seconds (0.05, 0.1, 0.3, 1): it has no le="0.25" bucket`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notices:\n%s\nwant one containing %s", got, want)
		}
	}
	byName := map[string]slo.Objective{}
	for _, o := range svcs[0].Objectives {
		byName[o.Name] = o
	}
	for _, c := range []struct {
		slo    string
		silent bool
	}{{"redirect-latency", false}, {"create-latency", true}} {
		o := byName[c.slo]
		g, err := alerts.Group(o, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(context.Background(), o, g, builtin(t, o, "latency-degradation"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		reasons := fmt.Sprint(r.Silent)
		if c.silent != (len(r.Silent) > 0) || c.silent && !strings.Contains(reasons, `bucket missing: the histogram has no le="0.25" bucket (layout 0.05, 0.1, 0.3, 1)`) {
			t.Errorf("%s: silent %v, want silent=%v with the missing bucket named", c.slo, reasons, c.silent)
		}
	}
}
