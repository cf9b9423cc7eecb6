package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
)

// TestMitigationInReport: each mitigation step is a row with its measured time, and the
// intervals the breaker was open are a named band on the burn-rate and SLI charts.
func TestMitigationInReport(t *testing.T) {
	res := sampleResult()
	f := func(v float64) *float64 { return &v }
	open, closed := res.StartedAt.Add(150*time.Second), res.StartedAt.Add(250*time.Second)
	res.Mitigation = &chaos.MitigationResult{Name: "linkcheck-breaker", Active: `circuit_breaker_state{state="closed"} == 0`,
		EngagedSeconds: f(90), EngagedAfterAlertSeconds: f(-20), WithinSeconds: 120, Engaged: true,
		ReliefWindow: "5m", ReliefBelow: 1, ReliefSeconds: f(30), ReliefWithinSeconds: 310, Relieved: true,
		ReleasedSeconds: f(10), ReleaseWithinSeconds: 120, Released: true,
		Intervals: []chaos.Interval{{Start: open, End: &closed}}}
	var buf bytes.Buffer
	if err := Write(&buf, res, Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{
		"<td>engaged after 1m30s (-20s after the first expected alert)</td><td>—</td><td>2m0s from injection</td>",
		"<td>relief under the fault: 5m burn &lt; 1</td><td>30s after engaging</td><td>—</td><td>5m10s</td>",
		"<td>mitigation linkcheck-breaker released</td><td>10s after removal</td>",
		`>mitigation linkcheck-breaker active</text>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, `>mitigation linkcheck-breaker active</text>`); n != 2 {
		t.Errorf("%d mitigation bands from 150s, want 2 (burn rate and SLI charts)", n)
	}
	// The page resolved under the fault: its reset row says so instead of failing.
	resolved := res.StartedAt.Add(200 * time.Second)
	res.Alerts[0].ResolvedAt = &resolved
	buf.Reset()
	if err := Write(&buf, res, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := "<td>reset: page/1h</td><td>resolved 2m20s after injection, fault still in</td><td>—</td><td>—</td><td><span class=\"ok\">ok</span></td>"; !strings.Contains(buf.String(), want) {
		i := strings.Index(buf.String(), "reset: page/1h")
		t.Errorf("page lacks %q near\n%.300s", want, buf.String()[max(i, 0):])
	}
}
