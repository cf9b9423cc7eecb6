package backtest

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/slo"
)

// counter is one synthetic counter series and how much of the traffic it counts.
type counter struct {
	labels labels.Labels
	// inc returns the counter's value from the good and bad events it has counted.
	inc func(good, bad float64) float64
	// lazy counters exist only once they count a bad event.
	lazy bool
}

// candidates are tried, in order, as values for labels a selector constrains by regex or
// inequality. They cover the usual status-code and outcome conventions; goodCandidates
// are tried first where a value must break the bad selector.
var (
	candidates     = []string{"500", "503", "5xx", "error", "failure", "false", "200", "204", "2xx", "ok", "success", "true", "1", "0", "x"}
	goodCandidates = []string{"200", "204", "2xx", "ok", "success", "true", "0", "1", "x"}
)

// seriesFor returns the counters that make o's SLI see the generated good and bad
// events: for events SLIs a bad and a good (or total) series matching the selectors, for
// latency SLIs the histogram's _bucket series of the layout, _count and _sum.
func seriesFor(o slo.Objective, sc Scenario) ([]counter, error) {
	switch {
	case o.SLI.Events != nil:
		return eventSeries(*o.SLI.Events)
	case o.SLI.Latency != nil && o.SLI.Latency.Native:
		return nil, fmt.Errorf("%s: a native-histogram latency SLI cannot be backtested: the replay engine holds float samples only", o.ID())
	case o.SLI.Latency != nil:
		return latencySeries(*o.SLI.Latency, bucketLayout(o, sc)), nil
	}
	return nil, fmt.Errorf("%s: a %s SLI cannot be backtested: slokit can only synthesize series for events and latency SLIs", o.ID(), o.SLI.Kind())
}

func eventSeries(ev slo.EventsSLI) ([]counter, error) {
	p := parser.NewParser(parser.Options{})
	badM, err := p.ParseMetricSelector(ev.Bad)
	if err != nil {
		return nil, fmt.Errorf("bad selector %q: %w", ev.Bad, err)
	}
	totalM, err := p.ParseMetricSelector(ev.Total)
	if err != nil {
		return nil, fmt.Errorf("total selector %q: %w", ev.Total, err)
	}
	// The bad series satisfies the bad selector and, when it can, the total one too
	// (the usual http_requests_total{code=~"5.."} inside http_requests_total).
	bad, ok := satisfy(append(append([]*labels.Matcher{}, badM...), totalM...), nil)
	if ok {
		good, ok := satisfy(totalM, badM)
		if !ok {
			return nil, fmt.Errorf("no series matches total selector %q without matching bad selector %q; slokit cannot synthesize good events", ev.Total, ev.Bad)
		}
		return []counter{
			{labels: bad, inc: func(_, b float64) float64 { return b }, lazy: true},
			{labels: good, inc: func(g, _ float64) float64 { return g }},
		}, nil
	}
	// Separate counters: bad events and all events.
	bad, ok = satisfy(badM, nil)
	if !ok {
		return nil, fmt.Errorf("cannot build a series matching bad selector %q", ev.Bad)
	}
	total, ok := satisfy(totalM, badM)
	if !ok {
		return nil, fmt.Errorf("cannot build a series matching total selector %q but not bad selector %q", ev.Total, ev.Bad)
	}
	return []counter{
		{labels: bad, inc: func(_, b float64) float64 { return b }, lazy: true},
		{labels: total, inc: func(g, b float64) float64 { return g + b }},
	}, nil
}

