package backtest

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
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
	// Wall time suffers on a shared machine; cpu-s/op (user+system CPU of this process
	// or of the promtool child) is the steadier figure.
	b.Run("engine=slokit", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			before := selfCPU(b)
			if _, err := Run(context.Background(), o, g, sc, Options{}); err != nil {
				b.Fatal(err)
			}
			cpu += selfCPU(b) - before
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
	b.Run("engine=promtool", func(b *testing.B) {
		promtool := testutil.Binary(b, "promtool")
		file := writePromtoolFiles(b, b.TempDir(), o, g, sc, Options{}, nil)
		var cpu time.Duration
		for b.Loop() {
			cmd := exec.Command(promtool, "test", "rules", file)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("promtool: %v\n%s", err, out)
			}
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	})
}

// selfCPU is the user+system CPU time this process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
