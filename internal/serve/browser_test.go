package serve

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/slokit/slokit/internal/testutil"
)

// browser is one headless Chromium tab that records every console message.
type browser struct {
	ctx context.Context
	mu  sync.Mutex
	log []chromedp.ConsoleMessage
	dir string // screenshots
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := testutil.Binary(t, "chromium", "chromium-browser", "google-chrome")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("proxy-server", "127.0.0.1:9"), // no network: only loopback bypasses the dead proxy
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx, dir: screenshotDir(t)}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.log = append(b.log, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); cancelA(); <-done })
	return b
}

// screenshotDir is $SLOKIT_E2E_ARTIFACTS/serve, else testdata/screenshots (ignored by
// git), where CI keeps them.
func screenshotDir(t *testing.T) string {
	dir := filepath.Join("testdata", "screenshots")
	if a := os.Getenv("SLOKIT_E2E_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "serve")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// open navigates to url, waits for sel and takes a full-page screenshot named shot.
func (b *browser) open(t *testing.T, url, sel, shot string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(sel)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	b.screenshot(t, shot)
}

func (b *browser) screenshot(t *testing.T, shot string) {
	t.Helper()
	if shot == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	path := filepath.Join(b.dir, shot+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// eval runs a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// errors returns the console errors and exceptions since the last call, leaving out
// the browser's note on a page served with an error status when allowStatus is set.
func (b *browser) errors(allowStatus bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.log {
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		if allowStatus && m.Source == "network" && strings.Contains(m.Text, "the server responded with a status of") {
			continue
		}
		out = append(out, m.String())
	}
	b.log = nil
	return out
}

func (b *browser) checkConsole(t *testing.T, page string, allowStatus bool) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // let late messages arrive
	for _, e := range b.errors(allowStatus) {
		t.Errorf("%s: console error: %s", page, e)
	}
}

// TestBrowser drives the UI in headless Chromium against the lab, after a real game day
// (slokit's runner, a live service, the lab's alerts) recorded in the store and with the
// fault injected again so that the page alert is firing.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and runs a game day (about a minute)")
	}
	b := newBrowser(t)
	f := newLiveFixture(t)
	f.holdFault(t)
	srv, err := New(Config{Services: f.svcs, Prometheus: f.lab.URL(), Store: f.store})
	if err != nil {
		t.Fatal(err)
	}
	ui := httptest.NewServer(srv)
	defer ui.Close()

	t.Run("overview", func(t *testing.T) { browseOverview(t, b, ui.URL) })
	t.Run("filters", func(t *testing.T) { browseFilters(t, b, ui.URL) })
	t.Run("detail", func(t *testing.T) { browseDetail(t, b, ui.URL) })
	t.Run("game days", func(t *testing.T) { browseGameDays(t, b, ui.URL, f.result.RunID, true) })
	t.Run("bad input", func(t *testing.T) { browseBadInput(t, b, ui.URL) })
	t.Run("accessibility", func(t *testing.T) { browseAccessibility(t, b, ui.URL, f.result.RunID) })
	t.Run("Prometheus down", func(t *testing.T) {
		down, err := New(Config{Services: f.svcs, Prometheus: "http://127.0.0.1:9", Store: f.store})
		if err != nil {
			t.Fatal(err)
		}
		ds := httptest.NewServer(down)
		defer ds.Close()
		b.open(t, ds.URL+"/", "#slos", "prometheus-down")
		if n := eval[int](t, b, `document.querySelectorAll('tr[data-state="nodata"]').length`); n != 3 {
			t.Errorf("%d rows show no data, want all 3", n)
		}
		if !strings.Contains(eval[string](t, b, `document.querySelector('#prom-error').textContent`), "could not be read") {
			t.Error("no banner saying Prometheus could not be read")
		}
		for _, p := range axUnnamed(t, b) {
			t.Errorf("no accessible name: %s", p)
		}
		if _, low := lowContrast(t, b); len(low) > 0 {
			t.Errorf("contrast below WCAG AA: %q", low)
		}
		b.checkConsole(t, "overview with Prometheus down", true)
	})
}

func browseOverview(t *testing.T, b *browser, base string) {
	b.open(t, base+"/", "#slos", "overview")
	state := func(slo string) string {
		return eval[string](t, b, `document.querySelector('tr[data-slo="`+slo+`"]').dataset.state`)
	}
	if s := state("shop/checkout-availability"); s != "firing" {
		t.Errorf("checkout shows %q, want firing", s)
	}
	if s := state("shop/browse-availability"); s != "ok" {
		t.Errorf("browse shows %q, want ok", s)
	}
	if s := state("ghost/nothing-here"); s != "nodata" {
		t.Errorf("ghost shows %q, want nodata", s)
	}
	if txt := eval[string](t, b, `document.querySelector('tr[data-slo="ghost/nothing-here"] td.budget').textContent`); txt != "no data" {
		t.Errorf("ghost's budget reads %q, want no data", txt)
	}
	if n := eval[int](t, b, `document.querySelectorAll('svg.spark path.line').length`); n != 2 {
		t.Errorf("%d sparklines drawn, want 2 (checkout, browse)", n)
	}
	if w := eval[float64](t, b, `document.querySelector('svg.spark').getBoundingClientRect().width`); w < 100 {
		t.Errorf("sparkline is %vpx wide", w)
	}
	b.checkConsole(t, "overview", false)
}

func rowsShown(t *testing.T, b *browser) string {
	return eval[string](t, b, `[...document.querySelectorAll('#slos tbody tr[data-slo]')].map(r => r.dataset.slo).join(' ')`)
}

func browseFilters(t *testing.T, b *browser, base string) {
	b.open(t, base+"/", "#slos", "")
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	// The team menu and the Apply button, with the mouse.
	if err := chromedp.Do(ctx, chromedp.SetValue(`select[name="team"]`, "web"), chromedp.Click(`form.filters button`),
		chromedp.WaitReady(`#slos`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := rowsShown(t, b); got != "ghost/nothing-here shop/browse-availability" {
		t.Errorf("team=web shows %q", got)
	}
	if loc := eval[string](t, b, `location.search`); !strings.Contains(loc, "team=web") {
		t.Errorf("the filter is not in the URL: %q", loc)
	}
	b.screenshot(t, "overview-team-web")
	// The search box with the keyboard only: type and press Enter.
	b.open(t, base+"/?sort=burn", "#slos", "")
	if err := chromedp.Do(ctx, chromedp.Focus(`input[name="q"]`), chromedp.SendKeys(`input[name="q"]`, "checkout\r"),
		chromedp.Sleep(500*time.Millisecond), chromedp.WaitReady(`#slos`)); err != nil {
		t.Fatal(err)
	}
	if got := rowsShown(t, b); got != "shop/checkout-availability" {
		t.Errorf("q=checkout shows %q", got)
	}
	if loc := eval[string](t, b, `location.search`); !strings.Contains(loc, "q=checkout") || !strings.Contains(loc, "sort=burn") {
		t.Errorf("search and sort not kept in the URL: %q", loc)
	}
	b.open(t, base+"/?state=nodata", "#slos", "")
	if got := rowsShown(t, b); got != "ghost/nothing-here" {
		t.Errorf("state=nodata shows %q", got)
	}
	b.checkConsole(t, "filters", false)
}

func browseDetail(t *testing.T, b *browser, base string) {
	b.open(t, base+"/slo/shop/checkout-availability?range=15m", "#tiers", "detail-checkout")
	if s := eval[string](t, b, `document.querySelector('#state').textContent`); s != "firing" {
		t.Errorf("state %q, want firing", s)
	}
	if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg path.line').length`); n < 4 {
		t.Errorf("%d chart lines drawn, want burn 24s and 4s, budget and SLI", n)
	}
	if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg line.threshold').length`); n < 3 {
		t.Errorf("%d threshold lines, want the tier's, budget zero and the objective", n)
	}
	if s := eval[string](t, b, `[...document.querySelectorAll('#alert-history tbody tr')].map(r => r.textContent).join('|')`); !strings.Contains(s, "page/24sfiring") {
		t.Errorf("alert history has no firing span of page/24s: %s", s)
	}
	if n := eval[int](t, b, `document.querySelectorAll('table.runs tr[data-run]').length`); n != 1 {
		t.Errorf("%d game days listed on the SLO page, want 1", n)
	}
	b.checkConsole(t, "detail", false)
	b.open(t, base+"/slo/shop/checkout-availability/backtest", "#backtest-summary", "backtest")
	if s := eval[string](t, b, `document.querySelector('#backtest-report').textContent`); !strings.Contains(s, "page") {
		t.Errorf("backtest report: %q", s)
	}
	b.checkConsole(t, "backtest", false)
	b.open(t, base+"/slo/ghost/nothing-here", "#tiers", "detail-nodata")
	if s := eval[string](t, b, `document.querySelector('#budget').textContent`); s != "no data" {
		t.Errorf("ghost budget %q", s)
	}
	b.checkConsole(t, "detail of a no-data SLO", false)
}

func browseGameDays(t *testing.T, b *browser, base, runID string, withReport bool) {
	b.open(t, base+"/gamedays", "table.runs", "gamedays")
	if n := eval[int](t, b, `document.querySelectorAll('table.runs tr[data-outcome="pass"]').length`); n != 1 {
		t.Errorf("%d passing runs listed, want 1", n)
	}
	if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg path.line').length`); n != 1 {
		t.Errorf("trend chart: %d lines, want 1", n)
	}
	b.checkConsole(t, "game days", false)
	b.open(t, base+"/gamedays/"+runID, "#verdict", "gameday-run")
	if v := eval[string](t, b, `document.querySelector('#verdict').textContent`); v != "PASS" {
		t.Errorf("verdict %q", v)
	}
	if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg rect.band').length`); n != 1 {
		t.Errorf("%d fault bands, want 1", n)
	}
	b.checkConsole(t, "game-day run", false)
	if !withReport {
		return
	}
	b.open(t, base+"/gamedays/"+runID+"/report", "#outcome", "")
	b.screenshot(t, "gameday-report")
	if n := eval[int](t, b, `document.querySelectorAll('svg.chart path.series').length`); n < 3 {
		t.Errorf("report: %d series drawn, want 3 charts' worth (inline SVG)", n)
	}
	b.checkConsole(t, "report", false)
}

func browseBadInput(t *testing.T, b *browser, base string) {
	for _, tc := range []struct{ path, h1, shot string }{
		{"/slo/shop/nope", "Unknown SLO", "error-unknown-slo"},
		{"/?sort=sideways&range=forever", "Bad query parameters", "error-bad-params"},
		{"/gamedays/nope", "Unknown game-day run", ""},
	} {
		b.open(t, base+tc.path, "#problems", tc.shot)
		if h := eval[string](t, b, `document.querySelector('h1').textContent`); h != tc.h1 {
			t.Errorf("%s: heading %q, want %q", tc.path, h, tc.h1)
		}
		if s := eval[string](t, b, `document.body.textContent`); strings.Contains(s, "goroutine") {
			t.Errorf("%s shows a stack", tc.path)
		}
		b.checkConsole(t, tc.path, true)
	}
}
