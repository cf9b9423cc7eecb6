// Package serve is slokit's web UI: server-rendered pages (Go templates, inline SVG
// charts) of every SLO's budget, burn rates and alerts read from a Prometheus-compatible
// API, and of the game-day history kept in the store. Every page has a JSON twin under
// /api. It is an adapter on top: no domain package imports it.
package serve

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/store"
	"github.com/slokit/slokit/slo"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Config configures a Server. Every zero value has a documented default.
type Config struct {
	// Services are the SLOs shown, as loaded by slo.LoadFiles. Required (may be empty).
	Services []*slo.Service
	// Prometheus is the base URL of a Prometheus-compatible HTTP API holding slokit's
	// recorded series and alerts. Required.
	Prometheus string
	// Store is the game-day history; nil shows an empty history with a hint.
	Store *store.Store
	// GrafanaURL, when set, links each SLO to its generated Grafana dashboard.
	GrafanaURL string
	// Logger receives request errors and recovered panics. Nil discards them.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Prom replaces the Prometheus client (tests). Nil means a client for Prometheus.
	Prom Prom
	// MaxAge is how long the overview shares one reading of Prometheus between the
	// requests that arrive meanwhile. Zero means the shortest rule-evaluation interval of
	// the SLOs (their recorded series change no faster), at most MaxAgeLimit; negative
	// means every request reads Prometheus.
	MaxAge time.Duration
}

// MaxAgeLimit caps the default Config.MaxAge.
const MaxAgeLimit = 30 * time.Second

// defaultMaxAge is the shortest evaluation interval of the SLOs, at most MaxAgeLimit.
func defaultMaxAge(services []*slo.Service) time.Duration {
	age := MaxAgeLimit
	for _, s := range services {
		for _, o := range s.Objectives {
			age = min(age, o.Evaluation())
		}
	}
	return age
}

// Server renders the pages. Create it with New; it is an http.Handler.
type Server struct {
	cfg  Config
	cat  *catalog
	prom Prom
	tmpl map[string]*template.Template
	mux  *http.ServeMux
	bt   backtests
	// reads shares the overview's Prometheus reads (Config.MaxAge).
	reads readCache
	// since is the last reading of the SLOs' history (coverage.go).
	since atomic.Pointer[map[string]time.Time]
}

// New validates cfg and prepares the catalogue and templates.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = defaultMaxAge(cfg.Services)
	}
	if cfg.Prom == nil {
		if cfg.Prometheus == "" {
			return nil, errors.New("serve: a Prometheus URL is required")
		}
		pc, err := newPromClient(cfg.Prometheus)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		cfg.Prom = pc
	}
	cat, err := newCatalog(cfg.Services, alerts.Options{GrafanaURL: cfg.GrafanaURL})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s := &Server{cfg: cfg, cat: cat, prom: cfg.Prom, tmpl: tmpl, mux: http.NewServeMux()}
	s.routes()
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

func (s *Server) routes() {
	page := func(pattern string, h func(*http.Request) (string, any, int, error)) {
		s.mux.HandleFunc("GET "+pattern, func(w http.ResponseWriter, r *http.Request) { s.servePage(w, r, h) })
		s.mux.HandleFunc("GET /api"+strings.TrimSuffix(pattern, "{$}"), func(w http.ResponseWriter, r *http.Request) { s.serveJSON(w, r, h) })
	}
	page("/{$}", s.overviewPage)
	page("/slo/{service}/{slo}", s.detailPage)
	page("/slo/{service}/{slo}/backtest", s.backtestPage)
	page("/gamedays", s.gamedaysPage)
	page("/gamedays/{run}", s.runPage)
	s.mux.HandleFunc("GET /api/overview", func(w http.ResponseWriter, r *http.Request) { s.serveJSON(w, r, s.overviewPage) })
	s.mux.HandleFunc("GET /gamedays/{run}/report", s.reportPage)
	s.mux.HandleFunc("GET /static/{file}", s.static)
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "Page not found", []string{fmt.Sprintf("%s %s is not a page of slokit serve.", r.Method, r.URL.Path)})
	})
}

