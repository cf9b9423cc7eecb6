package thanoslab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/internal/cli"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/internal/thanoslab"
)

// thanosGameDay is a game day on the global SLO: every redirect of cluster a fails behind
// the game day's own fault proxy, so the global error ratio is a's share of the traffic,
// given as expectedErrorRatio (the backend only knows its own 100%). Burn rates come from
// Thanos Query, alerts from Thanos Ruler.
const thanosGameDay = `name: global-redirect-errors
description: Every redirect of cluster a fails; the global page must fire through Thanos Ruler.
slo: {file: slos.yaml, name: redirect-availability}
signals:
  prometheus: %s
  alertsURL: %s
  pollInterval: 1s
  tolerance: 15s
fault:
  backend: http-proxy
  params:
    listen: "%s"
    target: "%s"
    abort: {percent: 100, status: 503}
    match: {routes: ["GET /{code}"]}
expectedErrorRatio: %.3f
steadyState: {window: 1m, maxBurnRate: 1, wait: 150s}
expect:
  - severity: page
guardrails: {maxBudget: 50%%, timeout: 5m}
`

// TestChaosRunOnThanos runs 'slokit chaos run' against the two-cluster topology, cluster
// a an HA pair (two Prometheus servers scraping the same edge, told apart by the replica
// label only): the runner reads burn rates through Thanos Query and the alert state from
// Thanos Ruler's alerts API (signals.alertsURL), and the verdict must pass with the page
// detected within its prediction plus the tolerance, and not early, which it would be if
// the pair's duplicates were counted twice (a's share would be 2/3, not 1/2).
func TestChaosRunOnThanos(t *testing.T) {
	if testing.Short() {
		t.Skip("real Thanos game day (~3 min)")
	}
	testutil.Thanos(t) // skip (or fail) at once when the binaries are missing
	testutil.Binary(t, "prometheus")
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	o, rules := globalSLO(t)
	am := testutil.StartAlertmanager(t, alertmanagerConfig)

	// Cluster a's edge sends to the game day's proxy address; until the game day starts
	// its proxy there, a pass-through on the same address carries the load.
	proxyAddr := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	a := startWorkloadVia(t, ctx, loadRate, "http://"+proxyAddr)
	b := startWorkload(t, ctx, loadRate)
	warm := passThrough(t, proxyAddr, a.stack.ServiceURL)
	lab := startLab(t, ctx, map[string][]byte{"global.yml": rules}, am.URL, map[string]*workload{"a": a, "b": b},
		func(c *thanoslab.Config) { c.Clusters[0].Replicas = 2 })
	if res, err := lab.Query(ctx, `count by (cluster) (up{cluster="a"})`, false); err != nil || len(res.Samples) != 1 || res.Samples[0].Value != 1 {
		t.Fatalf("cluster a's HA pair through Query (deduplicated): %+v, %v; want one up series", res.Samples, err)
	}

	sig, err := promsource.NewSplit(lab.QueryURL, lab.RulerURL)
	if err != nil {
		t.Fatal(err)
	}
	w := pageWindow(t, o)
	if err := demo.WarmUp(ctx, sig, o, w.Long, w.Long, 90*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	share := clusterShare(t, ctx, lab, "a")
	_ = warm.Close()

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slos.yaml"), globalSpec(t), 0o644); err != nil {
		t.Fatal(err)
	}
	gd := filepath.Join(dir, "gameday.yaml")
	src := fmt.Sprintf(thanosGameDay, lab.QueryURL, lab.RulerURL, proxyAddr, a.stack.ServiceURL, share)
	if err := os.WriteFile(gd, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	resultFile := filepath.Join(dir, "result.json")
	var stdout bytes.Buffer
	stderr := &testutil.SyncBuffer{}
	code := cli.Main(ctx, []string{"chaos", "run", gd, "--result", resultFile, "--journal-dir", filepath.Join(dir, "journal")},
		nil, &stdout, stderr)
	if code != cli.ExitOK {
		t.Fatalf("chaos run: exit %d; stderr:\n%s", code, stderr.String())
	}
	var res chaos.Result
	if b, err := os.ReadFile(resultFile); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != chaos.Pass || len(res.Expectations) != 1 {
		t.Fatalf("result %+v", res)
	}
	e := res.Expectations[0]
	if e.DetectedSeconds == nil || e.PredictedSeconds == nil {
		t.Fatalf("expectation %+v", e)
	}
	t.Logf("MEASURED game day on Thanos: a's share %.2f, page detected after %.1fs (predicted %.0fs), reset %v, budget %.2f%%; signals %s",
		share, *e.DetectedSeconds, *e.PredictedSeconds, fmtSeconds(e.ResetSeconds), 100*res.Budget.Spent, sig)
	if d := *e.DetectedSeconds; d < *e.PredictedSeconds-5 {
		t.Errorf("detected after %.1fs, more than 5s before the predicted %.0fs: are cluster a's replicas counted twice?", d, *e.PredictedSeconds)
	}
}

func fmtSeconds(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%.1fs", *p)
}

// passThrough forwards addr to target until closed.
func passThrough(t *testing.T, addr, target string) *http.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(u), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}
