package backtest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
)

// benchDays is the simulated length of BenchmarkThirtyDays; SLOKIT_BENCH_DAYS overrides
// the default of 30 for a quick look.
func benchDays(b *testing.B) time.Duration {
	days := 30
	if s := os.Getenv("SLOKIT_BENCH_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SLOKIT_BENCH_DAYS=%q: want a positive number of days", s)
		}
		days = n
	}
	return time.Duration(days) * 24 * time.Hour
}

// BenchmarkThirtyDays evaluates the generated rules of shortlink/redirect-availability
// over 30 days of series at a 30s evaluation interval, with slokit's engine and with
// promtool (`promtool test rules` on the same rules and series), side by side:
//
//	go test -run '^$' -bench ThirtyDays -benchtime 1x ./internal/backtest/
func BenchmarkThirtyDays(b *testing.B) {
	o := shortlink(b)["redirect-availability"]
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d := benchDays(b)
	sc := Scenario{Name: "thirty-days", Segments: []Segment{
		{Duration: d * 2 / 3}, {Duration: time.Hour, BadRatio: 1, Fault: true}, {Duration: d/3 - time.Hour},
	}}
	b.Run("engine=slokit", func(b *testing.B) {
		for b.Loop() {
			if _, err := Run(context.Background(), o, g, sc, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("engine=promtool", func(b *testing.B) {
		promtool := testutil.Binary(b, "promtool")
		file := writePromtoolFiles(b, b.TempDir(), o, g, sc, Options{}, nil)
		for b.Loop() {
			if out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput(); err != nil {
				b.Fatalf("promtool: %v\n%s", err, out)
			}
		}
	})
}
