// Package testutil finds and starts the real components (Prometheus, Alertmanager,
// promtool, Chromium) that slokit's tier-2 tests run against, on 127.0.0.1 only.
package testutil

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing real component from a
// loud skip into a test failure. .ci/run sets it so that in CI nothing skips.
const RequireEnv = "SLOKIT_REQUIRE_REAL"

// Binary returns the path of the first of names found on PATH. When none is found the
// test is skipped with a loud reason, or fails when SLOKIT_REQUIRE_REAL=1.
func Binary(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("REAL COMPONENT MISSING: none of %s on PATH; install it (see .ci/run) to run this test", strings.Join(names, ", "))
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a real component started by a test; it is stopped by t.Cleanup.
type Server struct {
	// URL is the server's base URL, like http://127.0.0.1:39123.
	URL string
	// Dir is the server's private working directory (config, data, log).
	Dir string
	// Process is the running server, for tests that kill or freeze it.
	Process *os.Process
}

// StartPrometheus starts the Debian Prometheus on 127.0.0.1 with the given config
// (prometheus.yml text; rule files referenced in it should live in Dir or be absolute)
// and waits until it is ready. write is called with the working directory before the
// start so the test can place rule files there; it may be nil.
func StartPrometheus(t testing.TB, config string, write func(dir string)) *Server {
	t.Helper()
	return StartPrometheusArgs(t, config, write)
}

// StartPrometheusArgs is StartPrometheus with extra command-line flags, such as
// "--web.enable-remote-write-receiver".
func StartPrometheusArgs(t testing.TB, config string, write func(dir string), extra ...string) *Server {
	t.Helper()
	bin := Binary(t, "prometheus")
	dir := t.TempDir()
	if write != nil {
		write(dir)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir}
	start(t, s, bin, "/-/ready", append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--web.enable-lifecycle",
		"--log.level=warn",
	}, extra...)...)
	return s
}

// StartAlertmanager starts the Debian Alertmanager on 127.0.0.1 with config
// (alertmanager.yml text), clustering off, and waits until it is ready.
func StartAlertmanager(t testing.TB, config string) *Server {
	t.Helper()
	bin := Binary(t, "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir}
	start(t, s, bin, "/-/ready",
		"--config.file="+cfg,
		"--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--cluster.listen-address=",
		"--log.level=warn",
	)
	return s
}

func start(t testing.TB, s *Server, bin, readyPath string, args ...string) {
	t.Helper()
	logPath := filepath.Join(s.Dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	s.Process = cmd.Process
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT) // a test may have frozen it
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("%s log:\n%s", filepath.Base(bin), b)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%s exited before it was ready:\n%s", bin, b)
		case <-ctx.Done():
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%s not ready after 30s:\n%s", bin, b)
		case <-time.After(100 * time.Millisecond):
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+readyPath, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
}

// SyncBuffer is a bytes.Buffer that a test may read while a command or server writes to it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what has been written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
