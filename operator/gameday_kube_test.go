package operator

// GameDay tests on the real tier: the real kube-apiserver and etcd (envtest) with the
// real Chaos Mesh and prometheus-operator CRDs, the Debian Prometheus on 127.0.0.1
// scraping a real HTTP workload and evaluating the rules the operator generated from
// the ServiceLevelObjective object, and slokit's chaos runner measuring detection and
// recovery. What is played by the test, and only that: chaos-controller-manager (no
// Chaos Mesh controller runs without a cluster). The test writes what it writes — the
// chaos-mesh/records finalizer, the conditions, the per-target Apply/Recover records —
// and turns the workload's errors on and off as the injected HTTP abort would.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cmv1 "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/operator/api/v1alpha1"
	"github.com/slokit/slokit/sli"
	"github.com/slokit/slokit/sli/promsli"
)

// labSLO is a 99% SLO with one fast page tier scaled down to fit a test: it fires when
// the error ratio over 30s and over 5s both exceed 14.4 × 1% = 0.144. A 50% error fault
// is predicted to fire it after 0.144 × 30s / 0.5 = 8.6s.
func labSLO(ns string) *v1alpha1.ServiceLevelObjective {
	return &v1alpha1.ServiceLevelObjective{
		ObjectMeta: metav1.ObjectMeta{Name: "lab-availability", Namespace: ns},
		Spec: v1alpha1.ServiceLevelObjectiveSpec{
			Service: "lab", Name: "availability", Objective: 99, Period: "6h", ScrapeInterval: "1s",
			SLI: v1alpha1.SLI{Events: &v1alpha1.EventsSLI{
				Bad:   `http_requests_total{service="lab",route="GET /ping",code=~"5.."}`,
				Total: `http_requests_total{service="lab",route="GET /ping"}`,
			}},
			Alerting: &v1alpha1.Alerting{Name: "LabAvailability", Ticket: &v1alpha1.Severity{Disabled: true},
				Windows: []v1alpha1.Window{{Severity: "page", Long: "30s", Short: "5s", BurnRate: 14.4}}},
		},
	}
}

// labGameDay aborts half of the workload's requests (HTTPChaos) and expects the page.
func labGameDay(ns, name string) *v1alpha1.GameDay {
	return &v1alpha1.GameDay{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.GameDaySpec{
			Description: "half of the pings fail; the fast page must fire and the SLO recover",
			SLO:         v1alpha1.GameDaySLORef{Name: "lab-availability"},
			Signals:     v1alpha1.GameDaySignals{Tolerance: "10s"},
			Fault: v1alpha1.GameDayFault{Kind: "HTTPChaos", InjectTimeout: "30s", RemoveTimeout: "10s",
				Spec: runtime.RawExtension{Raw: []byte(`{"mode":"all","selector":{"labelSelectors":{"app":"lab"}},"target":"Request","port":8080,"abort":true}`)}},
			ExpectedErrorRatio: "0.5",
			SteadyState:        &v1alpha1.SteadyState{Wait: "90s"},
			Expect:             []v1alpha1.Expectation{{AlertSelector: v1alpha1.AlertSelector{Severity: "page"}}},
			Guardrails:         &v1alpha1.Guardrails{MaxBudget: "0.5", Timeout: "4m"},
		},
	}
}

// lab is one namespace with the SLO object Ready, its rules loaded into a real
// Prometheus scraping a real workload under load, and a played Chaos Mesh controller.
type lab struct {
	*cluster
	prom    *testutil.Server
	faultOn atomic.Bool
	ready   time.Time // when the 30s window holds only healthy history
}

