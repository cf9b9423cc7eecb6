package propose

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/slokit/slokit/slo"
)

// Options tune how objectives are chosen. Zero values take the documented defaults.
type Options struct {
	// MinBudgetLeft is the share of the error budget a chosen objective must have had
	// left over the history: the history would have met it with room. Default 0.5.
	MinBudgetLeft float64
	// MinBudgetEvents is the least number of failed requests a chosen objective must
	// allow in the history's traffic, so that a handful of failures cannot exhaust it
	// (and page) on a quiet service. Default 10.
	MinBudgetEvents float64
}

func (o *Options) defaults() {
	if o.MinBudgetLeft <= 0 || o.MinBudgetLeft >= 1 {
		o.MinBudgetLeft = 0.5
	}
	if o.MinBudgetEvents <= 0 {
		o.MinBudgetEvents = 10
	}
}

// AvailabilityObjectives and LatencyObjectives are the candidates, strictest first.
var (
	AvailabilityObjectives = []float64{99.99, 99.95, 99.9, 99.5, 99, 98, 95, 90}
	LatencyObjectives      = []float64{99, 95, 90}
)

// Choice is a chosen objective and why; Objective is 0 when no candidate fits.
type Choice struct {
	// Objective is in percent, like 99.9.
	Objective float64
	// Threshold is the latency SLI's bucket (latency choices only).
	Threshold Bucket
	// Why explains the choice, one comment line each.
	Why []string
}

// budgetLeft is the share of o's error budget (percent) left after errRatio.
func budgetLeft(objective, errRatio float64) float64 {
	return 1 - errRatio/(1-objective/100)
}

// verdict describes one candidate: held with X% left, or spent Y%.
func verdict(objective, errRatio float64) string {
	left := budgetLeft(objective, errRatio)
	if left >= 0 {
		return fmt.Sprintf("would have held with %s%% of the budget left", pct1(left))
	}
	return fmt.Sprintf("would have failed: %s%% of the budget spent", pct1(1-left))
}

// ChooseAvailability picks the strictest availability objective the history would
// have met with opts.MinBudgetLeft of its budget left, among those allowing at least
// opts.MinBudgetEvents failures in the history's traffic.
func ChooseAvailability(h History, opts Options) Choice {
	opts.defaults()
	if h.Total <= 0 {
		return Choice{Why: []string{"No requests in the history: no availability objective can be chosen."}}
	}
	r := h.Bad / h.Total
	c := Choice{Why: []string{
		fmt.Sprintf("%s requests, %s of them failed: error ratio %s%%.", count(h.Total), count(h.Bad), pct(r)),
		fmt.Sprintf("Objective: the strictest candidate that would have held with at least %s%% of its",
			pct1(opts.MinBudgetLeft)),
		fmt.Sprintf("error budget left and allows at least %s failed requests in this traffic:", count(opts.MinBudgetEvents)),
	}}
	for _, o := range AvailabilityObjectives {
		line := fmt.Sprintf("  %s%%: %s", slo.FormatFloat(o), verdict(o, r))
		allowed := (1 - o/100) * h.Total
		switch {
		case c.Objective != 0 || budgetLeft(o, r) < opts.MinBudgetLeft:
		case allowed < opts.MinBudgetEvents:
			line += fmt.Sprintf(", but allows only %s failed requests: too strict for this traffic", count(allowed))
		default:
			c.Objective = o
			line += "  <- chosen"
		}
		c.Why = append(c.Why, line)
		if c.Objective != 0 && o < c.Objective {
			break // one looser candidate shown for comparison is enough
		}
	}
	if c.Objective == 0 {
		loosest := AvailabilityObjectives[len(AvailabilityObjectives)-1]
		if budgetLeft(loosest, r) < opts.MinBudgetLeft {
			c.Why = append(c.Why, "No candidate fits: the service failed too often. Fix that first, or set an objective by hand.")
			return c
		}
		c.Objective = loosest
		c.Why = append(c.Why, fmt.Sprintf("LOW TRAFFIC: every candidate allows fewer than %s failed requests in this history, so the",
			count(opts.MinBudgetEvents)),
			fmt.Sprintf("loosest, %s%%, is proposed. Read more history (--days) or raise it by hand once traffic grows.", slo.FormatFloat(loosest)))
	}
	return c
}

