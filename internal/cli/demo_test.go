package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/internal/testutil"
)

// TestDemoE2E runs the demo's game day on real components, two ways at once so that CI
// waits for one warm-up only (the subtests are not t.Parallel, so -parallel does not
// serialise them): the `slokit demo` command against the lab, and the lab and the
// Debian Prometheus side by side on one stack.
func TestDemoE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo twice at once (~2m)")
	}
	t.Parallel()
	var wg sync.WaitGroup
	for name, f := range map[string]func(*testing.T){
		"command against the lab":               testDemoCommand,
		"lab and Prometheus agree on one stack": testDemoLabAgreesWithPrometheus,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(name, f)
		}()
	}
	wg.Wait()
}

// testDemoCommand runs `slokit demo` as a user does: service, edge, fault proxy, load and
// lab in one process, a minute of warm-up, then the game day. The page must fire within
// the predicted time, the SLO recover, every file land in --out, and everything stop.
func testDemoCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	stderr := &testutil.SyncBuffer{}
	start := time.Now()
	// --serve: after the verdict the UI serves the stack until the context ends (Ctrl-C).
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan int, 1)
	go func() {
		done <- Main(serveCtx, []string{"demo", "--out", dir, "--serve", "--serve-listen", "127.0.0.1:0"}, nil, &stdout, stderr)
	}()
	checkDemoUI(t, stderr, done)
	stop()
	code := <-done
	t.Logf("demo took %s; stdout:\n%s", time.Since(start).Round(time.Second), stdout.String())
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "on shortlink/redirect-availability: PASS") {
		t.Errorf("stdout lacks the verdict:\n%s", stdout.String())
	}
	res := readResult(t, filepath.Join(dir, "result.json"))
	checkDemoResult(t, "lab", res)
	for _, want := range []string{"predicted detection 35s, reset 2s; deadline 55s (predicted + 5s rules' lag + 15s tolerance)", "warm-up", "phase inject",
		"fault injected", "page/1m firing", "fault removed", "page/1m resolved", "recovered",
		"report written to " + filepath.Join(dir, "report.html"), "stopped: load ("} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	for _, f := range []string{demo.FileSLOs, demo.FileRules, demo.FilePrometheus, demo.FileGameDay, "result.json", "report.html"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if page, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !bytes.Contains(page, []byte(`id="outcome">PASS<`)) {
		t.Errorf("report: %v", err)
	}
	// Everything stopped: the edge no longer answers.
	edge := regexp.MustCompile(`edge (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String())
	if edge == nil {
		t.Fatalf("no edge URL in stderr:\n%s", stderr.String())
	}
	if resp, err := http.Get(edge[1] + "/metrics"); err == nil {
		resp.Body.Close()
		t.Errorf("the edge still answers after the demo: %s", resp.Status)
	}
}

func readResult(t *testing.T, path string) *chaos.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var res chaos.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

// checkDemoResult asserts a passing demo game day measured close to the maths: the page
// after 0.288 × 60s / 0.5 = 34.6s (35s once rounded), its condition gone 5s × (1 − 0.576) = 2.1s after
// removal, within the 15s tolerance (one scrape, one evaluation, rate() edges).
func checkDemoResult(t *testing.T, name string, res *chaos.Result) {
	t.Helper()
	if res.Outcome != chaos.Pass || len(res.Expectations) != 1 {
		t.Fatalf("%s: outcome %s, reasons %q, expectations %+v", name, res.Outcome, res.Reasons, res.Expectations)
	}
	e := res.Expectations[0]
	if e.FiredTier != "page/1m" || e.DetectedSeconds == nil || e.PredictedSeconds == nil || e.ResetSeconds == nil {
		t.Fatalf("%s: expectation %+v", name, e)
	}
	if *e.PredictedSeconds != 35 { // alerts.Predict rounds to the second
		t.Errorf("%s: predicted detection %.2fs, want 0.288 × 60s / 0.5 = 34.56s rounded to 35s", name, *e.PredictedSeconds)
	}
	if d := *e.DetectedSeconds; d < *e.PredictedSeconds-5 || d > *e.PredictedSeconds+15 {
		t.Errorf("%s: detected after %.1fs, predicted %.1fs", name, d, *e.PredictedSeconds)
	}
	if *e.ResetSeconds > 15 {
		t.Errorf("%s: reset after %.1fs, predicted %.1fs", name, *e.ResetSeconds, *e.PredictedResetSeconds)
	}
	if !res.Recovery.Met || res.Budget.Spent <= 0 || res.Budget.Spent > 0.1 {
		t.Errorf("%s: recovery %+v, budget %+v", name, res.Recovery, res.Budget)
	}
	t.Logf("%s: MEASURED detection %.1fs (predicted %.1fs), reset %.1fs (predicted %.1fs), recovered %.1fs, budget %.2f%%",
		name, *e.DetectedSeconds, *e.PredictedSeconds, *e.ResetSeconds, *e.PredictedResetSeconds,
		*res.Recovery.RecoveredSeconds, 100*res.Budget.Spent)
}

// rendezvous lets two runners share one fault: the fault is applied when both have
// called Inject and removed when both have called Remove, so that both measure from the
// same instants.
type rendezvous struct {
	inner chaos.Injector
	n     int
	mu    sync.Mutex
	calls map[string]int
	done  map[string]chan error
}

func newRendezvous(inner chaos.Injector, n int) *rendezvous {
	return &rendezvous{inner: inner, n: n, calls: map[string]int{},
		done: map[string]chan error{"inject": make(chan error, 1), "remove": make(chan error, 1)}}
}

func (r *rendezvous) meet(ctx context.Context, what string, do func(context.Context) error) error {
	r.mu.Lock()
	r.calls[what]++
	last := r.calls[what] == r.n
	ch := r.done[what]
	r.mu.Unlock()
	if last {
		err := do(ctx)
		ch <- err
		close(ch)
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *rendezvous) Inject(ctx context.Context) error { return r.meet(ctx, "inject", r.inner.Inject) }
func (r *rendezvous) Remove(ctx context.Context) error { return r.meet(ctx, "remove", r.inner.Remove) }

// testDemoLabAgreesWithPrometheus runs the demo's game day twice on one stack — one
// service, one edge, one load and one fault — once reading the lab and once the Debian
// Prometheus, which scrapes the same edge every second with the demo's own
// prometheus.yml and rules.yml. Both must reach the same verdict and measure detection
// times within two evaluation intervals of each other.
func testDemoLabAgreesWithPrometheus(t *testing.T) {
	testutil.Binary(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack, err := demo.Start(ctx, demo.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stack.Close(); err != nil {
			t.Error(err)
		}
	}()
	promCfg, err := os.ReadFile(stack.Files[demo.FilePrometheus])
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(stack.Files[demo.FileRules])
	if err != nil {
		t.Fatal(err)
	}
	prom := testutil.StartPrometheus(t, string(promCfg), func(d string) {
		if err := os.WriteFile(filepath.Join(d, demo.FileRules), rules, 0o644); err != nil {
			t.Fatal(err)
		}
	})

	labRun, err := prepareDemo(ctx, stack, "")
	if err != nil {
		t.Fatal(err)
	}
	defer labRun.close()
	promSetup, err := chaos.Load(stack.Files[demo.FileGameDay], backends(), prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	promSig, err := promsource.New(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	shared := newRendezvous(labRun.inj, 2)
	runs := map[string]*demoRun{
		"lab":        {path: labRun.path, setup: labRun.setup, inj: shared, sig: labRun.sig, stack: stack, run: chaos.Run{ID: "lab", GameDay: labRun.run.GameDay}},
		"prometheus": {path: labRun.path, setup: promSetup, inj: shared, sig: promSig, stack: stack, run: chaos.Run{ID: "prom", GameDay: labRun.run.GameDay}},
	}
	results := map[string]*chaos.Result{}
	logs := map[string]*testutil.SyncBuffer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, r := range runs {
		wg.Add(1)
		logs[name] = &testutil.SyncBuffer{}
		go func() {
			defer wg.Done()
			res, err := r.execute(ctx, logs[name], nil, -1, false)
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			mu.Lock()
			results[name] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
	for name, res := range results {
		t.Logf("%s progress:\n%s", name, logs[name].String())
		if res == nil {
			t.Fatalf("%s: no result", name)
		}
		checkDemoResult(t, name, res)
	}
	if t.Failed() {
		return
	}
	lab, pr := results["lab"].Expectations[0], results["prometheus"].Expectations[0]
	const twoEvals = 2.0 // seconds: two evaluation intervals
	d := *lab.DetectedSeconds - *pr.DetectedSeconds
	t.Logf("AGREEMENT detection lab %.1fs, prometheus %.1fs (lab − prometheus = %+.1fs); reset lab %.1fs, prometheus %.1fs",
		*lab.DetectedSeconds, *pr.DetectedSeconds, d, *lab.ResetSeconds, *pr.ResetSeconds)
	if math.Abs(d) > twoEvals {
		t.Errorf("detection differs by %.1fs between the lab and Prometheus, more than two evaluation intervals", d)
	}
	if results["lab"].Outcome != results["prometheus"].Outcome || lab.FiredTier != pr.FiredTier {
		t.Errorf("verdicts differ: lab %s %s, prometheus %s %s", results["lab"].Outcome, lab.FiredTier, results["prometheus"].Outcome, pr.FiredTier)
	}
}

// TestDemoInterrupt cancels the demo's game day mid-fault, as Ctrl-C does: the run ends
// interrupted with exit code 130, and requests through the edge are clean again within a
// second, before anything is shut down. Then the whole command is interrupted the same
// way and must exit 130 with everything stopped.
func TestDemoInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo stack (~15s)")
	}
	t.Parallel()
	t.Run("game day", func(t *testing.T) {
		stack, err := demo.Start(context.Background(), demo.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer stack.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r, err := prepareDemo(ctx, stack, "")
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		log := &testutil.SyncBuffer{}
		type outcome struct {
			res *chaos.Result
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			res, err := r.execute(ctx, log, nil, 0, false)
			done <- outcome{res, err}
		}()
		waitFor(t, log, "fault injected", 120*time.Second) // the 1m window must hold 1m of history first
		bad := 0
		for i := 0; i < 40; i++ {
			if code := status(t, stack.EdgeURL+"/nosuchcode"); code == http.StatusServiceUnavailable {
				bad++
			}
		}
		if bad == 0 {
			t.Fatalf("no request failed while 50%% should; progress:\n%s", log.String())
		}
		cancel()
		cancelled := time.Now()
		out := <-done
		if out.res == nil || out.res.Outcome != chaos.Interrupted || !errors.Is(out.err, context.Canceled) {
			t.Fatalf("run ended with %+v, %v", out.res, out.err)
		}
		if code := exitCode(ctx, runExitError(out.res, out.err)); code != ExitInterrupted {
			t.Errorf("exit code %d, want %d", code, ExitInterrupted)
		}
		for i := 0; i < 50; i++ {
			if code := status(t, stack.EdgeURL+"/nosuchcode"); code != http.StatusNotFound {
				t.Fatalf("request %d after the interruption: %d, want 404 from the service", i, code)
			}
		}
		if el := time.Since(cancelled); el > time.Second {
			t.Errorf("traffic clean only %s after the interruption, want within 1s", el)
		}
		if !strings.Contains(log.String(), "fault removed") {
			t.Errorf("progress lacks the removal:\n%s", log.String())
		}
	})
	t.Run("command", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stderr := &testutil.SyncBuffer{}
		var stdout bytes.Buffer
		dir := t.TempDir()
		codec := make(chan int, 1)
		go func() { codec <- Main(ctx, []string{"demo", "--warmup", "0s", "--out", dir}, nil, &stdout, stderr) }()
		waitFor(t, stderr, "fault injected", 120*time.Second)
		cancel()
		code := <-codec
		if code != ExitInterrupted {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInterrupted, stderr.String())
		}
		for _, want := range []string{"fault removed", "interrupted; the fault was removed", "stopped: load ("} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
			}
		}
		edge := regexp.MustCompile(`edge (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String())
		if edge == nil {
			t.Fatalf("no edge URL in stderr:\n%s", stderr.String())
		}
		if resp, err := http.Get(edge[1] + "/metrics"); err == nil {
			resp.Body.Close()
			t.Errorf("the edge still answers after the interrupted demo: %s", resp.Status)
		}
	})
}

// waitFor polls buf until it contains s, or fails the test after d.
func waitFor(t *testing.T, buf *testutil.SyncBuffer, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(buf.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %s:\n%s", s, d, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDemoUsage rejects bad flags and arguments with exit 2 before starting anything.
func TestDemoUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"demo", "-o", "yaml"}, `-o must be text or json, got "yaml"`},
		{[]string{"demo", "--rate", "0"}, "--rate must be > 0 requests per second, got 0"},
		{[]string{"demo", "now"}, `slokit demo takes no arguments, got ["now"]`},
		{[]string{"demo", "--warmup", "soon"}, `invalid argument "soon" for "--warmup" flag`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		dir := t.TempDir()
		code := Main(context.Background(), append(tt.args, "--out", dir), nil, &stdout, &stderr)
		if code != ExitUsage || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr.String(), ExitUsage, tt.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%q: wrote %d files into --out", tt.args, len(entries))
		}
	}
}
