package backtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/testutil"
)

// benchLengths are the simulated lengths of BenchmarkThirtyDays: 3 days, the longest
// promtool can evaluate these rules for, and 30. SLOKIT_BENCH_DAYS=n runs only n days.
func benchLengths(b *testing.B) []int {
	if s := os.Getenv("SLOKIT_BENCH_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SLOKIT_BENCH_DAYS=%q: want a positive number of days", s)
		}
		return []int{n}
	}
	return []int{3, 30}
}

// promtoolMaxSamples is the per-query sample limit of promtool's unit-test engine
// (promqltest's LazyLoader): a 30d window read at 30s holds 10,000 samples after 83h20m,
// so `promtool test rules` fails on these rules beyond that.
const promtoolMaxSamples = 10000

// BenchmarkThirtyDays evaluates the generated rules of shortlink/redirect-availability
// (16 rules, 30d period) over a scenario with a one-hour outage, at a 30s scrape and
// evaluation interval, with slokit's engine and with promtool (`promtool test rules` on
// the same rules and series), side by side:
//
//	go test -run '^$' -bench ThirtyDays -benchtime 1x ./internal/backtest/
//
// promtool cannot evaluate the 30-day run (see promtoolMaxSamples); its sub-benchmark
// is skipped there with the reason.
func BenchmarkThirtyDays(b *testing.B) {
	o := shortlink(b)["redirect-availability"]
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, days := range benchLengths(b) {
		d := time.Duration(days) * 24 * time.Hour
		sc := Scenario{Name: "bench", Segments: []Segment{
			{Duration: d * 2 / 3}, {Duration: time.Hour, BadRatio: 1, Fault: true}, {Duration: d/3 - time.Hour},
		}}
		// Wall time suffers on a shared machine; cpu-s/op (user+system CPU of this
		// process or of the promtool child) is the steadier figure.
		b.Run(fmt.Sprintf("days=%d/engine=slokit", days), func(b *testing.B) {
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
		b.Run(fmt.Sprintf("days=%d/engine=promtool", days), func(b *testing.B) {
			if samples := int(min(d, o.Period) / (30 * time.Second)); samples > promtoolMaxSamples {
				b.Skipf("promtool cannot run this: its test engine allows %d samples per query and the %s window holds %d at 30s", promtoolMaxSamples, fmtDur(o.Period), samples)
			}
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
}

// selfCPU is the user+system CPU time this process has used.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
