package operator

// The operator as the chart runs it: the real `slokit operator` binary, two replicas,
// against the real apiserver. What controller-runtime's manager promises is checked
// from the outside, as a kubelet and a Prometheus would see it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slokit/slokit/internal/testutil"
)

// Series the test reads from the operators' /metrics.
const (
	leaderSeries    = `leader_election_master_status{name="slokit-operator"}`
	reconcileSeries = `controller_runtime_reconcile_total{controller="servicelevelobjective",result="success"}`
)

// syncBuffer is a bytes.Buffer safe for the process's copying goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// replica is one `slokit operator` process.
type replica struct {
	name            string
	cmd             *exec.Cmd
	stderr          *syncBuffer
	metrics, probes string // base URLs
	exited          chan struct{}
	err             error // Wait's result, once exited is closed
}

// buildSlokit builds ./cmd/slokit into a temporary directory.
func buildSlokit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "slokit")
	start := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/slokit").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/slokit: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Second))
	return bin
}

// startReplica runs `slokit operator` as the chart's Deployment does (leader election
// in ns, JSON logs, 10s graceful shutdown), its metrics and probes on 127.0.0.1.
func startReplica(t *testing.T, name, bin, kubeconfig, ns string) *replica {
	t.Helper()
	mp, pp := testutil.FreePort(t), testutil.FreePort(t)
	r := &replica{name: name, stderr: &syncBuffer{}, exited: make(chan struct{}),
		metrics: fmt.Sprintf("http://127.0.0.1:%d", mp), probes: fmt.Sprintf("http://127.0.0.1:%d", pp)}
	r.cmd = exec.Command(bin, "operator", "--kubeconfig", kubeconfig,
		"--leader-elect", "--leader-election-namespace", ns, "--watch-namespace", ns,
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", mp), fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", pp),
		"--log-format", "json", "--graceful-shutdown", "10s")
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		t.Logf("%s's log:\n%s", r.name, r.stderr.String())
	})
	return r
}

// get returns the status and body of url, or an error when nothing answers.
func get(url string) (int, string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitUntil polls cond every 100ms until it holds, failing with what after timeout.
func (r *replica) waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		select {
		case <-r.exited:
			t.Fatalf("%s exited (%v) while waiting until %s", r.name, r.err, what)
		default:
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not %s after %s", r.name, what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// probesOK says whether /healthz and /readyz both answer 200.
func (r *replica) probesOK() bool {
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, err := get(r.probes + p); err != nil || code != http.StatusOK {
			return false
		}
	}
	return true
}

// metric returns series' value on r's /metrics; absent is 0, unreachable fails t.
func (r *replica) metric(t *testing.T, series string) float64 {
	t.Helper()
	code, body, err := get(r.metrics + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("%s /metrics: %d %v", r.name, code, err)
	}
	return seriesValue(body, series)
}

// seriesValue finds series (name and labels exactly as exposed) in a text exposition.
func seriesValue(body, series string) float64 {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return 0
}

func (r *replica) leads(t *testing.T) bool { return r.metric(t, leaderSeries) == 1 }

// stop sends SIGTERM, as the kubelet does, and waits for the exit.
func (r *replica) stop(t *testing.T, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.exited:
	case <-time.After(timeout):
		t.Fatalf("%s still running %s after SIGTERM", r.name, timeout)
	}
	if r.err != nil {
		t.Errorf("%s exited after SIGTERM with %v, want status 0 (a clean stop)", r.name, r.err)
	}
	return time.Since(start)
}

// checkLogs asserts every line r wrote is one JSON record of slokit's logger (nothing
// from klog or controller-runtime escaped it) and that it logged msg.
func (r *replica) checkLogs(t *testing.T, msgs ...string) {
	t.Helper()
	seen := map[string]bool{}
	n := 0
	for line := range strings.SplitSeq(strings.TrimSpace(r.stderr.String()), "\n") {
		var rec struct{ Time, Level, Msg, Component string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" || rec.Component != "operator" {
			t.Errorf("%s logged a line that is not a structured record of the operator (%v): %s", r.name, err, line)
			continue
		}
		seen[rec.Msg] = true
		n++
	}
	for _, m := range msgs {
		if !seen[m] {
			t.Errorf("%s did not log %q", r.name, m)
		}
	}
	t.Logf("%s: %d JSON log records", r.name, n)
}

