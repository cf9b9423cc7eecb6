package shortlink

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// discardWriter is a ResponseWriter that allocates nothing, so the benchmark measures
// the service and its instrumentation, not the recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// cpuTime is the process's user+system CPU time. On a shared machine wall time per op
// includes the time other processes held the CPU; CPU time per op does not.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRedirect serves GET /{code} through the whole handler chain (mux, panic
// recovery, store read) bare and with the default sli instrumentation, side by side.
func BenchmarkRedirect(b *testing.B) {
	for _, c := range []struct {
		name       string
		instrument func(Config, *prometheus.Registry) (func(http.Handler) http.Handler, error)
	}{
		{"bare", Uninstrumented},
		{"sli", DefaultInstrument},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(Config{DBPath: filepath.Join(b.TempDir(), "links.db"), Logger: slog.New(slog.DiscardHandler), Instrument: c.instrument})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			l, err := s.store.create(b.Context(), "https://example.com/", time.Now())
			if err != nil {
				b.Fatal(err)
			}
			h := s.Handler()
			req := httptest.NewRequest("GET", "/"+l.Code, nil)
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkRedirectHTTP is BenchmarkRedirect over real loopback HTTP: a keep-alive
// client sends GET /{code} to the server, bare and instrumented, side by side. cpu-ns/op
// is the CPU of client and server together per request (the client's share is the same
// in both cases), so the difference is what instrumentation costs a real server.
func BenchmarkRedirectHTTP(b *testing.B) {
	for _, c := range []struct {
		name       string
		instrument func(Config, *prometheus.Registry) (func(http.Handler) http.Handler, error)
	}{
		{"bare", Uninstrumented},
		{"sli", DefaultInstrument},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(Config{DBPath: filepath.Join(b.TempDir(), "links.db"), Logger: slog.New(slog.DiscardHandler), Instrument: c.instrument})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			l, err := s.store.create(b.Context(), "https://example.com/", time.Now())
			if err != nil {
				b.Fatal(err)
			}
			hs := httptest.NewServer(s.Handler())
			defer hs.Close()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			url := hs.URL + "/" + l.Code
			get := func() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusFound {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			get()
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
