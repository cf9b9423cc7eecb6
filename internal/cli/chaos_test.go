package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
)

// chaosGolden compares got with testdata/chaos/<name>; UPDATE_GOLDEN=1 rewrites it.
func chaosGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "chaos", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func chaosMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, nil, &o, &e)
	return code, o.String(), e.String()
}

// TestChaosValidateSampleGameDays keeps the shipped game days valid and pins the plan
// slokit prints for them: predictions, deadlines, guardrails.
func TestChaosValidateSampleGameDays(t *testing.T) {
	if !kubeBuilt {
		t.Skip("built with -tags slokit_nok8s: the chaosmesh sample needs the default build; nokube.txtar covers this build")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "sample-service", "gamedays", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("want the sample game days, got %v", files)
	}
	code, stdout, stderr := chaosMain(append([]string{"chaos", "validate"}, files...)...)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	chaosGolden(t, "validate-samples.golden", stdout)
}

func TestChaosCommandErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), []byte(e2eSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const base = `name: x
slo: {file: slos.yaml, name: %s}
signals: {prometheus: "http://127.0.0.1:9"}
fault: {backend: http-proxy, params: {listen: "127.0.0.1:0", target: "http://127.0.0.1:1", abort: {percent: 50}}}
expect: [{severity: %s}]
`
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"run needs a file", []string{"chaos", "run"}, ExitUsage, "slokit chaos run takes 1 argument(s), got 0"},
		{"bad output", []string{"chaos", "run", "-o", "yaml", "x.yaml"}, ExitUsage, `-o must be text or json, got "yaml"`},
		{"missing file", []string{"chaos", "validate", filepath.Join(dir, "nope.yaml")}, ExitFailure, "reading the game day"},
		{"unknown SLO", []string{"chaos", "validate", write("a.yaml", fmt.Sprintf(base, "redirect-latency", "page"))},
			ExitInvalid, `slo.name: ` + filepath.Join(dir, "slos.yaml") + ` has no SLO named "redirect-latency"; it has shortlink/redirect-availability`},
		{"disabled severity", []string{"chaos", "validate", write("b.yaml", fmt.Sprintf(base, "redirect-availability", "ticket"))},
			ExitInvalid, "expect[0]: shortlink-redirect-availability has no ticket alert tier; its tiers are page/1m (14.4× over 1m and 5s)"},
		{"cleanup of an empty journal", []string{"chaos", "cleanup", "--journal-dir", filepath.Join(dir, "j")}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := chaosMain(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
		})
	}
	code, stdout, _ := chaosMain("chaos", "cleanup", "--journal-dir", filepath.Join(dir, "j"), "-o", "json")
	if code != ExitOK || stdout != "[]\n" {
		t.Errorf("cleanup -o json of nothing: %d %q", code, stdout)
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		outcome chaos.Outcome
		runErr  error
		code    int
	}{
		{chaos.Pass, nil, ExitOK},
		{chaos.Fail, nil, ExitVerdict},
		{chaos.Aborted, nil, ExitAborted},
		{chaos.Interrupted, context.Canceled, ExitInterrupted},
		{"", errors.New("signals unreachable"), ExitFailure},
	}
	for _, tt := range tests {
		err := runExitError(&chaos.Result{GameDay: "g", Outcome: tt.outcome, Reasons: []string{"why"}}, tt.runErr)
		if got := exitCode(context.Background(), err); err == nil && tt.code != ExitOK || err != nil && got != tt.code {
			t.Errorf("%s/%v: exit %d (err %v), want %d", tt.outcome, tt.runErr, got, err, tt.code)
		}
	}
}

// TestProgressPlain: off a terminal, progress is plain lines, burn rates ordered by
// window length, a status line at most every 5s and every transition on its own line.
func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := newProgressPrinter(&b, true)
	burn := map[time.Duration]float64{time.Hour: 2, 72 * time.Hour: 0.1, 5 * time.Minute: 24.5, 30 * time.Minute: 4, 36 * time.Hour: 0.5}
	for s := 1; s <= 11; s++ {
		p.print(chaos.Progress{Phase: chaos.PhaseExpect, Elapsed: time.Duration(s) * time.Second, Burn: burn, Spent: 0.0123})
	}
	p.print(chaos.Progress{Phase: chaos.PhaseExpect, Elapsed: 12 * time.Second, Event: "page/1h firing"})
	p.done()
	want := "[     1s] expect    burn 5m=24.5 30m=4 1h=2 1d12h=0.5 3d=0.1  budget 1.23%\n" +
		"[     6s] expect    burn 5m=24.5 30m=4 1h=2 1d12h=0.5 3d=0.1  budget 1.23%\n" +
		"[    11s] expect    burn 5m=24.5 30m=4 1h=2 1d12h=0.5 3d=0.1  budget 1.23%\n" +
		"[    12s] expect    page/1h firing\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestResultText(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	res := &chaos.Result{RunID: "a1b2c3d4", GameDay: "redirect-errors", Service: "shortlink", SLO: "redirect-availability",
		Outcome: chaos.Fail, Reasons: []string{"ticket/1d fired 1m26s after the fault began but must not fire"},
		Expectations: []chaos.ExpectationResult{{Alert: "page", WithinSeconds: 164, WithinPredicted: true, PredictedSeconds: f(104),
			DetectedSeconds: f(107.4), FiredTier: "page/1h", PredictedResetSeconds: f(291), ResetSeconds: f(295), Met: true}},
		MustNotFire: []chaos.ForbiddenResult{{Alert: "ticket", Fired: true, FiredTier: "ticket/1d"}},
		Recovery:    chaos.RecoveryResult{Window: "5m", BurnRateBelow: 1, WithinSeconds: 360, RecoveredSeconds: f(301), Met: true},
		Budget:      chaos.BudgetResult{Spent: 0.0213, Max: 0.05},
	}
	var b bytes.Buffer
	if err := writeResultText(&b, res); err != nil {
		t.Fatal(err)
	}
	chaosGolden(t, "result.txt", b.String())
}
