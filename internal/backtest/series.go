package backtest

import (
	"fmt"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/slokit/slokit/slo"
)

// counter is one synthetic counter series and how much of the traffic it counts.
type counter struct {
	labels labels.Labels
	// inc returns the increase over an interval from the interval's good and bad events.
	inc func(good, bad float64) float64
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
// latency SLIs the histogram's _count and _bucket series around the threshold.
func seriesFor(o slo.Objective) ([]counter, error) {
	switch {
	case o.SLI.Events != nil:
		return eventSeries(*o.SLI.Events)
	case o.SLI.Latency != nil:
		return latencySeries(*o.SLI.Latency), nil
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
			{labels: bad, inc: func(_, b float64) float64 { return b }},
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
		{labels: bad, inc: func(_, b float64) float64 { return b }},
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

// latencySeries returns a classic histogram whose bucket at the threshold counts the good
// requests: half of them fall in a bucket below it, half of the slow ones below twice it.
func latencySeries(l slo.LatencySLI) []counter {
	base := map[string]string{}
	for k, v := range l.Selector {
		base[k] = v
	}
	with := func(suffix, le string) labels.Labels {
		m := map[string]string{labels.MetricName: l.Histogram + suffix}
		for k, v := range base {
			m[k] = v
		}
		if le != "" {
			m["le"] = le
		}
		return labels.FromMap(m)
	}
	th := l.Threshold.Seconds()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []counter{
		{labels: with("_bucket", f(th/2)), inc: func(g, _ float64) float64 { return g / 2 }},
		{labels: with("_bucket", l.ThresholdLE()), inc: func(g, _ float64) float64 { return g }},
		{labels: with("_bucket", f(th*2)), inc: func(g, b float64) float64 { return g + b/2 }},
		{labels: with("_bucket", "+Inf"), inc: func(g, b float64) float64 { return g + b }},
		{labels: with("_count", ""), inc: func(g, b float64) float64 { return g + b }},
		{labels: with("_sum", ""), inc: func(g, b float64) float64 { return g*th/2 + b*th*2 }},
	}
}
