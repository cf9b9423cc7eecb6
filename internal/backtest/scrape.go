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

// series scrapes counters under the model: every target's samples, staleness markers
// where a series stops being exposed, in label order of the counters.
func (m scrapeModel) series(counters []counter) []inputSeries {
	byKey := map[string]*inputSeries{}
	var order []string
	add := func(l labels.Labels, t time.Duration, v float64) {
		k := l.String()
		s := byKey[k]
		if s == nil {
			s = &inputSeries{labels: l}
			byKey[k] = s
			order = append(order, k)
		}
		s.ts = append(s.ts, t)
		s.vs = append(s.vs, v)
	}
	share := 1 / float64(m.Instances)
	for i := 0; i < m.Instances; i++ {
		prev := map[string]labels.Labels{}
		for _, t := range m.times(i) {
			cur := m.scrapeOne(counters, i, t, share, add)
			if !m.NoStaleness {
				for k, l := range prev {
					if _, ok := cur[k]; !ok {
						add(l, t, staleNaN)
					}
				}
			}
			prev = cur
		}
	}
	out := make([]inputSeries, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out
}

// scrapeOne records target i's scrape at t and returns the series it exposed.
func (m scrapeModel) scrapeOne(counters []counter, i int, t time.Duration, share float64, add func(labels.Labels, time.Duration, float64)) map[string]labels.Labels {
	cur := map[string]labels.Labels{}
	si, _ := m.sc.segmentAt(t)
	g := m.sc.Segments[si]
	if g.Missing || g.Absent {
		return cur
	}
	good, bad := m.sc.events(t)
	g0, b0 := m.sc.events(m.resetBase(t))
	good, bad = (good-g0)*share, (bad-b0)*share
	for _, c := range counters {
		if m.Lazy && c.lazy && bad <= 0 {
			continue
		}
		l := c.labels
		if m.Instances > 1 {
			l = labels.NewBuilder(l).Set("instance", "i-"+strconv.Itoa(i)).Labels()
		}
		if g.Renamed {
			l = labels.NewBuilder(l).Set(labels.MetricName, RenamedMetric(l.Get(labels.MetricName))).Labels()
		}
		cur[l.String()] = l
		add(l, t, c.inc(good, bad))
	}
	return cur
}
