package propose_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/cli"
	"github.com/slokit/slokit/internal/propose"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/sample-service/shortlink"
	"github.com/slokit/slokit/slo"
)

// backfill writes seven days of Envoy metrics for cluster "payments" at a 5m interval
// (10,000 requests and 3 server errors per interval: 0.03%; latency shares per bucket in
// milliseconds as below) in OpenMetrics, and turns them into TSDB blocks with promtool.
func backfill(t *testing.T, promtool, dataDir string, end time.Time) {
	t.Helper()
	shares := []struct {
		le    string
		share float64
	}{{"5", 0.5}, {"10", 0.8}, {"25", 0.95}, {"50", 0.992}, {"100", 0.998}, {"250", 0.9995}, {"500", 0.9999}, {"1000", 1}, {"+Inf", 1}}
	var b strings.Builder
	b.WriteString("# TYPE envoy_cluster_upstream_rq_xx gauge\n")
	start := end.Add(-7 * 24 * time.Hour)
	step := 5 * time.Minute
	n := 0.0
	for ts := start; ts.Before(end); ts = ts.Add(step) {
		n++
		fmt.Fprintf(&b, "envoy_cluster_upstream_rq_xx{envoy_cluster_name=\"payments\",envoy_response_code_class=\"2\"} %g %d\n", n*9997, ts.Unix())
		fmt.Fprintf(&b, "envoy_cluster_upstream_rq_xx{envoy_cluster_name=\"payments\",envoy_response_code_class=\"5\"} %g %d\n", n*3, ts.Unix())
	}
	b.WriteString("# TYPE envoy_cluster_upstream_rq_time_bucket gauge\n")
	for _, s := range shares {
		n = 0
		for ts := start; ts.Before(end); ts = ts.Add(step) {
			n++
			fmt.Fprintf(&b, "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"payments\",le=\"%s\"} %g %d\n", s.le, n*10000*s.share, ts.Unix())
		}
	}
	b.WriteString("# TYPE envoy_cluster_upstream_rq_time_count gauge\n")
	n = 0
	for ts := start; ts.Before(end); ts = ts.Add(step) {
		n++
		fmt.Fprintf(&b, "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"payments\"} %g %d\n", n*10000, ts.Unix())
	}
	b.WriteString("# EOF\n")
	in := filepath.Join(t.TempDir(), "history.om")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", in, dataDir).CombinedOutput(); err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
}

// synthetic serves request metrics in the gRPC, ingress-nginx and OpenTelemetry
// conventions, counting up from when it started.
func synthetic(t *testing.T) *httptest.Server {
	began := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := 100 * time.Since(began).Seconds()
		fmt.Fprintf(w, `# TYPE grpc_server_handled_total counter
grpc_server_handled_total{grpc_code="OK",grpc_method="Get",grpc_service="store.Store",grpc_type="unary"} %[1]g
grpc_server_handled_total{grpc_code="NotFound",grpc_method="Get",grpc_service="store.Store",grpc_type="unary"} %[2]g
grpc_server_handled_total{grpc_code="Unavailable",grpc_method="Get",grpc_service="store.Store",grpc_type="unary"} 0
# TYPE grpc_server_handling_seconds histogram
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="store.Store",grpc_type="unary",le="0.005"} %[3]g
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="store.Store",grpc_type="unary",le="0.025"} %[1]g
grpc_server_handling_seconds_bucket{grpc_method="Get",grpc_service="store.Store",grpc_type="unary",le="+Inf"} %[1]g
grpc_server_handling_seconds_sum{grpc_method="Get",grpc_service="store.Store",grpc_type="unary"} 1
grpc_server_handling_seconds_count{grpc_method="Get",grpc_service="store.Store",grpc_type="unary"} %[1]g
# TYPE nginx_ingress_controller_requests counter
nginx_ingress_controller_requests{ingress="web",namespace="shop",status="200"} %[1]g
nginx_ingress_controller_requests{ingress="web",namespace="shop",status="503"} %[2]g
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",le="0.1"} %[1]g
http_server_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="200",le="+Inf"} %[1]g
http_server_request_duration_seconds_sum{http_request_method="GET",http_response_status_code="200"} 1
http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200"} %[1]g
`, n, n/100, n/2)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRealInit runs slokit init against the Debian Prometheus scraping, every second,
// the shortlink service (promhttp-style metrics from slokit's sli) and a synthetic target
// in three other conventions, with seven days of Envoy history backfilled by promtool.
func TestRealInit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and the shortlink service")
	}
	promtool := testutil.Binary(t, "promtool")
	end := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)

	sl, err := shortlink.New(shortlink.Config{DBPath: filepath.Join(t.TempDir(), "links.db"),
		Logger: slogDiscard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sl.Close() })
	shortSrv := httptest.NewServer(sl.Handler())
	t.Cleanup(shortSrv.Close)
	synth := synthetic(t)

	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: shortlink
    static_configs: [{targets: [%q]}]
  - job_name: store
    static_configs: [{targets: [%q]}]
