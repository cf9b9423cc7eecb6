package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
)

func upstream(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		fmt.Fprintf(w, "code=%s host=%s", r.PathValue("code"), r.Host)
	})
	mux.HandleFunc("POST /api/v1/links", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func startProxy(t *testing.T, fault *HTTPFault) (*HTTPProxy, *httptest.Server) {
	t.Helper()
	up := upstream(t)
	p, err := NewHTTPProxy(HTTPProxyConfig{Listen: "127.0.0.1:0", Target: up.URL, Fault: fault})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, up
}

var client = &http.Client{Timeout: 10 * time.Second}

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// countStatus sends n requests and counts the responses by status.
func countStatus(t *testing.T, method, url string, n int) map[int]int {
	t.Helper()
	got := map[int]int{}
	for i := 0; i < n; i++ {
		c, _ := do(t, method, url)
		got[c]++
	}
	return got
}

func TestHTTPProxyAbortInjectRemove(t *testing.T) {
	p, _ := startProxy(t, &HTTPFault{Abort: &HTTPAbort{Percent: 100, Status: 500}})
	ctx := context.Background()

	code, body := do(t, "GET", p.URL()+"/abc")
	if code != 200 || !strings.HasPrefix(body, "code=abc host=127.0.0.1:") {
		t.Fatalf("before inject: %d %q, want the upstream's answer", code, body)
	}
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countStatus(t, "GET", p.URL()+"/abc", 20); got[500] != 20 {
		t.Errorf("100%% abort with 500: got %v", got)
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countStatus(t, "GET", p.URL()+"/abc", 20); got[200] != 20 {
		t.Errorf("right after Remove: got %v, want every request forwarded", got)
	}
	if err := p.Remove(ctx); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestHTTPProxyAbortPercent(t *testing.T) {
	p, _ := startProxy(t, nil)
	if err := p.SetFault(&HTTPFault{Abort: &HTTPAbort{Percent: 50}}); err != nil {
		t.Fatal(err)
	}
	const n = 400
	got := countStatus(t, "GET", p.URL()+"/abc", n)
	// Binomial(400, 0.5): sd 10, so [150, 250] is ±5 sd.
	if got[503] < 150 || got[503] > 250 || got[503]+got[200] != n {
		t.Errorf("50%% abort over %d requests: %v", n, got)
	}
}

func TestHTTPProxyMatch(t *testing.T) {
	tests := []struct {
		name        string
		match       HTTPMatch
		redirect    int // status of GET /abc
		create      int // status of POST /api/v1/links
		deleteOther int // status of DELETE /api/v1/links (405 from upstream when forwarded)
	}{
		{"all", HTTPMatch{}, 503, 503, 503},
		{"route", HTTPMatch{Routes: []string{"GET /{code}"}}, 503, 201, 405},
		{"two routes", HTTPMatch{Routes: []string{"GET /{code}", "POST /api/"}}, 503, 503, 405},
		{"prefix", HTTPMatch{PathPrefix: "/api/"}, 200, 503, 503},
		{"route and prefix", HTTPMatch{Routes: []string{"/api/"}, PathPrefix: "/api/v1/links"}, 200, 503, 503},
	}
	p, _ := startProxy(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := p.SetFault(&HTTPFault{Abort: &HTTPAbort{Percent: 100}, Match: tt.match}); err != nil {
				t.Fatal(err)
			}
			if c, _ := do(t, "GET", p.URL()+"/abc"); c != tt.redirect {
				t.Errorf("GET /abc: %d, want %d", c, tt.redirect)
			}
			if c, _ := do(t, "POST", p.URL()+"/api/v1/links"); c != tt.create {
				t.Errorf("POST /api/v1/links: %d, want %d", c, tt.create)
			}
			if c, _ := do(t, "DELETE", p.URL()+"/api/v1/links"); c != tt.deleteOther {
				t.Errorf("DELETE /api/v1/links: %d, want %d", c, tt.deleteOther)
			}
		})
	}
}

func TestHTTPProxyDelay(t *testing.T) {
	p, _ := startProxy(t, &HTTPFault{Delay: &HTTPDelay{Percent: 100, Latency: 150 * time.Millisecond}})
	ctx := context.Background()
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if c, _ := do(t, "GET", p.URL()+"/abc"); c != 200 {
		t.Errorf("delayed request: %d, want 200 (a delay does not fail the request)", c)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delayed request took %v, want >= 150ms", d)
	}
	_ = p.Remove(ctx)
}

// TestHTTPProxyRemoveReleasesHeldRequests checks that traffic is clean within a second
// of Remove even when requests were being held by a long delay.
func TestHTTPProxyRemoveReleasesHeldRequests(t *testing.T) {
	p, _ := startProxy(t, &HTTPFault{Delay: &HTTPDelay{Percent: 100, Latency: time.Minute}})
	ctx := context.Background()
	if err := p.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code int
		at   time.Time
	}
	results := make(chan result, 5)
	for i := 0; i < 5; i++ {
		go func() {
			resp, err := client.Get(p.URL() + "/held")
			if err != nil {
				results <- result{}
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, time.Now()}
		}()
	}
	time.Sleep(200 * time.Millisecond) // let them reach the delay
	removed := time.Now()
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		r := <-results
		if r.code != 200 {
			t.Errorf("held request: status %d, want 200", r.code)
		} else if d := r.at.Sub(removed); d > time.Second {
			t.Errorf("held request answered %v after Remove, want within 1s", d)
		}
	}
	start := time.Now()
	if c, _ := do(t, "GET", p.URL()+"/abc"); c != 200 || time.Since(start) > time.Second {
		t.Errorf("after Remove: %d in %v", c, time.Since(start))
	}
}

