package slo

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TestFormatWindowMatchesModel pins FormatWindow to model.Duration.String, which it
// replaces for speed, on every unit boundary and mixture.
func TestFormatWindowMatchesModel(t *testing.T) {
	ds := []time.Duration{0, time.Microsecond, time.Millisecond, 999 * time.Millisecond, time.Second,
		30 * time.Second, 150 * time.Second, 5 * time.Minute, 70 * time.Second, time.Hour, 90 * time.Minute,
		6 * time.Hour, 24 * time.Hour, 36 * time.Hour, 7 * 24 * time.Hour, 8 * 24 * time.Hour, 14 * 24 * time.Hour,
		28 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour, 366 * 24 * time.Hour,
		730 * 24 * time.Hour, 5555*24*time.Hour + 5*time.Hour + 55*time.Minute + 55*time.Second,
		-5 * time.Minute, -(7 * 24 * time.Hour), math.MaxInt64, math.MinInt64 + 1, math.MinInt64}
	for _, d := range ds {
		if got, want := FormatWindow(d), model.Duration(d).String(); got != want {
			t.Errorf("FormatWindow(%d) = %q, model.Duration says %q", int64(d), got, want)
		}
	}
}

// FuzzFormatWindow compares FormatWindow with model.Duration.String on any duration.
func FuzzFormatWindow(f *testing.F) {
	f.Add(int64(5 * time.Minute))
	f.Add(int64(30 * 24 * time.Hour))
	f.Add(int64(-1))
	f.Fuzz(func(t *testing.T, n int64) {
		d := time.Duration(n)
		if got, want := FormatWindow(d), model.Duration(d).String(); got != want {
			t.Fatalf("FormatWindow(%d) = %q, model.Duration says %q", n, got, want)
		}
	})
}
