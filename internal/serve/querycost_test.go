package serve

import (
	"context"
	"net/http"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// BenchmarkOverviewQueries1000 measures the Prometheus CPU of each of the overview's
// calls for 1,000 SLOs, one at a time, against the Debian Prometheus.
func BenchmarkOverviewQueries1000(b *testing.B) {
	svcs := benchServices(1000)
	now := time.Now().Truncate(time.Minute)
	url := benchPrometheusHead(b, svcs, now).url
	srv, err := New(Config{Services: svcs, Prometheus: url})
	if err != nil {
		b.Fatal(err)
	}
	q := overviewQueries(srv.cat)
	ctx := context.Background()
	for _, gz := range []bool{false} {
		pc, _ := newPromClient(url)
		pc.http = &http.Client{Transport: &http.Transport{DisableCompression: !gz}}
		name := "plain"
		if gz {
			name = "gzip"
		}
		for _, c := range []struct {
			name string
			run  func() error
		}{
			{"burn", func() error { _, err := pc.Query(ctx, q.burn, now); return err }},
			{"burn-noagg", func() error {
				_, err := pc.Query(ctx, `slokit:slo_burn:rate{slokit_window=~"1d|1h|2h|30m|3d|5m|6h"}`, now)
				return err
			}},
			{"burn-all", func() error { _, err := pc.Query(ctx, `slokit:slo_burn:rate`, now); return err }},
			{"burn-count", func() error { _, err := pc.Query(ctx, `count(slokit:slo_burn:rate)`, now); return err }},
			{"budget-count", func() error {
				_, err := pc.Query(ctx, `count(slokit:slo_error_budget_remaining:ratio)`, now)
				return err
			}},
			{"budget", func() error { _, err := pc.Query(ctx, q.budget, now); return err }},
			{"spark", func() error {
				_, err := pc.QueryRange(ctx, q.spark, v1.Range{Start: now.Add(-time.Hour), End: now, Step: sparkStep(time.Hour)})
				return err
			}},
			{"spark-plain", func() error {
				_, err := pc.QueryRange(ctx, `slokit:slo_burn:rate{slokit_window="1h"}`, v1.Range{Start: now.Add(-time.Hour), End: now, Step: sparkStep(time.Hour)})
				return err
			}},
			{"alerts", func() error { _, err := pc.Alerts(ctx); return err }},
			{"coverage", func() error { _, err := pc.Query(ctx, coverageQuery(srv.cat), now); return err }},
		} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				p0 := promCPU(url)
				for b.Loop() {
					if err := c.run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((promCPU(url)-p0)*1000/float64(b.N), "prom-cpu-ms/op")
			})
		}
	}
}
