package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// sampleResult is a run of 10 minutes: a 50% error fault from 60s to 240s on a 99.9%
// SLO, page/1h firing at 170s and resolving at 520s.
func sampleResult() *chaos.Result {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	ptr := func(t time.Time) *time.Time { return &t }
	f := func(v float64) *float64 { return &v }
	res := &chaos.Result{
		RunID: "a1b2c3d4", GameDay: "redirect-errors", Service: "shortlink", SLO: "redirect-availability",
		Objective: 0.999, PeriodSeconds: (30 * 24 * time.Hour).Seconds(), Backend: "http-proxy",
		ErrorRatio: 0.5, ErrorRatioSource: "gameday", Outcome: chaos.Pass,
		StartedAt: start, EndedAt: at(600), FaultBegan: ptr(at(60)), FaultEnded: ptr(at(240)), FaultTimesFrom: "runner",
		Expectations: []chaos.ExpectationResult{{Alert: "page", Tiers: []string{"page/1h"}, WithinSeconds: 224,
			WithinPredicted: true, PredictedSeconds: f(104), DetectedSeconds: f(110), FiredTier: "page/1h",
			PredictedResetSeconds: f(291), ResetSeconds: f(280), Met: true}},
		MustNotFire: []chaos.ForbiddenResult{{Alert: "ticket"}},
		Recovery:    chaos.RecoveryResult{Window: "5m", BurnRateBelow: 1, WithinSeconds: 420, RecoveredSeconds: f(300), Met: true},
		Budget:      chaos.BudgetResult{Spent: 0.05, Max: 0.2},
		Tiers: []chaos.TierInfo{{Name: "page/1h", BurnRate: 14.4, Long: "1h", Short: "5m"},
			{Name: "page/6h", BurnRate: 6, Long: "6h", Short: "30m"}},
		Alerts: []chaos.AlertTrack{{Name: "ShortlinkRedirectAvailability", Severity: slo.Page, Window: "1h",
			PendingAt: ptr(at(170)), FiringAt: ptr(at(170)), ResolvedAt: ptr(at(520))}},
	}
	for s := 0; s <= 600; s += 5 {
		burn5 := 0.0
		switch {
		case s >= 60 && s <= 240:
			burn5 = 500 * min(1, float64(s-60)/300)
		case s > 240:
			burn5 = 500 * max(0, 180.0/300-float64(s-240)/300)
		}
		res.Samples = append(res.Samples, chaos.Sample{T: at(s), Phase: chaos.PhaseExpect,
			Burn: map[string]float64{"5m": burn5, "1h": burn5 / 12, "3d": 0.01}})
	}
	return res
}

func TestWriteSVG(t *testing.T) {
	var buf bytes.Buffer
	res := sampleResult()
	res.TimeoutSeconds = 700
	if err := Write(&buf, res, Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		`<span class="pass" id="outcome">PASS</span>`,
		"<td>detection: page</td><td>page/1h fired after 1m50s</td><td>1m44s</td><td>3m44s (predicted &#43; tolerance)</td>",
		"<td>reset: page/1h</td><td>4m40s</td><td>4m51s</td>",
		"<td>must not fire: ticket</td><td>did not fire</td>",
		"<td>error budget spent</td><td>5.00%</td>",
		`>page/1h firing</text>`,
		`>predicted page</text>`,
		`>deadline page</text>`,
		`>recovery deadline</text>`,
		`>timeout</text>`,
		`>page/1h threshold 14.4×</text>`,
		`>guardrail 20%</text>`,
		`>objective 99.9%</text>`,
		`<rect class="band"`,
		`data-name="3d"`, // windows in days sort and draw too
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the report must need no script")
	}
	if n := strings.Count(page, `<svg class="chart"`); n != 3 {
		t.Errorf("%d charts, want 3 (burn rate, SLI, budget)", n)
	}
}

// TestLayoutMarksNeverOverlap throws marks at the same and nearby times, as a fast
// alert does (pending, firing and predicted within a second): no two label boxes in a
// lane overlap, and every label stays inside the picture.
func TestLayoutMarksNeverOverlap(t *testing.T) {
	xs := []float64{100, 100, 101, 105, 400, 402, 990, 995, 100}
	labels := []string{"page/1m pending", "page/1m firing", "predicted page", "deadline page", "fault removed", "page/1m resolved", "timeout", "recovery deadline", "x"}
	boxes, lanes := layoutMarks(xs, labels)
	if lanes < 4 {
		t.Errorf("%d lanes for 5 labels at about the same time", lanes)
	}
	for i, a := range boxes {
		if a.X < 0 || a.X+a.W > chartW {
			t.Errorf("label %q outside the picture: %+v", labels[i], a)
		}
		for j, b := range boxes {
			if i < j && a.Lane == b.Lane && a.X < b.X+b.W && b.X < a.X+a.W {
				t.Errorf("labels %q %+v and %q %+v overlap", labels[i], a, labels[j], b)
			}
		}
	}
	ys := spreadY([]float64{50, 51, 52, 200}, 13, 0)
	if ys[1]-ys[0] < 13 || ys[2]-ys[1] < 13 || ys[3] != 200 {
		t.Errorf("spreadY %v", ys)
	}
}

// TestReportInChromium loads the report in headless Chromium with the network cut off
// (a dead proxy): the page must raise no console error and draw every chart (inline SVG, every series a path).
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	bin := testutil.Binary(t, "chromium", "chromium-browser", "google-chrome")
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := Write(&buf, sampleResult(), Options{}); err != nil {
		t.Fatal(err)
	}
	// Report console errors in the DOM so that --dump-dom shows them.
	page := strings.Replace(buf.String(), "<head>", `<head><script>window.__errors=[];window.addEventListener("error",function(e){window.__errors.push(String(e.message));document.documentElement.setAttribute("data-errors",window.__errors.join("|"))});</script>`, 1)
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=5000",
		"--dump-dom", "file://"+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := stdout.String()
	if strings.Contains(dom, "data-errors=") {
		t.Errorf("page raised errors: %s", regexp.MustCompile(`data-errors="[^"]*"`).FindString(dom))
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") && (strings.Contains(line, "Uncaught") || strings.Contains(line, "Error")) {
			t.Errorf("console error: %s", line)
		}
	}
	if n := strings.Count(dom, `<svg class="chart"`); n != 3 {
		t.Errorf("%d charts in the DOM, want 3", n)
	}
	if n := strings.Count(dom, `<path class="series"`); n < 5 {
		t.Errorf("%d series drawn, want every window's burn rate, the SLI and the budget (5)", n)
	}
	if !strings.Contains(dom, `id="verdict"`) {
		t.Error("verdict table not in the rendered DOM")
	}
	if !strings.Contains(dom, `id="outcome">PASS<`) {
		t.Error("verdict not in the rendered DOM")
	}
}
