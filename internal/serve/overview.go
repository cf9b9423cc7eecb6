package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/slo"
)

// Overview is the overview page's data, also served as JSON by /api/overview.
type Overview struct {
	GeneratedAt time.Time      `json:"generatedAt"`
	Prometheus  string         `json:"prometheus"`
	Params      OverviewParams `json:"params"`
	// Error is set when Prometheus could not be read; the SLOs are still listed, with
	// no data. CoverageError is set when only the SLOs' history could not be read.
	Error         string `json:"error,omitempty"`
	CoverageError string `json:"coverageError,omitempty"`
	// Total is the number of SLOs served; SLOs is the filtered, sorted list.
	Total int   `json:"total"`
	SLOs  []Row `json:"slos"`
	// Queries is the number of Prometheus API calls behind the page (constant).
	Queries int `json:"queries"`
	// ReadAt is when Prometheus was read; Shared is set when that reading was made for
	// an earlier request less than Config.MaxAge ago (or at the same time).
	ReadAt time.Time `json:"readAt"`
	Shared bool      `json:"shared"`

	read     *cacheEntry
	Services []string `json:"services"`
	Teams    []string `json:"teams"`
}

// OverviewParams is the overview's query string.
type OverviewParams struct {
	Q       string `json:"q,omitempty"`
	Service string `json:"service,omitempty"`
	Team    string `json:"team,omitempty"`
	State   string `json:"state,omitempty"`
	Sort    string `json:"sort"`
	// Range is the sparklines' span.
	Range model.Duration `json:"range"`
}

// States an SLO row can be in.
const (
	stateFiring  = "firing"
	statePending = "pending"
	stateOK      = "ok"
	stateNoData  = "nodata"
)

var (
	overviewSorts  = []string{"service", "team", "name", "budget", "burn"}
	overviewStates = []string{stateFiring, statePending, stateOK, stateNoData}
)

func parseOverviewParams(v url.Values) (OverviewParams, error) {
	p := newParams(v, "q", "service", "team", "state", "sort", "range")
	o := OverviewParams{Q: p.str("q", ""), Service: p.str("service", ""), Team: p.str("team", ""),
		State: p.oneOf("state", "", overviewStates...), Sort: p.oneOf("sort", "service", overviewSorts...),
		Range: model.Duration(p.duration("range", time.Hour, time.Minute, 90*24*time.Hour))}
	return o, p.err()
}