func (k *cluster) lease(t *testing.T) coordinationv1.Lease {
	t.Helper()
	var l coordinationv1.Lease
	if err := k.c.Get(context.Background(), client.ObjectKey{Namespace: k.ns, Name: Name}, &l); err != nil {
		t.Fatalf("Lease %s/%s: %v", k.ns, Name, err)
	}
	return l
}

// TestOperatorProcess runs two replicas of the real binary, as the chart does:
// probes answer on both; only the leader (Lease slokit-operator) reconciles, which
// its metrics show; SIGTERM stops the leader cleanly (exit 0, within its graceful
// shutdown) and releases the Lease, so the other replica takes over well before the
// 15s lease would have expired, and reconciles; every log line is a JSON record.
func TestOperatorProcess(t *testing.T) {
	e := kenv.Require(t)
	k := newCluster(t)
	bin := buildSlokit(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, e.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}

	a := startReplica(t, "replica a", bin, kubeconfig, k.ns)
	a.waitUntil(t, 60*time.Second, "ready (/healthz, /readyz 200)", a.probesOK)
	a.waitUntil(t, 30*time.Second, "leader", func() bool { return a.leads(t) })
	b := startReplica(t, "replica b", bin, kubeconfig, k.ns)
	b.waitUntil(t, 60*time.Second, "ready (/healthz, /readyz 200)", b.probesOK)
	holder := k.lease(t).Spec.HolderIdentity
	if holder == nil || *holder == "" {
		t.Fatalf("Lease %s/%s has no holder while a leads", k.ns, Name)
	}

	obj := sample("first")
	obj.Namespace = k.ns
	if err := k.c.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	k.waitFor(t, obj.Name, 30*time.Second, "Ready (reconciled by the leader)", readyAt(1))
	if n := a.metric(t, reconcileSeries); n < 1 {
		t.Errorf("leader: %s = %v", reconcileSeries, n)
	}
	if _, body, err := get(a.metrics + "/metrics"); err != nil || !strings.Contains(body, `workqueue_adds_total{controller="servicelevelobjective"`) || !strings.Contains(body, "rest_client_requests_total{") {
		t.Errorf("leader's /metrics lacks the work queue's or the REST client's metrics (%v)", err)
	}
	if b.leads(t) || b.metric(t, reconcileSeries) != 0 {
		t.Errorf("the follower leads (%v) or reconciled (%v)", b.metric(t, leaderSeries), b.metric(t, reconcileSeries))
	}

	took := a.stop(t, 20*time.Second)
	handover := took + b.waitUntil(t, 14*time.Second, "leader after a released the Lease", func() bool { return b.leads(t) })
	if now := k.lease(t).Spec.HolderIdentity; now == nil || *now == *holder {
		t.Errorf("Lease holder %v after the handover, was %s", now, *holder)
	}
	if _, _, err := get(a.probes + "/healthz"); err == nil {
		t.Error("a's probe server still answers after it exited")
	}
	second := sample("second")
	second.Namespace = k.ns
	if err := k.c.Create(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	k.waitFor(t, second.Name, 30*time.Second, "Ready (reconciled by the new leader)", readyAt(1))
	if n := b.metric(t, reconcileSeries); n < 1 {
		t.Errorf("new leader: %s = %v", reconcileSeries, n)
	}
	t.Logf("MEASURED: leader stopped %s after SIGTERM (exit 0); follower leading %s after SIGTERM (lease duration 15s)",
		took.Round(time.Millisecond), handover.Round(time.Millisecond))
	b.stop(t, 20*time.Second)
	a.checkLogs(t, "starting", "stopped")
	b.checkLogs(t, "starting", "stopped")
}