// satisfy builds a label set matching every matcher of must and failing at least one of
// mustNot (when mustNot is non-empty).
func satisfy(must, mustNot []*labels.Matcher) (labels.Labels, bool) {
	values := map[string]string{}
	constrained := map[string][]*labels.Matcher{}
	for _, m := range must {
		if m.Type == labels.MatchEqual {
			if v, set := values[m.Name]; set && v != m.Value {
				return labels.EmptyLabels(), false
			}
			values[m.Name] = m.Value
		}
		constrained[m.Name] = append(constrained[m.Name], m)
	}
	for name, ms := range constrained {
		if _, set := values[name]; set {
			continue
		}
		// Prefer a value that also breaks mustNot, so good series really are good.
		var fallback string
		found := false
		try := append([]string{""}, candidates...)
		if len(mustNot) > 0 {
			try = append([]string{""}, append(goodCandidates, candidates...)...)
		}
		for _, c := range try {
			if !matchesAll(ms, c) {
				continue
			}
			if !found {
				fallback, found = c, true
			}
			if len(mustNot) > 0 && !matchesAll(matchersFor(mustNot, name), c) {
				fallback = c
				break
			}
		}
		if !found {
			return labels.EmptyLabels(), false
		}
		if fallback != "" {
			values[name] = fallback
		}
	}
	// Labels mustNot constrains but must does not: pick a value breaking mustNot.
	if len(mustNot) > 0 {
		for _, m := range mustNot {
			if _, set := values[m.Name]; set || len(constrained[m.Name]) > 0 {
				continue
			}
			for _, c := range goodCandidates {
				if !m.Matches(c) {
					values[m.Name] = c
					break
				}
			}
		}
	}
	lset := labels.FromMap(values)
	for _, m := range must {
		if !m.Matches(lset.Get(m.Name)) {
			return labels.EmptyLabels(), false
		}
	}
	if len(mustNot) > 0 && matchesAllLabels(mustNot, lset) {
		return labels.EmptyLabels(), false
	}
	return lset, lset.Get(labels.MetricName) != ""
}

func matchersFor(ms []*labels.Matcher, name string) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range ms {
		if m.Name == name {
			out = append(out, m)
		}
	}
	return out
}

func matchesAll(ms []*labels.Matcher, v string) bool {
	for _, m := range ms {
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

func matchesAllLabels(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// bucketLayout is the histogram layout a latency scenario emits: the scenario's, else
// the spec's declared latency.buckets, else DefaultBuckets.
func bucketLayout(o slo.Objective, sc Scenario) []float64 {
	if len(sc.Scrape.Buckets) > 0 {
		return sc.Scrape.Buckets
	}
	return specLayout(o)
}

// specLayout is the layout o's spec declares (latency.buckets, in seconds), else
// DefaultBuckets.
func specLayout(o slo.Objective) []float64 {
	if l := o.SLI.Latency; l != nil && len(l.Buckets) > 0 {
		out := make([]float64, len(l.Buckets))
		for i, b := range l.Buckets {
			out[i] = b.Seconds()
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return DefaultBuckets
}

// hasBucket reports whether the layout has a bucket at the threshold th (seconds).
func hasBucket(layout []float64, th float64) bool {
	for _, b := range layout {
		if math.Abs(b-th) <= 1e-12*th {
			return true
		}
	}
	return false
}

// latencySeries returns a classic histogram with the given bucket layout: good requests
// take half the threshold, slow ones twice it, so each bucket counts what Prometheus'
// client would. A threshold that is not in the layout has no bucket, as in production.
func latencySeries(l slo.LatencySLI, layout []float64) []counter {
	with := func(suffix, le string) labels.Labels {
		m := map[string]string{labels.MetricName: l.Histogram + suffix}
		for k, v := range l.Selector {
			m[k] = v
		}
		if le != "" {
			m["le"] = le
		}
		return labels.FromMap(m)
	}
	th := l.Threshold.Seconds()
	fast, slow := th/2, th*2
	var out []counter
	for _, b := range layout {
		le := strconv.FormatFloat(b, 'g', -1, 64)
		if hasBucket([]float64{b}, th) {
			le = l.ThresholdLE()
		}
		cf, cs := 0.0, 0.0
		if fast <= b {
			cf = 1
		}
		if slow <= b {
			cs = 1
		}
		out = append(out, counter{labels: with("_bucket", le), inc: func(g, s float64) float64 { return g*cf + s*cs }})
	}
	return append(out,
		counter{labels: with("_bucket", "+Inf"), inc: func(g, b float64) float64 { return g + b }},
		counter{labels: with("_count", ""), inc: func(g, b float64) float64 { return g + b }},
		counter{labels: with("_sum", ""), inc: func(g, b float64) float64 { return g*fast + b*slow }},
	)
}
