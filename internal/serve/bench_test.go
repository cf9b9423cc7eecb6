package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/slokit/slokit/internal/lab"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// benchServices returns n SLOs (99.9% over 30d, the default tiers) in services of ten,
// with five teams.
func benchServices(n int) []*slo.Service {
	var out []*slo.Service
	for i := 0; i < n; i += 10 {
		svc := &slo.Service{Name: fmt.Sprintf("svc%03d", i/10), Labels: map[string]string{"team": fmt.Sprintf("team%d", i/10%5)}}
		for j := i; j < min(n, i+10); j++ {
			sel := fmt.Sprintf(`http_requests_total{service=%q}`, svc.Name)
			svc.Objectives = append(svc.Objectives, slo.Objective{Service: svc.Name, Name: fmt.Sprintf("slo-%04d", j),
				Target: 0.999, Period: 30 * 24 * time.Hour, Labels: svc.Labels,
				SLI: slo.SLI{Events: &slo.EventsSLI{Bad: sel[:len(sel)-1] + `,code=~"5.."}`, Total: sel}}})
		}
		out = append(out, svc)
	}
	return out
}

// benchSample is one recorded sample of the benchmark's history.
type benchSample struct {
	lset labels.Labels
	t    time.Time
	v    float64
}

// benchSeries is one recorded series of the benchmark with its constant value.
type benchSeries struct {
	lset labels.Labels
	v    float64
}

// benchAllSeries lists slokit's recorded burn rates (every window) and budgets of every
// SLO: one SLO in 20 burns at 20× on its fast windows, the others below 1.
func benchAllSeries(svcs []*slo.Service) []benchSeries {
	var out []benchSeries
	k := 0
	for _, s := range svcs {
		for _, o := range s.Objectives {
			k++
			base := labels.FromStrings(slo.LabelService, o.Service, slo.LabelSLO, o.Name, "team", s.Labels["team"])
			for _, w := range o.RatioWindows() {
				burn := float64(k%10) / 10
				if k%20 == 0 && w <= time.Hour {
					burn = 20
				}
				lb := labels.NewBuilder(base)
				lb.Set(labels.MetricName, slo.MetricBurnRate)
				lb.Set(slo.LabelWindow, slo.FormatWindow(w))
				out = append(out, benchSeries{lb.Labels(), burn})
			}
			lb := labels.NewBuilder(base)
			lb.Set(labels.MetricName, slo.MetricBudgetRemaining)
			lb.Set(slo.LabelWindow, slo.FormatWindow(o.Period))
			out = append(out, benchSeries{lb.Labels(), 1 - float64(k%7)/10})
		}
	}
	return out
}

// benchTimes are the history's sample times: 70 minutes every 2 minutes up to now.
func benchTimes(now time.Time) []time.Time {
	var out []time.Time
	for t := now.Add(-70 * time.Minute); !t.After(now); t = t.Add(2 * time.Minute) {
		out = append(out, t)
	}
	return out
}

// benchHistory calls emit for the whole history, series by series.
func benchHistory(svcs []*slo.Service, now time.Time, emit func(benchSample)) {
	ts := benchTimes(now)
	for _, s := range benchAllSeries(svcs) {
		for _, t := range ts {
			emit(benchSample{s.lset, t, s.v})
		}
	}
}

// benchAlertRule fires a page for every SLO whose 1h burn rate exceeds 14.4.
var benchAlertRule = slo.Rule{Alert: "BenchBurn", Expr: slo.MetricBurnRate + `{` + slo.LabelWindow + `="1h"} > 14.4`,
	Labels: map[string]string{"severity": "page"}}

// benchLab serves the history from slokit's lab, with the alert evaluated once.
func benchLab(b *testing.B, svcs []*slo.Service, now time.Time) benchBackend {
	l, err := lab.New(lab.Config{Groups: []slo.RuleGroup{{Name: "bench", Rules: []slo.Rule{benchAlertRule}}},
		ScrapeInterval: time.Hour, Retention: 2 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	benchHistory(svcs, now, func(s benchSample) {
		if err := l.Engine().Append(s.lset, s.t, s.v); err != nil {
			b.Fatal(err)
		}
	})
	if err := l.Engine().EvalAt(context.Background(), now); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = l.Run(ctx) }()
	b.Cleanup(func() { cancel(); wg.Wait() })
	return benchBackend{url: l.URL()}
}

// benchBackend is a Prometheus-compatible API holding the benchmark's history, and the
// process id of a real Prometheus (0 for the lab, which runs in this process).
type benchBackend struct {
	url string
	pid int
}

// benchPrometheus backfills the history into the Debian Prometheus with promtool and
// starts it with the alert rule; it returns once the alerts are firing.
func benchPrometheus(b *testing.B, svcs []*slo.Service, now time.Time) benchBackend {
	promtool := testutil.Binary(b, "promtool")
	rules := "groups:\n- name: bench\n  interval: 5s\n  rules:\n  - alert: " + benchAlertRule.Alert +
		"\n    expr: '" + benchAlertRule.Expr + "'\n    labels: {severity: page}\n"
	srv := testutil.StartPrometheus(b, "global: {evaluation_interval: 5s}\nrule_files: [rules.yml]\n", func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o644); err != nil {
			b.Fatal(err)
		}
		om := filepath.Join(dir, "history.om")
		writeOpenMetrics(b, om, svcs, now)
		out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", om, filepath.Join(dir, "data")).CombinedOutput()
		if err != nil {
			b.Fatalf("promtool: %v\n%s", err, out)
		}
		_ = os.Remove(om)
	})
	p, _ := newPromClient(srv.URL)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if as, err := p.Alerts(context.Background()); err == nil && len(as) > 0 && as[0].State == v1.AlertStateFiring {
			return benchBackend{url: srv.URL, pid: srv.Process.Pid}
		}
	}
	b.Fatal("the benchmark's alerts did not fire in Prometheus within 60s")
	return benchBackend{}
}

