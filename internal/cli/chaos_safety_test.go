package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/load"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// cleanBound is how soon traffic on the path must be clean after a run ends, however it
// ends (issue 14).
const cleanBound = 2 * time.Second

// safetyLab is a traffic path that outlives game days: the shortlink service behind a
// long-lived `slokit chaos proxy` process, driven through its control API on a unix
// socket. Game days run as their own slokit processes so that tests can signal them.
type safetyLab struct {
	dir, service, proxy, control, journal string
}

func newSafetyLab(t *testing.T) *safetyLab {
	t.Helper()
	l := &safetyLab{dir: t.TempDir(), service: startShortlink(t)}
	l.journal = filepath.Join(l.dir, "journal")
	sockDir, err := os.MkdirTemp("", "slokit-sock") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	l.control = "unix://" + filepath.Join(sockDir, "proxy.sock")
	addr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	l.proxy = "http://" + addr
	proxy := slokitCmd("chaos", "proxy", "--listen", addr, "--target", l.service, "--control", l.control)
	var out testutil.SyncBuffer
	proxy.Stdout, proxy.Stderr = &out, &out
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = proxy.Process.Signal(syscall.SIGTERM)
		_ = proxy.Wait()
		if t.Failed() {
			t.Logf("slokit chaos proxy said:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for code(l.proxy+"/healthz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("the fault proxy never forwarded:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return l
}

// slokitCmd runs this test binary as the slokit command, with main.go's signal handling.
func slokitCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), chaosMainEnv+"=1")
	return cmd
}

