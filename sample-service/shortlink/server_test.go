package shortlink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/slokit/slokit/internal/testutil"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// testConfig returns a Config on a fresh store that logs to the test's output.
func testConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		DBPath: filepath.Join(t.TempDir(), "links.db"),
		Logger: slog.New(NewLogHandler(t.Output(), slog.LevelDebug)),
	}
}

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, hs
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, contentType string, body io.Reader) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func createLink(t *testing.T, base, url string) linkResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"url": url})
	r := do(t, "POST", base+"/api/v1/links", "application/json", bytes.NewReader(body))
	if r.status != http.StatusCreated {
		t.Fatalf("create %q: status %d, body %s", url, r.status, r.body)
	}
	var l linkResponse
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("create response %s: %v", r.body, err)
	}
	return l
}

func TestLinkLifecycle(t *testing.T) {
	cfg := testConfig(t)
	cfg.BaseURL = "https://sho.rt/"
	_, hs := newTestServer(t, cfg)

	l := createLink(t, hs.URL, "https://example.com/docs?q=1#top")
	if len(l.Code) != 7 || !validCode(l.Code) {
		t.Errorf("code %q: want 7 base62 characters", l.Code)
	}
	if want := "https://sho.rt/" + l.Code; l.ShortURL != want {
		t.Errorf("short_url = %q, want %q", l.ShortURL, want)
	}

	r := do(t, "GET", hs.URL+"/api/v1/links/"+l.Code, "", nil)
	var got linkResponse
	if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil {
		t.Fatalf("show: %d %s %v", r.status, r.body, err)
	}
	if got != l {
		t.Errorf("show = %+v, want the created %+v", got, l)
	}

	r = do(t, "GET", hs.URL+"/"+l.Code, "", nil)
	if r.status != http.StatusFound || r.header.Get("Location") != "https://example.com/docs?q=1#top" {
		t.Errorf("redirect: status %d Location %q", r.status, r.header.Get("Location"))
	}
	r = do(t, "HEAD", hs.URL+"/"+l.Code, "", nil)
	if r.status != http.StatusFound {
		t.Errorf("HEAD redirect: status %d", r.status)
	}

	r = do(t, "DELETE", hs.URL+"/api/v1/links/"+l.Code, "", nil)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("delete: %d %q", r.status, r.body)
	}
	for _, path := range []string{"/" + l.Code, "/api/v1/links/" + l.Code} {
		r = do(t, "GET", hs.URL+path, "", nil)
		assertJSONError(t, "GET "+path+" after delete", r, 404, codeNotFound)
	}
	r = do(t, "DELETE", hs.URL+"/api/v1/links/"+l.Code, "", nil)
	assertJSONError(t, "second delete", r, 404, codeNotFound)
}

func TestShortURLFromHost(t *testing.T) {
	_, hs := newTestServer(t, testConfig(t))
	l := createLink(t, hs.URL, "http://example.com")
	if want := hs.URL + "/" + l.Code; l.ShortURL != want {
		t.Errorf("short_url = %q, want %q", l.ShortURL, want)
	}
	if l.URL != "http://example.com" {
		t.Errorf("url = %q", l.URL)
	}
}

// assertJSONError checks a reply is the JSON error {"error":{"code","message"}}.
func assertJSONError(t *testing.T, name string, r reply, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d (body %s)", name, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want application/json", name, ct)
	}
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == nil {
		t.Errorf("%s: body %q is not a JSON error: %v", name, r.body, err)
		return
	}
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s: error %+v, want code %q and a message", name, *e.Error, code)
	}
}

