package alerts_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/slo"
)

func objective(target float64) slo.Objective {
	o := goodObjective()
	o.Target = target
	return o
}

// TestPredict checks the predictions against the numbers of ALERTING-MATH.md and the
// SRE Workbook, chapter 5.
func TestPredict(t *testing.T) {
	tiers := slo.DefaultWindows(30 * 24 * time.Hour)
	fastPage, slowPage, fastTicket, slowTicket := tiers[0], tiers[1], tiers[2], tiers[3]
	tests := []struct {
		name   string
		target float64
		tier   slo.Window
		e      float64
		want   alerts.Prediction
	}{
		{"99.9% total outage, 1h/5m page: 52s, resets in 4.9 min, 2% spent", 0.999, fastPage, 1,
			alerts.Prediction{Threshold: 0.0144, Fires: true, Detect: 52 * time.Second, Reset: 296 * time.Second, BudgetAtDetect: 0.02}},
		{"99.9% total outage, 6h/30m page: 2.2 min, 5% spent", 0.999, slowPage, 1,
			alerts.Prediction{Threshold: 0.006, Fires: true, Detect: 130 * time.Second, Reset: 1789 * time.Second, BudgetAtDetect: 0.05}},
		{"99.9% 10% errors, 1d/2h ticket: 10% spent whatever e", 0.999, fastTicket, 0.1,
			alerts.Prediction{Threshold: 0.003, Fires: true, Detect: 2592 * time.Second, Reset: 6984 * time.Second, BudgetAtDetect: 0.1}},
		{"99.9% 0.9× burn never fires the 1× ticket", 0.999, slowTicket, 0.0009,
			alerts.Prediction{Threshold: 0.001}},
		{"90%: total outage cannot fire the 14.4× page", 0.9, fastPage, 1,
			alerts.Prediction{Threshold: 1.44}},
		{"35× burn (3.5% errors) fires the 1h/5m page after 24.7 min", 0.999, fastPage, 0.035,
			alerts.Prediction{Threshold: 0.0144, Fires: true, Detect: 1481 * time.Second, Reset: 177 * time.Second, BudgetAtDetect: 0.02}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := alerts.Predict(objective(tc.target), tc.tier, tc.e)
			tc.want.Window, tc.want.ErrorRatio = tc.tier, tc.e
			// Compare floats at the precision the maths is written in.
			round := func(p alerts.Prediction) string {
				return fmt.Sprintf("%+v thr=%.6g spent=%.6g", struct {
					F    bool
					D, R time.Duration
				}{p.Fires, p.Detect, p.Reset}, p.Threshold, p.BudgetAtDetect)
			}
			if round(got) != round(tc.want) || got.Window != tc.want.Window {
				t.Errorf("\n got %s\nwant %s", round(got), round(tc.want))
			}
		})
	}
}

func TestBudgetDuration(t *testing.T) {
	for _, tc := range []struct {
		target, burn float64
		want         time.Duration
	}{
		{0.999, 1, 30 * 24 * time.Hour},
		{0.999, 2, 15 * 24 * time.Hour},
		{0.999, 10, 3 * 24 * time.Hour},
		{0.999, 1000, 43*time.Minute + 12*time.Second},
		{0.99999, 100000, 26 * time.Second},
		{0.999, 35, 20*time.Hour + 34*time.Minute + 17*time.Second},
	} {
		if got := alerts.BudgetDuration(objective(tc.target), tc.burn); got != tc.want {
			t.Errorf("%g at %g×: %s, want %s", tc.target, tc.burn, got, tc.want)
		}
	}
}

func TestLowTraffic(t *testing.T) {
	o := objective(0.999)
	fast := o.Windows()[0]
	// At 10 requests per hour one failure is a 10% hourly error ratio: pages.
	if n := alerts.OneFailurePagesBelow(o, fast); !(n > 10 && n < 70) {
		t.Errorf("one failure pages below %g events/h, want about 69.4", n)
	}
	if b, ok := alerts.LowestBurnCaught(o, fast); b != 14.4 || !ok {
		t.Errorf("lowest burn caught %g %v", b, ok)
	}
	if _, ok := alerts.LowestBurnCaught(objective(0.9), fast); ok {
		t.Error("at 90% the 14.4× page can catch nothing")
	}
}
