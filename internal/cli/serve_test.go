package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/testutil"
)

func TestServeUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--prometheus", "http://127.0.0.1:9"}, ExitUsage, "no SLO specs: pass -f FILE or -f DIR"},
		{[]string{"serve", "-f", "x.yaml"}, ExitUsage, "no Prometheus: pass --prometheus URL"},
		{[]string{"serve", "-f", filepath.Join(dir, "missing.yaml"), "--prometheus", "http://127.0.0.1:9"}, ExitFailure, "missing.yaml: cannot read the spec"},
		{[]string{"serve", "-f", dir, "--prometheus", "http://127.0.0.1:9"}, ExitFailure, "no .yaml or .yml file in"},
		// File names after the flags are more specs (a shell glob's expansion).
		{[]string{"serve", "--prometheus", "http://127.0.0.1:9", filepath.Join(dir, "extra.yaml")}, ExitFailure, "extra.yaml: cannot read the spec"},
	} {
		var stdout, stderr strings.Builder
		code := Main(context.Background(), tc.args, nil, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q lacks %q", tc.args, code, tc.code, stderr.String(), tc.want)
		}
	}
}

// TestServeCommand starts 'slokit serve' on a directory of specs, reads a page and
// stops it with the context, as Ctrl-C does.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	specs := filepath.Join(dir, "specs")
	if err := os.MkdirAll(specs, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "shortlink.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(specs, "shortlink.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &testutil.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "-f", specs, "--prometheus", "http://127.0.0.1:9", "--listen", "127.0.0.1:0",
			"--store", filepath.Join(dir, "gd.db")}, nil, io.Discard, stderr)
	}()
	re := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no URL printed:\n%s", stderr.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Prometheus is down: the page still lists the SLOs, says so, and answers 502.
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(page), "shortlink/redirect-availability") ||
		!strings.Contains(string(page), "could not be read") {
		t.Errorf("status %d:\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(stderr.String(), "4 SLO(s) from "+filepath.Join(specs, "shortlink.yaml")) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d after Ctrl-C, want 0:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
