package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/livelint"
	"github.com/slokit/slokit/internal/testutil"
)

// liveSpec reads Prometheus' own metrics: the events SLO is clean, the latency SLO's
// threshold falls between the buckets of prometheus_http_request_duration_seconds
// (0.1, 0.2, 0.4, 1, …) and its bad selector names a code that never happened.
const liveSpec = `version: slokit/v1
service: prom
scrapeInterval: 1s
slos:
  - name: api
    objective: 99
    sli:
      events:
        bad: prometheus_http_requests_total{job="self",code="599"}
        total: prometheus_http_requests_total{job="self"}
  - name: api-latency
    objective: 99
    sli:
      latency:
        histogram: prometheus_http_request_duration_seconds
        selector: {job: self}
        threshold: 150ms
`

// TestValidateLiveRealPrometheus runs slokit validate --prometheus against the Debian
// Prometheus scraping itself every second: findings are printed like static ones, with
// file:line:col, and an error exits 3.
func TestValidateLiveRealPrometheus(t *testing.T) {
	t.Parallel()
	prom := testutil.StartPrometheus(t, "global: {scrape_interval: 1s}\n", nil)
	// Its port is known once it runs: scrape itself from then on.
	cfg := fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: self\n    static_configs: [{targets: ['%s']}]\n", strings.TrimPrefix(prom.URL, "http://"))
	if err := os.WriteFile(filepath.Join(prom.Dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, prom.URL+"/-/reload", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("reload: %v %v", resp, err)
	}
	c, _ := livelint.NewClient(prom.URL, nil)
	for {
		if s, err := c.Query(ctx, `count_over_time(prometheus_http_request_duration_seconds_count{job="self"}[1m]) >= 3`); err == nil && len(s) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("Prometheus did not scrape itself in 30s")
		case <-time.After(300 * time.Millisecond):
		}
	}
	spec := filepath.Join(t.TempDir(), "prom.yaml")
	if err := os.WriteFile(spec, []byte(liveSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "validate", "--prometheus", prom.URL, spec)
	t.Logf("stderr:\n%s", errOut)
	if code != ExitInvalid {
		t.Errorf("exit %d, want %d (an error in the live lint)\nstdout:%s\nstderr:%s", code, ExitInvalid, out, errOut)
	}
	for _, want := range []string{
		spec + `:17:20: slos[1].sli.latency.threshold: 150ms is not a bucket of prometheus_http_request_duration_seconds_bucket{job="self"} in ` + prom.URL,
		"(nearest: 100ms and 200ms)",
		spec + `:9:14: slos[0].sli.events.bad: warning: prometheus_http_requests_total{code="599",job="self"} selects no series`,
		`code="599" matches none of the values code has on prometheus_http_requests_total ("200"`,
		"1 error(s) in 1 file(s)",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out, "ok, service prom") {
		t.Errorf("a file with a live error is reported ok:\n%s", out)
	}
}

// TestValidateLiveUnreachable: an unreachable Prometheus is an error (exit 1) that says so.
func TestValidateLiveUnreachable(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("http://127.0.0.1:%d", testutil.FreePort(t))
	code, _, errOut := runCLI(t, "validate", "--prometheus", url, "--timeout", "5s", "../../examples/shortlink.yaml")
	if code != ExitFailure || !strings.Contains(errOut, "prometheus "+url+" is unreachable") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and an unreachable error", code, errOut, ExitFailure)
	}
}
