package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/testutil"
)

// TestMain lets the tests start this test binary as the shortlink process (same main,
// same signal handling) without a separate go build.
func TestMain(m *testing.M) {
	if os.Getenv("SHORTLINK_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-h"}, 0, "-drain-delay duration"},
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
		{"bad duration", []string{"-drain-delay", "soon"}, 2, `invalid value "soon" for flag -drain-delay`},
		{"bad log level", []string{"-log-level", "loud"}, 2, "-log-level"},
		{"extra argument", []string{"serve"}, 2, `unexpected arguments ["serve"]`},
		{"unusable db", []string{"-addr", "127.0.0.1:0", "-admin-addr", "", "-db", filepath.Join(t.TempDir(), "no", "such", "dir.db")}, 1, "open link store"},
		{"bad listen address", []string{"-addr", "127.0.0.1:99999", "-admin-addr", "", "-db", filepath.Join(t.TempDir(), "l.db")}, 1, "listen on -addr 127.0.0.1:99999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(t.Context(), tt.args, &stderr); code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, &stderr)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, &stderr)
			}
		})
	}
}

// proc is a shortlink process started from this test binary.
type proc struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
	done chan error
}

func startProc(t *testing.T, db string, drainDelay time.Duration) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port := testutil.FreePort(t)
	p := &proc{base: fmt.Sprintf("http://127.0.0.1:%d", port), log: new(bytes.Buffer), done: make(chan error, 1)}
	p.cmd = exec.Command(exe, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-admin-addr", "127.0.0.1:0",
		"-db", db, "-drain-delay", drainDelay.String(), "-shutdown-timeout", "10s")
	p.cmd.Env = append(os.Environ(), "SHORTLINK_TEST_RUN_MAIN=1", "OTEL_SDK_DISABLED=true")
	p.cmd.Stderr = &lockedWriter{w: p.log}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("shortlink log:\n%s", p.log)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("shortlink not ready on %s after 20s; log:\n%s", p.base, p.log)
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestSIGTERMLosesNothing runs bounded load (8 workers creating links and following
// them) against the real process, sends SIGTERM, and asserts: every request sent got its
// expected answer (zero failed in-flight requests), the process exits 0, and after a
// restart on the same file every acknowledged link is there. The load generator acts
// like a load balancer: it polls /readyz and stops sending new requests once it fails,
// which the drain delay gives it time to see.
func TestSIGTERMLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service process; skipped with -short")
	}
	db := filepath.Join(t.TempDir(), "links.db")
	p := startProc(t, db, time.Second)

	client := &http.Client{
		Timeout:       15 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var (
		ready       atomic.Bool
		stop        atomic.Bool
		sigtermAt   atomic.Int64 // unix nanos, 0 before SIGTERM
		sent, okN   atomic.Int64
		inFlightSig atomic.Int64 // started before SIGTERM, answered after
		afterSig    atomic.Int64 // answered after SIGTERM
		mu          sync.Mutex
		failures    []string
		acked       = map[string]string{} // code → url, for every 201
	)
	ready.Store(true)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	track := func(start time.Time) {
		if s := sigtermAt.Load(); s != 0 {
			afterSig.Add(1)
			if start.UnixNano() < s {
				inFlightSig.Add(1)
			}
		}
	}

	// The "load balancer": stops routing to the instance once /readyz fails.
	go func() {
		hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for !stop.Load() && ready.Load() {
			resp, err := hc.Get(p.base + "/readyz")
			if err != nil || resp.StatusCode != 200 {
				ready.Store(false)
			}
			if err == nil {
				resp.Body.Close()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if !ready.Load() {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				url := fmt.Sprintf("https://example.com/w%d/%d", w, i)
				start := time.Now()
				sent.Add(1)
				resp, err := client.Post(p.base+"/api/v1/links", "application/json", strings.NewReader(`{"url":"`+url+`"}`))
				if err != nil {
					fail("create %s: %v", url, err)
					continue
				}
				var l struct{ Code, URL string }
				err = json.NewDecoder(resp.Body).Decode(&l)
				resp.Body.Close()
				track(start)
				if resp.StatusCode != http.StatusCreated || err != nil || l.URL != url {
					fail("create %s: status %d, %+v, %v", url, resp.StatusCode, l, err)
					continue
				}
				okN.Add(1)
				mu.Lock()
				acked[l.Code] = url
				mu.Unlock()

				start = time.Now()
				sent.Add(1)
				resp, err = client.Get(p.base + "/" + l.Code)
				if err != nil {
					fail("redirect %s: %v", l.Code, err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				track(start)
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != url {
					fail("redirect %s: %d %q", l.Code, resp.StatusCode, resp.Header.Get("Location"))
					continue
				}
				okN.Add(1)
			}
		})
	}

	// Load for at least 1.5s and until 100 links exist (a slow disk fsyncs slowly), at most 15s.
	loadStart := time.Now()
	for time.Since(loadStart) < 15*time.Second {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 && time.Since(loadStart) >= 1500*time.Millisecond {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	sigtermAt.Store(time.Now().UnixNano())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-p.done:
		p.done <- exitErr // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("shortlink did not exit within 30s of SIGTERM")
	}
	stop.Store(true)
	wg.Wait()

	if exitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", exitErr)
	}
	for _, msg := range []string{`"msg":"draining"`, `"msg":"stopped"`} {
		if !strings.Contains(p.log.String(), msg) {
			t.Errorf("log lacks %s", msg)
		}
	}
	t.Logf("requests sent %d, answered as expected %d, in flight at SIGTERM %d, answered after SIGTERM %d, links acknowledged %d",
		sent.Load(), okN.Load(), inFlightSig.Load(), afterSig.Load(), len(acked))
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed, first: %s", len(failures), sent.Load(), strings.Join(failures[:min(5, len(failures))], "\n"))
	}
	if afterSig.Load() == 0 {
		t.Error("no request was answered after SIGTERM: the test did not exercise the drain")
	}
	if len(acked) < 50 {
		t.Errorf("only %d links were created under load; the test needs more to mean anything", len(acked))
	}

	// Restart on the same file: every acknowledged link is there.
	p2 := startProc(t, db, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	lost := 0
	for code, url := range acked {
		req, _ := http.NewRequestWithContext(ctx, "GET", p2.base+"/api/v1/links/"+code, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ URL string }
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || l.URL != url {
			lost++
			if lost <= 5 {
				t.Errorf("after restart, link %s: status %d url %q, want 200 %q", code, resp.StatusCode, l.URL, url)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged links lost across SIGTERM and restart", lost, len(acked))
	}
}

// TestSIGKILLLosesNoAcknowledgedLink kills the process without warning under create load:
// requests in flight may fail, but every link answered 201 is there after a restart, as
// each create is committed before it is acknowledged. (A killed process leaves the page
// cache behind, so this shows that nothing waits in process memory; power loss is bbolt's
// fsync's business and is not simulated here.)
func TestSIGKILLLosesNoAcknowledgedLink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service process; skipped with -short")
	}
	db := filepath.Join(t.TempDir(), "links.db")
	p := startProc(t, db, 0)
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu    sync.Mutex
		acked = map[string]string{}
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				url := fmt.Sprintf("https://example.com/k%d/%d", w, i)
				resp, err := client.Post(p.base+"/api/v1/links", "application/json", strings.NewReader(`{"url":"`+url+`"}`))
				if err != nil {
					continue // in flight when the process died, or refused after
				}
				var l struct{ Code, URL string }
				err = json.NewDecoder(resp.Body).Decode(&l)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated && err == nil {
					mu.Lock()
					acked[l.Code] = url
					mu.Unlock()
				}
			}
		})
	}
	start := time.Now()
	for time.Since(start) < 15*time.Second {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 && time.Since(start) >= time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-p.done
	p.done <- err
	stop.Store(true)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d links acknowledged before the kill", len(acked))
	}

	p2 := startProc(t, db, 0)
	lost := 0
	for code, url := range acked {
		resp, err := client.Get(p2.base + "/api/v1/links/" + code)
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ URL string }
		err = json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || l.URL != url {
			lost++
		}
	}
	t.Logf("links acknowledged before SIGKILL %d, lost %d", len(acked), lost)
	if lost > 0 {
		t.Errorf("%d of %d acknowledged links lost after SIGKILL and restart", lost, len(acked))
	}
}