func writeOpenMetrics(b *testing.B, path string, svcs []*slo.Service, now time.Time) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	// OpenMetrics wants each family's samples together: burn rates first, then budgets.
	for _, metric := range []string{slo.MetricBurnRate, slo.MetricBudgetRemaining} {
		fmt.Fprintf(w, "# TYPE %s gauge\n", metric)
		benchHistory(svcs, now, func(s benchSample) {
			if s.lset.Get(labels.MetricName) != metric {
				return
			}
			w.WriteString(metric)
			sep := byte('{')
			s.lset.Range(func(l labels.Label) {
				if l.Name != labels.MetricName {
					fmt.Fprintf(w, "%c%s=%q", sep, l.Name, l.Value)
					sep = ','
				}
			})
			fmt.Fprintf(w, "} %s %d\n", strconv.FormatFloat(s.v, 'g', -1, 64), s.t.Unix())
		})
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
}

// BenchmarkOverview1000 serves the overview of 1,000 SLOs (every row: budget, burn rate
// per tier, alert state, a sparkline) over HTTP, HTML included, from a Prometheus-
// compatible API holding their series: slokit's lab, the Debian Prometheus holding them
// in its head block (written by remote write, as a live Prometheus holds the last hours)
// and the same with the history backfilled into blocks by promtool. Four API calls per
// page whatever the SLO count, plus the history ladder on a server's first page.
// "first" is the cold case: every page is the first one of a new server (its own
// connections to Prometheus, no reading shared, the history ladder read too). The warm
// cases serve many pages from one server: "read" reads Prometheus for every page
// (MaxAge < 0: the first page after each evaluation interval), "shared" is the default,
// pages within one evaluation interval share a reading. Besides ns/op it reports the
// minimum, median and 90th percentile of the pages' wall times, the CPU per page of
// slokit and of Prometheus, and the 1-minute load average.
func BenchmarkOverview1000(b *testing.B) {
	svcs := benchServices(1000)
	now := time.Now().Truncate(time.Minute)
	for _, backend := range []struct {
		name  string
		start func(*testing.B, []*slo.Service, time.Time) benchBackend
	}{{"lab", benchLab}, {"prometheus", benchPrometheusHead}, {"prometheus-blocks", benchPrometheus}} {
		b.Run(backend.name, func(b *testing.B) {
			be := backend.start(b, svcs, now)
			b.Run("first", func(b *testing.B) { benchFirstPages(b, svcs, be) })
			for _, mode := range []struct {
				name   string
				maxAge time.Duration
			}{{"read", -1}, {"shared", 0}} {
				b.Run(mode.name, func(b *testing.B) { benchOverviewPages(b, svcs, be, mode.maxAge) })
			}
		})
	}
}

func benchOverviewPages(b *testing.B, svcs []*slo.Service, be benchBackend, maxAge time.Duration) {
	srv, err := New(Config{Services: svcs, Prometheus: be.url, MaxAge: maxAge})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	queries := checkOverview1000(b, hs.URL)
	var walls []time.Duration
	self0, prom0 := taskStats(os.Getpid()), taskStats(be.pid)
	b.ResetTimer()
	for b.Loop() {
		walls = append(walls, benchPage(b, hs.URL))
	}
	b.StopTimer()
	reportPages(b, be, queries, taskStats(os.Getpid()).sub(self0), prom0, walls)
}

// benchFirstPages serves every page from a new server: the cold case. The new servers
// are made with the timer stopped, and slokit's CPU is counted during the pages only;
// Prometheus does nothing else meanwhile but evaluate its alert rule every 5s.
func benchFirstPages(b *testing.B, svcs []*slo.Service, be benchBackend) {
	newServer := func() *httptest.Server {
		srv, err := New(Config{Services: svcs, Prometheus: be.url})
		if err != nil {
			b.Fatal(err)
		}
		return httptest.NewServer(srv)
	}
	hs := newServer()
	queries := checkOverview1000(b, hs.URL)
	hs.Close()
	var walls []time.Duration
	var self schedStat
	prom0 := taskStats(be.pid)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		hs := newServer()
		self0 := taskStats(os.Getpid())
		b.StartTimer()
		walls = append(walls, benchPage(b, hs.URL))
		b.StopTimer()
		d := taskStats(os.Getpid()).sub(self0)
		self.cpu, self.wait = self.cpu+d.cpu, self.wait+d.wait
		hs.Close()
		b.StartTimer()
	}
	b.StopTimer()
	// The first page also reads the SLOs' history (one more query).
	reportPages(b, be, queries+1, self, prom0, walls)
}

