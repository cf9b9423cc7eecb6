package main

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestGenerateBothModes: the same N SLOs give a Prometheus rule file (per cluster) and a
// Thanos Ruler rule file (global) with the Thanos groups' partial-response strategies.
func TestGenerateBothModes(t *testing.T) {
	w := workload{slos: 3, pods: 2}
	local, nLocal, err := generate(w.spec(false, 15*time.Second), false)
	if err != nil {
		t.Fatal(err)
	}
	global, nGlobal, err := generate(w.spec(true, 15*time.Second), true)
	if err != nil {
		t.Fatal(err)
	}
	if nLocal == 0 || nGlobal <= nLocal {
		t.Errorf("rules: per cluster %d, global %d; want global > per cluster > 0 (global adds the cluster group)", nLocal, nGlobal)
	}
	if bytes.Contains(local, []byte("partial_response_strategy")) {
		t.Errorf("the per-cluster file carries partial_response_strategy, which Prometheus refuses")
	}
	for _, want := range []string{"partial_response_strategy: abort", "partial_response_strategy: warn", "BenchAvailability2"} {
		if !bytes.Contains(global, []byte(want)) {
			t.Errorf("the global file lacks %q", want)
		}
	}
}

// TestBackfillContinuesScrape: the backfilled history and the live target expose the same
// series with counters on one line through time, so rate() sees no reset at the join.
func TestBackfillContinuesScrape(t *testing.T) {
	now := time.Now()
	w := workload{slos: 2, pods: 1, origin: now.Add(-time.Hour)}
	var b strings.Builder
	if err := w.backfill(&b, "127.0.0.1:1", now.Add(-time.Minute), now.Add(-30*time.Second), 15*time.Second); err != nil {
		t.Fatal(err)
	}
	om := b.String()
	if !strings.HasSuffix(om, "# EOF\n") || strings.Count(om, "\n") != 2+4*3+1 {
		t.Fatalf("backfill: want 4 series × 3 samples between the header and # EOF:\n%s", om)
	}
	rec := httptest.NewRecorder()
	w.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if got := strings.Count(string(body), "http_requests_total{"); got != 4 {
		t.Fatalf("the target exposes %d series, want 4:\n%s", got, body)
	}
	// 1h of 2 req/s since the origin: the live 200 counter is about 7200.
	if !strings.Contains(string(body), `http_requests_total{route="/r0",pod="p0",code="200"} 72`) {
		t.Errorf("the live counter is not rate × time since the origin:\n%s", body)
	}
}

func TestParseRefusesBadFlags(t *testing.T) {
	t.Setenv("THANOS", "/nonexistent/thanos")
	for _, args := range [][]string{{"-slos", "0"}, {"-interval", "500ms"}, {"-measure", "10s", "-interval", "15s"}} {
		if _, err := parse(args, io.Discard); err == nil || !strings.Contains(err.Error(), "want -slos") {
			t.Errorf("parse(%q): %v; want the flags' bounds refused", args, err)
		}
	}
}

func TestKind(t *testing.T) {
	for in, want := range map[string]string{"prometheus-c0-0": "prometheus", "sidecar-c1-0": "sidecar", "query": "query", "ruler": "ruler"} {
		if got := kind(in); got != want {
			t.Errorf("kind(%q) = %q, want %q", in, got, want)
		}
	}
}
