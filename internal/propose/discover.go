package propose

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Prometheus is what propose asks a Prometheus server (or anything serving its HTTP
// API: Thanos, Mimir).
type Prometheus interface {
	// LabelValues returns the values of label among the series matching match ("" for
	// all) that had samples between start and end.
	LabelValues(ctx context.Context, label, match string, start, end time.Time) ([]string, error)
	// LabelNames returns the label names of the series matching match.
	LabelNames(ctx context.Context, match string, start, end time.Time) ([]string, error)
	// Query evaluates an instant query at t.
	Query(ctx context.Context, q string, t time.Time) (model.Vector, error)
}

// client is Prometheus over the HTTP API.
type client struct{ api v1.API }

var _ Prometheus = client{}

// NewClient returns a Prometheus reading the server at url (like http://127.0.0.1:9090).
func NewClient(url string) (Prometheus, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	return client{api: v1.NewAPI(c)}, nil
}

func matches(match string) []string {
	if match == "" {
		return nil
	}
	return []string{match}
}

func (c client) LabelValues(ctx context.Context, label, match string, start, end time.Time) ([]string, error) {
	vs, _, _, err := c.api.LabelValues(ctx, label, matches(match), start, end)
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out, err
}

func (c client) LabelNames(ctx context.Context, match string, start, end time.Time) ([]string, error) {
	ns, _, _, err := c.api.LabelNames(ctx, matches(match), start, end)
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out, err
}

func (c client) Query(ctx context.Context, q string, t time.Time) (model.Vector, error) {
	v, _, _, err := c.api.Query(ctx, q, t)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s: got a %s, want a vector", q, v.Type())
	}
	return vec, nil
}

// Found is one service's request metrics in one convention.
type Found struct {
	Convention Convention
	// ServiceLabel and Service are the label and value that select the service's series.
	ServiceLabel, Service string
	// CodeLabel holds the response code.
	CodeLabel string
	// Histogram is set when the convention's duration histogram has buckets for the service.
	Histogram bool
}

// Total is the selector of all the service's requests.
func (f Found) Total() string {
	return selector(f.Convention.Requests, mustMatcher(labels.MatchEqual, f.ServiceLabel, f.Service))
}

// Bad is the selector of the service's failed requests.
func (f Found) Bad() string {
	return selector(f.Convention.Requests, mustMatcher(labels.MatchEqual, f.ServiceLabel, f.Service), f.Convention.BadCode(f.CodeLabel))
}