func newLab(t *testing.T) *lab {
	t.Helper()
	testutil.Binary(t, "prometheus")
	l := &lab{cluster: newCluster(t)}
	ctx := context.Background()
	target := l.workload(t)
	// The pod the fault selects; no kubelet runs it.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lab-0", Namespace: l.ns, Labels: map[string]string{"app": "lab"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "lab:dev"}}}}
	if err := l.c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	// An operator without game days turns the SLO object into its PrometheusRule; the
	// rules Prometheus evaluates are that object's, as prometheus-operator would load them.
	stop := l.manager(t, l.cfg, Config{})
	if err := l.c.Create(ctx, labSLO(l.ns)); err != nil {
		t.Fatal(err)
	}
	l.waitFor(t, "lab-availability", 30*time.Second, "Ready", readyAt(1))
	stop()
	rules, err := sigsyaml.Marshal(l.rule(t, "lab-availability").Spec)
	if err != nil {
		t.Fatal(err)
	}
	l.prom = testutil.StartPrometheus(t, fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: lab
    static_configs: [{targets: [%q]}]
`, target), func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	l.ready = time.Now().Add(35 * time.Second)
	go l.playChaosMesh(t)
	return l
}

// workload serves GET /ping through slokit's SLI middleware; while the fault is on,
// every other request is answered 503, as an HTTP abort of half the traffic would.
// A load loop sends 50 requests per second until the test ends.
func (l *lab) workload(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	rec, err := promsli.New(reg, promsli.Config{Service: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	routes := http.NewServeMux()
	routes.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		if l.faultOn.Load() && n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	top := http.NewServeMux()
	top.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	top.Handle("/", sli.Middleware(rec)(routes))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: top, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if resp, err := http.Get("http://" + ln.Addr().String() + "/ping"); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done; _ = srv.Close() })
	return ln.Addr().String()
}

// playChaosMesh writes what chaos-controller-manager writes for the HTTPChaos objects
// of the lab's namespace: on creation the finalizer, an Apply record and AllInjected
// (and the workload starts failing); on deletion a Recover record and AllRecovered
// (and the workload heals), then it drops the finalizer.
func (l *lab) playChaosMesh(t *testing.T) {
	ctx := t.Context()
	for ctx.Err() == nil {
		var list cmv1.HTTPChaosList
		if err := l.c.List(ctx, &list, client.InNamespace(l.ns)); err == nil {
			for i := range list.Items {
				l.playOne(ctx, &list.Items[i])
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (l *lab) playOne(ctx context.Context, obj *cmv1.HTTPChaos) {
	key := client.ObjectKeyFromObject(obj)
	injected := false
	for _, c := range obj.Status.Conditions {
		injected = injected || c.Type == cmv1.ConditionAllInjected && c.Status == corev1.ConditionTrue
	}
	now := metav1.Now()
	_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur cmv1.HTTPChaos
		if err := l.c.Get(ctx, key, &cur); err != nil {
			return client.IgnoreNotFound(err)
		}
		st := &cur.Status.ChaosStatus
		switch {
		case cur.DeletionTimestamp != nil:
			for _, r := range st.Experiment.Records {
				r.Phase = cmv1.NotInjected
				r.Events = append(r.Events, *cmv1.NewRecordEvent(cmv1.TypeSucceeded, cmv1.Recover, "", now))
			}
			st.Conditions = []cmv1.ChaosCondition{{Type: cmv1.ConditionAllRecovered, Status: corev1.ConditionTrue}, {Type: cmv1.ConditionSelected, Status: corev1.ConditionTrue}}
			if err := l.c.Update(ctx, &cur); err != nil {
				return err
			}
			l.faultOn.Store(false)
			cur.Finalizers = nil
			return l.c.Update(ctx, &cur)
		case !injected:
			cur.Finalizers = []string{"chaos-mesh/records"}
			st.Experiment.DesiredPhase = cmv1.RunningPhase
			st.Experiment.Records = []*cmv1.Record{{Id: l.ns + "/lab-0", SelectorKey: ".", Phase: cmv1.Injected, InjectedCount: 1,
				Events: []cmv1.RecordEvent{*cmv1.NewRecordEvent(cmv1.TypeSucceeded, cmv1.Apply, "", now)}}}
			st.Conditions = []cmv1.ChaosCondition{{Type: cmv1.ConditionSelected, Status: corev1.ConditionTrue}, {Type: cmv1.ConditionAllInjected, Status: corev1.ConditionTrue},
				{Type: cmv1.ConditionAllRecovered, Status: corev1.ConditionFalse}, {Type: cmv1.ConditionPaused, Status: corev1.ConditionFalse}}
			if err := l.c.Update(ctx, &cur); err != nil {
				return err
			}
			l.faultOn.Store(true)
		}
		return nil
	})
}

// manager runs an operator with game days on cfg, watching the lab's namespace, and
// returns its stop function (which waits for it; also called when the test ends).
func (l *cluster) manager(t *testing.T, cfg *rest.Config, c Config) (stop func()) {
	t.Helper()
	c.MetricsAddr, c.ProbeAddr, c.Namespaces, c.skipNameValidation = "0", "0", []string{l.ns}, true
	if c.GracefulShutdown == 0 {
		c.GracefulShutdown = 30 * time.Second
	}
	mgr, err := NewManager(cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Logf("manager stopped: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (l *lab) gameDay(t *testing.T, name string, timeout time.Duration, what string, cond func(*v1alpha1.GameDay) bool) *v1alpha1.GameDay {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var gd v1alpha1.GameDay
	for {
		err := l.c.Get(context.Background(), client.ObjectKey{Namespace: l.ns, Name: name}, &gd)
		if err == nil && cond(&gd) {
			return &gd
		}
		if time.Now().After(deadline) {
			t.Fatalf("GameDay %s: not %s after %s (err %v); status %+v", name, what, timeout, err, gd.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitEvents polls the Events about the GameDay name until they contain every want
// (Events are sent asynchronously by the recorder) and returns them.
func (l *lab) waitEvents(t *testing.T, name string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ev := l.events(t, name)
		missing := ""
		for _, w := range want {
			if !strings.Contains(ev, w) {
				missing = w
			}
		}
		if missing == "" {
			return ev
		}
		if time.Now().After(deadline) {
			t.Errorf("events lack %q after 20s:\n%s", missing, ev)
			return ev
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func finished(gd *v1alpha1.GameDay) bool {
	return len(gd.Status.Runs) > 0 && len(gd.Status.Active) == 0
}

// events returns the reasons and notes of the Events about the GameDay name.
func (l *lab) events(t *testing.T, name string) string {
	t.Helper()
	var list eventsv1.EventList
	if err := l.c.List(context.Background(), &list, client.InNamespace(l.ns)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "GameDay" {
			fmt.Fprintf(&b, "%s %s: %s\n", e.Type, e.Reason, e.Note)
		}
	}
	return b.String()
}

// checkPassed asserts that run passed with the page detected, its report kept and
// its fault gone.
func (l *lab) checkPassed(t *testing.T, gd *v1alpha1.GameDay) v1alpha1.GameDayRun {
	t.Helper()
	run := gd.Status.Runs[0]
	if run.Outcome != "pass" || len(run.DetectedSeconds) != 1 || !strings.HasPrefix(run.DetectedSeconds[0], "page/30s=") {
		t.Fatalf("run %+v; events:\n%s", run, l.events(t, gd.Name))
	}
	var cm corev1.ConfigMap
	if err := l.c.Get(context.Background(), client.ObjectKey{Namespace: l.ns, Name: run.Report}, &cm); err != nil {
		t.Fatalf("report ConfigMap %q: %v", run.Report, err)
	}
	if !strings.Contains(cm.Data["result.json"], `"outcome": "pass"`) || !strings.Contains(cm.Data["report.html"], `id="outcome">PASS<`) {
		t.Errorf("report ConfigMap %s lacks the verdict: keys %v", cm.Name, keys(cm.Data))
	}
	var res chaos.Result
	if err := json.Unmarshal([]byte(cm.Data["result.json"]), &res); err != nil {
		t.Fatal(err)
	}
	// Measured within the prediction (8.6s) plus one scrape, one evaluation and rate()'s
	// extrapolation at the window edges (the 10s tolerance), and not early.
	if e := res.Expectations[0]; e.DetectedSeconds == nil || e.PredictedSeconds == nil || *e.DetectedSeconds < *e.PredictedSeconds-5 || *e.DetectedSeconds > *e.PredictedSeconds+10 {
		res.Samples = nil
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Errorf("detection outside the prediction's bounds:\n%s", b)
	}
	if owner := cm.OwnerReferences; len(owner) != 1 || owner[0].UID != gd.UID {
		t.Errorf("report owners %+v", owner)
	}
	// The report as the apiserver returns it imports into the store slokit serve reads.
	if _, imported := importReports(t, cm); len(imported) != 1 || imported[0].RunID != res.RunID || imported[0].Outcome != chaos.Pass {
		t.Errorf("report ConfigMap %s imported as %+v", cm.Name, imported)
	}
	var left cmv1.HTTPChaosList
	if err := l.c.List(context.Background(), &left, client.InNamespace(l.ns)); err != nil || len(left.Items) != 0 {
		t.Errorf("Chaos Mesh objects left: %d (%v)", len(left.Items), err)
	}
	if l.faultOn.Load() {
		t.Error("the workload still fails: the fault was not recovered")
	}
	t.Logf("MEASURED run %s: %s detected %v, %s", run.ID, run.Outcome, run.DetectedSeconds, run.Fault)
	return run
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestGameDayRuns is the GameDay proof on the real tier, in four acts sharing one
// Prometheus and workload: a one-shot run records its verdict; a scheduled GameDay
// runs at its time on a fake clock (the apiserver, Prometheus and runner real); an
// operator killed mid-run leaves its fault, and the next operator removes it by the
// run's label and records the run as aborted; an operator stopped gracefully (SIGTERM:
// its context ends) interrupts its run, removes the fault and records the run itself.
func TestGameDayRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("real Prometheus game days (~3 min)")
	}
	l := newLab(t)
	time.Sleep(time.Until(l.ready))
	t.Run("one-shot run records its verdict", func(t *testing.T) { l.oneShot(t) })
	t.Run("scheduled run starts at its time", func(t *testing.T) { l.scheduled(t) })
	t.Run("operator killed mid-run is cleaned up by the next", func(t *testing.T) { l.killed(t) })
	t.Run("graceful shutdown interrupts the run and removes its fault", func(t *testing.T) { l.shutdown(t) })
}

func (l *lab) oneShot(t *testing.T) {
	l.manager(t, l.cfg, Config{GameDays: true, GameDayPrometheus: l.prom.URL})
	gd := labGameDay(l.ns, "once")
	start := time.Now()
	if err := l.c.Create(context.Background(), gd); err != nil {
		t.Fatal(err)
	}
	running := l.gameDay(t, gd.Name, 30*time.Second, "running", func(g *v1alpha1.GameDay) bool { return len(g.Status.Active) == 1 })
	if c := condition2(running.Status.Conditions, v1alpha1.ConditionRunning); c.Status != metav1.ConditionTrue {
		t.Errorf("Running condition %+v", c)
	}
	done := l.gameDay(t, gd.Name, 4*time.Minute, "finished", finished)
	t.Logf("one-shot game day took %s", time.Since(start).Round(time.Second))
	run := l.checkPassed(t, done)
	if run.ScheduledTime != nil || done.Status.LastRunGeneration != 1 || run.Generation != 1 {
		t.Errorf("one-shot bookkeeping: %+v, lastRunGeneration %d", run, done.Status.LastRunGeneration)
	}
	if c := condition2(done.Status.Conditions, v1alpha1.ConditionValid); c.Status != metav1.ConditionTrue {
		t.Errorf("Valid %+v", c)
	}
	l.waitEvents(t, gd.Name, "Normal RunStarted: run "+run.ID, "Normal RunFinished: run "+run.ID+": PASS")
	// Nothing reruns a generation that ran.
	time.Sleep(2 * time.Second)
	if g := l.gameDay(t, gd.Name, time.Second, "", func(*v1alpha1.GameDay) bool { return true }); len(g.Status.Active)+len(g.Status.Runs) != 1 {
		t.Errorf("a second run started: %+v", g.Status)
	}
}

func condition2(conds []metav1.Condition, typ string) metav1.Condition {
	for _, c := range conds {
		if c.Type == typ {
			return c
		}
	}
	return metav1.Condition{}
}

func (l *lab) scheduled(t *testing.T) {
	now := time.Now()
	fake := clocktesting.NewFakeClock(now)
	l.manager(t, l.cfg, Config{GameDays: true, GameDayPrometheus: l.prom.URL, Clock: fake})
	gd := labGameDay(l.ns, "nightly")
	gd.Spec.Schedule = &v1alpha1.Schedule{Cron: "0 3 * * *", TimeZone: "Europe/Paris"}
	if err := l.c.Create(context.Background(), gd); err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(now.In(paris).Year(), now.In(paris).Month(), now.In(paris).Day(), 3, 0, 0, 0, paris)
	if !want.After(now) {
		want = want.AddDate(0, 0, 1)
	}
	waiting := l.gameDay(t, gd.Name, 30*time.Second, "scheduled", func(g *v1alpha1.GameDay) bool { return g.Status.NextScheduleTime != nil })
	if !waiting.Status.NextScheduleTime.Time.Equal(want) {
		t.Errorf("nextScheduleTime %s, want %s", waiting.Status.NextScheduleTime.Time, want)
	}
	// A second before its time nothing runs.
	fake.SetTime(want.Add(-time.Second))
	time.Sleep(2 * time.Second)
	if g := l.gameDay(t, gd.Name, time.Second, "", func(*v1alpha1.GameDay) bool { return true }); len(g.Status.Active)+len(g.Status.Runs) != 0 {
		t.Fatalf("ran before its time: %+v", g.Status)
	}
	fake.Step(2 * time.Second)
	done := l.gameDay(t, gd.Name, 4*time.Minute, "finished", finished)
	run := l.checkPassed(t, done)
	if run.ScheduledTime == nil || !run.ScheduledTime.Time.Equal(want) || !done.Status.LastScheduleTime.Time.Equal(want) {
		t.Errorf("scheduled %v, lastScheduleTime %v, want %s", run.ScheduledTime, done.Status.LastScheduleTime, want)
	}
	if next := done.Status.NextScheduleTime; next == nil || !next.Time.Equal(want.AddDate(0, 0, 1)) {
		t.Errorf("nextScheduleTime %v, want the next day", next)
	}
}

// severable is a transport that stops reaching the apiserver once cut, as a killed
// pod does: the dead operator can neither remove its fault nor write its status.
type severable struct {
	rt  http.RoundTripper
	cut *atomic.Bool
}

func (s severable) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.cut.Load() {
		return nil, errors.New("operator killed")
	}
	return s.rt.RoundTrip(req)
}

func (l *lab) killed(t *testing.T) {
	ctx := context.Background()
	var cut atomic.Bool
	doomed := rest.CopyConfig(l.cfg)
	doomed.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return severable{rt: rt, cut: &cut} }
	stop := l.manager(t, doomed, Config{GameDays: true, GameDayPrometheus: l.prom.URL, GracefulShutdown: 20 * time.Second})
	gd := labGameDay(l.ns, "doomed")
	if err := l.c.Create(ctx, gd); err != nil {
		t.Fatal(err)
	}
	// Kill it while the fault is in place and the run waits for the page.
	mid := l.gameDay(t, gd.Name, 3*time.Minute, "in phase expect", func(g *v1alpha1.GameDay) bool {
		return len(g.Status.Active) == 1 && g.Status.Active[0].Phase == "expect"
	})
	runID := mid.Status.Active[0].ID
	cut.Store(true)
	stop()
	var left cmv1.HTTPChaosList
	if err := l.c.List(ctx, &left, client.InNamespace(l.ns), client.MatchingLabels{chaosmesh.LabelRunID: runID}); err != nil || len(left.Items) != 1 || !l.faultOn.Load() {
		t.Fatalf("the killed operator should have left its fault in place: %d objects (%v), fault on %v", len(left.Items), err, l.faultOn.Load())
	}
	if g := l.gameDay(t, gd.Name, time.Second, "", func(*v1alpha1.GameDay) bool { return true }); len(g.Status.Active) != 1 {
		t.Fatalf("the killed operator should have left its run active: %+v", g.Status)
	}
	t.Logf("killed the operator in phase expect; %s/%s left behind", left.Items[0].Namespace, left.Items[0].Name)

	l.manager(t, l.cfg, Config{GameDays: true, GameDayPrometheus: l.prom.URL})
	done := l.gameDay(t, gd.Name, time.Minute, "cleaned up", finished)
	run := done.Status.Runs[0]
	if run.ID != runID || run.Outcome != "aborted" || run.Cause != CauseOperatorLost ||
		!strings.Contains(run.Message, "slokit.dev/run-id="+runID) || !strings.Contains(run.Message, "removed HTTPChaos "+l.ns+"/") {
		t.Errorf("run %+v", run)
	}
	err := l.c.Get(ctx, client.ObjectKeyFromObject(&left.Items[0]), &cmv1.HTTPChaos{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the fault object is still there: %v", err)
	}
	if l.faultOn.Load() {
		t.Error("the workload still fails")
	}
	l.waitEvents(t, gd.Name, "Warning OperatorLost: run "+runID+" aborted")
	time.Sleep(2 * time.Second) // the aborted generation is not run again
	if g := l.gameDay(t, gd.Name, time.Second, "", func(*v1alpha1.GameDay) bool { return true }); len(g.Status.Active) != 0 {
		t.Errorf("the new operator reran the game day: %+v", g.Status.Active)
	}
	t.Logf("MEASURED: %s", run.Message)
}

// shutdown stops an operator gracefully while its run waits for the page: the manager
// returns only after the run removed its fault and recorded itself as interrupted.
func (l *lab) shutdown(t *testing.T) {
	ctx := context.Background()
	stop := l.manager(t, l.cfg, Config{GameDays: true, GameDayPrometheus: l.prom.URL, GracefulShutdown: 30 * time.Second})
	gd := labGameDay(l.ns, "stopped")
	if err := l.c.Create(ctx, gd); err != nil {
		t.Fatal(err)
	}
	mid := l.gameDay(t, gd.Name, 3*time.Minute, "in phase expect", func(g *v1alpha1.GameDay) bool {
		return len(g.Status.Active) == 1 && g.Status.Active[0].Phase == "expect"
	})
	runID := mid.Status.Active[0].ID
	if !l.faultOn.Load() {
		t.Fatal("the fault is not in place in phase expect")
	}
	begin := time.Now()
	stop() // returns once the manager's runnables, the run among them, have ended
	took := time.Since(begin)
	g := l.gameDay(t, gd.Name, time.Second, "", func(*v1alpha1.GameDay) bool { return true })
	if len(g.Status.Active) != 0 || len(g.Status.Runs) != 1 {
		t.Fatalf("after the graceful shutdown: active %+v, runs %+v", g.Status.Active, g.Status.Runs)
	}
	run := g.Status.Runs[0]
	if run.ID != runID || run.Outcome != string(chaos.Interrupted) || run.Cause != string(chaos.CauseInterrupted) || run.CompletionTime == nil {
		t.Errorf("run %+v, want %s interrupted", run, runID)
	}
	var left cmv1.HTTPChaosList
	if err := l.c.List(ctx, &left, client.InNamespace(l.ns), client.MatchingLabels{chaosmesh.LabelRunID: runID}); err != nil || len(left.Items) != 0 {
		t.Errorf("fault objects left after the shutdown: %d (%v)", len(left.Items), err)
	}
	if l.faultOn.Load() {
		t.Error("the workload still fails after the shutdown")
	}
	if ev := l.events(t, gd.Name); !strings.Contains(ev, "RunFinished: run "+runID) {
		t.Errorf("no RunFinished event for %s:\n%s", runID, ev)
	}
	t.Logf("MEASURED: graceful shutdown in phase expect took %s; run %s %s (%s)", took.Round(time.Millisecond), run.ID, run.Outcome, run.Message)
}
