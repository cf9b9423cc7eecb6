// Package sli records request SLIs (route pattern, method, status code, latency and
// in-flight count) from net/http handlers into a Recorder, without allocating.
package sli

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Metric and label names every Recorder emits. They are a contract: SLO specs (the
// shortlink slos.yaml, examples/*.yaml) query exactly these names, and a test pins them.
const (
	// MetricRequests counts finished requests: a counter labelled service, route, method
	// and code.
	MetricRequests = "http_requests_total"
	// MetricDuration is the request latency in seconds: a histogram labelled service,
	// route and method.
	MetricDuration = "http_request_duration_seconds"
	// MetricInFlight is the number of requests being served: a gauge labelled service.
	MetricInFlight = "http_requests_in_flight"

	// LabelService is the service name given to the recorder.
	LabelService = "service"
	// LabelRoute is the ServeMux pattern that matched ("GET /{code}"), or UnmatchedRoute.
	LabelRoute = "route"
	// LabelMethod is the request method, one of the nine standard methods or OtherMethod.
	LabelMethod = "method"
	// LabelCode is the status code the handler wrote ("200", "503").
	LabelCode = "code"
)

// UnmatchedRoute is the route label of requests no ServeMux pattern matched (a 404 from
// the mux, a redirect to a cleaned path) and of handlers wrapped outside any mux.
const UnmatchedRoute = "unmatched"

// OtherMethod is the method label of every request whose method is not one of the nine
// methods of RFC 9110 and RFC 5789, which bounds the label's cardinality.
const OtherMethod = "OTHER"

// DefaultBuckets returns the default latency histogram buckets in seconds. They contain
// every latency threshold slokit's examples use (100ms, 250ms, 500ms, 1s); an SLO's
// threshold must be one of the buckets, so add yours when it is not listed. Each bucket
// adds one series per route and method.
func DefaultBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1, 2.5, 5, 10}
}

// Observation is what the middleware measured for one request.
type Observation struct {
	// Route is the ServeMux pattern that matched the request, or UnmatchedRoute.
	Route string
	// Method is the normalised method (see OtherMethod).
	Method string
	// Code is the status code written, 200 when the handler wrote a body without a
	// header, 500 when it panicked before writing one, 101 when it hijacked the
	// connection without writing one.
	Code int
	// Duration is the time from entering the middleware to the handler's return.
	Duration time.Duration
}

// Recorder receives the measurements of each request. Implementations must be safe for
// concurrent use; on the hot path they should not allocate.
type Recorder interface {
	// Started is called when a request enters the middleware.
	Started()
	// Done is called once per Started call, when the handler returns or panics. ctx is
	// the request's context (for trace exemplars).
	Done(ctx context.Context, o Observation)
}

// Middleware returns a function that wraps handlers with Handler(rec, ·).
func Middleware(rec Recorder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return Handler(rec, next) }
}

// Handler wraps next so that every request it serves is reported to rec.
//
// The route label is the Go 1.22+ ServeMux pattern that matched (http.Request.Pattern),
// never the raw path, so its cardinality is the number of registered patterns. It works
// both when next is a *http.ServeMux (the mux sets the pattern on the request it is given,
// read after it returns) and when next is a handler registered on a mux (the pattern is
// set before). A middleware placed between Handler and the mux that replaces the request
// (r.WithContext, http.StripPrefix) hides the pattern: wrap the handlers then, or put such
// middleware outside Handler.
//
// The ResponseWriter handed to next is pooled and reused once next returns; as net/http
// already requires, handlers must not use it after returning.
func Handler(rec Recorder, next http.Handler) http.Handler {
	if rec == nil {
		panic("sli.Handler: nil Recorder")
	}
	return &handler{rec: rec, next: next, epoch: time.Now()}
}

type handler struct {
	rec  Recorder
	next http.Handler
	// epoch carries a monotonic reading; time.Since(epoch) reads only the monotonic
	// clock, one clock read per timestamp where time.Now reads two.
	epoch time.Time
}

var writerPool = sync.Pool{New: func() any { return new(responseWriter) }}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Since(h.epoch)
	h.rec.Started()
	rw := writerPool.Get().(*responseWriter)
	rw.ResponseWriter = w
	done := false
	defer h.finish(rw, r, start, &done)
	h.next.ServeHTTP(rw, r)
	done = true
}

// finish runs deferred so that a panicking handler is still counted (and in-flight
// decremented); the panic itself continues to net/http.
func (h *handler) finish(rw *responseWriter, r *http.Request, start time.Duration, done *bool) {
	code := rw.code
	switch {
	case code != 0:
	case !*done:
		code = http.StatusInternalServerError
	case rw.hijacked:
		code = http.StatusSwitchingProtocols
	default:
		code = http.StatusOK
	}
	route := r.Pattern
	if route == "" {
		route = UnmatchedRoute
	}
	h.rec.Done(r.Context(), Observation{
		Route:    route,
		Method:   NormalizeMethod(r.Method),
		Code:     code,
		Duration: time.Since(h.epoch) - start,
	})
	*rw = responseWriter{}
	writerPool.Put(rw)
}

// NormalizeMethod returns m when it is one of the nine standard methods, else OtherMethod.
// The returned string is a constant, so recorders may key on it cheaply.
func NormalizeMethod(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodConnect:
		return http.MethodConnect
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodTrace:
		return http.MethodTrace
	}
	return OtherMethod
}

// responseWriter captures the status code. It keeps the optional interfaces of the
// writer it wraps reachable: Flush, Hijack, ReadFrom and Push directly, everything else
// (deadlines, full duplex) through Unwrap and http.ResponseController.
type responseWriter struct {
	http.ResponseWriter
	code     int
	hijacked bool
}

func (w *responseWriter) WriteHeader(code int) {
	// 1xx other than 101 are informational and may precede the final status.
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends buffered data; a writer that cannot flush makes it a no-op, as
// http.Flusher has no way to report failure.
func (w *responseWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection to the handler, or returns http.ErrNotSupported.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, brw, err
}

// ReadFrom lets io.Copy use the wrapped writer's sendfile path when it has one.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, r)
}

// Push initiates an HTTP/2 server push, or returns http.ErrNotSupported.
func (w *responseWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// writerOnly hides ReadFrom so io.Copy does not recurse into it.
type writerOnly struct{ io.Writer }

// Nop is a Recorder that records nothing.
type Nop struct{}

// Started does nothing.
func (Nop) Started() {}

// Done does nothing.
func (Nop) Done(context.Context, Observation) {}

var (
	_ Recorder            = Nop{}
	_ http.Flusher        = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
	_ http.Pusher         = (*responseWriter)(nil)
	_ http.ResponseWriter = (*responseWriter)(nil)
)