// TestBadInputs: every bad request is answered 4xx with a JSON error naming a stable
// code — never a 5xx, never a dropped connection.
func TestBadInputs(t *testing.T) {
	_, hs := newTestServer(t, testConfig(t))
	existing := createLink(t, hs.URL, "https://example.com/")
	js := "application/json"
	url := func(u string) string { b, _ := json.Marshal(map[string]string{"url": u}); return string(b) }
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"malformed JSON", "POST", "/api/v1/links", js, `{"url": "https://a.example"`, 400, codeInvalidJSON},
		{"not JSON", "POST", "/api/v1/links", js, `url=https://a.example`, 400, codeInvalidJSON},
		{"empty body", "POST", "/api/v1/links", js, ``, 400, codeInvalidJSON},
		{"JSON array", "POST", "/api/v1/links", js, `["https://a.example"]`, 400, codeInvalidJSON},
		{"JSON null", "POST", "/api/v1/links", js, `null`, 400, codeInvalidURL},
		{"url is a number", "POST", "/api/v1/links", js, `{"url": 42}`, 400, codeInvalidJSON},
		{"unknown field", "POST", "/api/v1/links", js, `{"url": "https://a.example", "code": "mine"}`, 400, codeInvalidJSON},
		{"two objects", "POST", "/api/v1/links", js, `{"url": "https://a.example"}{"url": "https://b.example"}`, 400, codeInvalidJSON},
		{"trailing garbage", "POST", "/api/v1/links", js, `{"url": "https://a.example"} x`, 400, codeInvalidJSON},
		{"huge body", "POST", "/api/v1/links", js, `{"url": "https://a.example/` + strings.Repeat("a", 1<<20) + `"}`, 413, codeBodyTooLarge},
		{"huge whitespace", "POST", "/api/v1/links", js, strings.Repeat(" ", 5000) + `{"url": "https://a.example"}`, 413, codeBodyTooLarge},
		{"form content type", "POST", "/api/v1/links", "application/x-www-form-urlencoded", url("https://a.example"), 415, codeUnsupportedMedia},
		{"missing url", "POST", "/api/v1/links", js, `{}`, 400, codeInvalidURL},
		{"javascript scheme", "POST", "/api/v1/links", js, url("javascript:alert(1)"), 400, codeInvalidURL},
		{"JavaScript scheme mixed case", "POST", "/api/v1/links", js, url("JaVaScRiPt:alert(1)"), 400, codeInvalidURL},
		{"data scheme", "POST", "/api/v1/links", js, url("data:text/html,<script>alert(1)</script>"), 400, codeInvalidURL},
		{"file scheme", "POST", "/api/v1/links", js, url("file:///etc/passwd"), 400, codeInvalidURL},
		{"ftp scheme", "POST", "/api/v1/links", js, url("ftp://example.com/x"), 400, codeInvalidURL},
		{"mailto", "POST", "/api/v1/links", js, url("mailto:a@example.com"), 400, codeInvalidURL},
		{"relative", "POST", "/api/v1/links", js, url("/local/path"), 400, codeInvalidURL},
		{"scheme-relative", "POST", "/api/v1/links", js, url("//example.com/x"), 400, codeInvalidURL},
		{"no host", "POST", "/api/v1/links", js, url("http:///path"), 400, codeInvalidURL},
		{"opaque http", "POST", "/api/v1/links", js, url("http:example.com"), 400, codeInvalidURL},
		{"userinfo", "POST", "/api/v1/links", js, url("https://user:pass@example.com/"), 400, codeInvalidURL},
		{"user only", "POST", "/api/v1/links", js, url("https://user@example.com/"), 400, codeInvalidURL},
		{"too long", "POST", "/api/v1/links", js, url("https://example.com/" + strings.Repeat("a", MaxURLLength)), 400, codeInvalidURL},
		{"space", "POST", "/api/v1/links", js, url("https://example.com/a b"), 400, codeInvalidURL},
		{"newline header injection", "POST", "/api/v1/links", js, url("https://example.com/\r\nSet-Cookie: a=b"), 400, codeInvalidURL},
		{"NUL", "POST", "/api/v1/links", js, url("https://example.com/\x00"), 400, codeInvalidURL},
		{"right-to-left override", "POST", "/api/v1/links", js, url("https://example.com/\u202Egpj.exe"), 400, codeInvalidURL},
		{"zero-width space in host", "POST", "/api/v1/links", js, url("https://exa\u200Bmple.com/"), 400, codeInvalidURL},
		{"byte order mark", "POST", "/api/v1/links", js, url("\uFEFFhttps://example.com/"), 400, codeInvalidURL},
		{"non-ASCII host", "POST", "/api/v1/links", js, url("https://exämple.com/"), 400, codeInvalidURL},
		{"fullwidth scheme", "POST", "/api/v1/links", js, url("ｈｔｔｐｓ://example.com/"), 400, codeInvalidURL},
		{"percent-encoded host", "POST", "/api/v1/links", js, url("https://%65xample.com/"), 400, codeInvalidURL},
		{"bad port", "POST", "/api/v1/links", js, url("https://example.com:99999999999/"), 400, codeInvalidURL},
		{"bad escape", "POST", "/api/v1/links", js, url("https://example.com/%zz"), 400, codeInvalidURL},
		{"unknown code redirect", "GET", "/Zz9Zz9Z", "", "", 404, codeNotFound},
		{"unknown code show", "GET", "/api/v1/links/Zz9Zz9Z", "", "", 404, codeNotFound},
		{"unknown code delete", "DELETE", "/api/v1/links/Zz9Zz9Z", "", "", 404, codeNotFound},
		{"non-base62 code", "GET", "/abc-def", "", "", 404, codeNotFound},
		{"unicode code", "GET", "/%C3%A9t%C3%A9", "", "", 404, codeNotFound},
		{"encoded slash code", "GET", "/api/v1/links/a%2Fb", "", "", 404, codeNotFound},
		{"very long code", "GET", "/" + strings.Repeat("a", 500), "", "", 404, codeNotFound},
		{"root", "GET", "/", "", "", 404, codeNotFound},
		{"deep path", "GET", "/a/b/c", "", "", 404, codeNotFound},
		{"unknown API path", "GET", "/api/v2/links", "", "", 404, codeNotFound},
		{"GET collection", "GET", "/api/v1/links", "", "", 405, codeMethodNotAllowed},
		{"PUT collection", "PUT", "/api/v1/links", js, url("https://a.example"), 405, codeMethodNotAllowed},
		{"PATCH link", "PATCH", "/api/v1/links/" + existing.Code, js, `{}`, 405, codeMethodNotAllowed},
		{"POST to a code", "POST", "/" + existing.Code, js, `{}`, 405, codeMethodNotAllowed},
		{"DELETE a redirect", "DELETE", "/" + existing.Code, "", "", 405, codeMethodNotAllowed},
		{"odd method", "BREW", "/" + existing.Code, "", "", 405, codeMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			r := do(t, tt.method, hs.URL+tt.path, tt.ctype, body)
			assertJSONError(t, tt.name, r, tt.status, tt.code)
			if tt.status == 405 && r.header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
		})
	}
	// The existing link is untouched by all of the above.
	if r := do(t, "GET", hs.URL+"/"+existing.Code, "", nil); r.status != http.StatusFound {
		t.Errorf("existing link: status %d after the bad inputs", r.status)
	}
}

