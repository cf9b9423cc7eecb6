package sli_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slokit/slokit/sli"
)

// fakeRecorder keeps every observation.
type fakeRecorder struct {
	mu      sync.Mutex
	started int
	obs     []sli.Observation
}

func (f *fakeRecorder) Started() { f.mu.Lock(); f.started++; f.mu.Unlock() }
func (f *fakeRecorder) Done(_ context.Context, o sli.Observation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obs = append(f.obs, o)
}

func (f *fakeRecorder) last(t *testing.T) sli.Observation {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.obs) == 0 || f.started != len(f.obs) {
		t.Fatalf("started %d, done %d: want equal and > 0", f.started, len(f.obs))
	}
	return f.obs[len(f.obs)-1]
}

func TestHandlerStatusCode(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    int
	}{
		{"explicit status", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }, 418},
		{"implicit 200 on write", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("x")) }, 200},
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 200},
		{"first status wins", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.WriteHeader(http.StatusOK)
		}, 503},
		{"informational before final", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, 201},
		{"flush implies 200", func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Flusher).Flush()
			w.WriteHeader(http.StatusInternalServerError)
		}, 200},
		{"read from", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader("body"))
		}, 200},
		{"error helper", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) }, 502},
		{"redirect helper", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://example.com/", http.StatusFound)
		}, 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			h := sli.Handler(rec, tt.handler)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
			got := rec.last(t)
			if got.Code != tt.want {
				t.Errorf("code = %d, want %d", got.Code, tt.want)
			}
			// httptest.ResponseRecorder keeps the first 1xx, a real client does not.
			if w.Code != tt.want && w.Code >= 200 {
				t.Errorf("client saw %d, want %d (the wrapper must pass the status through)", w.Code, tt.want)
			}
		})
	}
}

func TestHandlerPanicCountsAs500(t *testing.T) {
	rec := &fakeRecorder{}
	h := sli.Handler(rec, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the handler's panic to propagate", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	if got := rec.last(t); got.Code != 500 {
		t.Errorf("code = %d, want 500", got.Code)
	}
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/"+r.PathValue("code"), http.StatusFound)
	})
	mux.HandleFunc("POST /api/v1/links", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/api/v1/links/{code}", func(w http.ResponseWriter, _ *http.Request) {})
	return mux
}

func TestRoutePattern(t *testing.T) {
	tests := []struct {
		method, path string
		route        string
		code         int
	}{
		{"GET", "/abc123", "GET /{code}", 302},
		{"HEAD", "/abc123", "GET /{code}", 302},
		{"POST", "/api/v1/links", "POST /api/v1/links", 201},
		{"DELETE", "/api/v1/links/xyz", "/api/v1/links/{code}", 200},
		{"PROPFIND", "/api/v1/links/xyz", "/api/v1/links/{code}", 200},
		{"GET", "/a/b/c", sli.UnmatchedRoute, 404},
		{"PUT", "/abc", sli.UnmatchedRoute, 405},
	}
	wantMethod := map[string]string{"PROPFIND": sli.OtherMethod}
	t.Run("wrapping the mux", func(t *testing.T) {
		rec := &fakeRecorder{}
		h := sli.Handler(rec, newMux())
		for _, tt := range tests {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.path, nil))
			m := tt.method
			if w, ok := wantMethod[m]; ok {
				m = w
			}
			want := sli.Observation{Route: tt.route, Method: m, Code: tt.code}
			got := rec.last(t)
			got.Duration = 0
			if got != want {
				t.Errorf("%s %s: got %+v, want %+v", tt.method, tt.path, got, want)
			}
		}
	})
	t.Run("wrapping each handler", func(t *testing.T) {
		rec := &fakeRecorder{}
		mux := http.NewServeMux()
		mux.Handle("GET /{code}", sli.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusFound)
		})))
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/abc", nil))
		want := sli.Observation{Route: "GET /{code}", Method: "GET", Code: 302}
		got := rec.last(t)
		got.Duration = 0
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

func TestDurationMeasured(t *testing.T) {
	rec := &fakeRecorder{}
	h := sli.Handler(rec, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(20 * time.Millisecond) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if d := rec.last(t).Duration; d < 20*time.Millisecond {
		t.Errorf("duration %v, want at least the handler's 20ms", d)
	}
}

// TestOptionalInterfacesOnRealServer checks that a handler behind the middleware can still
// stream, set deadlines and hijack on a real net/http server.
func TestOptionalInterfacesOnRealServer(t *testing.T) {
	rec := &fakeRecorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, _ *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("wrapped writer is not an http.Flusher")
		}
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
		_, _ = io.WriteString(w, "one\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		_, _ = io.WriteString(w, "two\n")
	})
	mux.HandleFunc("GET /upgrade", func(w http.ResponseWriter, _ *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nhello")
		_ = brw.Flush()
	})
	srv := httptest.NewServer(sli.Handler(rec, mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "one\ntwo\n" {
		t.Errorf("stream body %q", body)
	}
	waitObs(t, rec, 1)
	if got := rec.last(t); got.Route != "GET /stream" || got.Code != 200 {
		t.Errorf("stream observation %+v", got)
	}

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != 101 {
		t.Errorf("upgrade status %d", r.StatusCode)
	}
	waitObs(t, rec, 2)
	if got := rec.last(t); got.Route != "GET /upgrade" || got.Code != 101 {
		t.Errorf("hijack observation %+v", got)
	}
}

func waitObs(t *testing.T, rec *fakeRecorder, n int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		rec.mu.Lock()
		got := len(rec.obs)
		rec.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("want %d observations", n)
}

// discardWriter is a ResponseWriter that allocates nothing.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func TestHandlerAllocatesNothing(t *testing.T) {
	h := sli.Handler(sli.Nop{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusFound)
	}))
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest("GET", "/abc", nil)
	r.Pattern = "GET /{code}"
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }); n != 0 {
		t.Errorf("allocs per request = %v, want 0", n)
	}
}

func TestNormalizeMethod(t *testing.T) {
	for in, want := range map[string]string{
		"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT", "PATCH": "PATCH",
		"DELETE": "DELETE", "CONNECT": "CONNECT", "OPTIONS": "OPTIONS", "TRACE": "TRACE",
		"get": sli.OtherMethod, "BREW": sli.OtherMethod, "": sli.OtherMethod,
	} {
		if got := sli.NormalizeMethod(in); got != want {
			t.Errorf("NormalizeMethod(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultBucketsAscendingWithThresholds(t *testing.T) {
	b := sli.DefaultBuckets()
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("buckets not ascending: %v", b)
		}
	}
	for _, th := range []float64{0.1, 0.25, 0.5, 1} {
		found := false
		for _, v := range b {
			found = found || v == th
		}
		if !found {
			t.Errorf("DefaultBuckets() lacks the %vs threshold", th)
		}
	}
	b[0] = 42
	if sli.DefaultBuckets()[0] == 42 {
		t.Error("DefaultBuckets shares its slice with callers")
	}
}