// query renders the params as a query string, leaving out defaults; set overrides keys.
func (o OverviewParams) Query(set ...string) string {
	v := url.Values{}
	add := func(k, val, def string) {
		if val != def {
			v.Set(k, val)
		}
	}
	add("q", o.Q, "")
	add("service", o.Service, "")
	add("team", o.Team, "")
	add("state", o.State, "")
	add("sort", o.Sort, "service")
	add("range", o.Range.String(), "1h")
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			v.Del(set[i])
		} else {
			v.Set(set[i], set[i+1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Row is one SLO on the overview. Nil numbers mean no data, never zero.
type Row struct {
	Service     string  `json:"service"`
	SLO         string  `json:"slo"`
	Team        string  `json:"team,omitempty"`
	Description string  `json:"description,omitempty"`
	Objective   float64 `json:"objective"`
	Period      string  `json:"period"`
	// BudgetRemaining is the fraction of the period's error budget left (traffic-
	// weighted: bad/total events over the whole period), negative once overspent.
	BudgetRemaining *float64 `json:"budgetRemaining"`
	// BudgetCoverage says how much of the period the budget is based on; nil when
	// unknown. When Partial, the budget is an extrapolation and shows as such.
	BudgetCoverage *Coverage   `json:"budgetCoverage"`
	Tiers          []TierState `json:"tiers"`
	// Burn is the highest burn rate over the tiers' long windows (the sort key).
	Burn  *float64 `json:"burn"`
	State string   `json:"state"`
	// Spark is the burn rate over SparkWindow across the page's range (max per step).
	SparkWindow string  `json:"sparkWindow"`
	Spark       []Point `json:"sparkline"`
	URL         string  `json:"url"`

	e *entry
}

// TierState is one alert tier of a row: its burn rates now and its alert's state.
type TierState struct {
	Tier      string   `json:"tier"`
	Long      string   `json:"long"`
	Short     string   `json:"short"`
	Threshold float64  `json:"threshold"`
	LongBurn  *float64 `json:"longBurn"`
	ShortBurn *float64 `json:"shortBurn"`
	// Alert is firing, pending or inactive.
	Alert string `json:"alert"`
}

// Point is one sample of a chart.
type Point struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// seriesKey indexes a windowed series of an SLO.
func seriesKey(service, name, window string) string { return service + "\x00" + name + "\x00" + window }

func labelsKey(l Labels) string { return seriesKey(l.Service, l.SLO, l.Window) }

// instant indexes samples by service, SLO and window. Where several sources report one
// SLO (clusters, unmerged replicas) the highest value is kept: the worst burn rate.
func instant(vec []Sample) map[string]float64 {
	out := make(map[string]float64, len(vec))
	for _, s := range vec {
		k := labelsKey(s.Labels)
		if v, ok := out[k]; !ok || s.V > v {
			out[k] = s.V
		}
	}
	return out
}

// perSLO indexes samples by service and SLO only (window ""), for the one series per
// SLO such as the budget remaining; of several sources the lowest value is kept: the
// least budget left.
func perSLO(vec []Sample) map[string]float64 {
	out := make(map[string]float64, len(vec))
	for _, s := range vec {
		k := seriesKey(s.Labels.Service, s.Labels.SLO, "")
		if v, ok := out[k]; !ok || s.V < v {
			out[k] = s.V
		}
	}
	return out
}

// alertKey indexes an alert by its SLO and tier window.
func alertKey(a v1.Alert) string {
	return seriesKey(string(a.Labels[slo.LabelService]), string(a.Labels[slo.LabelSLO]), string(a.Labels[slo.LabelWindow]))
}

// overviewData is what the overview's four queries return.
type overviewData struct {
	burn, budget map[string]float64
	alerts       map[string]string // seriesKey(service, slo, long window) → firing|pending
	spark        map[string][]Point
	at           time.Time
	// since is, per SLO, a time its budget series existed at (coverage.go).
	since map[string]time.Time
}

// fetchOverview asks Prometheus four things at once, whatever the number of SLOs: every
// burn rate, every budget remaining, the alerts and one range query for the sparklines.
func (s *Server) fetchOverview(ctx context.Context, prom Prom, now time.Time, rng time.Duration) (overviewData, error) {
	d := overviewData{alerts: map[string]string{}}
	step := sparkStep(rng)
	q := overviewQueries(s.cat)
	err := runAll(
		func() error {
			vec, err := prom.Query(ctx, q.burn, now)
			d.burn = instant(vec)
			return err
		},
		func() error {
			vec, err := prom.Query(ctx, q.budget, now)
			d.budget = perSLO(vec)
			return err
		},
		func() error {
			list, err := prom.Alerts(ctx)
			for _, a := range list {
				if k := alertKey(a); a.State == v1.AlertStateFiring || (a.State == v1.AlertStatePending && d.alerts[k] == "") {
					d.alerts[k] = string(a.State)
				}
			}
			return err
		},
		func() error {
			m, err := prom.QueryRange(ctx, q.spark, v1.Range{Start: now.Add(-rng), End: now, Step: step})
			d.spark = matrix(m)
			return err
		})
	return d, err
}

// overviewPromQL are the overview's three PromQL queries.
type overviewPromQL struct{ burn, budget, spark string }

// overviewQueries selects only what the overview shows, every SLO at once, each a read
// of series slokit's rules record (no function to evaluate, no aggregation: Prometheus
// only looks the series up and writes them out; several sources of one SLO are merged
// here, keeping the worst value): the burn rates over the tiers' windows, the budgets,
// and for the sparklines the fastest tier's long-window burn rate sampled at each of
// about 40 steps. A window as long as that tier's (1h by default, against 90s steps for
// the default hour) moves slowly: sampling it shows what a sparkline can, at a quarter
// of the Prometheus CPU of max_over_time per step (and aggregating by SLO in a range
// query cost four times as much again).
func overviewQueries(c *catalog) overviewPromQL {
	tierWindows := c.windows(func(e *entry) []string {
		var ws []string
		for _, t := range e.Tiers {
			ws = append(ws, t.Long, t.Short)
		}
		return ws
	})
	spark := c.windows(func(e *entry) []string { return []string{e.sparkWindow()} })
	return overviewPromQL{
		burn:   slo.MetricBurnRate + "{" + windowMatcher(tierWindows) + "}",
		budget: slo.MetricBudgetRemaining,
		spark:  slo.MetricBurnRate + "{" + windowMatcher(spark) + "}",
	}
}

// windowMatcher selects the windows ws: an equality for one, a regular expression of
// alternatives (which Prometheus looks up as a set) for several.
func windowMatcher(ws []string) string {
	if len(ws) == 1 {
		return slo.LabelWindow + "=" + strconv.Quote(ws[0])
	}
	return slo.LabelWindow + "=~" + strconv.Quote(strings.Join(ws, "|"))
}

// sparkStep divides rng into about 40 steps of whole seconds.
func sparkStep(rng time.Duration) time.Duration {
	return max(time.Second, (rng / 40).Round(time.Second))
}

// matrix indexes a range result by service, SLO and window. Where several sources
// report one series, the highest value at each step is kept.
func matrix(m []Series) map[string][]Point {
	out := make(map[string][]Point, len(m))
	for _, ss := range m {
		k := labelsKey(ss.Labels)
		if prev, ok := out[k]; ok {
			out[k] = mergeMax(prev, ss.Points)
			continue
		}
		out[k] = ss.Points
	}
	return out
}

// mergeMax merges two series sampled at the same steps, keeping the highest value of
// each step (steps present in either).
func mergeMax(a, b []Point) []Point {
	out := make([]Point, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].T.Before(b[j].T)):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].T.Before(a[i].T):
			out = append(out, b[j])
			j++
		default:
			out = append(out, Point{T: a[i].T, V: max(a[i].V, b[j].V)})
			i, j = i+1, j+1
		}
	}
	return out
}