// TestOddButValidURLs: unusual URLs that are valid are stored, normalised to ASCII.
func TestOddButValidURLs(t *testing.T) {
	_, hs := newTestServer(t, testConfig(t))
	tests := []struct{ in, want string }{
		{"https://example.com/été", "https://example.com/%C3%A9t%C3%A9"},
		{"https://example.com/?q=日本", "https://example.com/?q=%E6%97%A5%E6%9C%AC"},
		{"https://example.com/#ü", "https://example.com/#%C3%BC"},
		{"HTTPS://EXAMPLE.com/Path", "https://EXAMPLE.com/Path"},
		{"https://xn--exmple-cua.com/", "https://xn--exmple-cua.com/"},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"},
		{"http://[::1]:8080/x", "http://[::1]:8080/x"},
		{"https://example.com/%F0%9F%98%80", "https://example.com/%F0%9F%98%80"},
	}
	for _, tt := range tests {
		l := createLink(t, hs.URL, tt.in)
		if l.URL != tt.want {
			t.Errorf("create %q: url %q, want %q", tt.in, l.URL, tt.want)
		}
		r := do(t, "GET", hs.URL+"/"+l.Code, "", nil)
		if loc := r.header.Get("Location"); r.status != 302 || loc != tt.want {
			t.Errorf("redirect of %q: %d %q, want 302 %q", tt.in, r.status, loc, tt.want)
		}
	}
}

