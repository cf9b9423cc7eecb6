// Package shortlink is the URL-shortener sample service that slokit's examples, demo and
// game days measure: a JSON API over a bbolt store, instrumented with slokit's sli package.
package shortlink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	bolterrors "go.etcd.io/bbolt/errors"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Route patterns of the API, as the sli middleware labels them and slos.yaml selects them.
const (
	RouteCreate   = "POST /api/v1/links"
	RouteShow     = "GET /api/v1/links/{code}"
	RouteDelete   = "DELETE /api/v1/links/{code}"
	RouteRedirect = "GET /{code}"
)

// Config configures a Server. Every zero value has a documented default.
type Config struct {
	// DBPath is the bbolt file holding the links; created when missing. Required.
	DBPath string
	// ServiceName is the "service" label of the SLI metrics and the trace service name.
	// Empty means "shortlink".
	ServiceName string
	// BaseURL prefixes the short_url of created links, like "https://sho.rt". Empty means
	// "http://" followed by the request's Host header.
	BaseURL string
	// CodeLength is the number of base62 characters of new codes. Zero means 7
	// (62^7 ≈ 3.5e12 codes).
	CodeLength int
	// MaxBodyBytes limits request bodies; larger ones are answered 413. Zero means 4096.
	MaxBodyBytes int64

	// Logger receives the service's logs. Nil means JSON to stderr at level Info through
	// NewLogHandler, which adds trace_id and span_id to records logged with a context.
	Logger *slog.Logger
	// Registry is where the SLI middleware records and what /metrics serves. Nil means a
	// new private registry holding the Go and process collectors too.
	Registry *prometheus.Registry
	// Instrument wraps the router to record request SLIs. Nil means the default
	// instrumentation (DefaultInstrument into Registry); Uninstrumented serves bare.
	Instrument func(Config, *prometheus.Registry) (func(http.Handler) http.Handler, error)
	// TracerProvider, when set, traces every request with otelhttp (W3C trace context
	// propagation). Nil means no tracing and no tracing cost; sample-service/cmd/shortlink builds one from the OTEL_* variables.
	TracerProvider trace.TracerProvider

	// DrainDelay is how long /readyz reports 503 before the listener closes at shutdown,
	// so that load balancers stop sending new requests first. Zero means no delay.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests at shutdown. Zero means 25s.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the http.Server
	// timeouts. Zero means 5s, 10s, 10s and 60s.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes is http.Server.MaxHeaderBytes. Zero means 16 KiB.
	MaxHeaderBytes int

	// LinkCheck is the link-safety dependency asked before every redirect, behind a
	// circuit breaker with a cached fallback. The zero value (no URL) asks nothing.
	LinkCheck LinkCheckConfig
}

func (c *Config) defaults() {
	c.ServiceName = cmp.Or(c.ServiceName, "shortlink")
	c.CodeLength = cmp.Or(c.CodeLength, 7)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 4096)
	if c.Logger == nil {
		c.Logger = slog.New(NewLogHandler(os.Stderr, slog.LevelInfo))
	}
	if c.Instrument == nil {
		c.Instrument = DefaultInstrument
	}
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, 25*time.Second)
	c.ReadHeaderTimeout = cmp.Or(c.ReadHeaderTimeout, 5*time.Second)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, 10*time.Second)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 10*time.Second)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, 60*time.Second)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, 16<<10)
}

// Uninstrumented is a Config.Instrument that records nothing: the bare service, used as
// the throughput baseline.
func Uninstrumented(Config, *prometheus.Registry) (func(http.Handler) http.Handler, error) {
	return func(h http.Handler) http.Handler { return h }, nil
}

// Server is the shortlink service. Create it with New, run it with Serve, release its
// store with Close.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    *store
	check    *checker // nil without Config.LinkCheck.URL
	reg      *prometheus.Registry
	handler  http.Handler
	draining atomic.Bool
}

// New opens the store and builds the handler chain; it does not listen.
func New(cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.DBPath == "" {
		return nil, errors.New("shortlink: Config.DBPath is required (the bbolt file holding links)")
	}
	if cfg.CodeLength < 4 || cfg.CodeLength > 64 {
		return nil, fmt.Errorf("shortlink: CodeLength must be in [4,64], got %d", cfg.CodeLength)
	}
	if cfg.BaseURL != "" && !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("shortlink: BaseURL must start with http:// or https://, got %q", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	instrument, err := cfg.Instrument(cfg, reg)
	if err != nil {
		return nil, fmt.Errorf("shortlink: instrumentation: %w", err)
	}
	var check *checker
	if cfg.LinkCheck.URL != "" {
		if check, err = newChecker(cfg.LinkCheck, cfg.ServiceName, reg, cfg.TracerProvider, cfg.Logger); err != nil {
			return nil, fmt.Errorf("shortlink: %w", err)
		}
	}
	st, err := openStore(cfg.DBPath, cfg.CodeLength)
	if err != nil {
		return nil, fmt.Errorf("shortlink: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: st, check: check, reg: reg}

	var h http.Handler = s.routes()
	h = s.recoverPanics(h)
	h = instrument(h)
	if cfg.TracerProvider != nil {
		h = otelhttp.NewHandler(h, cfg.ServiceName,
			otelhttp.WithTracerProvider(cfg.TracerProvider),
			otelhttp.WithMeterProvider(noop.NewMeterProvider()),
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
		)
	}
	s.handler = h
	return s, nil
}

// Handler returns the service's HTTP handler (API, /healthz, /readyz, /metrics).
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Close closes the store. Call it after Serve has returned.
func (s *Server) Close() error { return s.store.close() }

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(RouteCreate, s.create)
	mux.HandleFunc(RouteShow, s.show)
	mux.HandleFunc(RouteDelete, s.remove)
	mux.HandleFunc(RouteRedirect, s.redirect)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		Registry:          s.reg,
		EnableOpenMetrics: true, // exemplars (trace IDs) are only exposed in OpenMetrics
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelError),
	}))
	// The same paths with other methods answer a JSON 405; everything else a JSON 404.
	mux.Handle("/api/v1/links", methodNotAllowed("POST"))
	mux.Handle("/api/v1/links/{code}", methodNotAllowed("GET, HEAD, DELETE"))
	mux.Handle("/{code}", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, errNoRoute) })
	return mux
}

