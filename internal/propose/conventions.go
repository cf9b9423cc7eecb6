// Package propose discovers the HTTP and gRPC request metrics a Prometheus holds and
// proposes slokit/v1 SLOs for each service it finds: availability and latency, with
// objectives chosen from the metrics' own history and every choice explained in the
// generated file's comments. `slokit init` is its command line.
package propose

import (
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Convention is one way instrumentation libraries name request metrics.
type Convention struct {
	// Name identifies the convention in comments and SLO names, like "promhttp".
	Name string
	// About says in a few words which libraries follow it.
	About string
	// Kind is "http" or "grpc".
	Kind string
	// Requests is a counter of every request (a histogram's _count counts too).
	Requests string
	// CodeLabels are the label names that may hold the response code, in preference order.
	CodeLabels []string
	// BadCode returns the matcher selecting server errors on the code label.
	BadCode func(label string) *labels.Matcher
	// BadWords describes the bad events for the SLO's description.
	BadWords string
	// Histogram is the base name of the request-duration histogram ("" if none).
	Histogram string
	// UnitSeconds is how many seconds one unit of the histogram is (1, or 0.001 for ms).
	UnitSeconds float64
	// ServiceLabels are the labels naming a service, in preference order.
	ServiceLabels []string
}

// grpcServerErrors are the gRPC codes that mean the server failed the call rather than
// the client asking for something wrong (InvalidArgument, NotFound, …).
var grpcServerErrors = []string{"Unknown", "DeadlineExceeded", "Unimplemented", "Internal", "Unavailable", "DataLoss"}

func mustMatcher(t labels.MatchType, name, value string) *labels.Matcher {
	m, err := labels.NewMatcher(t, name, value)
	if err != nil {
		panic(err) // the conventions' own regexps are constants
	}
	return m
}

func http5xx(label string) *labels.Matcher { return mustMatcher(labels.MatchRegexp, label, "5..") }

// Conventions returns the conventions `slokit init` looks for, in the order it tries them.
func Conventions() []Convention {
	return []Convention{{
		Name: "promhttp", About: "Prometheus client libraries (Go promhttp, slokit's sli)", Kind: "http",
		Requests: "http_requests_total", CodeLabels: []string{"code", "status", "status_code"}, BadCode: http5xx,
		BadWords: "server error (5xx)", Histogram: "http_request_duration_seconds", UnitSeconds: 1,
		ServiceLabels: []string{"service", "app", "job"},
	}, {
		Name: "otelhttp", About: "OpenTelemetry HTTP server metrics (semantic conventions 1.20+)", Kind: "http",
		Requests: "http_server_request_duration_seconds_count", CodeLabels: []string{"http_response_status_code"}, BadCode: http5xx,
		BadWords: "server error (5xx)", Histogram: "http_server_request_duration_seconds", UnitSeconds: 1,
		ServiceLabels: []string{"service_name", "job"},
	}, {
		Name: "otelhttp-ms", About: "OpenTelemetry HTTP server metrics (older semantic conventions, milliseconds)", Kind: "http",
		Requests: "http_server_duration_milliseconds_count", CodeLabels: []string{"http_status_code"}, BadCode: http5xx,
		BadWords: "server error (5xx)", Histogram: "http_server_duration_milliseconds", UnitSeconds: 0.001,
		ServiceLabels: []string{"service_name", "job"},
	}, {
		Name: "grpc", About: "grpc-go server metrics (go-grpc-middleware, go-grpc-prometheus)", Kind: "grpc",
		Requests: "grpc_server_handled_total", CodeLabels: []string{"grpc_code"},
		BadCode: func(label string) *labels.Matcher {
			return mustMatcher(labels.MatchRegexp, label, strings.Join(grpcServerErrors, "|"))
		},
		BadWords:  "server-side gRPC error (" + strings.Join(grpcServerErrors, ", ") + ")",
		Histogram: "grpc_server_handling_seconds", UnitSeconds: 1,
		ServiceLabels: []string{"service", "app", "job"},
	}, {
		Name: "nginx-ingress", About: "ingress-nginx controller, per Ingress", Kind: "http",
		Requests: "nginx_ingress_controller_requests", CodeLabels: []string{"status"}, BadCode: http5xx,
		BadWords: "server error (5xx)", Histogram: "nginx_ingress_controller_request_duration_seconds", UnitSeconds: 1,
		ServiceLabels: []string{"ingress"},
	}, {
		Name: "envoy", About: "Envoy upstream clusters (Istio, Contour, Emissary)", Kind: "http",
		Requests: "envoy_cluster_upstream_rq_xx", CodeLabels: []string{"envoy_response_code_class"},
		BadCode:  func(label string) *labels.Matcher { return mustMatcher(labels.MatchEqual, label, "5") },
		BadWords: "server error (5xx)", Histogram: "envoy_cluster_upstream_rq_time", UnitSeconds: 0.001,
		ServiceLabels: []string{"envoy_cluster_name"},
	}}
}

// selector writes metric{matchers} with the matchers sorted as Prometheus prints them.
func selector(metric string, ms ...*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	sortStrings(parts)
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// parseLE reads a bucket boundary; ok is false for +Inf and junk.
func parseLE(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v > 1e12 {
		return 0, false
	}
	return v, true
}
