package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

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
// Prometheus' ALERTS); others are skipped while decoding (decodeAnswer), which keeps a
// page of 1,000 SLOs cheap.
type Labels struct {
	Service, SLO, Window            string
	AlertName, AlertState, Severity string
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
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Over loopback, compressing a page's answers (megabytes of JSON for 1,000 SLOs)
	// costs Prometheus CPU and saves nothing.
	tr.DisableCompression = isLoopback(u.Hostname())
	return &promClient{api: v1.NewAPI(c), url: strings.TrimRight(base, "/"),
		http: &http.Client{Timeout: 30 * time.Second, Transport: tr}}, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *promClient) get(ctx context.Context, path string, v url.Values, want string) (*apiAnswer, error) {
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
	a, err := decodeAnswer(body)
	if err != nil || a.Status == "" {
		return nil, fmt.Errorf("HTTP %s from %s: not a Prometheus API answer", resp.Status, p.url+path)
	}
	return a, a.check(want)
}

func (p *promClient) Query(ctx context.Context, q string, t time.Time) ([]Sample, error) {
	a, err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}, "time": {apiTime(t)}}, "vector")
	if err != nil {
		return nil, fmt.Errorf("query %s at %s: %w", q, p.url, err)
	}
	return a.Samples, nil
}

func (p *promClient) QueryRange(ctx context.Context, q string, rg v1.Range) ([]Series, error) {
	v := url.Values{"query": {q}, "start": {apiTime(rg.Start)}, "end": {apiTime(rg.End)},
		"step": {strconv.FormatFloat(rg.Step.Seconds(), 'f', -1, 64)}}
	a, err := p.get(ctx, "/api/v1/query_range", v, "matrix")
	if err != nil {
		return nil, fmt.Errorf("range query %s at %s: %w", q, p.url, err)
	}
	return a.Series, nil
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
