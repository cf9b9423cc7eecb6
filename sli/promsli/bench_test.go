package promsli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/otelsli"
	"github.com/slokit/slokit/sli/promsli"
)

// The benchmarks serve GET /abc123 through a ServeMux holding the shortlink patterns,
// behind each instrumentation, into a ResponseWriter that allocates nothing. Run them
// together (see docs/benchmarks.md):
//
//	go test -run '^$' -bench 'Middleware' -benchmem -count 6 ./sli/promsli/

var body = []byte("ok\n")

func benchMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	mux.HandleFunc("POST /api/v1/links", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/api/v1/links/{code}", func(http.ResponseWriter, *http.Request) {})
	return mux
}

// discardExporter drops finished spans; the batch processor in front of it does the
// work a real exporter's pipeline does up to the network.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

func sampledTracer(b *testing.B) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	)
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// withSpan starts a span per request the way any tracing middleware does, so that the
// sli exemplar path has a sampled span to read.
func withSpan(tp trace.TracerProvider, next http.Handler) http.Handler {
	tr := tp.Tracer("bench")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tr.Start(r.Context(), "request")
		next.ServeHTTP(w, r.WithContext(ctx))
		span.End()
	})
}

func promhttpChain(b *testing.B, next http.Handler) http.Handler {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "h"}, []string{"code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "h", Buckets: sli.DefaultBuckets(),
	}, []string{"code", "method"})
	reg.MustRegister(requests, duration)
	return promhttp.InstrumentHandlerCounter(requests, promhttp.InstrumentHandlerDuration(duration, next))
}

func otelhttpHandler(b *testing.B, next http.Handler, tp trace.TracerProvider) http.Handler {
	exp, err := otelprom.New(otelprom.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return otelhttp.NewHandler(next, "shortlink", otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(tp))
}

func sliHandler(b *testing.B, next http.Handler, ex promsli.ExemplarFunc, every time.Duration) http.Handler {
	rec, err := promsli.New(prometheus.NewRegistry(), promsli.Config{Service: "shortlink", Exemplar: ex, ExemplarInterval: every})
	if err != nil {
		b.Fatal(err)
	}
	return sli.Handler(rec, next)
}

type benchCase struct {
	name string
	h    func(b *testing.B) http.Handler
}

func benchCases() []benchCase {
	return []benchCase{
		{"bare", func(*testing.B) http.Handler { return benchMux() }},
		{"promhttp", func(b *testing.B) http.Handler { return promhttpChain(b, benchMux()) }},
		{"otelhttp", func(b *testing.B) http.Handler { return otelhttpHandler(b, benchMux(), noop.NewTracerProvider()) }},
		{"sli", func(b *testing.B) http.Handler { return sliHandler(b, benchMux(), otelsli.TraceExemplar, 0) }},
		// With sampled tracing: the span costs the same in each; otelhttp starts its own.
		{"bare+span", func(b *testing.B) http.Handler { return withSpan(sampledTracer(b), benchMux()) }},
		{"otelhttp+tracing", func(b *testing.B) http.Handler { return otelhttpHandler(b, benchMux(), sampledTracer(b)) }},
		// Exemplars at most once a second per bucket (the default), and on every request.
		{"sli+span", func(b *testing.B) http.Handler {
			return withSpan(sampledTracer(b), sliHandler(b, benchMux(), otelsli.TraceExemplar, 0))
		}},
		{"sli+span-every", func(b *testing.B) http.Handler {
			return withSpan(sampledTracer(b), sliHandler(b, benchMux(), otelsli.TraceExemplar, -1))
		}},
	}
}

// cpuTime is the CPU time this process has used. On a shared machine wall time per op
// includes the time other processes held the CPU; CPU time per op does not, so the
// benchmarks report both (cpu-ns/op).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkMiddleware(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			h := c.h(b)
			w := &discardWriter{h: http.Header{}}
			r := httptest.NewRequest(http.MethodGet, "/abc123", nil)
			h.ServeHTTP(w, r)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				h.ServeHTTP(w, r)
			}
			reportCPU(b, cpu)
		})
	}
}

func BenchmarkMiddlewareParallel(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			h := c.h(b)
			h.ServeHTTP(&discardWriter{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/abc123", nil))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				r := httptest.NewRequest(http.MethodGet, "/abc123", nil)
				for pb.Next() {
					h.ServeHTTP(w, r)
				}
			})
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkRecorder is the recorder alone, without ServeMux or handler.
func BenchmarkRecorder(b *testing.B) {
	rec, err := promsli.New(prometheus.NewRegistry(), promsli.Config{Service: "shortlink", Exemplar: otelsli.TraceExemplar})
	if err != nil {
		b.Fatal(err)
	}
	h := sli.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/abc123", nil)
	r.Pattern = "GET /{code}"
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, r)
	}
	reportCPU(b, cpu)
}
