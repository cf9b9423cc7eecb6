package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Prom is the part of the Prometheus HTTP API the pages read. Every page asks a fixed
// number of these, whatever the number of SLOs: series are selected by metric name and
// slokit's labels, never one query per SLO.
type Prom interface {
	Query(ctx context.Context, q string, t time.Time) ([]Sample, error)
	QueryRange(ctx context.Context, q string, r v1.Range) ([]Series, error)
	Alerts(ctx context.Context) ([]v1.Alert, error)
}

// Labels are the labels the pages read from a series (names from slo/names.go and
// Prometheus' ALERTS); others are skipped while decoding, which keeps a page of 1,000
// SLOs cheap.
type Labels struct {
	Service    string `json:"slokit_service"`
	SLO        string `json:"slokit_slo"`
	Window     string `json:"slokit_window"`
	AlertName  string `json:"alertname"`
	AlertState string `json:"alertstate"`
	Severity   string `json:"severity"`
}

// Sample is one series' value at an instant.
type Sample struct {
	Labels Labels
	V      float64
}

// Series is one series over a range.
type Series struct {
	Labels Labels
	Points []Point
}

// promClient reads the Prometheus HTTP API: queries with a decoder that keeps only
// Labels, alerts with client_golang.
type promClient struct {
	api  v1.API
	url  string
	http *http.Client
}

func newPromClient(base string) (*promClient, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %q must be an absolute http(s) URL", base)
	}
	c, err := api.NewClient(api.Config{Address: base})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", base, err)
	}
	return &promClient{api: v1.NewAPI(c), url: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

var fastJSON = jsoniter.ConfigFastest

// apiResult is the envelope of /api/v1/query and /api/v1/query_range.
type apiResult struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric Labels   `json:"metric"`
			Value  [2]any   `json:"value"`
			Values [][2]any `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func (p *promClient) get(ctx context.Context, path string, v url.Values, want string) (*apiResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path+"?"+v.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r apiResult
	if err := fastJSON.Unmarshal(body, &r); err != nil || r.Status == "" {
		return nil, fmt.Errorf("HTTP %s from %s: not a Prometheus API answer", resp.Status, p.url+path)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	if r.Data.ResultType != want {
		return nil, fmt.Errorf("want a %s, got a %s", want, r.Data.ResultType)
	}
	return &r, nil
}

func (p *promClient) Query(ctx context.Context, q string, t time.Time) ([]Sample, error) {
	r, err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}, "time": {apiTime(t)}}, "vector")
	if err != nil {
		return nil, fmt.Errorf("query %s at %s: %w", q, p.url, err)
	}
	out := make([]Sample, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		if v, ok := pairValue(s.Value); ok {
			out = append(out, Sample{Labels: s.Metric, V: v})
		}
	}
	return out, nil
}

func (p *promClient) QueryRange(ctx context.Context, q string, rg v1.Range) ([]Series, error) {
	v := url.Values{"query": {q}, "start": {apiTime(rg.Start)}, "end": {apiTime(rg.End)},
		"step": {strconv.FormatFloat(rg.Step.Seconds(), 'f', -1, 64)}}
	r, err := p.get(ctx, "/api/v1/query_range", v, "matrix")
	if err != nil {
		return nil, fmt.Errorf("range query %s at %s: %w", q, p.url, err)
	}
	out := make([]Series, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		pts := make([]Point, 0, len(s.Values))
		for _, pv := range s.Values {
			ts, ok1 := pv[0].(float64)
			if v, ok2 := pairValue(pv); ok1 && ok2 {
				pts = append(pts, Point{T: time.UnixMilli(int64(ts * 1000)).UTC(), V: v})
			}
		}
		out = append(out, Series{Labels: s.Metric, Points: pts})
	}
	return out, nil
}

// pairValue reads the value of a [time, "value"] pair; NaN and ±Inf are no data.
func pairValue(p [2]any) (float64, bool) {
	s, ok := p[1].(string)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v || v > 1e308 || v < -1e308 {
		return 0, false
	}
	return v, true
}

func apiTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

func (p *promClient) Alerts(ctx context.Context) ([]v1.Alert, error) {
	res, err := p.api.Alerts(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading alerts from %s: %w", p.url, err)
	}
	return res.Alerts, nil
}

// counted counts the calls one page makes, for the page's footer and the tests that
// hold the number constant.
type counted struct {
	Prom
	n atomic.Int64
}

func (c *counted) Query(ctx context.Context, q string, t time.Time) ([]Sample, error) {
	c.n.Add(1)
	return c.Prom.Query(ctx, q, t)
}

func (c *counted) QueryRange(ctx context.Context, q string, r v1.Range) ([]Series, error) {
	c.n.Add(1)
	return c.Prom.QueryRange(ctx, q, r)
}

func (c *counted) Alerts(ctx context.Context) ([]v1.Alert, error) {
	c.n.Add(1)
	return c.Prom.Alerts(ctx)
}
