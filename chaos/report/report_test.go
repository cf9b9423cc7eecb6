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

func TestWriteInlinesECharts(t *testing.T) {
	var buf bytes.Buffer
	js := []byte("/* echarts stand-in */ var echarts = {init: function(){}}; // </script> inside")
	if err := Write(&buf, sampleResult(), Options{EChartsJS: js}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"echarts stand-in",
		`<\/script> inside`, // escaped so that it does not close the element
		`<span class="pass" id="outcome">PASS</span>`,
		"<td>detection: page</td><td>page/1h fired after 1m50s</td><td>1m44s</td><td>3m44s (predicted &#43; tolerance)</td>",
		"<td>reset: page/1h</td><td>4m40s</td><td>4m51s</td>",
		"<td>must not fire: ticket</td><td>did not fire</td>",
		"<td>error budget spent</td><td>5.00%</td>",
		`"name":"page/1h firing","xAxis":170`,
		`"name":"predicted page","xAxis":164`,
		`"name":"fault","xAxis":60`,
		`"name":"page/1h threshold 14.4×","yAxis":14.4`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script src=") {
		t.Error("an inlined report must not load scripts from the network")
	}
	if n := strings.Count(page, "echarts.init("); n != 3 {
		t.Errorf("%d charts, want 3 (burn rate, SLI, budget)", n)
	}
}

func TestWriteWithoutEChartsLinksCDN(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleResult(), Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<script src="`+CDN+`"></script>`) {
		t.Error("no CDN script tag")
	}
}

// TestReportInChromium loads the report in headless Chromium with the network cut off
// (a dead proxy): the page must raise no console error and draw every chart on a canvas.
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	bin := testutil.Binary(t, "chromium", "chromium-browser", "google-chrome")
	js, err := LoadECharts("")
	if err != nil {
		t.Fatal(err)
	}
	if js == nil {
		msg := "REAL COMPONENT MISSING: echarts.min.js not found; set " + EChartsEnv + " or run .ci/run, which caches it under /var/cache/slokit/echarts"
		if os.Getenv(testutil.RequireEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := Write(&buf, sampleResult(), Options{EChartsJS: js}); err != nil {
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
	if n := strings.Count(dom, `_echarts_instance_="`); n != 3 {
		t.Errorf("%d initialised charts in the DOM, want 3", n)
	}
	if n := strings.Count(dom, "<canvas "); n < 3 {
		t.Errorf("%d canvases in the DOM, want one per chart (3)", n)
	}
	if !strings.Contains(dom, `id="outcome">PASS<`) {
		t.Error("verdict not in the rendered DOM")
	}
}