// code is the status of GET u, 0 when the request fails.
func code(u string) int {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// gameDay writes the SLO file and a game day injecting 100% 503s through the lab's
// proxy, and returns its path. extra is appended (steadyState, expect, …).
func (l *safetyLab) gameDay(t *testing.T, name, slos, prometheus, extra string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(l.dir, "slos.yaml"), []byte(slos), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(l.dir, name+".yaml")
	src := fmt.Sprintf(`name: %s
slo: {file: slos.yaml, name: redirect-availability}
signals: {prometheus: "%s", tolerance: 5s}
fault:
  backend: http-proxy
  params:
    control: "%s"
    lease: 1s
    abort: {percent: 100, status: 503}
guardrails: {maxBudget: 1, timeout: 5m}
%s`, name, prometheus, l.control, extra)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type runProc struct {
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer
	result string
	done   chan error
}

// run starts `slokit chaos run` on gd.
func (l *safetyLab) run(t *testing.T, gd string, args ...string) *runProc {
	t.Helper()
	r := &runProc{stderr: &testutil.SyncBuffer{}, result: filepath.Join(l.dir, filepath.Base(gd)+".result.json"), done: make(chan error, 1)}
	r.cmd = slokitCmd(append([]string{"chaos", "run", gd, "--journal-dir", l.journal, "--result", r.result}, args...)...)
	r.cmd.Stderr = r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	return r
}

// wait returns the exit code of the run, failing after timeout.
func (r *runProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("the run did not end within %s:\n%s", timeout, r.stderr.String())
	}
	return -1
}

func (r *runProc) readResult(t *testing.T) chaos.Result {
	t.Helper()
	var res chaos.Result
	b, err := os.ReadFile(r.result)
	if err != nil {
		t.Fatalf("no result: %v\n%s", err, r.stderr.String())
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// waitFault waits until the fault fails requests on the path.
func (l *safetyLab) waitFault(t *testing.T, r *runProc, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for code(l.proxy+"/healthz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatalf("the fault was never injected:\n%s", r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// timeToClean measures from since until requests on the path succeed again (then 20 in
// a row must), failing beyond bound.
func (l *safetyLab) timeToClean(t *testing.T, since time.Time, bound time.Duration) time.Duration {
	t.Helper()
	for code(l.proxy+"/healthz") != http.StatusOK {
		if time.Since(since) > bound+5*time.Second {
			t.Fatalf("traffic still failing %s after the run ended", time.Since(since).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
	el := time.Since(since)
	for i := 0; i < 20; i++ {
		if c := code(l.proxy + "/healthz"); c != http.StatusOK {
			t.Fatalf("request %d after the path came back: %d", i, c)
		}
	}
	if el > bound {
		t.Errorf("traffic clean %s after the run ended, want within %s", el.Round(time.Millisecond), bound)
	}
	return el
}

// fakeGameDay writes a game day on the fake (healthy, never alerting) Prometheus that
// holds the fault for 2 minutes.
func (l *safetyLab) fakeGameDay(t *testing.T, name string) string {
	t.Helper()
	gd := l.gameDay(t, name, e2eSLOs, fakePrometheus(t), "expect: [{severity: page, within: 2m}]\n")
	b, _ := os.ReadFile(gd)
	b = bytes.Replace(b, []byte("fault:\n"), []byte("fault:\n  duration: 2m\n"), 1)
	if err := os.WriteFile(gd, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return gd
}

// TestChaosSafetySignals ends a run mid-fault with each signal a terminal, a session
// manager or an operator sends: the fault is removed at once, the run says it was
// interrupted (exit 130) and the traffic path is clean within the bound.
func TestChaosSafetySignals(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			l := newSafetyLab(t)
			r := l.run(t, l.fakeGameDay(t, "signal"))
			l.waitFault(t, r, 30*time.Second)
			sent := time.Now()
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			el := l.timeToClean(t, sent, cleanBound)
			if c := r.wait(t, 30*time.Second); c != ExitInterrupted {
				t.Fatalf("exit %d, want %d:\n%s", c, ExitInterrupted, r.stderr.String())
			}
			res := r.readResult(t)
			if res.Outcome != chaos.Interrupted || res.Cause != chaos.CauseInterrupted || res.FaultEnded == nil {
				t.Errorf("result: outcome %s cause %s, fault ended %v", res.Outcome, res.Cause, res.FaultEnded)
			}
			if !strings.Contains(r.stderr.String(), "interrupted; the fault was removed") {
				t.Errorf("stderr:\n%s", r.stderr.String())
			}
			if entries, bad := (&chaos.Journal{Dir: l.journal}).List(); len(entries)+len(bad) != 0 {
				t.Errorf("journal left: %+v %+v", entries, bad)
			}
			t.Logf("MEASURED %s: traffic clean %s after the signal", sig, el.Round(time.Millisecond))
		})
	}
}

// TestChaosSafetyKill9 kills the runner with SIGKILL mid-fault: nothing in it can run,
// yet the proxy ends the fault with its lease and the path is clean within the bound,
// without anybody running cleanup. Cleanup afterwards removes the journal entry and
// reports (and skips) a corrupt file in the journal directory.
func TestChaosSafetyKill9(t *testing.T) {
	t.Parallel()
	l := newSafetyLab(t)
	r := l.run(t, l.fakeGameDay(t, "kill9"))
	l.waitFault(t, r, 30*time.Second)
	killed := time.Now()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	el := l.timeToClean(t, killed, cleanBound)
	t.Logf("MEASURED kill -9: traffic clean %s after the kill, with no cleanup", el.Round(time.Millisecond))
	r.wait(t, 10*time.Second)

	if err := os.WriteFile(filepath.Join(l.journal, "notes.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	c := Main(context.Background(), []string{"chaos", "cleanup", "--journal-dir", l.journal}, nil, &stdout, &stderr)
	if c != ExitOK {
		t.Fatalf("cleanup exit %d:\n%s%s", c, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "notes.json: not a slokit run journal") || !strings.Contains(out, "(http-proxy): removed http-proxy fault of run") {
		t.Errorf("cleanup said:\n%s", out)
	}
	if entries, _ := (&chaos.Journal{Dir: l.journal}).List(); len(entries) != 0 {
		t.Errorf("journal entries left: %+v", entries)
	}
	if c := code(l.proxy + "/healthz"); c != http.StatusOK {
		t.Errorf("after cleanup: %d", c)
	}
}

// TestChaosSafetyConcurrentRuns: a second run on the same SLO is refused while the
// first holds its fault, before it injects anything; the first is unaffected.
func TestChaosSafetyConcurrentRuns(t *testing.T) {
	t.Parallel()
	l := newSafetyLab(t)
	first := l.run(t, l.fakeGameDay(t, "first"))
	l.waitFault(t, first, 30*time.Second)
	second := l.run(t, l.fakeGameDay(t, "second"))
	if c := second.wait(t, 30*time.Second); c != ExitFailure {
		t.Fatalf("second run: exit %d, want %d:\n%s", c, ExitFailure, second.stderr.String())
	}
	if !strings.Contains(second.stderr.String(), "another game day runs on shortlink-redirect-availability (run ") {
		t.Errorf("second run said:\n%s", second.stderr.String())
	}
	if c := code(l.proxy + "/healthz"); c != http.StatusServiceUnavailable {
		t.Errorf("the first run's fault is gone after the second was refused: %d", c)
	}
	// A run with another journal (another operator's machine) is refused by the proxy.
	other := slokitCmd("chaos", "run", l.fakeGameDay(t, "other"), "--journal-dir", filepath.Join(l.dir, "other"))
	out, err := other.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "holds a fault on the proxy") {
		t.Errorf("run through another journal: %v\n%s", err, out)
	}
	sent := time.Now()
	_ = first.cmd.Process.Signal(syscall.SIGINT)
	l.timeToClean(t, sent, cleanBound)
	first.wait(t, 30*time.Second)
}

// TestChaosSafetyPrometheusUnreachable: with nothing listening at signals.prometheus
// the run says so in one line and exits 1 before anything is injected.
func TestChaosSafetyPrometheusUnreachable(t *testing.T) {
	t.Parallel()
	l := newSafetyLab(t)
	dead := fmt.Sprintf("http://127.0.0.1:%d", testutil.FreePort(t))
	gd := l.gameDay(t, "unreachable", e2eSLOs, dead, "expect: [{severity: page}]\n")
	r := l.run(t, gd)
	if c := r.wait(t, 30*time.Second); c != ExitFailure {
		t.Fatalf("exit %d:\n%s", c, r.stderr.String())
	}
	var lines []string
	for _, ln := range strings.Split(strings.TrimSpace(r.stderr.String()), "\n") {
		if strings.HasPrefix(ln, "slokit: ") || strings.Contains(ln, "level=WARN") || strings.Contains(ln, "level=ERROR") {
			lines = append(lines, ln)
		}
	}
	want := "slokit: nothing was injected: prometheus at " + dead + " does not answer: "
	if len(lines) != 1 || !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], "connection refused") ||
		!strings.HasSuffix(lines[0], "check signals.prometheus in the game day (or --prometheus) and that Prometheus runs and is reachable from here") {
		t.Errorf("stderr, want one line starting %q:\n%s", want, r.stderr.String())
	}
	if entries, _ := (&chaos.Journal{Dir: l.journal}).List(); len(entries) != 0 {
		t.Errorf("journal: %+v", entries)
	}
}

// TestChaosSafetyNotOnPath: the proxy fails every request, but the SLI (here a fake
// Prometheus that stays healthy) never sees it: the verdict says the fault is not on
// the SLI's traffic path instead of only "page did not fire".
func TestChaosSafetyNotOnPath(t *testing.T) {
	t.Parallel()
	l := newSafetyLab(t)
	gd := l.gameDay(t, "offpath", e2eSLOs, fakePrometheus(t), "expect: [{severity: page, within: 10s}]\nrecovery: {within: 2s}\n")
	r := l.run(t, gd)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // traffic on the path while the fault is in
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				code(l.proxy + "/healthz")
			}
		}
	}()
	if c := r.wait(t, 60*time.Second); c != ExitVerdict {
		t.Fatalf("exit %d:\n%s", c, r.stderr.String())
	}
	res := r.readResult(t)
	if res.Cause != chaos.CauseNotOnPath || res.Fault == nil || !res.Fault.NotOnPath || res.Fault.Errors == 0 {
		t.Fatalf("result: cause %q fault %+v reasons %q", res.Cause, res.Fault, res.Reasons)
	}
	found := false
	for _, rs := range res.Reasons {
		found = found || strings.HasPrefix(rs, "fault not on the SLI's traffic path: the fault failed ")
	}
	if !found {
		t.Errorf("reasons %q", res.Reasons)
	}
}

// safetySLOs is a short-period SLO for runs on the real Prometheus: one page tier over
// 20s and 5s, so that history fills in 20s and a total outage fires in about 3s.
const safetySLOs = `version: slokit/v1
service: shortlink
slos:
  - name: redirect-availability
    objective: 99
    period: 1h
    sli:
      events:
        bad: http_requests_total{service="shortlink",code=~"5.."}
        total: http_requests_total{service="shortlink"}
    alerting:
      name: ShortlinkRedirectAvailability
      ticket: {disabled: true}
      windows:
        - {severity: page, long: 20s, short: 5s, burnRate: 14.4}
scrapeInterval: 1s
`

// withPrometheus adds the edge (SLIs measured in front of the proxy), load and the
// Debian Prometheus evaluating the SLO's rules every second.
func (l *safetyLab) withPrometheus(t *testing.T) *testutil.Server {
	t.Helper()
	path := filepath.Join(l.dir, "slos.yaml")
	if err := os.WriteFile(path, []byte(safetySLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	services, ds := slo.LoadFiles(path)
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
	edge := startEdge(t, strings.TrimPrefix(l.proxy, "http://"))
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
	ctx, cancel := context.WithCancel(context.Background())
	gen, err := load.Start(ctx, load.Config{Target: edge, Rate: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gen.Stop(); cancel() })
	return prom
}

// TestChaosSafetyPrometheusLost kills or freezes (SIGSTOP) the real Prometheus while the
// fault is in: the run must not hold the fault blind. After --signal-loss it removes the
// fault, ends with cause signal-loss (exit 5) and the path is clean.
func TestChaosSafetyPrometheusLost(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus (~1 min)")
	}
	t.Parallel()
	for _, how := range []string{"killed", "frozen"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			l := newSafetyLab(t)
			prom := l.withPrometheus(t)
			gd := l.gameDay(t, "promlost", safetySLOs, prom.URL, "steadyState: {wait: 90s}\nexpect: [{severity: page, within: 2m}]\n")
			b, _ := os.ReadFile(gd)
			_ = os.WriteFile(gd, bytes.Replace(b, []byte("fault:\n"), []byte("fault:\n  duration: 2m\n"), 1), 0o644)
			const loss = 3 * time.Second
			r := l.run(t, gd, "--signal-loss", loss.String())
			l.waitFault(t, r, 2*time.Minute)
			lost := time.Now()
			sig := syscall.SIGKILL
			if how == "frozen" {
				sig = syscall.SIGSTOP
			}
			if err := prom.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			el := l.timeToClean(t, lost, loss+cleanBound)
			if c := r.wait(t, 30*time.Second); c != ExitAborted {
				t.Fatalf("exit %d, want %d:\n%s", c, ExitAborted, r.stderr.String())
			}
			res := r.readResult(t)
			if res.Outcome != chaos.Aborted || res.Cause != chaos.CauseSignalLoss || len(res.Reasons) == 0 ||
				!strings.HasPrefix(res.Reasons[0], "signals lost: no answer from prometheus "+prom.URL+" for ") {
				t.Errorf("result: %s %s %q", res.Outcome, res.Cause, res.Reasons)
			}
			if n := strings.Count(r.stderr.String(), "level=WARN msg=\"reading signals\""); n > 2 {
				t.Errorf("%d warnings for one lost Prometheus, want them collapsed:\n%s", n, r.stderr.String())
			}
			t.Logf("MEASURED Prometheus %s: traffic clean %s after it (signal loss %s)", how, el.Round(time.Millisecond), loss)
		})
	}
}

// TestChaosSafetyRunnerFrozen freezes the runner (SIGSTOP: a hung host, a debugger) mid-
// fault: it renews nothing, so the proxy ends the fault with the lease and the path is
// clean within the bound. Thawed, the run learns it lost the lease and ends with cause
// lease-lost (exit 5) instead of measuring a fault that is no longer there.
func TestChaosSafetyRunnerFrozen(t *testing.T) {
	t.Parallel()
	l := newSafetyLab(t)
	r := l.run(t, l.fakeGameDay(t, "frozen"))
	l.waitFault(t, r, 30*time.Second)
	frozen := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	el := l.timeToClean(t, frozen, cleanBound)
	t.Logf("MEASURED runner frozen (SIGSTOP): traffic clean %s after it", el.Round(time.Millisecond))
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	if c := r.wait(t, 30*time.Second); c != ExitAborted {
		t.Fatalf("exit %d, want %d:\n%s", c, ExitAborted, r.stderr.String())
	}
	res := r.readResult(t)
	if res.Cause != chaos.CauseLeaseLost || len(res.Reasons) == 0 || !strings.HasPrefix(res.Reasons[0], "the fault's lease was lost: ") {
		t.Errorf("result: %s %s %q", res.Outcome, res.Cause, res.Reasons)
	}
}

// TestChaosSafetyPass runs a whole game day through the long-lived proxy on the real
// Prometheus: it passes (the page fires within the prediction, the SLO recovers, the
// SLI saw the proxy's failures), and the traffic path is clean the moment it ends.
func TestChaosSafetyPass(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus (~1 min)")
	}
	t.Parallel()
	l := newSafetyLab(t)
	prom := l.withPrometheus(t)
	gd := l.gameDay(t, "pass", safetySLOs, prom.URL, "steadyState: {wait: 90s}\nexpect: [{severity: page}]\n")
	r := l.run(t, gd)
	c := r.wait(t, 3*time.Minute)
	ended := time.Now()
	el := l.timeToClean(t, ended, cleanBound)
	if c != ExitOK {
		t.Fatalf("exit %d:\n%s", c, r.stderr.String())
	}
	res := r.readResult(t)
	if res.Outcome != chaos.Pass || res.Fault == nil || res.Fault.NotOnPath || res.Fault.Errors == 0 || !res.SteadyState.Met {
		t.Fatalf("result: %s %q fault %+v steady %+v", res.Outcome, res.Reasons, res.Fault, res.SteadyState)
	}
	e := res.Expectations[0]
	t.Logf("MEASURED PASS through the long-lived proxy: detection %.1fs (predicted %.1fs), proxy failed %d of %d requests, SLI peak burn %.0f; traffic clean %s after the run ended",
		*e.DetectedSeconds, *e.PredictedSeconds, res.Fault.Errors, res.Fault.Matched, res.Fault.PeakBurnRate, el.Round(time.Millisecond))
}
