package promsli_test

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/otel/trace"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/otelsli"
	"github.com/slokit/slokit/sli/promsli"
)

func newRecorder(t testing.TB, cfg promsli.Config) (*promsli.Recorder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if cfg.Service == "" {
		cfg.Service = "shortlink"
	}
	rec, err := promsli.New(reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rec, reg
}

// TestExposition pins the metric names, label names, label values and bucket layout that
// SLO specs query (the contract between sli and the slo package).
func TestExposition(t *testing.T) {
	rec, reg := newRecorder(t, promsli.Config{})
	ctx := context.Background()
	for _, o := range []sli.Observation{
		{Route: "GET /{code}", Method: "GET", Code: 302, Duration: 3 * time.Millisecond},
		{Route: "GET /{code}", Method: "GET", Code: 302, Duration: 150 * time.Millisecond},
		{Route: "GET /{code}", Method: "GET", Code: 404, Duration: 2 * time.Millisecond},
		{Route: "GET /{code}", Method: "HEAD", Code: 302, Duration: time.Millisecond},
		{Route: "POST /api/v1/links", Method: "POST", Code: 201, Duration: 40 * time.Millisecond},
		{Route: "POST /api/v1/links", Method: "POST", Code: 503, Duration: 2 * time.Second},
		{Route: sli.UnmatchedRoute, Method: sli.OtherMethod, Code: 405, Duration: time.Millisecond},
	} {
		rec.Started()
		rec.Done(ctx, o)
	}
	rec.Started() // one request still in flight
	golden.Check(t, filepath.Join("testdata", "exposition.golden"), gatherText(t, reg))
}

// gatherText renders the families named (all when none) in the text format.
func gatherText(t *testing.T, g prometheus.Gatherer, names ...string) []byte {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if len(names) > 0 && !slices.Contains(names, mf.GetName()) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestNewRejects(t *testing.T) {
	reg := prometheus.NewRegistry()
	tests := []struct {
		name string
		reg  prometheus.Registerer
		cfg  promsli.Config
		want string
	}{
		{"nil registerer", nil, promsli.Config{Service: "s"}, "promsli: nil Registerer: pass prometheus.NewRegistry() or your registry"},
		{"no service", reg, promsli.Config{}, "promsli: Config.Service is empty: set it to the service label value the SLO specs select"},
		{"unsorted buckets", reg, promsli.Config{Service: "s", Buckets: []float64{0.1, 0.05}}, "promsli: Config.Buckets must be strictly ascending, got [0.1 0.05]"},
		{"bad factor", reg, promsli.Config{Service: "s", NativeHistogramBucketFactor: 0.5}, "promsli: Config.NativeHistogramBucketFactor must be 0 or above 1, got 0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := promsli.New(tt.reg, tt.cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := promsli.New(reg, promsli.Config{Service: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := promsli.New(reg, promsli.Config{Service: "b"}); err != nil {
		t.Errorf("a second service on the same registry: %v", err)
	}
	if _, err := promsli.New(reg, promsli.Config{Service: "a"}); err == nil {
		t.Error("the same service twice on one registry: want a registration error")
	}
}

func TestThroughMiddleware(t *testing.T) {
	rec, reg := newRecorder(t, promsli.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusFound) })
	h := sli.Handler(rec, mux)
	for _, p := range []string{"/a", "/b", "/c", "/x/y"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	want := `# HELP http_requests_in_flight HTTP requests being served.
# TYPE http_requests_in_flight gauge
http_requests_in_flight{service="shortlink"} 0
# HELP http_requests_total HTTP requests served, by route pattern, method and status code.
# TYPE http_requests_total counter
http_requests_total{code="302",method="GET",route="GET /{code}",service="shortlink"} 3
http_requests_total{code="404",method="GET",route="unmatched",service="shortlink"} 1
`
	if got := string(gatherText(t, reg, sli.MetricRequests, sli.MetricInFlight)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if n := len(family(t, reg, sli.MetricDuration).GetMetric()); n != 2 {
		t.Errorf("%d duration series, want 2 (one per route and method)", n)
	}
}

func family(t *testing.T, g prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	t.Fatalf("%s not gathered", name)
	return nil
}

func spanContext(sampled bool) context.Context {
	flags := trace.TraceFlags(0)
	if sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: flags,
	})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func TestTraceExemplar(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		want string // trace_id of the exemplar, "" for none
	}{
		{"sampled span", spanContext(true), "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"unsampled span", spanContext(false), ""},
		{"no span", context.Background(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, reg := newRecorder(t, promsli.Config{Exemplar: otelsli.TraceExemplar})
			rec.Started()
			rec.Done(tt.ctx, sli.Observation{Route: "GET /{code}", Method: "GET", Code: 302, Duration: 42 * time.Millisecond})
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, mf := range mfs {
				if mf.GetName() != sli.MetricDuration {
					continue
				}
				for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
					if ex := b.GetExemplar(); ex != nil {
						if b.GetUpperBound() != 0.05 || ex.GetValue() != 0.042 {
							t.Errorf("exemplar %v in bucket le=%v, want value 0.042 in le=0.05", ex, b.GetUpperBound())
						}
						for _, l := range ex.GetLabel() {
							if l.GetName() == otelsli.TraceIDLabel {
								got = l.GetValue()
							}
						}
					}
				}
			}
			if got != tt.want {
				t.Errorf("exemplar trace_id = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNativeHistogram(t *testing.T) {
	rec, reg := newRecorder(t, promsli.Config{NativeHistogramBucketFactor: 1.1})
	rec.Done(context.Background(), sli.Observation{Route: "GET /{code}", Method: "GET", Code: 200, Duration: time.Millisecond})
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == sli.MetricDuration {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSchema() == 0 && len(h.GetPositiveSpan()) == 0 {
				t.Error("no native histogram data")
			}
			if len(h.GetBucket()) != len(sli.DefaultBuckets()) {
				t.Errorf("%d classic buckets, want %d: SLO specs query the classic ones", len(h.GetBucket()), len(sli.DefaultBuckets()))
			}
			return
		}
	}
	t.Fatal("duration metric missing")
}

// discardWriter is a ResponseWriter that allocates nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func TestHotPathAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	rec, _ := newRecorder(t, promsli.Config{Exemplar: otelsli.TraceExemplar})
	h := sli.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusFound) }))
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/abc", nil)
	r.Pattern = "GET /{code}"
	h.ServeHTTP(w, r) // resolves the series once
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("sequential: %v allocs per request, want 0", n)
	}

	// Concurrent: count every heap allocation the process makes while 4 goroutines serve
	// 20000 requests each; background noise is a few dozen, one per request would be 80000.
	const goroutines, perG = 4, 20000
	var wg sync.WaitGroup
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &discardWriter{h: http.Header{}}
			r := httptest.NewRequest("GET", "/abc", nil)
			r.Pattern = "GET /{code}"
			for i := 0; i < perG; i++ {
				h.ServeHTTP(w, r)
			}
		}()
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	if per := float64(after.Mallocs-before.Mallocs) / (goroutines * perG); per > 0.01 {
		t.Errorf("concurrent: %.3f allocs per request, want 0", per)
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	rec, reg := newRecorder(t, promsli.Config{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				rec.Started()
				rec.Done(context.Background(), sli.Observation{
					Route: []string{"GET /a", "GET /b", "GET /c"}[i%3], Method: "GET", Code: 200 + (i/3)%3, Duration: time.Millisecond})
			}
		}()
	}
	wg.Wait()
	if got := family(t, reg, sli.MetricInFlight).GetMetric()[0].GetGauge().GetValue(); got != 0 {
		t.Errorf("in flight = %v, want 0", got)
	}
	var total float64
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == sli.MetricRequests {
			if len(mf.GetMetric()) != 9 {
				t.Errorf("%d request series, want 9 (3 routes × 3 codes)", len(mf.GetMetric()))
			}
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	if total != 1600 {
		t.Errorf("counted %v requests, want 1600", total)
	}
}

