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