// ServeHTTP serves a request; a panic becomes a plain 500 page, its stack goes to the log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("panic serving a page", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.fail(w, r, http.StatusInternalServerError, "Internal error", []string{"slokit serve failed to render this page; the server log has the details."})
		}
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// servePage renders h's data with its template. h returns the template name, the data,
// the status and an error shown as a problem page (a *paramError, or one with a status).
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, h func(*http.Request) (string, any, int, error)) {
	start := time.Now()
	name, data, status, err := h(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, status, name, pageData{Title: titleOf(name, data), Data: data, JSON: "/api" + r.URL.RequestURI(),
		Nav: navOf(name), Elapsed: time.Since(start)})
}

func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, h func(*http.Request) (string, any, int, error)) {
	_, data, status, err := h(r)
	if err != nil {
		status, title, problems := describe(err)
		writeJSON(w, status, map[string]any{"error": title, "problems": problems})
		return
	}
	writeJSON(w, status, data)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// pageData is what the layout template gets.
type pageData struct {
	Title   string
	Nav     string
	JSON    string
	Data    any
	Elapsed time.Duration
}

func (s *Server) render(w http.ResponseWriter, status int, name string, pd pageData) {
	var b bytes.Buffer
	if err := s.tmpl[name].ExecuteTemplate(&b, "layout", pd); err != nil {
		s.cfg.Logger.Error("rendering a page", "template", name, "err", err)
		status = http.StatusInternalServerError
		b.Reset()
		_ = s.tmpl["error"].ExecuteTemplate(&b, "layout", pageData{Title: "Internal error",
			Data: problemPage{Status: status, Title: "Internal error", Problems: []string{"the page could not be rendered; the server log has the details."}}})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// httpError is an error with the status and title of its problem page.
type httpError struct {
	status   int
	title    string
	problems []string
}

func (e *httpError) Error() string { return e.title + ": " + strings.Join(e.problems, "; ") }

func describe(err error) (status int, title string, problems []string) {
	var pe *paramError
	var he *httpError
	switch {
	case errors.As(err, &pe):
		return http.StatusBadRequest, "Bad query parameters", pe.problems
	case errors.As(err, &he):
		return he.status, he.title, he.problems
	case errors.Is(err, context.Canceled):
		return 499, "Request cancelled", []string{err.Error()}
	}
	return http.StatusInternalServerError, "Internal error", []string{err.Error()}
}

// problemPage is the data of the error template.
type problemPage struct {
	Status   int
	Title    string
	Problems []string
}

func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status, title, problems := describe(err)
	if status >= 500 {
		s.cfg.Logger.Error("serving a page", "path", r.URL.Path, "err", err)
	}
	s.fail(w, r, status, title, problems)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, title string, problems []string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]any{"error": title, "problems": problems})
		return
	}
	s.render(w, status, "error", pageData{Title: title, Data: problemPage{Status: status, Title: title, Problems: problems}})
}

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("static/" + r.PathValue("file"))
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Not found", []string{r.URL.Path + " does not exist."})
		return
	}
	if strings.HasSuffix(r.URL.Path, ".css") {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "max-age=300")
	_, _ = w.Write(b)
}

func titleOf(name string, data any) string {
	switch d := data.(type) {
	case *Overview:
		return "SLOs"
	case *Detail:
		return d.Service + "/" + d.SLO
	case *GameDays:
		return "Game days"
	case *BacktestRun:
		return "Backtest of " + d.Service + "/" + d.SLO
	case *RunPage:
		return "Game day " + d.Run.GameDay + " (run " + d.Run.RunID + ")"
	}
	return name
}

func navOf(name string) string {
	if strings.HasPrefix(name, "gameday") || name == "run" {
		return "gamedays"
	}
	return "slos"
}

// overviewPage serves / and /api/overview.
func (s *Server) overviewPage(r *http.Request) (string, any, int, error) {
	p, err := parseOverviewParams(r.URL.Query())
	if err != nil {
		return "", nil, 0, err
	}
	ov := s.buildOverview(r.Context(), p)
	return "overview", ov, promStatus(ov.Error), nil
}

// promStatus is 502 when Prometheus could not be read (the page still renders).
func promStatus(promErr string) int {
	if promErr != "" {
		return http.StatusBadGateway
	}
	return http.StatusOK
}
