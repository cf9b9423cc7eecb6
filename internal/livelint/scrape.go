package livelint

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// spacingWindow is the range over which sample spacing is measured when no scrape target
// matches the SLI's series (federated, remote-written or recorded series).
const spacingWindow = 10 * time.Minute

// interval is a measured scrape interval and where it came from.
type interval struct {
	d      time.Duration
	source string
}

// scrape compares the real scrape interval of the targets behind sel (present: its
// series counted per job and instance) with the windows and the declared interval.
func (c *Checker) scrape(ctx context.Context, f *finding, sel string, present []Sample) error {
	iv, err := c.intervalOf(ctx, sel, present)
	if err != nil || iv.d <= 0 {
		return err
	}
	o := f.o
	declared, shortest := o.Scrape(), o.BurnWindows()[0]
	fields := []string{slo.FieldScrapeInterval, slo.FieldSLO}
	scrapes := float64(shortest) / float64(iv.d)
	switch {
	case scrapes < slo.MinScrapesPerWindow:
		f.add(false, fields, "the SLI's series are scraped every %s (%s), but the windows are sized for %s: the shortest rate() window, %s, holds %s scrapes, fewer than %d, so it is often empty and its tier never fires; set scrapeInterval: %s (slokit then keeps every window at least %s) or scrape more often",
			slo.FormatWindow(iv.d), iv.source, slo.FormatWindow(declared), slo.FormatWindow(shortest), formatScrapes(scrapes), slo.MinScrapesPerWindow,
			slo.FormatWindow(iv.d), slo.FormatWindow(slo.MinScrapesPerWindow*iv.d))
	case iv.d > declared:
		f.add(true, fields, "the SLI's series are scraped every %s (%s), not every %s as the spec says: the windows still hold %s scrapes, but detection and reset times are later than predicted; set scrapeInterval: %s",
			slo.FormatWindow(iv.d), iv.source, slo.FormatWindow(declared), formatScrapes(scrapes), slo.FormatWindow(iv.d))
	case iv.d < declared:
		f.add(true, fields, "the SLI's series are scraped every %s (%s), more often than the %s the spec says: windows are kept at least %s where %s would do; set scrapeInterval: %s",
			slo.FormatWindow(iv.d), iv.source, slo.FormatWindow(declared), slo.FormatWindow(slo.MinScrapesPerWindow*declared),
			slo.FormatWindow(slo.MinScrapesPerWindow*iv.d), slo.FormatWindow(iv.d))
	}
	return nil
}

func formatScrapes(n float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", n), "0"), ".")
}

// intervalOf returns the longest scrape interval of the active targets behind present
// (matched on job and instance); when none matches, the median sample spacing of sel.
func (c *Checker) intervalOf(ctx context.Context, sel string, present []Sample) (interval, error) {
	if c.targets == nil {
		ts, err := c.Prometheus.Targets(ctx)
		if err != nil {
			return interval{}, err
		}
		c.targets = map[string]time.Duration{}
		for _, t := range ts {
			c.targets[t.Labels["job"]+"\xff"+t.Labels["instance"]] = t.ScrapeInterval
		}
	}
	var best interval
	var jobs []string
	for _, s := range present {
		d, ok := c.targets[s.Labels["job"]+"\xff"+s.Labels["instance"]]
		if !ok || d <= 0 {
			continue
		}
		if d > best.d {
			best.d = d
		}
		jobs = append(jobs, fmt.Sprintf("job=%q", s.Labels["job"]))
	}
	if best.d > 0 {
		sort.Strings(jobs)
		best.source = "scrape targets " + strings.Join(compact(jobs), ", ")
		return best, nil
	}
	return c.spacing(ctx, sel)
}

// spacing measures the median spacing of the samples of one of sel's series over
// spacingWindow.
func (c *Checker) spacing(ctx context.Context, sel string) (interval, error) {
	one, err := c.Prometheus.Query(ctx, "topk(1, "+sel+")")
	if err != nil || len(one) == 0 {
		return interval{}, err
	}
	series, err := c.Prometheus.Timestamps(ctx, exactSelector(one[0].Labels)+"["+slo.FormatWindow(spacingWindow)+"]")
	if err != nil || len(series) == 0 || len(series[0]) < 3 {
		return interval{}, err // too few samples to tell
	}
	ts := series[0]
	gaps := make([]time.Duration, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i].Sub(ts[i-1]))
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	d := gaps[len(gaps)/2].Round(time.Second)
	return interval{d: d, source: "median spacing of its samples over the last " + slo.FormatWindow(spacingWindow) + "; no scrape target matches the series"}, nil
}

// exactSelector selects the one series with labels ls.
func exactSelector(ls map[string]string) string {
	ms := make([]string, 0, len(ls))
	for k, v := range ls {
		ms = append(ms, k+"="+strconv.Quote(v))
	}
	sort.Strings(ms)
	return "{" + strings.Join(ms, ",") + "}"
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
