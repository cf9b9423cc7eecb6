package promsli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/otelsli"
	"github.com/slokit/slokit/sli/promsli"
)

// TestRealPrometheusScrape has the Debian Prometheus scrape an instrumented server over
// OpenMetrics (exemplars included) and answers the shortlink SLO selectors with the
// request counts the test sent.
func TestRealPrometheusScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus: skipped with -short")
	}
	testutil.Binary(t, "prometheus")
	reg := prometheus.NewRegistry()
	rec, err := promsli.New(reg, promsli.Config{Service: "shortlink", Exemplar: otelsli.TraceExemplar})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("code") == "boom" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("POST /api/v1/links", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	traced := func(next http.Handler) http.Handler { // a sampled span on every request
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4}, TraceFlags: trace.FlagsSampled})
			next.ServeHTTP(w, r.WithContext(trace.ContextWithSpanContext(r.Context(), sc)))
		})
	}
	app := httptest.NewServer(traced(sli.Handler(rec, mux)))
	defer app.Close()
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	defer metrics.Close()

	send := func(method, path string, n int) {
		for i := 0; i < n; i++ {
			req, _ := http.NewRequest(method, app.URL+path, nil)
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	send("GET", "/abc", 50)
	send("GET", "/boom", 10)
	send("POST", "/api/v1/links", 5)
	send("GET", "/no/such/route", 3)

	// The exposition Prometheus scrapes carries the trace ID as an exemplar.
	req, _ := http.NewRequest("GET", metrics.URL, nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `# {trace_id="01020300000000000000000000000000"}`) {
		t.Errorf("no trace_id exemplar in the OpenMetrics exposition:\n%s", body)
	}

	host := strings.TrimPrefix(metrics.URL, "http://")
	prom := testutil.StartPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s}
scrape_configs:
  - job_name: shortlink
    static_configs: [{targets: [%q]}]
`, host), nil)

	// The shortlink slos.yaml selectors, as the generator wraps them.
	want := map[string]float64{
		`up{job="shortlink"}`: 1,
		`sum(http_requests_total{service="shortlink",route="GET /{code}"})`:                           60,
		`sum(http_requests_total{service="shortlink",route="GET /{code}",code=~"5.."})`:               10,
		`sum(http_requests_total{service="shortlink",route="POST /api/v1/links"})`:                    5,
		`sum(http_requests_total{service="shortlink",route="unmatched",code="404"})`:                  3,
		`sum(http_request_duration_seconds_bucket{service="shortlink",route="GET /{code}",le="0.1"})`: 60,
		`sum(http_request_duration_seconds_count{service="shortlink",route="POST /api/v1/links"})`:    5,
		`http_requests_in_flight{service="shortlink"}`:                                                0,
	}
	deadline := time.Now().Add(30 * time.Second)
	for q, v := range want {
		for {
			got, err := queryScalar(prom.URL, q)
			if err == nil && got == v {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s = %v (%v), want %v", q, got, err, v)
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// queryScalar runs an instant query that returns one sample.
func queryScalar(base, q string) (float64, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("status %s, %d samples", r.Status, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}
