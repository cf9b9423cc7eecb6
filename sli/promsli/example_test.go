package promsli_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/otelsli"
	"github.com/slokit/slokit/sli/promsli"
)

// Instrument a ServeMux: wrap the whole mux once, and every request is recorded under
// the pattern that matched it.
func Example() {
	reg := prometheus.NewRegistry()
	rec, err := promsli.New(reg, promsli.Config{
		Service:  "shortlink",
		Exemplar: otelsli.TraceExemplar, // trace IDs on latency buckets when a span is sampled
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/", http.StatusFound)
	})
	handler := sli.Handler(rec, mux)
	// Serve it: http.ListenAndServe("127.0.0.1:8080", handler), with /metrics on an
	// admin listener: promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).
	for _, path := range []string{"/abc", "/xyz", "/a/b"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if strings.HasPrefix(line, sli.MetricRequests) {
			fmt.Println(line)
		}
	}
	// Output:
	// http_requests_total{code="302",method="GET",route="GET /{code}",service="shortlink"} 2
	// http_requests_total{code="404",method="GET",route="unmatched",service="shortlink"} 1
}
