package thanoslab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

var apiClient = &http.Client{Timeout: 10 * time.Second}

// getJSON GETs u and decodes the Prometheus API envelope's data into out; warnings are
// returned beside.
func getJSON(ctx context.Context, u string, out any) (warnings []string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	var env struct {
		Status, Error, ErrorType string
		Data                     json.RawMessage
		Warnings                 []string
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("GET %s: HTTP %s, not the Prometheus API: %.200s", u, resp.Status, body)
	}
	if env.Status != "success" {
		return env.Warnings, fmt.Errorf("GET %s: %s: %s", u, env.ErrorType, env.Error)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return env.Warnings, fmt.Errorf("GET %s: %w", u, err)
		}
	}
	return env.Warnings, nil
}

// healthyStores returns the addresses the Query at u lists in /api/v1/stores with no
// last error.
func healthyStores(ctx context.Context, u string) (map[string]bool, error) {
	var data map[string][]struct {
		Name      string  `json:"name"`
		LastError *string `json:"lastError"`
	}
	if _, err := getJSON(ctx, u+"/api/v1/stores", &data); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, stores := range data {
		for _, s := range stores {
			out[s.Name] = s.LastError == nil || *s.LastError == ""
		}
	}
	return out, nil
}

// Sample is one element of an instant vector.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Result is an instant query's answer through Query.
type Result struct {
	Samples []Sample
	// Warnings are Query's warnings, such as a store that did not answer when the
	// query allowed a partial response.
	Warnings []string
}

// Query evaluates an instant PromQL query through the lab's Thanos Query, deduplicated.
// With partial false, a store that does not answer fails the query (Thanos' abort
// strategy); with partial true, the query answers from the stores that did, with a
// warning.
func (l *Lab) Query(ctx context.Context, q string, partial bool) (Result, error) {
	return QueryAt(ctx, l.QueryURL, q, partial)
}

// QueryAt is Query against the Thanos Query at base (one started by AddQuery).
func QueryAt(ctx context.Context, base, q string, partial bool) (Result, error) {
	v := url.Values{"query": {q}, "dedup": {"true"}, "partial_response": {strconv.FormatBool(partial)}}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	warns, err := getJSON(ctx, base+"/api/v1/query?"+v.Encode(), &data)
	res := Result{Warnings: warns}
	if err != nil {
		return res, err
	}
	if data.ResultType != "vector" {
		return res, fmt.Errorf("query %s: want a vector, got %s", q, data.ResultType)
	}
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return res, fmt.Errorf("query %s: value %v: %w", q, r.Value[1], err)
		}
		res.Samples = append(res.Samples, Sample{Labels: r.Metric, Value: f})
	}
	return res, nil
}

// WaitClusters waits until Query answers `up` for every cluster's job, deduplicated:
// every cluster is scraped and reachable through its sidecar.
func (l *Lab) WaitClusters(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		res, err := l.Query(ctx, fmt.Sprintf("max by (%s) (up)", l.cfg.ClusterLabel), false)
		seen := map[string]bool{}
		for _, s := range res.Samples {
			if s.Value == 1 {
				seen[s.Labels[l.cfg.ClusterLabel]] = true
			}
		}
		missing := 0
		for _, c := range l.cfg.Clusters {
			if !seen[c.Name] {
				missing++
			}
		}
		if err == nil && missing == 0 {
			return nil
		}
		last = fmt.Sprintf("%d of %d clusters up (%v)", len(l.cfg.Clusters)-missing, len(l.cfg.Clusters), err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("thanoslab: clusters not all up through Query after %s: %s", timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Alert is one alert as Thanos Ruler's /api/v1/alerts lists it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
}

// RulerAlerts returns the ruler's pending and firing alerts.
func (l *Lab) RulerAlerts(ctx context.Context) ([]Alert, error) {
	if l.RulerURL == "" {
		return nil, fmt.Errorf("thanoslab: no ruler (no rule files)")
	}
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	if _, err := getJSON(ctx, l.RulerURL+"/api/v1/alerts", &data); err != nil {
		return nil, err
	}
	return data.Alerts, nil
}

// RuleHealth is one rule's state as the ruler's /api/v1/rules reports it.
type RuleHealth struct {
	Group, Name, Health, LastError string
	// PartialResponseStrategy is the group's Thanos strategy ("ABORT" or "WARN").
	PartialResponseStrategy string
}

// RulerRules returns every rule's health, group by group.
func (l *Lab) RulerRules(ctx context.Context) ([]RuleHealth, error) {
	if l.RulerURL == "" {
		return nil, fmt.Errorf("thanoslab: no ruler (no rule files)")
	}
	var data struct {
		Groups []struct {
			Name     string `json:"name"`
			Strategy string `json:"partialResponseStrategy"`
			Rules    []struct {
				Name      string `json:"name"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if _, err := getJSON(ctx, l.RulerURL+"/api/v1/rules", &data); err != nil {
		return nil, err
	}
	var out []RuleHealth
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			out = append(out, RuleHealth{Group: g.Name, Name: r.Name, Health: r.Health, LastError: r.LastError, PartialResponseStrategy: g.Strategy})
		}
	}
	return out, nil
}
