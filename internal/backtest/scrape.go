package backtest

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// staleNaN is Prometheus' staleness marker value.
var staleNaN = math.Float64frombits(value.StaleNaN)

// inputSeries is one scraped series of a replay: its samples at offsets from the
// scenario start; a staleNaN value is a staleness marker.
type inputSeries struct {
	labels labels.Labels
	ts     []time.Duration
	vs     []float64
}

// RenamedMetric is the metric name the Renamed segments expose instead of name:
// "_v2" before a _total, _bucket, _count or _sum suffix, or at the end.
func RenamedMetric(name string) string {
	for _, suf := range []string{"_total", "_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			return base + "_v2" + suf
		}
	}
	return name + "_v2"
}

// scrapeModel is a Scrape with its defaults resolved against the replay's options.
type scrapeModel struct {
	Scrape
	sc Scenario
}

func newScrapeModel(sc Scenario, opts Options) scrapeModel {
	s := sc.Scrape
	s.Interval = cmp.Or(s.Interval, opts.ScrapeInterval)
	s.Instances = max(s.Instances, 1)
	return scrapeModel{Scrape: s, sc: sc}
}

// times returns the scrape times of target i.
func (m scrapeModel) times(i int) []time.Duration {
	h := fnv.New64a()
	h.Write([]byte(m.sc.Name + "/" + strconv.Itoa(i)))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x5ca1ab1e))
	start := (m.Offset + time.Duration(i)*m.Interval/time.Duration(m.Instances)) % m.Interval
	var out []time.Duration
	for t := start; t <= m.sc.Duration(); t += m.Interval {
		at := t
		if m.Jitter > 0 {
			at += time.Duration(rng.Int64N(int64(m.Jitter))).Truncate(time.Millisecond)
		}
		if at <= m.sc.Duration() {
			out = append(out, at)
		}
	}
	return out
}

// resetBase returns the time the counters exposed at t last started from 0: the start of
// a Restart, Absent or Renamed segment, or the end of an Absent or Renamed one.
func (m scrapeModel) resetBase(t time.Duration) time.Duration {
	var base, at time.Duration
	for _, g := range m.sc.Segments {
		if at > t {
			break
		}
		if g.Restart || g.Absent || g.Renamed {
			base = at
		}
		if (g.Absent || g.Renamed) && at+g.Duration <= t {
			base = at + g.Duration
		}
		at += g.Duration
	}
	return base
}

// target is one scraped series of one target: its labels in normal and renamed form.
type target struct {
	c                 counter
	normal, renamed   labels.Labels
	nKey, rKey        string
	samples, renamed2 *inputSeries
}

// series scrapes counters under the model: every target's samples, staleness markers
// where a series stops being exposed, in label order of the counters.
func (m scrapeModel) series(counters []counter) []inputSeries {
	byKey := map[string]*inputSeries{}
	var order []string
	get := func(l labels.Labels) (string, *inputSeries) {
		k := l.String()
		if s := byKey[k]; s != nil {
			return k, s
		}
		s := &inputSeries{labels: l}
		byKey[k] = s
		order = append(order, k)
		return k, s
	}
	share := 1 / float64(m.Instances)
	for i := 0; i < m.Instances; i++ {
		targets := make([]target, len(counters))
		for j, c := range counters {
			l := c.labels
			if m.Instances > 1 {
				l = labels.NewBuilder(l).Set("instance", "i-"+strconv.Itoa(i)).Labels()
			}
			r := labels.NewBuilder(l).Set(labels.MetricName, RenamedMetric(l.Get(labels.MetricName))).Labels()
			targets[j] = target{c: c, normal: l, renamed: r}
		}
		m.scrapeTarget(targets, i, share, get)
	}
	out := make([]inputSeries, 0, len(order))
	for _, k := range order {
		if s := byKey[k]; len(s.ts) > 0 {
			out = append(out, *s)
		}
	}
	return out
}

// scrapeTarget records target i's scrapes of its series.
func (m scrapeModel) scrapeTarget(targets []target, i int, share float64, get func(labels.Labels) (string, *inputSeries)) {
	for j := range targets {
		t := &targets[j]
		t.nKey, t.samples = get(t.normal)
		t.rKey, t.renamed2 = get(t.renamed)
	}
	times := m.times(i)
	for j := range targets {
		if s := targets[j].samples; cap(s.ts) == 0 {
			s.ts, s.vs = make([]time.Duration, 0, len(times)+1), make([]float64, 0, len(times)+1)
		}
	}
	// exposed[j] is the series target j exposed at the previous scrape (nil: none).
	exposed := make([]*inputSeries, len(targets))
	for _, at := range times {
		si, _ := m.sc.segmentAt(at)
		g := m.sc.Segments[si]
		var good, bad float64
		if !g.Missing && !g.Absent {
			good, bad = m.sc.events(at)
			g0, b0 := m.sc.events(m.resetBase(at))
			good, bad = (good-g0)*share, (bad-b0)*share
		}
		for j := range targets {
			t := &targets[j]
			var now *inputSeries
			if !g.Missing && !g.Absent && !(m.Lazy && t.c.lazy && bad <= 0) {
				now = t.samples
				if g.Renamed {
					now = t.renamed2
				}
				now.ts, now.vs = append(now.ts, at), append(now.vs, t.c.inc(good, bad))
			}
			if prev := exposed[j]; prev != nil && prev != now && !m.NoStaleness {
				prev.ts, prev.vs = append(prev.ts, at), append(prev.vs, staleNaN)
			}
			exposed[j] = now
		}
	}
}
