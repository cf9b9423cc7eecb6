package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/internal/testutil"
)

// runBreakerGameDay runs the demo's resilience game day (linkcheck delayed behind the
// fault proxy) with the Debian Prometheus scraping the edge and shortlink and evaluating
// the generated rules, and returns the result.
func runBreakerGameDay(t *testing.T, scenario string) *chaos.Result {
	t.Helper()
	testutil.Binary(t, "prometheus")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	// The signals URL is known only once Prometheus runs, and Prometheus needs the
	// stack's addresses: start the stack first, then override the game day's signals.
	stack, err := demo.Start(ctx, demo.Config{Dir: t.TempDir(), Prometheus: "http://127.0.0.1:1", Scenario: scenario,
		SteadyWait: 3 * time.Minute, Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stack.Close(); err != nil {
			t.Errorf("closing the stack: %v", err)
		}
	})
	cfg, err := os.ReadFile(stack.Files[demo.FilePrometheus])
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(stack.Files[demo.FileRules])
	if err != nil {
		t.Fatal(err)
	}
	prom := testutil.StartPrometheus(t, string(cfg), func(d string) {
		if err := os.WriteFile(filepath.Join(d, demo.FileRules), rules, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	run, err := prepareDemo(ctx, stack, prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stack.StopLoad()
		run.close()
	}()
	var progress testutil.SyncBuffer
	res, err := run.execute(ctx, &progress, slog.New(slog.DiscardHandler), -1, false)
	if err != nil || res == nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	var text strings.Builder
	if err := writeResultText(&text, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", scenario, text.String())
	return res
}

// TestBreakerGameDayRealPrometheus: the resilience flow end to end against the Debian
// Prometheus — the page fires within its prediction, shortlink's breaker opens within
// its bound, the 5s burn falls below 1 with linkcheck still delayed, and after removal
// the breaker closes and the SLO recovers; the same game day against shortlink without
// its breaker fails with "mitigation … never engaged".
func TestBreakerGameDayRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 3-minute game days")
	}
	t.Run("breaker", func(t *testing.T) {
		t.Parallel()
		res := runBreakerGameDay(t, demo.ScenarioBreaker)
		if res.Outcome != chaos.Pass {
			t.Fatalf("outcome %s: %q", res.Outcome, res.Reasons)
		}
		e, m := res.Expectations[0], res.Mitigation
		if !e.Met || !m.Engaged || !m.Relieved || !m.Released || !res.Recovery.Met {
			t.Errorf("page %+v\nmitigation %+v\nrecovery %+v", e, m, res.Recovery)
		}
		if *m.EngagedSeconds <= 0 || res.FaultEnded.Before(res.FaultBegan.Add(time.Duration(*m.EngagedSeconds*float64(time.Second)))) {
			t.Errorf("the breaker engaged at %vs, not while the fault was in", *m.EngagedSeconds)
		}
	})
	t.Run("breaker-off", func(t *testing.T) {
		t.Parallel()
		res := runBreakerGameDay(t, demo.ScenarioBreakerOff)
		if res.Outcome != chaos.Fail {
			t.Fatalf("outcome %s, want fail: %q", res.Outcome, res.Reasons)
		}
		found := false
		for _, r := range res.Reasons {
			found = found || strings.Contains(r, "mitigation linkcheck-breaker never engaged")
		}
		if !found || res.Mitigation == nil || res.Mitigation.EngagedSeconds != nil {
			t.Errorf("reasons %q, mitigation %+v; want \"mitigation linkcheck-breaker never engaged\"", res.Reasons, res.Mitigation)
		}
	})
}