// buildOverview reads Prometheus (or shares a fresh reading, see Config.MaxAge) and
// builds every row, filtered and sorted.
func (s *Server) buildOverview(ctx context.Context, p OverviewParams) *Overview {
	now := s.now()
	var since map[string]time.Time
	var covErr error
	covDone := make(chan struct{})
	go func() { defer close(covDone); since, covErr = s.readCoverage(ctx) }()
	read, hit, err := s.readOverview(ctx, time.Duration(p.Range))
	<-covDone
	ov := &Overview{GeneratedAt: now, Prometheus: s.cfg.Prometheus, Params: p, Total: len(s.cat.entries),
		Services: s.cat.services(), Teams: s.cat.teams(), SLOs: []Row{}, ReadAt: now, Shared: hit}
	d := overviewData{}
	if read != nil {
		d, ov.Queries, ov.ReadAt, ov.read = read.data, read.queries, read.data.at, read
	}
	if err != nil {
		ov.Error = err.Error()
	}
	if covErr != nil && err == nil {
		ov.CoverageError = covErr.Error()
	}
	d.since = since
	q := strings.ToLower(strings.TrimSpace(p.Q))
	for _, e := range s.cat.entries {
		if !e.matches(q) || (p.Service != "" && e.O.Service != p.Service) || (p.Team != "" && e.Team != p.Team) {
			continue
		}
		r := newRow(e, d)
		if p.State != "" && r.State != p.State {
			continue
		}
		ov.SLOs = append(ov.SLOs, r)
	}
	sortRows(ov.SLOs, p.Sort)
	return ov
}

