package livelint

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// classic checks a latency SLI on a classic histogram: its _count series exist (else:
// is it native?), and its threshold is one of the le values the buckets really have.
func (c *Checker) classic(ctx context.Context, f *finding, l slo.LatencySLI) ([]Sample, error) {
	count, err := c.present(ctx, l.Series("_count"))
	if err != nil {
		return nil, err
	}
	if len(count) == 0 {
		return nil, c.missingHistogram(ctx, f, l, l.Series(""), "a native histogram: set latency.native: true (slokit then reads it with histogram_fraction)")
	}
	les, err := c.leValues(ctx, l)
	if err != nil {
		return nil, err
	}
	th := l.Threshold
	if !containsDuration(les, th) {
		f.add(false, []string{slo.FieldThreshold, slo.FieldLatency}, "%s is not a bucket of %s in %s: le=%q selects no series, so the SLI never exists and no burn-rate alert can fire (only the no-data alert); use an existing bucket (%s)",
			slo.FormatWindow(th), l.Series("_bucket"), c.Prometheus.URL(), l.ThresholdLE(), slo.NearestBuckets(les, th))
	}
	if len(l.Buckets) > 0 && !sameDurations(l.Buckets, les) {
		f.add(true, []string{slo.FieldBuckets, slo.FieldLatency}, "latency.buckets differ from the buckets %s has in %s (%s): declare what the client exports so that static validation checks the right list",
			l.Histogram, c.Prometheus.URL(), formatDurations(les))
	}
	return count, nil
}

// native checks a latency SLI on a native histogram: its series exist (else: is it
// classic?).
func (c *Checker) native(ctx context.Context, f *finding, l slo.LatencySLI) ([]Sample, error) {
	series, err := c.present(ctx, l.Series(""))
	if err != nil {
		return nil, err
	}
	if len(series) == 0 {
		return nil, c.missingHistogram(ctx, f, l, l.Series("_count"), "a classic histogram: remove latency.native (slokit then reads its _bucket and _count series)")
	}
	return series, nil
}

// missingHistogram reports a histogram that has no series of the declared kind: the other
// kind exists (other selects it; fix says what to change), or nothing does.
func (c *Checker) missingHistogram(ctx context.Context, f *finding, l slo.LatencySLI, other, fix string) error {
	want := l.Series("_count")
	if l.Native {
		want = l.Series("")
	}
	found, err := c.present(ctx, other)
	if err != nil {
		return err
	}
	if len(found) > 0 {
		f.add(false, []string{slo.FieldLatency, slo.FieldSLI}, "%s selects no series in %s but %s does: %s is %s",
			want, c.Prometheus.URL(), other, l.Histogram, fix)
		return nil
	}
	hint, err := c.why(ctx, want)
	if err != nil {
		return err
	}
	f.add(false, []string{slo.FieldHistogram, slo.FieldLatency}, "%s selects no series in %s over the last %s, so every burn rate of this SLO is absent and only its no-data alert can fire: %s",
		want, c.Prometheus.URL(), slo.FormatWindow(c.lookback()), hint)
	return nil
}

// leValues returns the finite le values of the histogram's buckets, as durations, sorted.
func (c *Checker) leValues(ctx context.Context, l slo.LatencySLI) ([]time.Duration, error) {
	q := fmt.Sprintf("count by (le) (last_over_time(%s[%s]))", l.Series("_bucket"), slo.FormatWindow(c.lookback()))
	ss, err := c.Prometheus.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, s := range ss {
		v, err := strconv.ParseFloat(s.Labels["le"], 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			continue
		}
		out = append(out, time.Duration(math.Round(v*float64(time.Second))))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func containsDuration(ds []time.Duration, d time.Duration) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func sameDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatDurations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = slo.FormatWindow(d)
	}
	return strings.Join(s, ", ")
}

// raw checks that every series selector of a raw SLI's template selects series.
// It returns the first selector that has series, and its series.
func (c *Checker) raw(ctx context.Context, f *finding, r slo.RawSLI) (string, []Sample, error) {
	sels, err := rawSelectors(r, f.o.BurnWindows()[0])
	if err != nil {
		return "", nil, err
	}
	var first string
	var all []Sample
	for _, sel := range sels {
		got, err := c.present(ctx, sel)
		if err != nil {
			return "", nil, err
		}
		if len(got) > 0 {
			if first == "" {
				first, all = sel, got
			}
			continue
		}
		hint, err := c.why(ctx, sel)
		if err != nil {
			return "", nil, err
		}
		f.add(true, []string{slo.FieldRawErrorRatio, slo.FieldSLI}, "%s (in the error ratio) selects no series in %s over the last %s: fine for bad events that have not happened yet, wrong for the total, which leaves every burn rate absent: %s",
			sel, c.Prometheus.URL(), slo.FormatWindow(c.lookback()), hint)
	}
	return first, all, nil
}