// ChooseLatency picks, for the strictest latency objective that fits, the smallest
// histogram boundary the history would have met with opts.MinBudgetLeft of the budget
// left.
func ChooseLatency(h History, opts Options) Choice {
	opts.defaults()
	if h.HistTotal <= 0 || len(h.Buckets) == 0 {
		return Choice{Why: []string{"No requests in the duration histogram: no latency objective can be chosen."}}
	}
	c := Choice{Why: []string{"Share of requests at or under each bucket boundary:"}}
	c.Why = append(c.Why, wrap(bucketShares(h), 84)...)
	lowTraffic := true
	for _, o := range LatencyObjectives {
		if (1-o/100)*h.HistTotal < opts.MinBudgetEvents {
			c.Why = append(c.Why, fmt.Sprintf("%s%% allows only %s slow requests in this traffic: too strict.",
				slo.FormatFloat(o), count((1-o/100)*h.HistTotal)))
			continue
		}
		lowTraffic = false
		if latencyAt(&c, h, o, opts) {
			return c
		}
	}
	if lowTraffic {
		o := LatencyObjectives[len(LatencyObjectives)-1]
		c.Why = append(c.Why, fmt.Sprintf("LOW TRAFFIC: the loosest, %s%%, is proposed anyway; read more history (--days) or revisit it.", slo.FormatFloat(o)))
		if latencyAt(&c, h, o, opts) {
			return c
		}
	}
	c.Why = append(c.Why, "No candidate fits: the histogram's largest finite bucket is too small, or requests are too slow.")
	return c
}

// latencyAt looks for the smallest boundary at which objective o holds with the budget
// asked, recording the choice in c.
func latencyAt(c *Choice, h History, o float64, opts Options) bool {
	for _, b := range h.Buckets {
		if _, ok := thresholdOf(b); !ok {
			continue
		}
		if budgetLeft(o, 1-b.Count/h.HistTotal) >= opts.MinBudgetLeft {
			c.Objective, c.Threshold = o, b
			c.Why = append(c.Why, fmt.Sprintf("Objective %s%%: the smallest boundary at which it %s",
				slo.FormatFloat(o), verdict(o, 1-b.Count/h.HistTotal)),
				fmt.Sprintf("(at least %s%% asked) is %s, under which %s%% of requests were.",
					pct1(opts.MinBudgetLeft), durationOf(b.Seconds), pct(b.Count/h.HistTotal)))
			return true
		}
	}
	c.Why = append(c.Why, fmt.Sprintf("%s%%: no boundary leaves %s%% of the budget.", slo.FormatFloat(o), pct1(opts.MinBudgetLeft)))
	return false
}

// thresholdOf is the latency SLI threshold for bucket b, when slo's le matcher for it
// selects exactly this bucket.
func thresholdOf(b Bucket) (time.Duration, bool) {
	d := time.Duration(math.Round(b.Seconds * 1e9))
	if d <= 0 {
		return 0, false
	}
	le := slo.LatencySLI{Threshold: d}.ThresholdLE()
	v, err := strconv.ParseFloat(le, 64)
	return d, err == nil && v == b.Seconds
}

func bucketShares(h History) []string {
	out := make([]string, 0, len(h.Buckets))
	for _, b := range h.Buckets {
		out = append(out, fmt.Sprintf("<=%s %s%%", durationOf(b.Seconds), pct(b.Count/h.HistTotal)))
	}
	return out
}

// wrap joins words with ", " into lines of at most width characters, indented by two.
func wrap(words []string, width int) []string {
	var out []string
	line := " "
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		if len(line)+1+len(w) > width && line != " " {
			out = append(out, line)
			line = " "
		}
		line += " " + w
	}
	return append(out, line)
}

// days writes a window in days when it is whole days ("7d", not "1w").
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return slo.FormatWindow(d)
}

func durationOf(seconds float64) string {
	return slo.FormatWindow(time.Duration(math.Round(seconds * 1e9)))
}

// pct formats a ratio as a percentage with up to 4 significant digits: 99.62, 0.0243.
func pct(r float64) string {
	if r == 0 {
		return "0"
	}
	s := strconv.FormatFloat(r*100, 'g', 4, 64)
	if strings.Contains(s, "e") {
		s = strings.TrimRight(strconv.FormatFloat(r*100, 'f', 8, 64), "0")
	}
	return s
}

// pct1 formats a ratio as a percentage with one decimal: 51.4.
func pct1(r float64) string { return strings.TrimSuffix(strconv.FormatFloat(r*100, 'f', 1, 64), ".0") }

// count formats a request count: 12,345 (rounded; increase() extrapolates).
func count(v float64) string {
	if v < 1 {
		return strconv.FormatFloat(v, 'g', 2, 64) // 0.037: never "0" for a fraction
	}
	if v < 10 {
		return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
	}
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
