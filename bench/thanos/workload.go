package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"time"
)

// workload is the synthetic service of every cluster: slos SLOs, each over its own route,
// each route served by pods pods answering 200 and 500 (0.1% errors). Counter values are a
// pure function of time, so backfilled history and live scrapes join without a reset.
type workload struct {
	slos, pods int
	origin     time.Time // counters are zero here
}

const (
	okRate  = 2.0   // requests per second per pod and route answered 200
	errRate = 0.002 // requests per second per pod and route answered 500
)

func (w workload) eachSeries(fn func(labels string, rate float64)) {
	for s := range w.slos {
		for p := range w.pods {
			base := fmt.Sprintf(`route="/r%d",pod="p%d"`, s, p)
			fn(base+`,code="200"`, okRate)
			fn(base+`,code="500"`, errRate)
		}
	}
}

func (w workload) counter(t time.Time, rate float64) float64 { return rate * t.Sub(w.origin).Seconds() }

// spec is the slokit/v1 spec of the SLOs, every one of scope global or cluster.
func (w workload) spec(global bool, interval time.Duration) []byte {
	scope := "cluster"
	if global {
		scope = "global"
	}
	var b []byte
	b = fmt.Appendf(b, "version: slokit/v1\nservice: bench\nscrapeInterval: %s\nslos:\n", interval)
	for s := range w.slos {
		b = fmt.Appendf(b, `  - name: availability-%d
    objective: 99.9
    scope: %s
    sli:
      events:
        bad: http_requests_total{job="bench",route="/r%d",code=~"5.."}
        total: http_requests_total{job="bench",route="/r%d"}
    alerting:
      name: BenchAvailability%d
`, s, scope, s, s, s)
	}
	return b
}

// backfill writes the raw counters from start to end every step as OpenMetrics, labelled
// as the cluster's scrape will label them (job, instance), for promtool tsdb
// create-blocks-from openmetrics.
func (w workload) backfill(out io.Writer, instance string, start, end time.Time, step time.Duration) error {
	b := bufio.NewWriterSize(out, 1<<20)
	// OpenMetrics wants counter families named without _total; as a gauge the name stays.
	fmt.Fprint(b, "# HELP http_requests_total Requests.\n# TYPE http_requests_total gauge\n")
	w.eachSeries(func(labels string, rate float64) {
		for t := start; !t.After(end); t = t.Add(step) {
			fmt.Fprintf(b, "http_requests_total{job=\"bench\",instance=%q,%s} %g %d\n", instance, labels, w.counter(t, rate), t.Unix())
		}
	})
	fmt.Fprint(b, "# EOF\n")
	return b.Flush()
}

// handler serves the counters at the current time.
func (w workload) handler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		now := time.Now()
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
		b := bufio.NewWriter(rw)
		fmt.Fprint(b, "# TYPE http_requests_total counter\n")
		w.eachSeries(func(labels string, rate float64) {
			fmt.Fprintf(b, "http_requests_total{%s} %g\n", labels, w.counter(now, rate))
		})
		_ = b.Flush()
	})
}
