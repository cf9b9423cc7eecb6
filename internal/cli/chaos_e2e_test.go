package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/local"
	"github.com/slokit/slokit/internal/load"
	"github.com/slokit/slokit/internal/testutil"
	shortlinksvc "github.com/slokit/slokit/sample-service/shortlink"
	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/promsli"
	"github.com/slokit/slokit/slo"
)

// e2eSLOs is the shortlink redirect SLO with one fast page tier scaled down so that a
// game day fits in CI: it fires when the error ratio over 1m and over 5s both exceed
// 14.4 × 1% = 0.144. A 50% error fault is predicted to fire it after
// 0.144 × 60s / 0.5 = 17.3s and to reset 5s × (1 − 0.144/0.5) = 3.6s after removal.
const e2eSLOs = `version: slokit/v1
service: shortlink
scrapeInterval: 1s
slos:
  - name: redirect-availability
    objective: 99
    period: 6h
    sli:
      events:
        bad: http_requests_total{service="shortlink",route="GET /{code}",code=~"5.."}
        total: http_requests_total{service="shortlink",route="GET /{code}"}
    alerting:
      name: ShortlinkRedirectAvailability
      ticket: {disabled: true}
      windows:
        - {severity: page, long: 1m, short: 5s, burnRate: 14.4}
`

// e2eGameDay injects 50% 503s on redirects through the http-proxy. The steady state is
// checked on the 1m window, so the run waits until the tier's long window holds only
// healthy traffic (the proxy starts with the run; before it, the edge answers 502).
const e2eGameDay = `name: redirect-errors
description: Half of the redirects fail; the fast page must fire in time and the SLO recover.
slo: {file: slos.yaml, name: redirect-availability}
signals: {prometheus: "%s", tolerance: 10s}
fault:
  backend: http-proxy
  params:
    listen: "%s"
    target: "%s"
    abort: {percent: %s, status: 503}
    match: {routes: ["GET /{code}"]}
steadyState: {window: 1m, maxBurnRate: 1, wait: 150s}
expect:
  - severity: page
guardrails: {maxBudget: 0.5, timeout: 5m}
`

// edge is the ingress in front of the fault proxy: it measures the SLIs (as a load
// balancer would), so requests the proxy aborts count as the user saw them.
func startEdge(t *testing.T, proxyAddr string) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec, err := promsli.New(reg, promsli.Config{Service: "shortlink"})
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: proxyAddr})
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	routes := http.NewServeMux()
	for _, p := range []string{shortlinksvc.RouteCreate, shortlinksvc.RouteShow, shortlinksvc.RouteDelete, shortlinksvc.RouteRedirect} {
		routes.Handle(p, rp)
	}
	top := http.NewServeMux()
	top.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	top.Handle("/", sli.Middleware(rec)(routes))
	return serve(t, top)
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

func startShortlink(t *testing.T) string {
	t.Helper()
	s, err := shortlinksvc.New(shortlinksvc.Config{DBPath: filepath.Join(t.TempDir(), "links.db"),
		ServiceName: "shortlink-backend", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done; _ = s.Close() })
	return "http://" + l.Addr().String()
}