func TestLinksSurviveReopen(t *testing.T) {
	cfg := testConfig(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	want := map[string]string{}
	for i := range 20 {
		u := "https://example.com/" + strings.Repeat("x", i)
		want[createLink(t, hs.URL, u).Code] = u
	}
	hs.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.Registry = nil
	_, hs2 := newTestServer(t, cfg)
	for code, u := range want {
		r := do(t, "GET", hs2.URL+"/"+code, "", nil)
		if r.status != 302 || r.header.Get("Location") != u {
			t.Errorf("after reopen, %s: %d %q, want 302 %q", code, r.status, r.header.Get("Location"), u)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no db", Config{}, "DBPath is required"},
		{"short codes", Config{DBPath: filepath.Join(dir, "a.db"), CodeLength: 2}, "CodeLength must be in [4,64], got 2"},
		{"base url scheme", Config{DBPath: filepath.Join(dir, "b.db"), BaseURL: "sho.rt"}, `BaseURL must start with http:// or https://, got "sho.rt"`},
		{"db in missing dir", Config{DBPath: filepath.Join(dir, "missing", "c.db")}, "open link store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Logger = slog.New(slog.DiscardHandler)
			s, err := New(tt.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	_, hs := newTestServer(t, testConfig(t))
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := do(t, "GET", hs.URL+p, "", nil); r.status != 200 {
			t.Errorf("%s: %d %s", p, r.status, r.body)
		}
	}
}

// slowDown is a test Instrument delaying requests that carry X-Test-Delay, so that a
// request is surely in flight when shutdown begins.
func slowDown(started chan<- struct{}) func(Config, *prometheus.Registry) (func(http.Handler) http.Handler, error) {
	return func(Config, *prometheus.Registry) (func(http.Handler) http.Handler, error) {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if d, err := time.ParseDuration(r.Header.Get("X-Test-Delay")); err == nil {
					started <- struct{}{}
					time.Sleep(d)
				}
				next.ServeHTTP(w, r)
			})
		}, nil
	}
}

// TestServeDrainsInFlight: cancelling Serve's context turns /readyz to 503 during the
// drain delay; the listener then closes while a create is still in flight (it takes
// longer than the delay), and shutdown waits for it: 201, link stored, Serve returns nil.
func TestServeDrainsInFlight(t *testing.T) {
	cfg := testConfig(t)
	started := make(chan struct{}, 1)
	cfg.Instrument = slowDown(started)
	cfg.DrainDelay = 500 * time.Millisecond
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l) }()

	type result struct {
		r   reply
		err error
	}
	slow := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/v1/links", strings.NewReader(`{"url":"https://example.com/inflight"}`))
		req.Header.Set("X-Test-Delay", "1500ms")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{reply{resp.StatusCode, resp.Header, b}, err}
	}()
	<-started
	cancel() // shutdown begins while the create is in flight

	var readyDuringDrain int
	deadline := time.Now().Add(450 * time.Millisecond)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			readyDuringDrain = resp.StatusCode
			if readyDuringDrain == 503 {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if readyDuringDrain != 503 {
		t.Errorf("/readyz during drain: %d, want 503", readyDuringDrain)
	}

	res := <-slow
	if res.err != nil || res.r.status != 201 {
		t.Fatalf("in-flight create: %v, status %d %s; want 201", res.err, res.r.status, res.r.body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v after a clean shutdown", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("listener still accepts after Serve returned")
	}
	var l1 linkResponse
	if err := json.Unmarshal(res.r.body, &l1); err != nil {
		t.Fatal(err)
	}
	if got, err := s.store.getURL(l1.Code); err != nil || got != "https://example.com/inflight" {
		t.Errorf("in-flight link after shutdown: %q, %v", got, err)
	}
}

func TestStoreClosedIs503(t *testing.T) {
	s, hs := newTestServer(t, testConfig(t))
	l := createLink(t, hs.URL, "https://example.com/")
	if err := s.store.close(); err != nil {
		t.Fatal(err)
	}
	r := do(t, "GET", hs.URL+"/"+l.Code, "", nil)
	assertJSONError(t, "redirect on a closed store", r, 503, codeUnavailable)
	r = do(t, "POST", hs.URL+"/api/v1/links", "application/json", strings.NewReader(`{"url":"https://example.com/"}`))
	assertJSONError(t, "create on a closed store", r, 503, codeUnavailable)
	// reopen so the cleanup's Close succeeds
	st, err := openStore(s.cfg.DBPath, 7)
	if err != nil {
		t.Fatal(err)
	}
	s.store = st
}

func TestPanicIs500JSON(t *testing.T) {
	var buf testutil.SyncBuffer
	cfg := testConfig(t)
	cfg.Logger = slog.New(NewLogHandler(&buf, slog.LevelInfo))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	assertJSONError(t, "panic", reply{rec.Code, rec.Header(), rec.Body.Bytes()}, 500, codeInternal)
	if !strings.Contains(buf.String(), `"panic":"boom"`) {
		t.Errorf("panic not logged: %s", buf.String())
	}
}

// TestSLIMetrics: the default instrumentation labels series by route pattern, the labels
// slos.yaml selects, and never by raw path.
func TestSLIMetrics(t *testing.T) {
	s, hs := newTestServer(t, testConfig(t))
	l := createLink(t, hs.URL, "https://example.com/")
	do(t, "GET", hs.URL+"/"+l.Code, "", nil)
	do(t, "GET", hs.URL+"/"+l.Code, "", nil)
	do(t, "GET", hs.URL+"/nope123", "", nil)
	do(t, "POST", hs.URL+"/api/v1/links", "application/json", strings.NewReader(`{`))

	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[labelString(m)] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		`code=201,method=POST,route=POST /api/v1/links,service=shortlink`: 1,
		`code=400,method=POST,route=POST /api/v1/links,service=shortlink`: 1,
		`code=302,method=GET,route=GET /{code},service=shortlink`:         2,
		`code=404,method=GET,route=GET /{code},service=shortlink`:         1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("http_requests_total{%s} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	for k := range got {
		if strings.Contains(k, l.Code) || strings.Contains(k, "nope123") {
			t.Errorf("series labelled by raw path: %s", k)
		}
	}

	r := do(t, "GET", hs.URL+"/metrics", "", nil)
	for _, s := range []string{`http_request_duration_seconds_bucket{method="GET",route="GET /{code}",service="shortlink",le="0.1"}`, "go_goroutines", "process_open_fds"} {
		if !bytes.Contains(r.body, []byte(s)) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		parts = append(parts, lp.GetName()+"="+lp.GetValue())
	}
	return strings.Join(parts, ",")
}

func TestUninstrumentedRecordsNothing(t *testing.T) {
	cfg := testConfig(t)
	cfg.Instrument = Uninstrumented
	s, hs := newTestServer(t, cfg)
	createLink(t, hs.URL, "https://example.com/")
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "http_request") {
			t.Errorf("uninstrumented server records %s", mf.GetName())
		}
	}
}

