package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/internal/testutil/browsertest"
)

// checkDemoUI waits for demo --serve to print its URL (or to exit early), then reads the
// pages a new user opens: the SLO with its burn and the alert that fired, and the game
// day that proved it.
func checkDemoUI(t *testing.T, stderr *testutil.SyncBuffer, done chan int) {
	t.Helper()
	re := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/)`)
	var base string
	for deadline := time.Now().Add(4 * time.Minute); base == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case code := <-done:
			done <- code
			t.Errorf("demo exited (%d) before serving:\n%s", code, stderr.String())
			return
		default:
		}
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("demo --serve printed no URL:\n%s", stderr.String())
	}
	var ov struct {
		SLOs []struct {
			Service, SLO string
			State        string
			Burn         *float64
		}
	}
	getJSONTest(t, base+"api/overview", &ov)
	if len(ov.SLOs) != 1 || ov.SLOs[0].SLO != "redirect-availability" || ov.SLOs[0].State == "nodata" || ov.SLOs[0].Burn == nil {
		t.Errorf("overview: %+v", ov)
	}
	var d struct {
		AlertHistory []struct{ Tier, State string }
		GameDays     []struct{ RunID, Outcome, FiredTier string }
	}
	getJSONTest(t, base+"api/slo/shortlink/redirect-availability?range=15m", &d)
	fired := false
	for _, a := range d.AlertHistory {
		fired = fired || (a.Tier == "page/1m" && a.State == "firing")
	}
	if !fired || len(d.GameDays) != 1 || d.GameDays[0].Outcome != "pass" || d.GameDays[0].FiredTier != "page/1m" {
		t.Errorf("SLO page: alert history %+v, game days %+v", d.AlertHistory, d.GameDays)
	}
	resp, err := http.Get(base + "gamedays/" + d.GameDays[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="verdict">PASS<`) {
		t.Errorf("game-day page: %d", resp.StatusCode)
	}
	t.Run("in Chromium", func(t *testing.T) { browseDemo(t, base, d.GameDays[0].RunID) })
}

// browseDemo opens the pages demo --serve prints in Chromium, as a new user does: no
// console error, the SLO's burn drawn against its threshold, the alert that fired in
// the history, the passing game day; screenshots in $SLOKIT_E2E_ARTIFACTS/demo.
func browseDemo(t *testing.T, base, runID string) {
	b := browsertest.New(t, browsertest.ArtifactsDir(t, "demo", t.TempDir()))
	b.Open(t, base+"?range=15m", "#slos", "demo-overview")
	if s := browsertest.Eval[string](t, b, `document.querySelector('tr[data-slo="shortlink/redirect-availability"]').dataset.state`); s == "nodata" {
		t.Errorf("the demo's SLO shows no data")
	}
	b.CheckConsole(t, "overview", false)
	b.Open(t, base+"slo/shortlink/redirect-availability?range=15m", "#tiers", "demo-slo")
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll('figure.chart svg path.line').length`); n < 4 {
		t.Errorf("%d chart lines drawn, want the burn rates (1m, 5s), the budget and the SLI", n)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll('figure.chart svg line.threshold').length`); n < 1 {
		t.Error("no threshold line on the burn chart")
	}
	if s := browsertest.Eval[string](t, b, `[...document.querySelectorAll('#alert-history tbody tr')].map(r => r.textContent).join('|')`); !strings.Contains(s, "page/1mfiring") {
		t.Errorf("alert history lacks page/1m firing: %q", s)
	}
	if n := browsertest.Eval[int](t, b, `document.querySelectorAll('table.runs tr[data-run][data-outcome="pass"]').length`); n != 1 {
		t.Errorf("%d passing game days on the SLO page, want 1", n)
	}
	b.CheckConsole(t, "SLO page", false)
	b.Open(t, base+"gamedays/"+runID, "#verdict", "demo-gameday")
	if v := browsertest.Eval[string](t, b, `document.querySelector('#verdict').textContent`); v != "PASS" {
		t.Errorf("verdict %q", v)
	}
	b.CheckConsole(t, "game-day page", false)
}

func getJSONTest(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %v", url, resp.StatusCode, err)
	}
}
