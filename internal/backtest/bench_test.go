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

// benchCase is one run of BenchmarkThirtyDays.
type benchCase struct {
	days         int
	scrape, eval time.Duration
}

func (c benchCase) String() string {
	return fmt.Sprintf("days=%d/scrape=%s/eval=%s", c.days, fmtDur(c.scrape), fmtDur(c.eval))
}

// benchCases: 3 days at 30s (the longest promtool can evaluate these rules for at 30s),
// 30 days at 30s, and 30 days scraped every 1m and evaluated every 5m, which promtool can
// hold. SLOKIT_BENCH_DAYS=n runs only n days at 30s.
func benchCases(b *testing.B) []benchCase {
	if s := os.Getenv("SLOKIT_BENCH_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SLOKIT_BENCH_DAYS=%q: want a positive number of days", s)
		}
		return []benchCase{{n, 30 * time.Second, 30 * time.Second}}
	}
	return []benchCase{
		{3, 30 * time.Second, 30 * time.Second},
		{30, 30 * time.Second, 30 * time.Second},
		{30, time.Minute, 5 * time.Minute},
	}
}

// promtoolMaxSamples is the per-query sample limit of promtool's unit-test engine
// (promqltest's LazyLoader): a 30d window of a series recorded every 30s holds 10,000
// samples after 83h20m, so `promtool test rules` fails on these rules beyond that.
const promtoolMaxSamples = 10000

// BenchmarkThirtyDays evaluates the generated rules of shortlink/redirect-availability
// (13 rules, 30d period) over a scenario with a one-hour outage, with slokit's engine and
// with promtool (`promtool test rules` on the same rules and series), side by side:
//
//	go test -run '^$' -bench ThirtyDays -benchtime 1x ./internal/backtest/
//
// promtool cannot evaluate 30 days at a 30s interval (see promtoolMaxSamples); that
// sub-benchmark is skipped with the reason.
func BenchmarkThirtyDays(b *testing.B) {
	o := shortlink(b)["redirect-availability"]
	g, err := alerts.Group(o, alerts.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range benchCases(b) {
		d := time.Duration(c.days) * 24 * time.Hour
		sc := Scenario{Name: "bench", Segments: []Segment{
			{Duration: d * 2 / 3}, {Duration: time.Hour, BadRatio: 1, Fault: true}, {Duration: d/3 - time.Hour},
		}}
		opts := Options{ScrapeInterval: c.scrape, EvalInterval: c.eval}
		// Wall time suffers on a shared machine; cpu-s/op (user+system CPU of this
		// process or of the promtool child) is the steadier figure.
		// engine=slokit is the fast evaluator (the default), engine=promql slokit's engine
		// with every rule as a PromQL range query (--engine promql).
		for _, kind := range []string{EngineFast, EnginePromQL} {
			name := map[string]string{EngineFast: "slokit", EnginePromQL: "promql"}[kind]
			b.Run(c.String()+"/engine="+name, func(b *testing.B) {
				opts := opts
				opts.Engine = kind
				var cpu time.Duration
				for b.Loop() {
					before := selfCPU(b)
					if _, err := Run(context.Background(), o, g, sc, opts); err != nil {
						b.Fatal(err)
					}
					cpu += selfCPU(b) - before
				}
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			})
		}
		b.Run(c.String()+"/engine=promtool", func(b *testing.B) {
			if samples := int(min(d, o.Period) / c.eval); samples > promtoolMaxSamples {
				b.Skipf("promtool cannot run this: its test engine allows %d samples per query and the %s window holds %d at %s", promtoolMaxSamples, fmtDur(o.Period), samples, fmtDur(c.eval))
			}
			promtool := testutil.Binary(b, "promtool")
			file := writePromtoolFiles(b, b.TempDir(), o, g, sc, opts, nil)
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
