package serve

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Prom is the part of the Prometheus HTTP API the pages read. Every page asks a fixed
// number of these, whatever the number of SLOs: series are selected by metric name and
// slokit's labels, never one query per SLO.
type Prom interface {
	Query(ctx context.Context, q string, t time.Time) (model.Vector, error)
	QueryRange(ctx context.Context, q string, r v1.Range) (model.Matrix, error)
	Alerts(ctx context.Context) ([]v1.Alert, error)
}

// promClient is Prom over client_golang's API client.
type promClient struct {
	api v1.API
	url string
}

func newPromClient(url string) (*promClient, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", url, err)
	}
	return &promClient{api: v1.NewAPI(c), url: url}, nil
}

func (p *promClient) Query(ctx context.Context, q string, t time.Time) (model.Vector, error) {
	v, _, _, err := p.api.Query(ctx, q, t)
	if err != nil {
		return nil, fmt.Errorf("query %s at %s: %w", q, p.url, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %s at %s: want an instant vector, got %s", q, p.url, v.Type())
	}
	return vec, nil
}

func (p *promClient) QueryRange(ctx context.Context, q string, r v1.Range) (model.Matrix, error) {
	v, _, _, err := p.api.QueryRange(ctx, q, r)
	if err != nil {
		return nil, fmt.Errorf("range query %s at %s: %w", q, p.url, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("range query %s at %s: want a matrix, got %s", q, p.url, v.Type())
	}
	return m, nil
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

func (c *counted) Query(ctx context.Context, q string, t time.Time) (model.Vector, error) {
	c.n.Add(1)
	return c.Prom.Query(ctx, q, t)
}

func (c *counted) QueryRange(ctx context.Context, q string, r v1.Range) (model.Matrix, error) {
	c.n.Add(1)
	return c.Prom.QueryRange(ctx, q, r)
}

func (c *counted) Alerts(ctx context.Context) ([]v1.Alert, error) {
	c.n.Add(1)
	return c.Prom.Alerts(ctx)
}
