package propose

import (
	"strings"
	"testing"
)

func TestChooseAvailability(t *testing.T) {
	tests := []struct {
		name       string
		total, bad float64
		want       float64
		line       string // a line of the explanation
	}{
		{"0.03% errors: 99.9 keeps 70%", 1e6, 300, 99.9, "  99.9%: would have held with 70% of the budget left  <- chosen"},
		{"no errors, plenty of traffic", 1e7, 0, 99.99, "  99.99%: would have held with 100% of the budget left  <- chosen"},
		{"no errors, 5,000 requests: 99.8 would allow 10 failures, 99.5 is the first candidate that does", 5000, 0, 99.5,
			"  99.9%: would have held with 100% of the budget left, but allows only 5 failed requests: too strict for this traffic"},
		{"low traffic falls back to the loosest", 70, 0, 90, "LOW TRAFFIC: every candidate allows fewer than 10 failed requests"},
		{"failing too often", 1000, 400, 0, "No candidate fits: the service failed too often."},
		{"no traffic", 0, 0, 0, "No requests in the history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ChooseAvailability(History{Total: tt.total, Bad: tt.bad}, Options{})
			text := strings.Join(c.Why, "\n")
			if c.Objective != tt.want || !strings.Contains(text, tt.line) {
				t.Errorf("objective %v, want %v; why:\n%s\nwant a line with %q", c.Objective, tt.want, text, tt.line)
			}
		})
	}
}

func TestChooseLatency(t *testing.T) {
	h := History{HistTotal: 10000, Buckets: []Bucket{
		{LE: "0.05", Seconds: 0.05, Count: 9920},
		{LE: "0.1", Seconds: 0.1, Count: 9980},
		{LE: "0.25", Seconds: 0.25, Count: 9999},
	}}
	c := ChooseLatency(h, Options{})
	if c.Objective != 99 || c.Threshold.LE != "0.1" {
		t.Errorf("got %v%% under %s, want 99%% under 0.1; why:\n%s", c.Objective, c.Threshold.LE, strings.Join(c.Why, "\n"))
	}
	// A stricter budget-left asks for a larger boundary.
	c = ChooseLatency(h, Options{MinBudgetLeft: 0.9})
	if c.Objective != 99 || c.Threshold.LE != "0.25" {
		t.Errorf("with 90%% left: got %v%% under %s, want 99%% under 0.25", c.Objective, c.Threshold.LE)
	}
	// Every request slower than the largest finite bucket: nothing fits.
	c = ChooseLatency(History{HistTotal: 10000, Buckets: []Bucket{{LE: "0.1", Seconds: 0.1, Count: 10}}}, Options{})
	if c.Objective != 0 {
		t.Errorf("got %v%%, want no objective", c.Objective)
	}
}

func TestThresholdOfMatchesSLOsBucketMatcher(t *testing.T) {
	for le, ok := range map[string]bool{"0.005": true, "0.1": true, "2.5": true, "10": true, "0.0000000001": false} {
		v, _ := parseLE(le)
		if _, got := thresholdOf(Bucket{LE: le, Seconds: v}); got != ok {
			t.Errorf("thresholdOf(%s) = %v, want %v", le, got, ok)
		}
	}
}
