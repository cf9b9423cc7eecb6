package slo

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slokit/slokit/internal/strictyaml"
	"go.yaml.in/yaml/v3"
)

// This file holds the checks that an SLO can be alerted on with the data Prometheus will
// really have: scrape and evaluation intervals against the windows, and latency
// thresholds against the histogram's buckets (docs/rules.md, "What real data does").

// LookbackDelta is Prometheus' default lookback: an instant selector finds no sample older
// than this, so a series scraped less often than that looks absent between scrapes.
const LookbackDelta = 5 * time.Minute

// scrapeDefaultWarning warns once per slokit/v1 file when an SLO relies on
// DefaultScrapeInterval.
func (w *walker) scrapeDefaultWarning(spec specV1) {
	if spec.Scrape.set() {
		return
	}
	for _, s := range spec.SLOs {
		if !s.Scrape.set() {
			w.Warnf(spec.Node, "scrapeInterval", "scrapeInterval is not set: slokit assumes %s and keeps every rate() window at least %d scrapes long (%s); set it, for the file or per SLO, to the scrape interval of the job that collects the SLI's series (slokit validate --prometheus URL compares it with the real one)",
				FormatWindow(DefaultScrapeInterval), MinScrapesPerWindow, FormatWindow(MinScrapesPerWindow*DefaultScrapeInterval))
			return
		}
	}
}

// intervalsAt reads an SLO's scrape and evaluation intervals, the SLO's own overriding the
// file's. Zero means unset (Objective.Scrape and Objective.Evaluation apply defaults).
func (w *walker) intervalsAt(s sloV1, spec specV1) (scrape, eval time.Duration) {
	read := func(own, file scalar, field string) time.Duration {
		at, path := own, strictyaml.Join(s.Path, field)
		if !own.set() {
			at, path = file, field
		}
		if !at.set() {
			return 0
		}
		d, ok := w.durationAt(at, s.Node, path, "30s", 0)
		if !ok {
			return 0
		}
		if d < time.Second {
			w.Errf(at.Node, path, "%s is shorter than a second: Prometheus intervals are whole seconds or more", at.Value)
			return 0
		}
		return d
	}
	return read(s.Scrape, spec.Scrape, "scrapeInterval"), read(s.Eval, spec.Eval, "evaluationInterval")
}

func (w *walker) convertNoDataV1(d *noDataV1, path string) NoData {
	if d == nil {
		return NoData{}
	}
	out := NoData{
		Disabled:    d.Disabled,
		Labels:      w.labelsAt(d.Labels, strictyaml.Join(path, "labels")),
		Annotations: w.annotationsAt(d.Annotations, strictyaml.Join(path, "annotations")),
	}
	if d.For.set() {
		out.For, _ = w.durationAt(d.For, d.Node, strictyaml.Join(path, "for"), "5m", 0)
	}
	return out
}