// TestChaosRunE2E is the game-day proof on real components: the shortlink service, the
// load generator, the http-proxy fault and the Debian Prometheus evaluating the generated
// rules every second. A 50% error fault must fire the fast page within the predicted
// time and the SLO must recover; a fault too small for the page is rejected before
// anything is injected, with the maths.
func TestChaosRunE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus game day (~2 min)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(e2eSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	services, ds := slo.LoadFiles(filepath.Join(dir, "slos.yaml"))
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	rf, err := alerts.RuleFile(services, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := yaml.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}

	service := startShortlink(t)
	proxyAddr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	edge := startEdge(t, proxyAddr)
	prom := testutil.StartPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: edge
    static_configs: [{targets: ["%s"]}]
`, strings.TrimPrefix(edge, "http://")), func(d string) {
		if err := os.WriteFile(filepath.Join(d, "rules.yml"), rules, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	gen, err := load.Start(ctx, load.Config{Target: edge, Rate: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Stop()

	// Prometheus evaluates the 1m window over whatever history it has: a fault injected
	// into a younger history would fire early. Until the game day starts its own proxy,
	// a plain pass-through on the same address carries the load for a full long window.
	warm, err := net.Listen("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	serviceURL, _ := url.Parse(service)
	warmSrv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(serviceURL), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = warmSrv.Serve(warm) }()
	warmUntil := time.Now().Add(65 * time.Second)

	writeGameDay := func(name, percent string) string {
		p := filepath.Join(dir, name)
		src := fmt.Sprintf(e2eGameDay, prom.URL, proxyAddr, service, percent)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// A 5% fault is a 5× burn: the 14.4× page cannot fire, so the run is refused.
	t.Run("too small a fault is rejected in preflight", func(t *testing.T) {
		small := writeGameDay("small.yaml", "5")
		var stdout, stderr bytes.Buffer
		code := Main(ctx, []string{"chaos", "run", small, "--journal-dir", filepath.Join(dir, "journal")}, nil, &stdout, &stderr)
		if code != ExitInvalid {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInvalid, stderr.String())
		}
		want := "small.yaml:14:5: expect[0]: the fault cannot fire page: its expected error ratio 0.05 (backend) is a burn rate of 5×, and page/1m fires only when the error ratio over 1m and 5s exceeds 14.4 × 0.01 = 0.144"
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks the reason:\n%s\nwant %s", stderr.String(), want)
		}
		if stdout.Len() != 0 {
			t.Errorf("nothing should run, got stdout %q", stdout.String())
		}
	})

	t.Run("50% errors fire the page in time and the SLO recovers", func(t *testing.T) {
		gd := writeGameDay("redirect-errors.yaml", "50")
		time.Sleep(time.Until(warmUntil))
		_ = warmSrv.Close()
		resultFile := filepath.Join(dir, "result.json")
		reportFile := filepath.Join(dir, "report.html")
		journal := filepath.Join(dir, "journal")
		var stdout bytes.Buffer
		stderr := &testutil.SyncBuffer{}
		start := time.Now()
		db := filepath.Join(dir, "gamedays.db")
		code := Main(ctx, []string{"chaos", "run", gd, "--result", resultFile, "--report", reportFile,
			"--journal-dir", journal, "--store", db}, nil, &stdout, stderr)
		t.Logf("game day took %s; stdout:\n%s", time.Since(start).Round(time.Second), stdout.String())
		if code != ExitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
		}
		var res chaos.Result
		b, err := os.ReadFile(resultFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if res.Outcome != chaos.Pass || len(res.Expectations) != 1 {
			t.Fatalf("result %+v", res)
		}
		e := res.Expectations[0]
		if e.FiredTier != "page/1m" || e.DetectedSeconds == nil || e.PredictedSeconds == nil || *e.PredictedSeconds != 17 {
			t.Fatalf("expectation %+v", e)
		}
		// Measured within the prediction plus one scrape, one evaluation and the rate()
		// extrapolation at the window edges (the 10s tolerance); and not absurdly early.
		if d := *e.DetectedSeconds; d > *e.PredictedSeconds+10 || d < *e.PredictedSeconds-5 {
			t.Errorf("detected after %.1fs, predicted %.0fs", d, *e.PredictedSeconds)
		}
		if e.ResetSeconds == nil || *e.ResetSeconds > 15 {
			t.Errorf("reset %v, predicted %v", e.ResetSeconds, *e.PredictedResetSeconds)
		}
		if !res.Recovery.Met {
			t.Errorf("recovery %+v", res.Recovery)
		}
		if res.Budget.Spent <= 0 || res.Budget.Spent > 0.5 {
			t.Errorf("budget spent %v", res.Budget.Spent)
		}
		t.Logf("MEASURED detection %.1fs (predicted %.0fs), reset %.1fs (predicted %.0fs), recovered %.1fs, budget %.2f%%",
			*e.DetectedSeconds, *e.PredictedSeconds, *e.ResetSeconds, *e.PredictedResetSeconds,
			*res.Recovery.RecoveredSeconds, 100*res.Budget.Spent)
		if entries, _ := (&chaos.Journal{Dir: journal}).List(); len(entries) != 0 {
			t.Errorf("journal not cleaned: %+v", entries)
		}
		checkRecorded(t, db, &res)
		for _, want := range []string{"phase inject", "fault injected", "page/1m firing", "fault removed", "page/1m resolved", "recovered", "burn 5s="} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("progress lacks %q:\n%s", want, stderr.String())
			}
		}
		if page, err := os.ReadFile(reportFile); err != nil || !bytes.Contains(page, []byte(`id="outcome">PASS<`)) {
			t.Errorf("report: %v", err)
		}
		// SLOKIT_E2E_ARTIFACTS keeps the report and the result (CI artifacts, screenshots).
		if keep := os.Getenv("SLOKIT_E2E_ARTIFACTS"); keep != "" {
			for _, f := range []string{reportFile, resultFile} {
				if b, err := os.ReadFile(f); err == nil {
					_ = os.MkdirAll(keep, 0o755)
					_ = os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
				}
			}
		}
	})
}

// TestChaosInterruptRemovesFault cancels a run mid-fault, as Ctrl-C does, with a real
// http-proxy in front of a real service: within a second every request is clean again.
func TestChaosInterruptRemovesFault(t *testing.T) {
	service := startShortlink(t)
	var params yaml.Node
	src := fmt.Sprintf("listen: 127.0.0.1:%d\ntarget: %s\nabort: {percent: 100, status: 503}\n", testutil.FreePort(t), service)
	if err := yaml.Unmarshal([]byte(src), &params); err != nil {
		t.Fatal(err)
	}
	var backend chaos.Backend
	for _, b := range backends() {
		if b.Name() == "http-proxy" {
			backend = b
		}
	}
	fp, ds := backend.Parse("", params.Content[0])
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	inj, err := backend.New(fp, chaos.Run{ID: "int1", GameDay: "interrupt"})
	if err != nil {
		t.Fatal(err)
	}
	defer inj.(interface{ Close() error }).Close()
	g, ds := chaos.Parse("gd.yaml", []byte(`name: interrupt
slo: {file: slos.yaml, name: redirect-availability}
signals: {prometheus: "http://127.0.0.1:9"}
fault: {backend: http-proxy, params: {listen: "127.0.0.1:1", target: "http://127.0.0.1:2", abort: {percent: 100}}}
expect: [{severity: page}]
`), backends())
	if g == nil {
		t.Fatal(ds.Err())
	}
	o := slo.Objective{Service: "shortlink", Name: "redirect-availability", Target: 0.999, Period: 30 * 24 * time.Hour}
	plan, ds := chaos.Prepare(g, o, 1)
	if plan == nil {
		t.Fatal(ds.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	injected := make(chan struct{})
	r := &chaos.Runner{Plan: plan, Injector: inj, Signals: quietSignals{}, Run: chaos.Run{ID: "int1"},
		Journal: &chaos.Journal{Dir: t.TempDir()},
		Progress: func(p chaos.Progress) {
			if p.Event == "fault injected" {
				close(injected)
			}
		}}
	done := make(chan error, 1)
	go func() { _, err := r.Execute(ctx); done <- err }()
	proxyURL := "http://" + strings.TrimPrefix(strings.SplitN(src, "\n", 2)[0], "listen: ")
	select {
	case <-injected:
	case <-time.After(10 * time.Second):
		t.Fatal("fault not injected")
	}
	if code := status(t, proxyURL+"/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("fault not active: %d", code)
	}
	cancel()
	cancelled := time.Now()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run ended with %v, want context.Canceled", err)
	}
	for i := 0; i < 50; i++ {
		if code := status(t, proxyURL+"/healthz"); code != http.StatusOK {
			t.Fatalf("request %d after interruption: %d", i, code)
		}
	}
	if el := time.Since(cancelled); el > time.Second {
		t.Errorf("traffic clean only %s after the interruption, want within 1s", el)
	}
}

// quietSignals is a healthy SLO with no alerts.
type quietSignals struct{}

func (quietSignals) BurnRates(context.Context, slo.Objective) (map[time.Duration]float64, error) {
	return map[time.Duration]float64{5 * time.Minute: 0.1, time.Hour: 0.1}, nil
}

func (quietSignals) Alerts(context.Context, slo.Objective) ([]chaos.AlertState, error) {
	return nil, nil
}

func status(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// fakePrometheus answers the two API calls the runner makes with a healthy SLO: burn
// rates well under 1 and no alerts.
func fakePrometheus(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		now := float64(time.Now().Unix())
		sample := func(window, val string) string {
			return fmt.Sprintf(`{"metric":{"slokit_service":"shortlink","slokit_slo":"redirect-availability"%s},"value":[%v,"%s"]}`, window, now, val)
		}
		result := sample(`,"slokit_window":"5s"`, "0.1") + "," + sample(`,"slokit_window":"1m"`, "0.1")
		if strings.Contains(r.Form.Get("query"), slo.MetricBudgetRemaining) {
			result = sample("", "0.9")
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, result)
	})
	mux.HandleFunc("/api/v1/alerts", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"alerts":[]}}`)
	})
	return serve(t, mux)
}

