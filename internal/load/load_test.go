package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/load"
)

// shortlink is a minimal in-memory shortlink API: POST /api/v1/links, GET /{code}.
type shortlink struct {
	mu      sync.Mutex
	links   map[string]string
	n       int
	fail    atomic.Bool // answer every request 503
	creates atomic.Int64
}

func newShortlink(t *testing.T) (*shortlink, *httptest.Server) {
	s := &shortlink{links: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/links", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ URL string }
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&in) != nil || in.URL == "" {
			http.Error(w, `{"error":{}}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.n++
		code := fmt.Sprintf("c%d", s.n)
		s.links[code] = in.URL
		s.mu.Unlock()
		s.creates.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"code":%q,"short_url":"http://%s/%s"}`, code, r.Host, code)
	})
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		u, ok := s.links[r.PathValue("code")]
		s.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":{}}`, http.StatusNotFound)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func TestMixAndSummary(t *testing.T) {
	s, srv := newShortlink(t)
	g, err := load.Start(context.Background(), load.Config{Target: srv.URL, Rate: 200, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rep := g.Wait(context.Background())

	// The pacer is exact; a loaded machine (or -race) can only make it fall behind.
	if rep.Total.Requests < 100 || rep.Total.Requests > 201 {
		t.Errorf("%d requests at 200/s for 1s, want up to 200", rep.Total.Requests)
	}
	if rep.Total.OK != rep.Total.Requests {
		t.Errorf("%d of %d requests got an unexpected status: %v", rep.Total.Requests-rep.Total.OK, rep.Total.Requests, rep.Total.Codes)
	}
	c, r, m := rep.Kinds[load.KindCreate], rep.Kinds[load.KindRedirect], rep.Kinds[load.KindMiss]
	if c.Codes[201] == 0 || r.Codes[302] == 0 || m.Codes[404] == 0 {
		t.Errorf("want 201 creates, 302 redirects (not followed), 404 misses; got %v %v %v", c.Codes, r.Codes, m.Codes)
	}
	if got := int64(c.Codes[201]); got != s.creates.Load() {
		t.Errorf("report counts %d creates, server saw %d", got, s.creates.Load())
	}
	// Default mix 1:8:1; redirect turns before the first created link become creates.
	if share := float64(r.Requests) / float64(rep.Total.Requests); share < 0.6 || share > 0.92 {
		t.Errorf("redirect share %.2f, want about 0.8 (%d/%d)", share, r.Requests, rep.Total.Requests)
	}
	if l := rep.Total.Latency; l.P50 <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency quantiles out of order: %+v", l)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind", "create", "redirect", "miss", "total", "201:", "302:", "404:", "100.00%"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back load.Report
	if err := json.Unmarshal(b, &back); err != nil || back.Total.Requests != rep.Total.Requests {
		t.Errorf("JSON round trip: %v, %d requests, want %d", err, back.Total.Requests, rep.Total.Requests)
	}
}

func TestFailuresAreCounted(t *testing.T) {
	s, srv := newShortlink(t)
	s.fail.Store(true)
	g, err := load.Start(context.Background(), load.Config{Target: srv.URL, Rate: 100, Duration: 300 * time.Millisecond,
		Mix: load.Mix{Create: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rep := g.Wait(context.Background())
	if rep.Total.Requests == 0 || rep.Total.OK != 0 || rep.Total.Codes[503] != int(rep.Total.Requests) {
		t.Errorf("want every request counted as a 503, got ok=%d codes=%v", rep.Total.OK, rep.Total.Codes)
	}
}

func TestTransportErrors(t *testing.T) {
	_, srv := newShortlink(t)
	url := srv.URL
	srv.Close() // nothing listens any more
	g, err := load.Start(context.Background(), load.Config{Target: url, Rate: 50, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rep := g.Wait(context.Background())
	if rep.Total.Requests == 0 || rep.Total.Codes[0] != int(rep.Total.Requests) || len(rep.Total.Errors) == 0 {
		t.Errorf("want every request to fail without a response and its error kept, got %+v", rep.Total)
	}
}

func TestContextCancelStops(t *testing.T) {
	_, srv := newShortlink(t)
	ctx, cancel := context.WithCancel(context.Background())
	g, err := load.Start(ctx, load.Config{Target: srv.URL, Rate: 100}) // no duration: runs until stopped
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case <-g.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("load still running 5s after its context ended")
	}
	if n := g.Stop().Total.Requests; n == 0 {
		t.Error("no requests before cancel")
	}
}

func TestStopWhileSlow(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	g, err := load.Start(context.Background(), load.Config{Target: srv.URL, Rate: 100, Timeout: 500 * time.Millisecond, MaxWorkers: 8})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	done := make(chan *load.Report)
	go func() { done <- g.Stop() }()
	select {
	case rep := <-done:
		if rep.Total.Requests > 8 {
			t.Errorf("%d requests finished against a hanging server with 8 workers, want <= 8", rep.Total.Requests)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return within the request timeout")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  load.Config
		want string
	}{
		{load.Config{Rate: 1}, `load: target "": want an http(s) base URL like http://127.0.0.1:8080`},
		{load.Config{Target: "ftp://x", Rate: 1}, `load: target "ftp://x": want an http(s) base URL like http://127.0.0.1:8080`},
		{load.Config{Target: "http://x"}, `load: rate 0: want requests per second > 0`},
		{load.Config{Target: "http://x", Rate: 1, Duration: -1}, `load: duration -1ns: want >= 0 (0 runs until stopped)`},
		{load.Config{Target: "http://x", Rate: 1, Mix: load.Mix{Create: -1, Redirect: 2}}, `load: mix create=-1,redirect=2,miss=0: weights must be >= 0`},
	}
	for _, tt := range tests {
		_, err := load.Start(context.Background(), tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%+v: err = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in   string
		want load.Mix
		err  string
	}{
		{"create=1,redirect=8,miss=1", load.Mix{1, 8, 1}, ""},
		{"redirect=1", load.Mix{Redirect: 1}, ""},
		{" create=2 , miss=3", load.Mix{Create: 2, Miss: 3}, ""},
		{"create=0", load.Mix{}, `mix "create=0": every weight is 0`},
		{"delete=1", load.Mix{}, `mix "delete=1": unknown kind "delete", want create, redirect or miss`},
		{"create", load.Mix{}, `mix "create": want kind=weight pairs like create=1,redirect=8,miss=1 with weights >= 0`},
		{"create=-1", load.Mix{}, `mix "create=-1": want kind=weight pairs like create=1,redirect=8,miss=1 with weights >= 0`},
	}
	for _, tt := range tests {
		got, err := load.ParseMix(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseMix(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseMix(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
