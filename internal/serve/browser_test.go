package serve

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/slokit/slokit/internal/testutil/browsertest"
)

// browser is the Chromium tab of the UI tests.
type browser = browsertest.Browser

// newBrowser starts Chromium with the screenshots in $SLOKIT_E2E_ARTIFACTS/serve, else
// testdata/screenshots (ignored by git).
func newBrowser(t *testing.T) *browser {
	return browsertest.New(t, browsertest.ArtifactsDir(t, "serve", filepath.Join("testdata", "screenshots")))
}

// eval runs a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	return browsertest.Eval[T](t, b, js)
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
		b.Open(t, ds.URL+"/", "#slos", "prometheus-down")
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
		b.CheckConsole(t, "overview with Prometheus down", true)
	})
}

func browseOverview(t *testing.T, b *browser, base string) {
	b.Open(t, base+"/", "#slos", "overview")
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
	b.CheckConsole(t, "overview", false)
}

func rowsShown(t *testing.T, b *browser) string {
	return eval[string](t, b, `[...document.querySelectorAll('#slos tbody tr[data-slo]')].map(r => r.dataset.slo).join(' ')`)
}

func browseFilters(t *testing.T, b *browser, base string) {
	b.Open(t, base+"/", "#slos", "")
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
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
	b.Screenshot(t, "overview-team-web")
	// The search box with the keyboard only: type and press Enter.
	b.Open(t, base+"/?sort=burn", "#slos", "")
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
	b.Open(t, base+"/?state=nodata", "#slos", "")
	if got := rowsShown(t, b); got != "ghost/nothing-here" {
		t.Errorf("state=nodata shows %q", got)
	}
	b.CheckConsole(t, "filters", false)
}

func browseDetail(t *testing.T, b *browser, base string) {
	b.Open(t, base+"/slo/shop/checkout-availability?range=15m", "#tiers", "detail-checkout")
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
	b.CheckConsole(t, "detail", false)
	b.Open(t, base+"/slo/shop/checkout-availability/backtest", "#backtest-summary", "backtest")
	if s := eval[string](t, b, `document.querySelector('#backtest-report').textContent`); !strings.Contains(s, "page") {
		t.Errorf("backtest report: %q", s)
	}
	b.CheckConsole(t, "backtest", false)
	b.Open(t, base+"/slo/ghost/nothing-here", "#tiers", "detail-nodata")
	if s := eval[string](t, b, `document.querySelector('#budget').textContent`); s != "no data" {
		t.Errorf("ghost budget %q", s)
	}
	b.CheckConsole(t, "detail of a no-data SLO", false)
}

func browseGameDays(t *testing.T, b *browser, base, runID string, withReport bool) {
	b.Open(t, base+"/gamedays", "table.runs", "gamedays")
	if n := eval[int](t, b, `document.querySelectorAll('table.runs tr[data-outcome="pass"]').length`); n != 1 {
		t.Errorf("%d passing runs listed, want 1", n)
	}
	if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg path.line').length`); n != 1 {
		t.Errorf("trend chart: %d lines, want 1", n)
	}
	b.CheckConsole(t, "game days", false)
	b.Open(t, base+"/gamedays/"+runID, "#verdict", "gameday-run")
	if v := eval[string](t, b, `document.querySelector('#verdict').textContent`); v != "PASS" {
		t.Errorf("verdict %q", v)
	}
	if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg rect.band').length`); n != 1 {
		t.Errorf("%d fault bands, want 1", n)
	}
	b.CheckConsole(t, "game-day run", false)
	if !withReport {
		return
	}
	b.Open(t, base+"/gamedays/"+runID+"/report", "#outcome", "")
	b.Screenshot(t, "gameday-report")
	if n := eval[int](t, b, `document.querySelectorAll('svg.chart path.series').length`); n < 3 {
		t.Errorf("report: %d series drawn, want 3 charts' worth (inline SVG)", n)
	}
	b.CheckConsole(t, "report", false)
}

func browseBadInput(t *testing.T, b *browser, base string) {
	for _, tc := range []struct{ path, h1, shot string }{
		{"/slo/shop/nope", "Unknown SLO", "error-unknown-slo"},
		{"/?sort=sideways&range=forever", "Bad query parameters", "error-bad-params"},
		{"/gamedays/nope", "Unknown game-day run", ""},
	} {
		b.Open(t, base+tc.path, "#problems", tc.shot)
		if h := eval[string](t, b, `document.querySelector('h1').textContent`); h != tc.h1 {
			t.Errorf("%s: heading %q, want %q", tc.path, h, tc.h1)
		}
		if s := eval[string](t, b, `document.body.textContent`); strings.Contains(s, "goroutine") {
			t.Errorf("%s shows a stack", tc.path)
		}
		b.CheckConsole(t, tc.path, true)
	}
}