func TestHTTPDelaySample(t *testing.T) {
	tests := []struct {
		d      HTTPDelay
		lo, hi time.Duration
	}{
		{HTTPDelay{Latency: 100 * time.Millisecond}, 100 * time.Millisecond, 100 * time.Millisecond},
		{HTTPDelay{Latency: 100 * time.Millisecond, Jitter: 20 * time.Millisecond, Distribution: DistUniform}, 80 * time.Millisecond, 120 * time.Millisecond},
		{HTTPDelay{Latency: 10 * time.Millisecond, Jitter: 100 * time.Millisecond, Distribution: DistNormal}, 0, time.Second},
	}
	for _, tt := range tests {
		var sum time.Duration
		const n = 2000
		for i := 0; i < n; i++ {
			v := tt.d.sample()
			if v < tt.lo || v > tt.hi {
				t.Fatalf("%+v: sample %v outside [%v,%v]", tt.d, v, tt.lo, tt.hi)
			}
			sum += v
		}
		if tt.d.Distribution == DistUniform {
			if mean := sum / n; mean < 97*time.Millisecond || mean > 103*time.Millisecond {
				t.Errorf("uniform mean %v, want about 100ms", mean)
			}
		}
	}
	// Normal with mean 200ms, sd 20ms: the sample mean of 2000 is within 3ms (6.7 se).
	d := HTTPDelay{Latency: 200 * time.Millisecond, Jitter: 20 * time.Millisecond, Distribution: DistNormal}
	var sum, sq float64
	for i := 0; i < 2000; i++ {
		v := float64(d.sample()) / float64(time.Millisecond)
		sum += v
		sq += v * v
	}
	mean := sum / 2000
	sd := sq/2000 - mean*mean
	if mean < 197 || mean > 203 || sd < 300 || sd > 500 {
		t.Errorf("normal: mean %.1fms variance %.0f, want about 200ms and 400", mean, sd)
	}
}

func TestHTTPProxyBackendValidate(t *testing.T) {
	checkValidate(t, HTTPProxyBackend{}, []validateCase{
		{"valid abort", "listen: 127.0.0.1:8081\ntarget: http://127.0.0.1:8080\nabort: {percent: 50, status: 503}\n", nil},
		{"valid delay", "listen: 127.0.0.1:0\ntarget: https://svc\ndelay: {latency: 300ms, jitter: 50ms, distribution: normal}\nmatch: {routes: [\"GET /{code}\"], pathPrefix: /}\n", nil},
		{"valid percent string", "listen: 127.0.0.1:1\ntarget: http://x\nabort: {percent: 12.5%}\n", nil},
		{"missing", "abort: {percent: 50}\n", []string{
			"gd.yaml:1:1: fault.params: needs control (the control API of a long-lived `slokit chaos proxy`, which keeps the traffic path up whatever happens to the run) or listen and target (a proxy inside this run, for demos): listen is missing",
		}},
		{"no fault", "listen: 127.0.0.1:1\ntarget: http://x\n", []string{
			"gd.yaml:1:1: fault.params: needs abort, delay or both: a proxy without a fault injects nothing",
		}},
		{"bad values", "listen: localhost\ntarget: ftp://x\nabort: {percent: 150, status: 700, reset: true}\n", []string{
			`gd.yaml:1:9: fault.params.listen: must be host:port like 127.0.0.1:8081, got "localhost"`,
			`gd.yaml:2:9: fault.params.target: must be an http(s) URL like http://127.0.0.1:8080, got "ftp://x"`,
			`gd.yaml:3:18: fault.params.abort.percent: must be a percentage in (0,100], like 50 or 12.5%, got "150"`,
			`gd.yaml:3:31: fault.params.abort.status: must be an integer in [100,599], got "700"`,
			`gd.yaml:3:36: fault.params.abort: unknown field "reset"; allowed here: percent, status`,
		}},
		{"bad delay", "listen: 127.0.0.1:1\ntarget: http://x\ndelay: {percent: 10, jitter: -1s, distribution: pareto}\n", []string{
			`gd.yaml:3:8: fault.params.delay.latency: required field is missing`,
			`gd.yaml:3:22: fault.params.delay.jitter: jitter needs distribution uniform or normal`,
			`gd.yaml:3:30: fault.params.delay.jitter: must be a duration like 200ms or 1.5s, got "-1s"`,
			`gd.yaml:3:49: fault.params.delay.distribution: must be one of fixed, uniform, normal, got "pareto"`,
		}},
		{"bad match", "listen: 127.0.0.1:1\ntarget: http://x\nabort: {percent: 1}\nmatch: {routes: [\"GET {code}\"], pathPrefix: api}\n", []string{
			`gd.yaml:4:18: fault.params.match.routes[0]: not a ServeMux pattern like "GET /{code}": route "GET {code}": parsing "GET {code}": at offset 4: host/path missing /`,
			`gd.yaml:4:45: fault.params.match.pathPrefix: must start with /, got "api"`,
		}},
		{"valid control", "control: unix:///run/slokit/p.sock\nlease: 2s\ntokenFile: /run/slokit/p.token\nabort: {percent: 50}\n", nil},
		{"control and listen", "control: http://127.0.0.1:8474\nlisten: 127.0.0.1:1\nabort: {percent: 50}\n", []string{
			"gd.yaml:2:1: fault.params.listen: set control (a long-lived `slokit chaos proxy`) or listen and target (a proxy inside this run), not both",
		}},
		{"bad control", "control: tcp://x\nlease: 1h\nabort: {percent: 50}\n", []string{
			`gd.yaml:1:10: fault.params.control: must be unix:///path/to.sock or http://127.0.0.1:PORT (the control API of ` + "`slokit chaos proxy`" + `), got "tcp://x"`,
			`gd.yaml:2:8: fault.params.lease: must be in [100ms,10m0s], got 1h0m0s`,
		}},
		{"lease without control", "listen: 127.0.0.1:1\ntarget: http://x\nlease: 1s\nabort: {percent: 50}\n", []string{
			"gd.yaml:3:1: fault.params.lease: applies only with control (a long-lived `slokit chaos proxy`)",
		}},
		{"not a mapping", "[1, 2]\n", []string{
			`gd.yaml:1:1: fault.params: must be a mapping, got a list`,
		}},
		{"unknown field", "listen: 127.0.0.1:1\ntarget: http://x\nabort: {percent: 1}\ntagret: x\n", []string{
			`gd.yaml:4:1: fault.params: unknown field "tagret", did you mean "target"?`,
		}},
	})
}

