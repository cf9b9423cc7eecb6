package lab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

// TestLabServesPrometheusAPI scrapes a real client_golang registry over HTTP, evaluates
// a recording and an alerting rule, and reads everything back with client_golang's own
// API client, unchanged.
func TestLabServesPrometheusAPI(t *testing.T) {
	target := demoTarget(t)
	l, err := New(Config{
		Targets:        []Target{{URL: target + "/metrics", Job: "demo"}},
		ScrapeInterval: 100 * time.Millisecond,
		Groups:         demoRules(),
	})
	if err != nil {
		t.Fatal(err)
	}
	startLab(t, l)

	resp, err := http.Get(l.URL() + "/-/ready")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/-/ready: %v %v", resp, err)
	}
	resp.Body.Close()

	c, err := api.NewClient(api.Config{Address: l.URL()})
	if err != nil {
		t.Fatal(err)
	}
	papi := v1.NewAPI(c)
	// Wait (bounded) until the alert fires; no timing is asserted.
	var firing []v1.Alert
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := papi.Alerts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		firing = firing[:0]
		for _, a := range res.Alerts {
			if a.State == v1.AlertStateFiring {
				firing = append(firing, a)
			}
		}
		if len(firing) > 0 {
			break
		}
	}
	if len(firing) != 1 {
		t.Fatalf("firing alerts = %+v, want DemoErrors", firing)
	}
	a := firing[0]
	if a.Labels["alertname"] != "DemoErrors" || a.Labels["severity"] != "page" || a.Annotations["summary"] != "errors" || a.ActiveAt.IsZero() {
		t.Errorf("alert = %+v", a)
	}

	// The ratio settles once the 1s window holds a full second of scrapes; a loaded
	// machine may need a few evaluations for that, so poll (bounded) before judging.
	var v model.Value
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		v, _, _, err = papi.Query(context.Background(), "demo:error:ratio", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		vec, ok := v.(model.Vector)
		if ok && len(vec) == 1 && vec[0].Value >= 0.2 && vec[0].Value <= 0.3 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("demo:error:ratio = %v, want about 0.25 (1 error in 4 requests)", v)
			break
		}
	}
	v, _, _, err = papi.Query(context.Background(), `up{job="demo"}`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if vec, ok := v.(model.Vector); !ok || len(vec) != 1 || vec[0].Value != 1 {
		t.Errorf("up = %v, want 1", v)
	}
	// The last second must hold scrapes: poll (bounded) until the lab has run that long.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		now := time.Now()
		m, _, _, err := papi.QueryRange(context.Background(), `demo_requests_total{code="500"}`, v1.Range{Start: now.Add(-time.Second), End: now, Step: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if mat, ok := m.(model.Matrix); ok && len(mat) == 1 && len(mat[0].Values) >= 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("range query = %v, want one series with about 10 points", m)
			break
		}
	}
	if _, _, _, err := papi.Query(context.Background(), "rate(", time.Now()); err == nil {
		t.Error("a bad query did not fail")
	}
}

// demoTarget serves a client_golang registry whose request counter keeps growing with
// one error in four requests, until the test ends; it returns the server's URL.
func demoTarget(t *testing.T) string {
	reg := prometheus.NewRegistry()
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "demo_requests_total", Help: "requests"}, []string{"code"})
	reg.MustRegister(errs)
	errs.WithLabelValues("200").Add(0)
	errs.WithLabelValues("500").Add(0) // both series start together, so their windows match
	target := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.Cleanup(target.Close)
	// Keep errors coming while the test runs.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				errs.WithLabelValues("500").Inc()
				errs.WithLabelValues("200").Add(3)
			}
		}
	}()

	return target.URL
}

func demoRules() []slo.RuleGroup {
	return []slo.RuleGroup{{Name: "demo", Rules: []slo.Rule{
		{Record: "demo:error:ratio", Expr: `sum(rate(demo_requests_total{code="500"}[1s])) / sum(rate(demo_requests_total[1s]))`},
		{Alert: "DemoErrors", Expr: `demo:error:ratio > 0.1`, Labels: map[string]string{"severity": "page"},
			Annotations: map[string]string{"summary": "errors"}},
	}}}
}

// startLab runs l until the test ends.
func startLab(t *testing.T, l *Lab) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestLabSendsAlertsToAlertmanager forwards the demo alert to the Debian Alertmanager
// and reads it back from Alertmanager's own API.
func TestLabSendsAlertsToAlertmanager(t *testing.T) {
	am := testutil.StartAlertmanager(t, "route:\n  receiver: none\nreceivers:\n  - name: none\n")
	l, err := New(Config{
		Targets:         []Target{{URL: demoTarget(t) + "/metrics", Job: "demo"}},
		ScrapeInterval:  100 * time.Millisecond,
		Groups:          demoRules(),
		AlertmanagerURL: am.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	startLab(t, l)
	var got []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(am.URL + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			break
		}
	}
	if len(got) != 1 || got[0].Labels["alertname"] != "DemoErrors" || got[0].Labels["severity"] != "page" || got[0].Status.State != "active" {
		t.Errorf("Alertmanager holds %+v, want the active DemoErrors alert", got)
	}
}