// bucketsAt reads latency.buckets: a list of durations, the histogram's bucket boundaries.
func (w *walker) bucketsAt(n *yaml.Node, path string) []time.Duration {
	items, list := w.seqAt(n, path)
	if list == nil || strictyaml.IsNull(list) {
		return nil
	}
	if len(items) == 0 {
		w.Errf(list, path, "must list the histogram's bucket boundaries, like [50ms, 100ms, 250ms]; remove it to skip the check")
		return nil
	}
	out := make([]time.Duration, 0, len(items))
	for i, item := range items {
		ip := strictyaml.Index(path, i)
		s := w.scalarAt(item, ip)
		if s.set() && (s.Tag == "!!int" || s.Tag == "!!float") {
			w.Errf(s.Node, ip, "%s is not a duration: write bucket boundaries with a unit, like 100ms or 1s", s.Value)
			continue
		}
		if d, ok := w.durationAt(s, w.Resolve(item), ip, "100ms", 0); ok {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// checkSafety reports, with the maths, what keeps a valid slokit/v1 SLO from alerting on
// the data Prometheus will have: windows too short for the scrape interval, evaluation
// and scrape intervals too long, latency thresholds that are not a declared bucket.
func (w *walker) checkSafety(o Objective, s sloV1, a *alertingV1, windowNodes []*yaml.Node) {
	w.checkWindowsHoldSamples(o, s, a, windowNodes)
	w.checkIntervals(o, s)
	if l := o.SLI.Latency; l != nil && s.SLI != nil && s.SLI.Latency != nil {
		w.checkBuckets(*l, s.SLI.Latency, strictyaml.Join(strictyaml.Join(s.Path, "sli"), "latency"))
	}
}

// checkWindowsHoldSamples refuses overridden windows shorter than MinScrapesPerWindow
// scrapes and tells how the default tiers were raised for the same reason.
func (w *walker) checkWindowsHoldSamples(o Objective, s sloV1, a *alertingV1, windowNodes []*yaml.Node) {
	floor := o.MinWindow()
	why := fmt.Sprintf("rate() needs two samples in its window, and with a %s scrape out of phase with the rule evaluation a window under %d scrapes (%s) is often empty, so the tier would never fire",
		FormatWindow(o.Scrape()), MinScrapesPerWindow, FormatWindow(floor))
	if len(o.Alerting.Windows) > 0 {
		wp := strictyaml.Join(strictyaml.Join(s.Path, "alerting"), "windows")
		for i, win := range o.Alerting.Windows {
			if win.Short >= floor {
				continue
			}
			n := a.Node
			if i < len(windowNodes) {
				n = windowNodes[i]
			}
			w.Errf(n, strictyaml.Index(wp, i), "the %s has a %s window: %s; use windows of at least %s, or scrape more often",
				describeWindow(win), FormatWindow(win.Short), why, FormatWindow(floor))
		}
		return
	}
	var raised []string
	safe := o.Windows()
	for i, win := range DefaultWindows(o.Period) {
		if win != safe[i] {
			raised = append(raised, fmt.Sprintf("%s → %s× over %s/%s", describeWindow(win),
				formatFloat(roundTo(safe[i].BurnRate, 3)), FormatWindow(safe[i].Long), FormatWindow(safe[i].Short)))
		}
	}
	if len(raised) == 0 {
		return
	}
	n := s.Period.Node
	if n == nil {
		n = s.Node
	}
	w.Warnf(n, strictyaml.Join(s.Path, "period"), "the %s period scales some default windows below %s: %s; slokit raises them (a raised long window gets its burn rate scaled so that the tier still fires after spending the same share of the budget): %s",
		FormatWindow(o.Period), FormatWindow(floor), why, strings.Join(raised, "; "))
}

// checkIntervals warns when the scrape or evaluation interval is too long for the windows
// or for Prometheus' lookback.
func (w *walker) checkIntervals(o Objective, s sloV1) {
	scrapeNode, scrapePath := s.Scrape.Node, strictyaml.Join(s.Path, "scrapeInterval")
	if scrapeNode == nil {
		scrapeNode, scrapePath = s.Node, s.Path
	}
	if o.Scrape() > LookbackDelta {
		w.Warnf(scrapeNode, scrapePath, "a %s scrape interval is longer than Prometheus' %s lookback: between scrapes the SLI's series look absent, so the no-data alert fires and instant queries miss them; scrape at least every %s",
			FormatWindow(o.Scrape()), FormatWindow(LookbackDelta), FormatWindow(LookbackDelta))
	}
	shortest := o.BurnWindows()[0]
	if ev := o.Evaluation(); 2*ev > shortest {
		evNode, evPath := s.Eval.Node, strictyaml.Join(s.Path, "evaluationInterval")
		if evNode == nil {
			evNode, evPath = scrapeNode, scrapePath
		}
		w.Warnf(evNode, evPath, "rules evaluated every %s look at the %s window fewer than twice per window: detection and reset each move by up to %s; evaluate at most every %s",
			FormatWindow(ev), FormatWindow(shortest), FormatWindow(ev), formatDuration(shortest/2))
	}
}

// checkBuckets refuses a threshold that is not one of the declared buckets (naming the
// nearest) and warns when no buckets are declared for a classic histogram.
func (w *walker) checkBuckets(l LatencySLI, lv *latencyV1, path string) {
	tn := l.Threshold
	thNode, thPath := lv.Threshold.Node, strictyaml.Join(path, "threshold")
	if thNode == nil {
		thNode, thPath = lv.Node, path
	}
	if l.Native {
		if !containsDuration(l.Buckets, tn) && len(l.Buckets) > 0 {
			w.Warnf(thNode, thPath, "%s is not one of the declared buckets (%s): histogram_fraction interpolates inside the bucket that holds it, so the SLI is an estimate", FormatWindow(tn), nearest(l.Buckets, tn))
		}
		return
	}
	switch {
	case len(l.Buckets) == 0:
		w.Warnf(thNode, thPath, "the threshold %s is not checked against the histogram's buckets: a threshold that is not a bucket boundary writes le=%q, which selects no series, so the SLO never alerts (only its no-data alert fires); declare latency.buckets with the le values the client exports (its /metrics lists them), or check against your Prometheus with slokit validate --prometheus URL",
			FormatWindow(tn), l.ThresholdLE())
	case !containsDuration(l.Buckets, tn):
		w.Errf(thNode, thPath, "%s is not a bucket boundary of %s: le=%q selects no series, so the SLI would never exist and no burn-rate alert could fire; use a declared bucket (%s)",
			FormatWindow(tn), l.Histogram, l.ThresholdLE(), nearest(l.Buckets, tn))
	}
}

func containsDuration(ds []time.Duration, d time.Duration) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// nearest names the buckets just below and above d ("nearest: 100ms and 250ms").
func nearest(buckets []time.Duration, d time.Duration) string {
	below, above := time.Duration(-1), time.Duration(math.MaxInt64)
	for _, b := range buckets {
		if b < d && b > below {
			below = b
		}
		if b > d && b < above {
			above = b
		}
	}
	var parts []string
	if below >= 0 {
		parts = append(parts, FormatWindow(below))
	}
	if above != time.Duration(math.MaxInt64) {
		parts = append(parts, FormatWindow(above))
	}
	return "nearest: " + strings.Join(parts, " and ")
}

// NearestBuckets names the buckets just below and above d among buckets, as validation
// does when a threshold is not a bucket boundary ("nearest: 100ms and 250ms").
func NearestBuckets(buckets []time.Duration, d time.Duration) string { return nearest(buckets, d) }