// benchPage reads the overview sorted by budget, HTML, and returns its wall time.
func benchPage(b *testing.B, base string) time.Duration {
	t0 := time.Now()
	resp, err := http.Get(base + "/?sort=budget")
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	wall := time.Since(t0)
	if resp.StatusCode != 200 || n < 100_000 {
		b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
	}
	return wall
}

// reportPages reports per page: the queries, slokit's CPU and time waiting for a core
// (self: this process, the UI and the client reading the page), Prometheus' (from prom0
// to now), the wall times' minimum, median and 90th percentile, and the machine's load:
// the 1-minute load average and the CPU pressure (the share of the last 10s in which
// some task waited for a core).
func reportPages(b *testing.B, be benchBackend, queries int, self schedStat, prom0 schedStat, walls []time.Duration) {
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	// Wall time on a shared machine includes waiting for a core; CPU time does not.
	b.ReportMetric(float64(queries), "queries/op")
	b.ReportMetric(per(self.cpu), "cpu-ms/op")
	b.ReportMetric(per(self.wait), "wait-ms/op")
	if be.pid != 0 {
		p := taskStats(be.pid).sub(prom0)
		b.ReportMetric(per(p.cpu), "prom-cpu-ms/op")
		b.ReportMetric(per(p.wait), "prom-wait-ms/op")
	}
	slices.Sort(walls)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(walls[0]), "min-ms")
	b.ReportMetric(ms(walls[len(walls)/2]), "p50-ms")
	b.ReportMetric(ms(walls[len(walls)*9/10]), "p90-ms")
	b.ReportMetric(loadAverage(), "load1")
	b.ReportMetric(cpuPressure(), "cpu-psi-%")
}

// checkOverview1000 reads the overview's JSON once and checks it: 1,000 rows, 50 firing,
// 4 queries. It returns the number of queries.
func checkOverview1000(b *testing.B, base string) int {
	var ov Overview
	resp, err := http.Get(base + "/api/overview?sort=budget")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := jsonDecode(resp.Body, &ov); err != nil || ov.Error != "" || len(ov.SLOs) != 1000 || ov.SLOs[0].BudgetRemaining == nil {
		b.Fatalf("overview: %v %q %d rows", err, ov.Error, len(ov.SLOs))
	}
	firing, sparks := 0, 0
	for _, r := range ov.SLOs {
		if r.State == stateFiring {
			firing++
		}
		if c := r.BudgetCoverage; c == nil || !c.Partial {
			b.Fatalf("%s/%s: the budget is not flagged as based on 70m of 30d: %+v", r.Service, r.SLO, c)
		}
		if len(r.Spark) > 0 {
			sparks++
		}
	}
	if firing != 50 || ov.Queries != 4 || sparks != 1000 {
		b.Fatalf("%d SLOs firing (want 50), %d queries (want 4), %d sparklines (want 1000)", firing, ov.Queries, sparks)
	}
	return ov.Queries
}

// loadAverage is the 1-minute load average (/proc/loadavg), -1 when unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		return -1
	}
	return f
}

// schedStat is what the scheduler counted for a process' threads: time on a core and
// time ready to run but waiting for one.
type schedStat struct{ cpu, wait time.Duration }

func (a schedStat) sub(b schedStat) schedStat { return schedStat{a.cpu - b.cpu, a.wait - b.wait} }

// taskStats sums /proc/<pid>/task/*/schedstat (nanoseconds on a CPU, nanoseconds waiting
// on a run queue) over the process' threads; zero for pid 0.
func taskStats(pid int) schedStat {
	var st schedStat
	if pid == 0 {
		return st
	}
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		var run, wait int64
		if _, err := fmt.Sscan(string(raw), &run, &wait); err == nil {
			st.cpu += time.Duration(run)
			st.wait += time.Duration(wait)
		}
	}
	return st
}

// cpuPressure is the share of the last 10 seconds in which some task waited for a CPU
// (/proc/pressure/cpu "some avg10"), -1 when unknown.
func cpuPressure() float64 {
	raw, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	for _, f := range strings.Fields(string(raw)) {
		if v, ok := strings.CutPrefix(f, "avg10="); ok {
			if p, err := strconv.ParseFloat(v, 64); err == nil {
				return p
			}
			break
		}
	}
	return -1
}

// promCPU reads process_cpu_seconds_total from a real Prometheus' own /metrics; -1 for
// the lab, which has none (its CPU is in processCPU).
func promCPU(base string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
