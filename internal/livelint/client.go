// Package livelint checks SLO specs against a running Prometheus (slokit validate
// --prometheus): every selector returns series, the latency threshold is a bucket that
// exists, the histogram is of the declared kind, and the real scrape interval suits the
// windows. It is an adapter over the Prometheus HTTP API; slo owns what the spec means.
package livelint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Client reads the Prometheus HTTP API (/api/v1) of one server, or of anything serving
// it (Thanos, Mimir).
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a Client for the server at rawURL (like http://127.0.0.1:9090). A nil
// hc means http.DefaultClient; deadlines come from the context of each call.
func NewClient(rawURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--prometheus %q: want an http(s) URL like http://127.0.0.1:9090", rawURL)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(rawURL, "/"), hc: hc}, nil
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.base }

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Target is one active scrape target.
type Target struct {
	Labels         map[string]string
	ScrapeInterval time.Duration
	Health         string
}

// get calls GET /api/v1/<path>?params and decodes the response's data into out.
func (c *Client) get(ctx context.Context, path string, params url.Values, out any) error {
	u := c.base + "/api/v1/" + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("prometheus %s did not answer in time (GET /api/v1/%s): %w", c.base, path, ctx.Err())
		}
		return fmt.Errorf("prometheus %s is unreachable: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("prometheus %s: reading /api/v1/%s: %w", c.base, path, err)
	}
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("prometheus %s: /api/v1/%s answered HTTP %d, not the Prometheus API (%.80q)", c.base, path, resp.StatusCode, body)
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus %s: /api/v1/%s: %s: %s", c.base, path, env.ErrorType, env.Error)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("prometheus %s: /api/v1/%s: %w", c.base, path, err)
	}
	return nil
}

// Version returns the server's version from /api/v1/status/buildinfo; it is also the
// reachability check run first.
func (c *Client) Version(ctx context.Context) (string, error) {
	var bi struct {
		Version string `json:"version"`
	}
	err := c.get(ctx, "status/buildinfo", nil, &bi)
	return bi.Version, err
}

// Query evaluates an instant query at the server's current time; the result must be a
// vector.
func (c *Client) Query(ctx context.Context, q string) ([]Sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := c.get(ctx, "query", url.Values{"query": {q}}, &data); err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: got a %s, want a vector", q, data.ResultType)
	}
	out := make([]Sample, 0, len(data.Result))
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: sample value %q: %w", q, s, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// Timestamps evaluates a range-vector selector (like x{a="b"}[10m]) at the server's
// current time and returns each series' sample timestamps.
func (c *Client) Timestamps(ctx context.Context, rangeSel string) ([][]time.Time, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := c.get(ctx, "query", url.Values{"query": {rangeSel}}, &data); err != nil {
		return nil, fmt.Errorf("query %s: %w", rangeSel, err)
	}
	if data.ResultType != "matrix" {
		return nil, fmt.Errorf("query %s: got a %s, want a matrix", rangeSel, data.ResultType)
	}
	out := make([][]time.Time, 0, len(data.Result))
	for _, r := range data.Result {
		ts := make([]time.Time, 0, len(r.Values))
		for _, v := range r.Values {
			f, _ := v[0].(float64)
			ts = append(ts, time.UnixMilli(int64(math.Round(f*1000))))
		}
		out = append(out, ts)
	}
	return out, nil
}

// LabelValues returns the values label takes among the series matching match over the
// last lookback.
func (c *Client) LabelValues(ctx context.Context, label, match string, lookback time.Duration) ([]string, error) {
	now := time.Now()
	var vs []string
	err := c.get(ctx, "label/"+url.PathEscape(label)+"/values", url.Values{
		"match[]": {match},
		"start":   {strconv.FormatInt(now.Add(-lookback).Unix(), 10)},
		"end":     {strconv.FormatInt(now.Unix(), 10)},
	}, &vs)
	return vs, err
}

// Targets returns the active scrape targets with their scrape intervals.
func (c *Client) Targets(ctx context.Context) ([]Target, error) {
	var data struct {
		Active []struct {
			Labels         map[string]string `json:"labels"`
			ScrapeInterval string            `json:"scrapeInterval"`
			Health         string            `json:"health"`
		} `json:"activeTargets"`
	}
	if err := c.get(ctx, "targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	out := make([]Target, 0, len(data.Active))
	for _, t := range data.Active {
		d, _ := model.ParseDuration(t.ScrapeInterval) // absent in old servers: 0, unknown
		out = append(out, Target{Labels: t.Labels, ScrapeInterval: time.Duration(d), Health: t.Health})
	}
	return out, nil
}
