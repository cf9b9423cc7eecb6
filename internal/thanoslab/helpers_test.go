package thanoslab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos/local"
	"github.com/slokit/slokit/internal/demo"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/internal/thanoslab"
)

// workload is one cluster's service: shortlink behind the demo's instrumented edge, with
// slokit's HTTP fault proxy between them and steady load on the edge.
type workload struct {
	stack *demo.Stack
	proxy *local.HTTPProxy
}

// edge is the edge's host:port, the cluster Prometheus' scrape target.
func (w *workload) edge() string { return strings.TrimPrefix(w.stack.EdgeURL, "http://") }

// startWorkload starts one cluster's service and load (rate requests per second), the
// edge routed through a fault proxy of the test's own.
func startWorkload(t *testing.T, ctx context.Context, rate float64) *workload {
	t.Helper()
	return startWorkloadVia(t, ctx, rate, "")
}

// startWorkloadVia is startWorkload with the edge routed to upstream (like
// http://127.0.0.1:8081) when it is not empty: the address of a game day's fault proxy.
func startWorkloadVia(t *testing.T, ctx context.Context, rate float64, upstream string) *workload {
	t.Helper()
	// Config.Prometheus set: the demo starts no lab of its own; the cluster's Prometheus
	// scrapes the edge instead.
	stack, err := demo.Start(ctx, demo.Config{Dir: t.TempDir(), Prometheus: "http://127.0.0.1:1", Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Close() })
	if upstream != "" {
		if err := stack.Route(upstream); err != nil {
			t.Fatal(err)
		}
		if err := stack.StartLoad(ctx); err != nil {
			t.Fatal(err)
		}
		return &workload{stack: stack}
	}
	proxy, err := local.NewHTTPProxy(local.HTTPProxyConfig{Listen: "127.0.0.1:0", Target: stack.ServiceURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := proxy.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	if err := stack.Route(proxy.URL()); err != nil {
		t.Fatal(err)
	}
	if err := stack.StartLoad(ctx); err != nil {
		t.Fatal(err)
	}
	return &workload{stack: stack, proxy: proxy}
}

// redirectErrors makes the proxy answer percent of the redirects with 503.
func (w *workload) redirectErrors(t *testing.T, percent float64) {
	t.Helper()
	var f *local.HTTPFault
	if percent > 0 {
		f = &local.HTTPFault{Abort: &local.HTTPAbort{Percent: percent, Status: http.StatusServiceUnavailable},
			Match: local.HTTPMatch{Routes: []string{"GET /{code}"}}}
	}
	if err := w.proxy.SetFault(f); err != nil {
		t.Fatal(err)
	}
}

// alertmanagerConfig routes everything to a receiver that notifies nobody: the test
// reads the alerts Alertmanager received from its API.
const alertmanagerConfig = "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n"

// startLab starts the two-cluster topology over the workloads, with rules in the ruler.
func startLab(t *testing.T, ctx context.Context, rules map[string][]byte, am string, clusters map[string]*workload, tweak func(*thanoslab.Config)) *thanoslab.Lab {
	t.Helper()
	cfg := thanoslab.Config{Dir: t.TempDir(), Thanos: testutil.Thanos(t), Prometheus: testutil.Binary(t, "prometheus"),
		RuleFiles: rules, AlertmanagerURL: am, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	for _, name := range []string{"a", "b"} {
		if w, ok := clusters[name]; ok {
			cfg.Clusters = append(cfg.Clusters, thanoslab.Cluster{Name: name, Targets: []string{w.edge()}, Job: demo.Job})
		}
	}
	if tweak != nil {
		tweak(&cfg)
	}
	lab, err := thanoslab.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("component logs:\n%s", lab.Logs(40))
		}
		if err := lab.Close(); err != nil {
			t.Errorf("closing the lab: %v", err)
		}
	})
	if err := lab.WaitClusters(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	return lab
}

// testWriter sends slog lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// amAlerts returns the names of the alerts Alertmanager holds, active or not.
func amAlerts(ctx context.Context, am string) (map[string]bool, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, am+"/api/v2/alerts?"+url.Values{"active": {"true"}}.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels map[string]string `json:"labels"`
	}
	if err := decodeJSON(resp, &alerts); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, a := range alerts {
		out[a.Labels["alertname"]] = true
	}
	return out, nil
}

// waitFor polls cond every interval until it holds or timeout passes, and returns how
// long it took.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error)) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return time.Since(start), nil
		}
		last = err
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("not within %s (last error: %v)", timeout, last)
		case <-time.After(interval):
		}
	}
}

func decodeJSON(resp *http.Response, out any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %s", resp.Request.URL, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