func TestHTTPProxyBackendLifecycle(t *testing.T) {
	up := upstream(t)
	port := freePort(t)
	params := parse(t, HTTPProxyBackend{}, fmt.Sprintf("listen: 127.0.0.1:%d\ntarget: %s\nabort: {percent: 100, status: 502}\n", port, up.URL))
	b := HTTPProxyBackend{}
	if ratio, ok := b.ExpectedErrorRatio(params); !ok || ratio != 1 {
		t.Errorf("ExpectedErrorRatio = %v, %v; want 1, true", ratio, ok)
	}
	inj, err := b.New(params, chaos.Run{ID: "r1", GameDay: "gd"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// What `slokit chaos cleanup` does after a crash: New, then Remove, with nothing running.
	if err := inj.Remove(ctx); err != nil {
		t.Errorf("Remove before anything ran: %v", err)
	}
	p := inj.(*HTTPProxy)
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	url := fmt.Sprintf("http://127.0.0.1:%d/abc", port)
	if c, _ := do(t, "GET", url); c != 200 {
		t.Errorf("started, not injected: %d", c)
	}
	if err := inj.Inject(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := do(t, "GET", url); c != 502 {
		t.Errorf("injected: %d, want 502", c)
	}
	if err := inj.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := do(t, "GET", url); c != 200 {
		t.Errorf("removed: %d, want 200", c)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := client.Get(url); err == nil {
		t.Error("proxy still answers after Close")
	}
}

func TestHTTPProxyRemoveAfterFailedInject(t *testing.T) {
	checkRemoveAfterFailedInject(t, func(listen string) (proxy, error) {
		return NewHTTPProxy(HTTPProxyConfig{Listen: listen, Target: "http://127.0.0.1:1",
			Fault: &HTTPFault{Abort: &HTTPAbort{Percent: 100}}})
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestHTTPProxyFlipUnderLoad flips the fault while requests flow: every response is
// either the upstream's or the fault's, never a proxy error, and the last state wins.
func TestHTTPProxyFlipUnderLoad(t *testing.T) {
	p, _ := startProxy(t, &HTTPFault{Abort: &HTTPAbort{Percent: 100, Status: 500}})
	ctx := context.Background()
	stop := make(chan struct{})
	bad := make(chan int, 100)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(p.URL() + "/abc")
				if err != nil {
					bad <- -1
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 500 {
					bad <- resp.StatusCode
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if err := p.Inject(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if err := p.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	for g := 0; g < 4; g++ {
		<-done
	}
	close(bad)
	for c := range bad {
		t.Errorf("response %d during flips, want only 200 or 500", c)
	}
	if got := countStatus(t, "GET", p.URL()+"/abc", 10); got[200] != 10 {
		t.Errorf("after the last Remove: %v", got)
	}
}