// procState is the state letter of /proc/PID/stat: "T" for a stopped process.
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return f[0]
}

// TestChaosCleanupAfterKill9 runs a game day that pauses a process and kills slokit with
// SIGKILL mid-fault: nothing in slokit can run, yet the process runs again within the
// bound (its watchdog resumes it), and `slokit chaos cleanup` tidies the journal.
func TestChaosCleanupAfterKill9(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	target := exec.Command("sleep", "300")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Process.Kill(); _ = target.Wait() }()
	pid := target.Process.Pid

	dir := t.TempDir()
	journal := filepath.Join(dir, "journal")
	gd := pauseGameDay(t, dir, pid)
	run := exec.Command(os.Args[0], "chaos", "run", gd, "--journal-dir", journal)
	run.Env = append(os.Environ(), chaosMainEnv+"=1")
	var runErr testutil.SyncBuffer
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for procState(t, pid) != "T" {
		if time.Now().After(deadline) {
			_ = run.Process.Kill()
			t.Fatalf("the process was never paused; slokit said:\n%s", runErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := run.Process.Kill(); err != nil { // SIGKILL: no deferred removal can run
		t.Fatal(err)
	}
	killed := time.Now()
	_ = run.Wait()
	// The watchdog the fault started sees the heartbeat pipe close and resumes it.
	for procState(t, pid) == "T" {
		if time.Since(killed) > cleanBound {
			t.Fatalf("the process is still paused %s after kill -9 of slokit; the watchdog did not resume it", time.Since(killed))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("MEASURED kill -9 of a run pausing a process: resumed by the watchdog %s after the kill", time.Since(killed).Round(time.Millisecond))
	entries, err := (&chaos.Journal{Dir: journal}).List()
	if err != nil || len(entries) != 1 || entries[0].Backend != "process" {
		t.Fatalf("journal after kill -9: %+v, %v", entries, err)
	}

	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"chaos", "cleanup", "--journal-dir", journal}, nil, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("cleanup exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	want := fmt.Sprintf("run %s (process): removed process fault of run %s\n", entries[0].RunID, entries[0].RunID)
	if stdout.String() != want {
		t.Errorf("cleanup said %q, want %q", stdout.String(), want)
	}
	if st := procState(t, pid); st == "T" {
		t.Error("the process is stopped after cleanup")
	}
	if entries, _ := (&chaos.Journal{Dir: journal}).List(); len(entries) != 0 {
		t.Errorf("journal entries left: %+v", entries)
	}
}

// chaosMainEnv makes the test binary act as the slokit command with main.go's signal
// handling, so a test can signal a real slokit process.
const chaosMainEnv = "SLOKIT_CHAOS_TEST_MAIN"

func init() {
	// A process fault starts `slokit chaos watchdog` from this executable, marked by
	// local.WatchdogEnv: the test binary must act as slokit for it too.
	if os.Getenv(chaosMainEnv) != "1" && os.Getenv(local.WatchdogEnv) != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// pauseGameDay writes a game day that pauses pid, with signals from a healthy fake
// Prometheus, and returns its path.
func pauseGameDay(t *testing.T, dir string, pid int) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(e2eSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	gd := filepath.Join(dir, "pause.yaml")
	if err := os.WriteFile(gd, []byte(fmt.Sprintf(`name: pause-target
slo: {file: slos.yaml, name: redirect-availability}
signals: {prometheus: "%s"}
fault:
  backend: process
  params: {action: pause, pid: %d}
expectedErrorRatio: 1
expect: [{severity: page, within: 10m}]
`, fakePrometheus(t), pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	return gd
}

// TestChaosSIGTERMRemovesFault sends SIGTERM to a slokit process mid-fault: it removes
// the fault (the paused process runs again), deletes its journal entry and exits 130.
func TestChaosSIGTERMRemovesFault(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	target := exec.Command("sleep", "300")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Process.Kill(); _ = target.Wait() }()
	pid := target.Process.Pid
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal")
	run := exec.Command(os.Args[0], "chaos", "run", pauseGameDay(t, dir, pid), "--journal-dir", journal)
	run.Env = append(os.Environ(), chaosMainEnv+"=1")
	var stderr testutil.SyncBuffer
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for procState(t, pid) != "T" {
		if time.Now().After(deadline) {
			_ = run.Process.Kill()
			t.Fatalf("the process was never paused; slokit said:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := run.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
		t.Fatalf("slokit ended with %v, want exit %d; stderr:\n%s", err, ExitInterrupted, stderr.String())
	}
	if st := procState(t, pid); st == "T" {
		t.Errorf("the paused process was not resumed; stderr:\n%s", stderr.String())
	}
	if entries, _ := (&chaos.Journal{Dir: journal}).List(); len(entries) != 0 {
		t.Errorf("journal left: %+v", entries)
	}
	if !strings.Contains(stderr.String(), "interrupted; the fault was removed") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}
