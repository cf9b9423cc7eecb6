package backtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/slo"
)

// WriteRepository writes a repository of n SLOs to dir: one spec file per service of
// ten SLOs, six events SLIs (objectives 99% to 99.95%, periods 28d and 30d) and four
// latency SLIs (thresholds 100ms to 1s, objectives 95% and 99%, a declared bucket layout).
func writeRepository(t testing.TB, dir string, n int) {
	t.Helper()
	objectives := []string{"99.9", "99.5", "99", "99.95"}
	periods := []string{"30d", "28d"}
	thresholds := []string{"100ms", "250ms", "500ms", "1s"}
	for svc := 0; svc*10 < n; svc++ {
		var b strings.Builder
		fmt.Fprintf(&b, "version: slokit/v1\nservice: svc-%03d\nlabels: {team: team-%d}\nslos:\n", svc, svc%7)
		for i := 0; i < 10 && svc*10+i < n; i++ {
			k := svc*10 + i
			if i < 6 {
				fmt.Fprintf(&b, "  - name: route-%d-availability\n    objective: %s\n    period: %s\n    sli:\n      events:\n"+
					"        bad: http_requests_total{service=\"svc-%03d\",route=\"/r%d\",code=~\"5..\"}\n"+
					"        total: http_requests_total{service=\"svc-%03d\",route=\"/r%d\"}\n",
					i, objectives[k%4], periods[k%2], svc, i, svc, i)
				continue
			}
			fmt.Fprintf(&b, "  - name: route-%d-latency\n    objective: %s\n    period: 30d\n    sli:\n      latency:\n"+
				"        histogram: http_request_duration_seconds\n        selector: {service: svc-%03d, route: /r%d}\n        threshold: %s\n"+
				"        buckets: [25ms, 50ms, 100ms, 250ms, 500ms, 1s, 2500ms, 5s]\n",
				i, []string{"99", "95"}[k%2], svc, i, thresholds[k%4])
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("svc-%03d.yaml", svc)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteRepository writes the benchmark repository to $SLOKIT_REPO_DIR (skipped when
// unset), for timing `slokit test -f DIR` end to end.
func TestWriteRepository(t *testing.T) {
	dir := os.Getenv("SLOKIT_REPO_DIR")
	if dir == "" {
		t.Skip("SLOKIT_REPO_DIR not set")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRepository(t, dir, 1000)
}

// BenchmarkRepository backtests a repository of 1,000 SLOs (SLOKIT_BENCH_SLOS=n for
// another size) against every built-in scenario on every core, as `slokit test -f DIR`:
//
//	go test -run '^$' -bench Repository -benchtime 1x ./internal/backtest/
func BenchmarkRepository(b *testing.B) {
	n := 1000
	if s := os.Getenv("SLOKIT_BENCH_SLOS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("SLOKIT_BENCH_SLOS=%q: want a positive number", s)
		}
	}
	dir := b.TempDir()
	writeRepository(b, dir, n)
	svcs, ds := slo.LoadFiles(dir)
	if err := ds.Err(); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	var jobs int
	for b.Loop() {
		before := selfCPU(b)
		js, _, err := Plan(svcs, Selection{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := RunAll(context.Background(), js, Options{}, 0, nil); err != nil {
			b.Fatal(err)
		}
		jobs = len(js)
		cpu += selfCPU(b) - before
	}
	b.ReportMetric(float64(jobs), "replays")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "cores")
}