// readOverview reads what the overview shows for the sparklines' range rng, once per
// Config.MaxAge whatever the number of requests.
func (s *Server) readOverview(ctx context.Context, rng time.Duration) (*cacheEntry, bool, error) {
	return s.reads.get(ctx, "overview "+rng.String(), s.cfg.MaxAge, func(ctx context.Context) (overviewData, int, error) {
		prom := &counted{Prom: s.prom}
		now := s.now()
		d, err := s.fetchOverview(ctx, prom, now, rng)
		d.at = now
		return d, int(prom.n.Load()), err
	})
}

func ptr(m map[string]float64, k string) *float64 {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}

func newRow(e *entry, d overviewData) Row {
	o := e.O
	r := Row{Service: o.Service, SLO: o.Name, Team: e.Team, Description: o.Description, Objective: o.Target,
		Period: e.periodText(), SparkWindow: e.sparkWindow(), URL: sloURL(o.Service, o.Name), e: e,
		BudgetRemaining: ptr(d.budget, seriesKey(o.Service, o.Name, "")), Tiers: []TierState{},
		BudgetCoverage: coverageOf(e, d.since, cmp.Or(d.at, time.Now()))}
	r.Spark = d.spark[seriesKey(o.Service, o.Name, r.SparkWindow)]
	data := r.BudgetRemaining != nil
	alerting := ""
	for _, t := range e.Tiers {
		ts := TierState{Tier: t.Name, Long: t.Long, Short: t.Short, Threshold: t.W.BurnRate,
			LongBurn:  ptr(d.burn, seriesKey(o.Service, o.Name, t.Long)),
			ShortBurn: ptr(d.burn, seriesKey(o.Service, o.Name, t.Short)), Alert: "inactive"}
		if st := d.alerts[seriesKey(o.Service, o.Name, t.Long)]; st != "" {
			ts.Alert = st
			if alerting != stateFiring {
				alerting = st
			}
		}
		if ts.LongBurn != nil {
			data = true
			if r.Burn == nil || *ts.LongBurn > *r.Burn {
				r.Burn = ts.LongBurn
			}
		}
		r.Tiers = append(r.Tiers, ts)
	}
	switch {
	case alerting != "":
		r.State = alerting
	case !data:
		r.State = stateNoData
	default:
		r.State = stateOK
	}
	return r
}

// sortRows orders rows by key; rows without data go last under budget and burn.
func sortRows(rows []Row, key string) {
	name := func(a, b Row) int { return strings.Compare(a.Service+"/"+a.SLO, b.Service+"/"+b.SLO) }
	nilsLast := func(a, b *float64, less func(x, y float64) bool) (int, bool) {
		switch {
		case a == nil && b == nil:
			return 0, false
		case a == nil:
			return 1, true
		case b == nil:
			return -1, true
		case *a != *b:
			if less(*a, *b) {
				return -1, true
			}
			return 1, true
		}
		return 0, false
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		var c int
		switch key {
		case "budget":
			c, _ = nilsLast(a.BudgetRemaining, b.BudgetRemaining, func(x, y float64) bool { return x < y })
		case "burn":
			c, _ = nilsLast(a.Burn, b.Burn, func(x, y float64) bool { return x > y })
		case "team":
			c = strings.Compare(a.Team, b.Team)
		case "name":
			c = strings.Compare(a.SLO, b.SLO)
		}
		if c == 0 {
			c = name(a, b)
		}
		return c < 0
	})
}

func sloURL(service, name string) string {
	return "/slo/" + url.PathEscape(service) + "/" + url.PathEscape(name)
}

// SparkSVG draws a row's sparkline over the page's range.
func (o *Overview) SparkSVG(r Row) template.HTML {
	th := 0.0
	if len(r.e.Tiers) > 0 {
		th = r.e.Tiers[0].W.BurnRate
	}
	rng := time.Duration(o.Params.Range)
	label := fmt.Sprintf("burn rate over %s in the last %s", r.SparkWindow, model.Duration(rng))
	return sparkline(label, r.Spark, o.ReadAt.Add(-rng), o.ReadAt, th)
}

// runAll runs jobs concurrently and joins their errors; a job that panics fails with
// the panic's value instead of taking the server down.
func runAll(jobs ...func() error) error {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("internal error while reading Prometheus: %v", v)
				}
			}()
			errs[i] = j()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