// Discover lists the services whose request metrics, in any of the conventions, had
// samples between start and end, sorted by service then convention.
func Discover(ctx context.Context, p Prometheus, conventions []Convention, start, end time.Time) ([]Found, error) {
	names, err := p.LabelValues(ctx, model.MetricNameLabel, "", start, end)
	if err != nil {
		return nil, fmt.Errorf("listing metric names: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var out []Found
	for _, c := range conventions {
		if !have[c.Requests] {
			continue
		}
		got, err := discoverOne(ctx, p, c, have, start, end)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

func discoverOne(ctx context.Context, p Prometheus, c Convention, have map[string]bool, start, end time.Time) ([]Found, error) {
	lnames, err := p.LabelNames(ctx, c.Requests, start, end)
	if err != nil {
		return nil, fmt.Errorf("labels of %s: %w", c.Requests, err)
	}
	ls := map[string]bool{}
	for _, n := range lnames {
		ls[n] = true
	}
	code, svc := first(c.CodeLabels, ls), first(c.ServiceLabels, ls)
	if code == "" || svc == "" {
		return nil, nil // not this convention after all: no code or no service label
	}
	values, err := p.LabelValues(ctx, svc, c.Requests, start, end)
	if err != nil {
		return nil, fmt.Errorf("values of %s on %s: %w", svc, c.Requests, err)
	}
	var out []Found
	for _, v := range values {
		f := Found{Convention: c, ServiceLabel: svc, Service: v, CodeLabel: code}
		if c.Histogram != "" && have[c.Histogram+"_bucket"] {
			bs, err := p.LabelValues(ctx, svc, c.Histogram+"_bucket", start, end)
			if err != nil {
				return nil, fmt.Errorf("values of %s on %s_bucket: %w", svc, c.Histogram, err)
			}
			f.Histogram = contains(bs, v)
		}
		out = append(out, f)
	}
	return out, nil
}

func first(candidates []string, have map[string]bool) string {
	for _, c := range candidates {
		if have[c] {
			return c
		}
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func sortStrings(xs []string) { sort.Strings(xs) }

// Bucket is one histogram bucket over the history: requests at or under LE.
type Bucket struct {
	// LE is the boundary as the histogram wrote it; Seconds the same in seconds.
	LE      string
	Seconds float64
	Count   float64
}

// History is what a service's metrics say about the past window.
type History struct {
	// Window is how far back the queries looked; Since is the oldest data found in it
	// (zero when the data is younger than the subquery resolution).
	Window time.Duration
	Since  time.Time
	// Total and Bad count requests over the window (increase()).
	Total, Bad float64
	// Buckets are the duration histogram's finite buckets, ascending; nil without one.
	Buckets []Bucket
	// HistTotal is the histogram's count over the window (its +Inf bucket).
	HistTotal float64
}

// ReadHistory queries f's counters over the window ending at end.
func ReadHistory(ctx context.Context, p Prometheus, f Found, window time.Duration, end time.Time) (History, error) {
	h := History{Window: window}
	w := model.Duration(window).String()
	var err error
	if h.Total, err = scalar(ctx, p, fmt.Sprintf("sum(increase(%s[%s]))", f.Total(), w), end); err != nil {
		return h, err
	}
	if h.Bad, err = scalar(ctx, p, fmt.Sprintf("sum(increase(%s[%s]))", f.Bad(), w), end); err != nil {
		return h, err
	}
	// The oldest evaluation step at which the service had data, at 1/500 of the window.
	step := model.Duration(max(window/500, 15*time.Second)).String()
	since, err := scalar(ctx, p, fmt.Sprintf("min_over_time(timestamp(sum(%s))[%s:%s])", f.Total(), w, step), end)
	if err == nil && since > 0 {
		h.Since = time.Unix(0, int64(since*1e9)).UTC()
	}
	if f.Histogram {
		if err := readBuckets(ctx, p, f, w, end, &h); err != nil {
			return h, err
		}
	}
	return h, nil
}

func readBuckets(ctx context.Context, p Prometheus, f Found, w string, end time.Time, h *History) error {
	sel := selector(f.Convention.Histogram+"_bucket", mustMatcher(labels.MatchEqual, f.ServiceLabel, f.Service))
	vec, err := p.Query(ctx, fmt.Sprintf("sum by (le) (increase(%s[%s]))", sel, w), end)
	if err != nil {
		return err
	}
	for _, s := range vec {
		le := string(s.Metric["le"])
		v := float64(s.Value)
		if le == "+Inf" {
			h.HistTotal = v
			continue
		}
		b, ok := parseLE(le)
		if !ok || math.IsNaN(v) {
			continue
		}
		h.Buckets = append(h.Buckets, Bucket{LE: le, Seconds: b * f.Convention.UnitSeconds, Count: v})
	}
	sort.Slice(h.Buckets, func(i, j int) bool { return h.Buckets[i].Seconds < h.Buckets[j].Seconds })
	return nil
}

// scalar runs q and returns its single value; 0 when the result is empty.
func scalar(ctx context.Context, p Prometheus, q string, t time.Time) (float64, error) {
	vec, err := p.Query(ctx, q, t)
	if err != nil {
		return 0, err
	}
	if len(vec) == 0 || math.IsNaN(float64(vec[0].Value)) {
		return 0, nil
	}
	return float64(vec[0].Value), nil
}