func spanWithID(b byte) context.Context {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{b}, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled})
	return trace.ContextWithSpanContext(context.Background(), sc)
}

// exemplarIDs returns the first byte of the trace ID of each bucket's exemplar, by le.
func exemplarIDs(t *testing.T, reg prometheus.Gatherer) map[float64]string {
	t.Helper()
	out := map[float64]string{}
	for _, b := range family(t, reg, sli.MetricDuration).GetMetric()[0].GetHistogram().GetBucket() {
		if ex := b.GetExemplar(); ex != nil {
			out[b.GetUpperBound()] = ex.GetLabel()[0].GetValue()[:2]
		}
	}
	return out
}

func TestExemplarInterval(t *testing.T) {
	obs := func(rec *promsli.Recorder, id byte, d time.Duration) {
		rec.Done(spanWithID(id), sli.Observation{Route: "GET /{code}", Method: "GET", Code: 302, Duration: d})
	}
	tests := []struct {
		interval time.Duration
		want     map[float64]string
	}{
		// Within the interval a bucket keeps its first exemplar; other buckets get theirs.
		{time.Hour, map[float64]string{0.005: "01", 0.1: "03"}},
		// Negative: every observation replaces its bucket's exemplar.
		{-1, map[float64]string{0.005: "02", 0.1: "03"}},
	}
	for _, tt := range tests {
		rec, reg := newRecorder(t, promsli.Config{Exemplar: otelsli.TraceExemplar, ExemplarInterval: tt.interval})
		obs(rec, 1, time.Millisecond)
		obs(rec, 2, 2*time.Millisecond)
		obs(rec, 3, 80*time.Millisecond)
		if got := exemplarIDs(t, reg); !maps.Equal(got, tt.want) {
			t.Errorf("interval %v: exemplar trace IDs by bucket %v, want %v", tt.interval, got, tt.want)
		}
	}
}