// TestTracing: with a tracer provider, requests get server spans named by route
// pattern, W3C trace context is continued, and the latency exemplar carries the trace ID.
func TestTracing(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer tp.Shutdown(context.Background())
	cfg := testConfig(t)
	cfg.TracerProvider = tp
	_, hs := newTestServer(t, cfg)
	l := createLink(t, hs.URL, "https://example.com/")

	const parent = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("GET", hs.URL+"/"+l.Code, nil)
	req.Header.Set("traceparent", "00-"+parent+"-00f067aa0ba902b7-01")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	spans := sr.Ended()
	var names []string
	var continued bool
	for _, s := range spans {
		names = append(names, s.Name())
		if s.Name() == RouteRedirect && s.SpanContext().TraceID().String() == parent {
			continued = true
		}
	}
	if len(spans) != 2 || names[0] != RouteCreate || !continued {
		t.Errorf("spans %q, want [%q %q] with the redirect continuing trace %s", names, RouteCreate, RouteRedirect, parent)
	}

	req, _ = http.NewRequest("GET", hs.URL+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte(`# {trace_id="`+parent+`"}`)) {
		t.Errorf("no exemplar with trace_id %s in OpenMetrics output:\n%s", parent, grepLines(b, "http_request_duration_seconds_bucket"))
	}
}

func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestLogsCarryTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(&buf, slog.LevelInfo)).With("component", "test")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.InfoContext(ctx, "with span")
	log.Info("without span")
	log.Debug("below the level")

	var recs []map[string]any
	dec := json.NewDecoder(&buf)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		delete(m, "time")
		recs = append(recs, m)
	}
	want := []map[string]any{
		{"level": "INFO", "msg": "with span", "component": "test", "trace_id": tid.String(), "span_id": sid.String()},
		{"level": "INFO", "msg": "without span", "component": "test"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records %v, want %d", len(recs), recs, len(want))
	}
	for i := range want {
		if len(recs[i]) != len(want[i]) {
			t.Errorf("record %d = %v, want %v", i, recs[i], want[i])
		}
		for k, v := range want[i] {
			if recs[i][k] != v {
				t.Errorf("record %d = %v, want %v", i, recs[i], want[i])
				break
			}
		}
	}
}

func TestAdminHandlerServesPprof(t *testing.T) {
	hs := httptest.NewServer(AdminHandler())
	defer hs.Close()
	r := do(t, "GET", hs.URL+"/debug/pprof/goroutine?debug=1", "", nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte("goroutine profile")) {
		t.Errorf("pprof goroutine: %d %.200s", r.status, r.body)
	}
}
