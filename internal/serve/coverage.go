package serve

import (
	"context"
	"html"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/slo"
)

// How much history each SLO has. The budget remaining is computed over whatever part of
// the period Prometheus holds: with 2 hours of a 30-day period it is the last 2 hours'
// error ratio as if it held for 30 days, an extrapolation. The UI flags it ("based on 2h
// of 30d") instead of showing the percentage as if it covered the period.
//
// Finding the first sample of 1,000 series cheaply: one instant query asks, for a ladder
// of ages (each SLO period, then steps of ×2/3 down to a minute), whether the SLO's
// budget series had a sample that long ago; `or` keeps, for each SLO, the first arm
// present, oldest first, and each arm's value is its age. The answer, one series per SLO,
// is a lower bound of its history within a factor 1.5, read as "the series existed at
// T − age", which stays true as time passes; it is read again every coverageMaxAge.

// coverageMaxAge is how long a reading of the SLOs' history is used.
const coverageMaxAge = 10 * time.Minute

// coverageQuery is the ladder query for the catalogue's periods.
func coverageQuery(c *catalog) string {
	ages := coverageLadder(c)
	arms := make([]string, len(ages))
	for i, a := range ages {
		arms[i] = "(" + slo.MetricBudgetRemaining + " offset " + model.Duration(a).String() + ") * 0 + " +
			strconv.FormatInt(int64(a/time.Second), 10)
	}
	return strings.Join(arms, " or ")
}

// coverageLadder lists the ages probed, oldest first: every distinct period, then ×2/3
// steps from the longest period down to a minute, in whole minutes.
func coverageLadder(c *catalog) []time.Duration {
	seen := map[time.Duration]bool{}
	longest := time.Duration(0)
	for _, e := range c.entries {
		seen[e.O.Period] = true
		longest = max(longest, e.O.Period)
	}
	for a := longest * 2 / 3; a >= time.Minute; a = a * 2 / 3 {
		seen[a.Truncate(time.Minute)] = true
	}
	out := make([]time.Duration, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out
}

// readCoverage returns, per SLO (seriesKey with window ""), a time its budget series
// already existed at; SLOs without any are absent. Only the first page waits for the
// reading: later ones use the last reading (what it says stays true) while a new one is
// made in the background every coverageMaxAge.
func (s *Server) readCoverage(ctx context.Context) (map[string]time.Time, error) {
	if len(s.cat.entries) == 0 {
		return nil, nil
	}
	if last := s.since.Load(); last != nil {
		go func() { _, _ = s.fetchCoverage(context.WithoutCancel(ctx)) }()
		return *last, nil
	}
	return s.fetchCoverage(ctx)
}

// fetchCoverage reads the SLOs' history at most once per coverageMaxAge.
func (s *Server) fetchCoverage(ctx context.Context) (map[string]time.Time, error) {
	e, _, err := s.reads.get(ctx, "coverage", coverageMaxAge, func(ctx context.Context) (overviewData, int, error) {
		now := s.now()
		vec, err := s.prom.Query(ctx, coverageQuery(s.cat), now)
		d := overviewData{at: now, since: map[string]time.Time{}}
		for _, smp := range vec {
			k := seriesKey(smp.Labels.Service, smp.Labels.SLO, "")
			t := now.Add(-time.Duration(smp.V * float64(time.Second)))
			if old, ok := d.since[k]; !ok || t.Before(old) {
				d.since[k] = t
			}
		}
		if err == nil {
			s.since.Store(&d.since)
		}
		return d, 1, err
	})
	if e == nil {
		return nil, err
	}
	return e.data.since, err
}

// Coverage says how much of the period the budget is based on.
type Coverage struct {
	// History is how much history Prometheus holds for the SLO (a lower bound), at most
	// the period; Partial is set when it is shorter than the period.
	History time.Duration `json:"historyNs"`
	Partial bool          `json:"partial"`
	// Text reads "based on 2h of 30d" when partial.
	Text string `json:"text,omitempty"`
}

// coverageOf is an SLO's coverage at now, nil when unknown.
func coverageOf(e *entry, since map[string]time.Time, now time.Time) *Coverage {
	t, ok := since[seriesKey(e.O.Service, e.O.Name, "")]
	if !ok {
		return nil
	}
	h := min(now.Sub(t), e.O.Period)
	c := &Coverage{History: h, Partial: h < e.O.Period}
	if c.Partial {
		c.Text = "based on " + roughDuration(h) + " of " + e.periodText()
	}
	return c
}

// roughDuration renders d to two units at most: "2h", "1d6h", "45m".
func roughDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		d = d.Truncate(time.Hour)
	case d >= time.Hour:
		d = d.Truncate(time.Minute)
	default:
		d = max(time.Minute, d.Truncate(time.Minute))
	}
	return model.Duration(d).String()
}

// budgetHTML is the budget cell's content: the percentage, or for a partial history the
// history it is based on and the extrapolated percentage beside it.
func budgetHTML(v *float64, c *Coverage) string {
	if v == nil || c == nil || !c.Partial {
		return budgetText(v)
	}
	return `<span class="partial">` + html.EscapeString(c.Text) + `</span> <span class="help">(` +
		budgetText(v) + ` extrapolated)</span>`
}
