package backtest

import (
	"slices"
	"time"

	"github.com/slokit/slokit/slo"
)

// realistic replays the 10% fault under what real scrapes do to counters. The alerts
// must behave as under a perfect scrape.
func (l library) realistic() []Scenario {
	base := func(name, desc string) Scenario {
		return l.derivedStep(name, desc, 0.1)
	}
	reset := base("counter-reset", "10% of events fail; the process restarts halfway through (counters reset to 0)")
	half := reset.Segments[1].Duration / 2
	reset.Segments = slices.Insert(reset.Segments, 2, Segment{Duration: reset.Segments[1].Duration - half, BadRatio: 0.1, Fault: true, Restart: true})
	reset.Segments[1].Duration = half

	lazy := base("lazy-first-error", "10% of events fail; the error series is created by the first error, not at 0 before it")
	lazy.Scrape.Lazy = true

	multi := base("multi-instance", "10% of events fail across 3 targets scraped out of phase, summed by the selector")
	multi.Scrape.Instances = 3

	jitter := base("scrape-jitter", "10% of events fail; scrapes every 30s, 10s after evaluation, up to 15s late")
	jitter.Scrape = Scrape{Interval: 30 * time.Second, Offset: 10 * time.Second, Jitter: 15 * time.Second}
	return []Scenario{reset, lazy, multi, jitter}
}

// silent are the four ways burn-rate alerts stay silent in production: events hidden in a
// scrape gap, windows too short for the scrape interval, a latency threshold that is not a
// bucket, and no data (targets down, series gone, metric renamed). Each expects the alert
// a demanding SRE would: the page, or an alert on the absent data.
func (l library) silent() []Scenario {
	return []Scenario{l.gapOutage(), l.coarseScrape(), l.betweenBuckets(), l.missingData(), l.seriesAbsent(), l.metricRenamed()}
}

// coarseScrape is a total outage scraped every minute, 15 seconds out of phase with
// evaluation: a window shorter than a few scrape intervals holds fewer than two samples.
func (l library) coarseScrape() Scenario {
	sc := l.totalOutage()
	sc.Name, sc.Description = "coarse-scrape", "every event fails; scrapes every 1m, 15s out of phase with evaluation"
	sc.Scrape = Scrape{Interval: time.Minute, Offset: 15 * time.Second}
	sc.Segments[1].Duration = max(sc.Segments[1].Duration, l.fastLong)
	return sc
}

// betweenBuckets is a latency degradation on a histogram whose layout lacks the
// threshold (the spec's declared layout, else the default one, without it): the
// bucket the SLI reads does not exist, as when the declaration is wrong or a client
// changes its buckets.
func (l library) betweenBuckets() Scenario {
	sc := l.derivedStep("between-buckets", "20% of requests slower than the threshold, on a histogram with no bucket at the threshold", 0.2)
	sc.LatencyOnly = true
	sc.Expect = Expect{MustFire: sevs(NoData)}
	if lat := l.o.SLI.Latency; lat != nil {
		th := lat.Threshold.Seconds()
		sc.Scrape.Buckets = slices.DeleteFunc(slices.Clone(specLayout(l.o)), func(b float64) bool { return hasBucket([]float64{b}, th) })
	}
	return sc
}

// noData is clean traffic with one segment, as long as the fastest page window, that
// Prometheus does not see as it should; no burn-rate alert may fire, the no-data one must.
func (l library) noData(name, desc string, g Segment) Scenario {
	g.Duration, g.Fault = l.fastLong, true
	return Scenario{Name: name, Description: desc, Source: "builtin",
		Expect:   Expect{MustFire: sevs(NoData), MustNotFire: sevs(slo.Page, slo.Ticket)},
		Segments: []Segment{{Duration: l.warm}, g, {Duration: l.cool}}}
}

func (l library) missingData() Scenario {
	return l.noData("missing-data", "all targets down: every scrape fails for one fast-page window (events still counted)", Segment{Missing: true})
}

func (l library) seriesAbsent() Scenario {
	return l.noData("series-absent", "the SLI's series disappear for one fast-page window (scrapes succeed)", Segment{Absent: true})
}

func (l library) metricRenamed() Scenario {
	return l.noData("metric-renamed", "a deploy renames the SLI's metrics for one fast-page window", Segment{Renamed: true})
}
