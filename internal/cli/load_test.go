package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/slokit/slokit/internal/testutil"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/load"
)

func TestLoadCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"code":"abc","short_url":"x"}`))
			return
		}
		if r.URL.Path == "/abc" {
			http.Redirect(w, r, "https://example.com/", http.StatusFound)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"text", []string{"load", "--target", srv.URL, "--rate", "100", "--duration", "300ms"}, ExitOK, "redirect", "load: 100 requests/s"},
		{"no target", []string{"load"}, ExitUsage, "", "--target is required"},
		{"bad output", []string{"load", "--target", srv.URL, "-o", "yaml"}, ExitUsage, "", "-o must be text or json"},
		{"bad mix", []string{"load", "--target", srv.URL, "--mix", "create=x"}, ExitUsage, "", `mix "create=x"`},
		{"bad rate", []string{"load", "--target", srv.URL, "--rate", "0"}, ExitUsage, "", "rate 0: want requests per second > 0"},
		{"bad flag", []string{"load", "--rate", "fast"}, ExitUsage, "", "invalid argument"},
		{"nothing listening", []string{"load", "--target", "http://127.0.0.1:1", "--rate", "20", "--duration", "200ms"}, ExitFailure, "total", "no request got a response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, &stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, &stderr)
			}
		})
	}
}

func TestLoadCommandJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"code":"abc"}`))
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"load", "--target", srv.URL, "--rate", "50", "--duration", "200ms", "--mix", "create=1", "-o", "json"},
		strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	var rep load.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, &stdout)
	}
	if c := rep.Kinds[load.KindCreate]; c.Requests == 0 || c.OK != c.Requests {
		t.Errorf("create summary %+v, want every request a 201", c)
	}
}

func TestLoadCommandInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	defer srv.Close()
	for _, tt := range []struct {
		duration string
		code     int
	}{{"1h", ExitInterrupted}, {"0", ExitOK}} {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr testutil.SyncBuffer
		done := make(chan int)
		go func() {
			done <- Main(ctx, []string{"load", "--target", srv.URL, "--rate", "20", "--duration", tt.duration, "--mix", "create=1"},
				strings.NewReader(""), &stdout, &stderr)
		}()
		for !strings.Contains(stderr.String(), "load:") {
			// wait until the load has started
			select {
			case c := <-done:
				t.Fatalf("exited %d before interrupt: %s", c, &stderr)
			case <-time.After(10 * time.Millisecond):
			}
		}
		cancel()
		if c := <-done; c != tt.code {
			t.Errorf("--duration %s interrupted: exit %d, want %d (%s)", tt.duration, c, tt.code, &stderr)
		}
		if !strings.Contains(stdout.String(), "total") {
			t.Errorf("--duration %s interrupted: no summary on stdout:\n%s", tt.duration, &stdout)
		}
	}
}