`, strings.TrimPrefix(shortSrv.URL, "http://"), strings.TrimPrefix(synth.URL, "http://"))
	prom := testutil.StartPrometheus(t, cfg, func(dir string) { backfill(t, promtool, filepath.Join(dir, "data"), end) })

	// Traffic on the shortlink service while Prometheus scrapes it: creates and misses,
	// 20 requests/s until the test ends.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			if resp, err := http.Post(shortSrv.URL+"/api/v1/links", "application/json", strings.NewReader(fmt.Sprintf(`{"url":"https://example.com/%d"}`, i))); err == nil {
				resp.Body.Close()
			}
			if resp, err := http.Get(shortSrv.URL + "/nope" + fmt.Sprint(i)); err == nil {
				resp.Body.Close()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	defer func() { stop(); <-done }()
	waitForSeries(t, prom.URL, "http_requests_total", "grpc_server_handled_total", "nginx_ingress_controller_requests", "http_server_request_duration_seconds_count")

	p, err := propose.NewClient(prom.URL)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	props, err := propose.Propose(context.Background(), p, propose.Request{URL: prom.URL, Window: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("discovery and history over 7d: %s", time.Since(began).Round(time.Millisecond))
	got := map[string]propose.Proposal{}
	for _, pr := range props {
		if pr.SLOs == 0 {
			t.Errorf("%s: no SLO: %v", pr.Service, pr.Skipped)
			continue
		}
		got[pr.Service] = pr
		t.Logf("%s (%d SLOs):\n%s", pr.File, pr.SLOs, pr.Data)
		if _, ds := slo.Parse(pr.File, pr.Data); ds.Err() != nil {
			t.Errorf("%s does not validate: %v", pr.File, ds.Err())
		}
	}
	checkPayments(t, got["payments"])
	for svc, want := range map[string][]string{
		"shortlink": {"name: availability", `http_requests_total{code=~\"5..\",service=\"shortlink\"}`, "name: latency", "histogram: http_request_duration_seconds"},
		"web":       {"nginx-ingress:", `nginx_ingress_controller_requests{ingress=\"web\",status=~\"5..\"}`, "No nginx_ingress_controller_request_duration_seconds histogram"},
		"store":     {"name: grpc-availability", "grpc_code=~\\\"Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss\\\"", "name: grpc-latency", "name: otelhttp-availability", "http_response_status_code=~\\\"5..\\\""},
	} {
		pr, ok := got[svc]
		if !ok {
			t.Errorf("no proposal for service %s; got %d proposals", svc, len(props))
			continue
		}
		for _, w := range want {
			if !strings.Contains(string(pr.Data), w) {
				t.Errorf("%s lacks %s", pr.File, w)
			}
		}
	}
	checkCLI(t, prom.URL)
}

// checkPayments: the backfilled history fixes the choices exactly.
func checkPayments(t *testing.T, pr propose.Proposal) {
	t.Helper()
	text := string(pr.Data)
	for _, re := range []string{
		`(?m)^  # envoy: .*envoy_cluster_upstream_rq_xx\{envoy_cluster_name="payments"\}, by envoy_response_code_class\.$`,
		`(?m)^  # 20,1\d\d,\d{3} requests, 6,0\d\d of them failed: error ratio 0\.03%\.$`,
		`(?m)^  #   99\.99%: would have failed: 300% of the budget spent$`,
		`(?m)^  #   99\.95%: would have held with 40% of the budget left$`,
		`(?m)^  #   99\.9%: would have held with 70% of the budget left  <- chosen$`,
		`(?m)^  - name: availability\n    objective: 99\.9\n`,
		`(?m)^  #   <=5ms 50%, <=10ms 80%, <=25ms 95%, <=50ms 99\.2%, <=100ms 99\.8%,`,
		`(?m)^  # Objective 99%: the smallest boundary at which it would have held with 80% of the budget left$`,
		`(?m)^  - name: latency\n    objective: 99\n`,
		`errorRatio: "1 - sum\(rate\(envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name=\\"payments\\",le=\\"100\\"\}\[\{\{\.window\}\}\]\)\)`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("payments.yaml does not match %s", re)
		}
	}
}

// checkCLI runs `slokit init` as a user would: a dry run, then files that validate.
func checkCLI(t *testing.T, url string) {
	t.Helper()
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := cli.Main(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, out, errOut := run("init", "--prometheus", url, "--dry-run", "--service", "payments")
	if code != 0 || !strings.HasPrefix(out, "# file: slos/payments.yaml\n") || strings.Contains(out, "service: shortlink") {
		t.Errorf("init --dry-run --service payments: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	dir := filepath.Join(t.TempDir(), "slos")
	code, _, errOut = run("init", "--prometheus", url, "--out", dir)
	if code != 0 || !strings.Contains(errOut, "wrote "+filepath.Join(dir, "shortlink.yaml")+": 2 SLO(s) for service shortlink") {
		t.Errorf("init --out: exit %d\nstderr:\n%s", code, errOut)
	}
	if code, out, errOut := run("validate", dir); code != 0 {
		t.Errorf("validate the proposals: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run("init", "--prometheus", url, "--out", dir); code != 1 || !strings.Contains(errOut, "pass --force to overwrite") {
		t.Errorf("init over existing files: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run("init", "--prometheus", url, "--service", "nothing-here", "--dry-run"); code != 1 || !strings.Contains(errOut, "no request metrics for service nothing-here") {
		t.Errorf("init for an unknown service: exit %d, %s", code, errOut)
	}
}

// waitForSeries waits until Prometheus has scraped each metric at least twice (so that
// increase() has two samples).
func waitForSeries(t *testing.T, url string, metrics ...string) {
	t.Helper()
	p, err := propose.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range metrics {
		for {
			vec, err := p.Query(context.Background(), fmt.Sprintf("count_over_time(%s[1m])", m), time.Now())
			if err == nil && len(vec) > 0 && vec[0].Value >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not scraped three times within 30s (%v)", m, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