// Serve answers requests on l until ctx is cancelled, then shuts down gracefully:
// /readyz turns 503, after DrainDelay the listener closes, and in-flight requests are
// drained for up to ShutdownTimeout. It returns nil after a clean shutdown. Requests run
// under a context that is not cancelled by ctx, so that draining requests complete.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.log.Info("serving", "addr", l.Addr().String(), "service", s.cfg.ServiceName)
	return s.serve(ctx, l, s.handler, func() {
		s.draining.Store(true)
		s.log.Info("draining", "drain_delay", s.cfg.DrainDelay.String())
		if s.cfg.DrainDelay > 0 {
			time.Sleep(s.cfg.DrainDelay)
		}
	})
}

// ServeAdmin serves the admin endpoints (pprof under /debug/pprof/) on l until ctx is
// cancelled. Keep l private: profiles expose internals and cost CPU.
func (s *Server) ServeAdmin(ctx context.Context, l net.Listener) error {
	s.log.Info("serving admin", "addr", l.Addr().String())
	return s.serve(ctx, l, AdminHandler(), nil)
}

// AdminHandler returns the pprof handlers under /debug/pprof/.
func AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func (s *Server) serve(ctx context.Context, l net.Listener, h http.Handler, beforeShutdown func()) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", l.Addr(), err)
	case <-ctx.Done():
	}
	if beforeShutdown != nil {
		beforeShutdown()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // http.ErrServerClosed once Shutdown has closed the listener
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown %s: requests still running after %s: %w", l.Addr(), s.cfg.ShutdownTimeout, err)
	}
	s.log.Info("stopped", "addr", l.Addr().String())
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.draining.Load() {
		writeError(w, newAPIError(http.StatusServiceUnavailable, codeUnavailable, "draining: the server is shutting down"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func methodNotAllowed(allow string) http.Handler {
	e := newAPIError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method not allowed here; allowed: "+allow)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, e)
	})
}

// linkResponse is the JSON of a link in API responses.
type linkResponse struct {
	Code      string    `json:"code"`
	URL       string    `json:"url"`
	ShortURL  string    `json:"short_url"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) response(r *http.Request, l Link) linkResponse {
	base := s.cfg.BaseURL
	if base == "" {
		base = "http://" + r.Host
	}
	return linkResponse{Code: l.Code, URL: l.URL, ShortURL: base + "/" + l.Code, CreatedAt: l.CreatedAt}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if !hasJSONBody(r.Header.Get("Content-Type")) {
		writeError(w, newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"Content-Type must be application/json, got "+fmt.Sprintf("%q", r.Header.Get("Content-Type"))))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	req, aerr := decodeCreate(r.Body, s.cfg.MaxBodyBytes)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	target, aerr := validateURL(req.URL)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	l, err := s.store.create(r.Context(), target, time.Now())
	if err != nil {
		s.storeError(w, r, "create", err)
		return
	}
	w.Header().Set("Location", "/api/v1/links/"+l.Code)
	writeJSON(w, http.StatusCreated, s.response(r, l))
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !validCode(code) {
		writeError(w, errLinkNotFound)
		return
	}
	l, err := s.store.get(code)
	if err != nil {
		s.storeError(w, r, "get", err)
		return
	}
	writeJSON(w, http.StatusOK, s.response(r, l))
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !validCode(code) {
		writeError(w, errLinkNotFound)
		return
	}
	if err := s.store.delete(code); err != nil {
		s.storeError(w, r, "delete", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	if !validCode(code) {
		writeError(w, errLinkNotFound)
		return
	}
	target, err := s.store.getURL(code)
	if err != nil {
		s.storeError(w, r, "redirect", err)
		return
	}
	if s.check != nil {
		if v := s.check.check(r.Context(), target); v.blocked {
			writeError(w, newAPIError(http.StatusForbidden, codeLinkBlocked, "the link's target is blocked by the link-safety check: "+v.reason))
			return
		}
	}
	h := w.Header()
	h.Set("Location", target)
	h.Set("Cache-Control", "private, max-age=0")
	w.WriteHeader(http.StatusFound)
}

// storeError answers a store failure: 404 for a missing link, 503 once the store is
// closed, otherwise 500 with the cause logged under the request's trace ID.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, errLinkNotFound)
	case errors.Is(err, bolterrors.ErrDatabaseNotOpen), errors.Is(err, context.Canceled):
		writeError(w, newAPIError(http.StatusServiceUnavailable, codeUnavailable, "the link store is closed; retry on another instance"))
	default:
		s.log.ErrorContext(r.Context(), "store failure", "op", op, "err", err)
		writeError(w, errInternal)
	}
}

// recoverPanics turns a handler panic into a logged 500 JSON error instead of a dropped
// connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "handler panic", "panic", fmt.Sprint(v), "method", r.Method, "pattern", r.Pattern)
				writeError(w, errInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
