package operator

// Tests against a real kube-apiserver and etcd (envtest, internal/kube/kubetest) with
// the real prometheus-operator PrometheusRule CRD and slokit's generated CRD. No
// garbage collector runs there (it is part of kube-controller-manager): deletion is
// proven by the owner reference the collector follows, not by watching it act.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/kube/kubetest"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

var kenv *kubetest.Env

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // the managers under test log through Config.Logger
	os.Exit(kubetest.Main(m, &kenv))
}

var (
	crdOnce sync.Once
	crdErr  error
	nsSeq   atomic.Int64
)

// cluster is one test's namespace with an operator watching it.
type cluster struct {
	c   client.Client
	ns  string
	cfg *rest.Config
}

// start installs slokit's CRD (once), creates a namespace and runs an operator
// watching it until the test ends.
func start(t *testing.T, cfg Config) *cluster {
	t.Helper()
	k := newCluster(t)
	k.run(t, cfg)
	return k
}

// newCluster installs slokit's CRD (once) and creates a namespace.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	e := kenv.Require(t)
	crdOnce.Do(func() {
		_, crdErr = envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{Paths: []string{CRDDir}, ErrorIfPathMissing: true})
	})
	if crdErr != nil {
		t.Fatalf("install %s: %v", CRDDir, crdErr)
	}
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	rc := rest.CopyConfig(e.Config)
	rc.QPS = -1 // no client-side rate limit, as in the operator
	c, err := client.New(rc, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("slo-%d", nsSeq.Add(1))
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	return &cluster{c: c, ns: ns, cfg: rc}
}

// run starts an operator watching k's namespace until the test ends.
func (k *cluster) run(t *testing.T, cfg Config) {
	t.Helper()
	cfg.MetricsAddr, cfg.ProbeAddr, cfg.Namespaces, cfg.skipNameValidation = "0", "0", []string{k.ns}, true
	mgr, err := NewManager(k.cfg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// waitFor polls obj until cond holds, failing after timeout with the last state.
func (k *cluster) waitFor(t *testing.T, name string, timeout time.Duration, what string, cond func(*v1alpha1.ServiceLevelObjective) bool) *v1alpha1.ServiceLevelObjective {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var obj v1alpha1.ServiceLevelObjective
	for {
		err := k.c.Get(context.Background(), client.ObjectKey{Namespace: k.ns, Name: name}, &obj)
		if err == nil && cond(&obj) {
			return &obj
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %s after %s (err %v); status %+v", name, what, timeout, err, obj.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func condition(obj *v1alpha1.ServiceLevelObjective, typ string) *metav1.Condition {
	c := meta.FindStatusCondition(obj.Status.Conditions, typ)
	if c == nil {
		return &metav1.Condition{}
	}
	return c
}

func readyAt(gen int64) func(*v1alpha1.ServiceLevelObjective) bool {
	return func(o *v1alpha1.ServiceLevelObjective) bool {
		c := condition(o, v1alpha1.ConditionReady)
		return o.Status.ObservedGeneration >= gen && o.Generation == gen && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen
	}
}

func (k *cluster) rule(t *testing.T, name string) *monitoringv1.PrometheusRule {
	t.Helper()
	var r monitoringv1.PrometheusRule
	if err := k.c.Get(context.Background(), client.ObjectKey{Namespace: k.ns, Name: RuleName(name)}, &r); err != nil {
		t.Fatalf("PrometheusRule %s: %v", RuleName(name), err)
	}
	return &r
}

// wantRules compares the cluster's rule groups with those generated locally for obj.
func wantRules(t *testing.T, obj *v1alpha1.ServiceLevelObjective, got *monitoringv1.PrometheusRule) {
	t.Helper()
	svc, problems := Parse(obj)
	if problems != nil {
		t.Fatal(problems)
	}
	want, err := Rules(svc, obj.Name, obj.Namespace, nil, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := json.Marshal(got.Spec.Groups)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want.Spec.Groups)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("rules in the cluster differ from the generated ones:\n got %s\nwant %s", g, w)
	}
}

// An SLO object becomes a PrometheusRule the real CRD accepts, owned by the object,
// labelled for the rule selector, with Ready/Valid/RulesApplied and an Event.
func TestSLOBecomesPrometheusRule(t *testing.T) {
	k := start(t, Config{RuleLabels: map[string]string{"release": "kube-prometheus-stack"}})
	ctx := context.Background()
	obj := sample("checkout-availability")
	obj.Namespace = k.ns
	if err := k.c.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := k.waitFor(t, obj.Name, 30*time.Second, "Ready", readyAt(1))
	for _, typ := range []string{v1alpha1.ConditionValid, v1alpha1.ConditionRulesApplied} {
		if c := condition(got, typ); c.Status != metav1.ConditionTrue || c.ObservedGeneration != 1 {
			t.Errorf("%s = %+v", typ, c)
		}
	}
	r := k.rule(t, obj.Name)
	if r.Labels["release"] != "kube-prometheus-stack" || r.Labels["app.kubernetes.io/managed-by"] != "slokit" {
		t.Errorf("labels %v", r.Labels)
	}
	owner := metav1.GetControllerOf(r)
	if owner == nil || owner.Kind != "ServiceLevelObjective" || owner.APIVersion != "slokit.dev/v1alpha1" ||
		owner.UID != got.UID || owner.BlockOwnerDeletion == nil || !*owner.BlockOwnerDeletion {
		t.Errorf("owner reference %+v: the garbage collector would not delete the rule with %s", owner, got.UID)
	}
	wantRules(t, got, r)
	if got.Status.PrometheusRule != r.Name || got.Status.RecordingRules == 0 || got.Status.AlertingRules < 2 {
		t.Errorf("status %+v", got.Status)
	}
	k.waitEvent(t, obj.Name, ReasonApplied)
}

func (k *cluster) waitEvent(t *testing.T, name, reason string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var evs eventsv1.EventList
		if err := k.c.List(context.Background(), &evs, client.InNamespace(k.ns)); err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs.Items {
			if ev.Regarding.Name == name && ev.Reason == reason {
				t.Logf("event %s %s: %s", ev.Type, ev.Reason, ev.Note)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event for %s among %d events", reason, name, len(evs.Items))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A spec the CRD schema accepts but slokit does not becomes Valid=False with every
// problem and its field path, an Event, and no rules; fixing it makes it Ready.
func TestInvalidSpecExplainsItself(t *testing.T) {
	k := start(t, Config{})
	ctx := context.Background()
	obj := sample("broken")
	obj.Namespace = k.ns
	obj.Spec.Period = "30"
	obj.Spec.SLI.Events.Bad = `http_requests_total{code=~"5..}`
	if err := k.c.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := k.waitFor(t, obj.Name, 30*time.Second, "Valid=False", func(o *v1alpha1.ServiceLevelObjective) bool {
		return condition(o, v1alpha1.ConditionValid).Status == metav1.ConditionFalse
	})
	valid := condition(got, v1alpha1.ConditionValid)
	t.Logf("Valid=False: %s", valid.Message)
	for _, want := range []string{"spec.period: ", "spec.sli.events.bad: invalid PromQL"} {
		if !strings.Contains(valid.Message, want) {
			t.Errorf("Valid message lacks %q:\n%s", want, valid.Message)
		}
	}
	if valid.Reason != ReasonSpecInvalid || condition(got, v1alpha1.ConditionReady).Status != metav1.ConditionFalse ||
		condition(got, v1alpha1.ConditionRulesApplied).Status != metav1.ConditionFalse || got.Status.ObservedGeneration != 1 {
		t.Errorf("status %+v", got.Status)
	}
	k.waitEvent(t, obj.Name, ReasonSpecInvalid)
	var r monitoringv1.PrometheusRule
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: RuleName(obj.Name)}, &r); !apierrors.IsNotFound(err) {
		t.Errorf("an invalid SLO got a PrometheusRule: %v", err)
	}
	// Not a crash loop: the status stays as written, with no further updates.
	rv := got.ResourceVersion
	time.Sleep(time.Second)
	if again := k.waitFor(t, obj.Name, time.Second, "fetched", func(*v1alpha1.ServiceLevelObjective) bool { return true }); again.ResourceVersion != rv {
		t.Errorf("status keeps changing (resourceVersion %s → %s): a reconcile loop", rv, again.ResourceVersion)
	}
	got.Spec.Period, got.Spec.SLI.Events.Bad = "30d", `http_requests_total{code=~"5.."}`
	if err := k.c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	fixed := k.waitFor(t, obj.Name, 30*time.Second, "Ready after the fix", readyAt(2))
	wantRules(t, fixed, k.rule(t, obj.Name))
}

// The CRD's own schema (OpenAPI and CEL) refuses what it can check before slokit runs.
func TestCRDSchemaRefuses(t *testing.T) {
	k := start(t, Config{})
	obj := sample("two-slis")
	obj.Namespace = k.ns
	obj.Spec.SLI.Raw = &v1alpha1.RawSLI{ErrorRatio: "vector(0)"}
	err := k.c.Create(context.Background(), obj)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "set exactly one of events, latency, raw") {
		t.Errorf("two SLIs: %v", err)
	}
	obj = sample("bad-severity")
	obj.Namespace = k.ns
	obj.Spec.Alerting.Windows = []v1alpha1.Window{{Severity: "urgent", Long: "1h", Short: "5m", BurnRate: 14.4}}
	if err := k.c.Create(context.Background(), obj); !apierrors.IsInvalid(err) {
		t.Errorf("severity urgent: %v", err)
	}
}

// Updates propagate; a deleted PrometheusRule comes back; an invalid edit keeps the
// last valid rules.
func TestUpdatePropagates(t *testing.T) {
	k := start(t, Config{})
	ctx := context.Background()
	obj := sample("latency")
	obj.Namespace = k.ns
	obj.Spec.SLI = v1alpha1.SLI{Latency: &v1alpha1.LatencySLI{Histogram: "http_request_duration_seconds", Selector: map[string]string{"service": "checkout"}, Threshold: "100ms"}}
	if err := k.c.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := k.waitFor(t, obj.Name, 30*time.Second, "Ready", readyAt(1))
	got.Spec.Objective, got.Spec.SLI.Latency.Threshold = 99, "250ms"
	if err := k.c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	got = k.waitFor(t, obj.Name, 30*time.Second, "Ready at generation 2", readyAt(2))
	r := k.rule(t, obj.Name)
	wantRules(t, got, r)
	if !strings.Contains(fmt.Sprint(r.Spec.Groups), `le="0.25"`) {
		t.Errorf("the rules do not use the new threshold: %v", r.Spec.Groups)
	}
	if err := k.c.Delete(ctx, r); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var back monitoringv1.PrometheusRule
	for k.c.Get(ctx, client.ObjectKeyFromObject(r), &back) != nil || back.UID == r.UID {
		if time.Now().After(deadline) {
			t.Fatal("a deleted PrometheusRule was not recreated")
		}
		time.Sleep(50 * time.Millisecond)
	}
	got.Spec.Objective = 100
	if err := k.c.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	k.waitFor(t, obj.Name, 30*time.Second, "Valid=False at generation 3", func(o *v1alpha1.ServiceLevelObjective) bool {
		return o.Status.ObservedGeneration == 3 && condition(o, v1alpha1.ConditionValid).Status == metav1.ConditionFalse
	})
	prev := got.DeepCopy()
	prev.Spec.Objective = 99
	wantRules(t, prev, k.rule(t, obj.Name)) // still generation 2's rules
}

// TestScale creates SLOKIT_OPERATOR_SCALE objects (default 200; docs/kubernetes.md
// reports 1,000), then starts the operator and logs the time until all are Ready and
// the heap afterwards.
func TestScale(t *testing.T) {
	n := 200
	if v := os.Getenv("SLOKIT_OPERATOR_SCALE"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			t.Fatalf("SLOKIT_OPERATOR_SCALE=%q: %v", v, err)
		}
	}
	k := newCluster(t)
	ctx := context.Background()
	begin := time.Now()
	for i := range n {
		obj := sample(fmt.Sprintf("slo-%04d", i))
		obj.Namespace = k.ns
		if err := k.c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Since(begin)
	begin = time.Now()
	k.run(t, Config{Concurrency: 8})
	deadline := time.Now().Add(time.Duration(n) * 200 * time.Millisecond)
	for {
		var list v1alpha1.ServiceLevelObjectiveList
		if err := k.c.List(ctx, &list, client.InNamespace(k.ns)); err != nil {
			t.Fatal(err)
		}
		ready := 0
		for i := range list.Items {
			if readyAt(1)(&list.Items[i]) {
				ready++
			}
		}
		if ready == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d Ready after %s", ready, n, time.Since(begin))
		}
		time.Sleep(100 * time.Millisecond)
	}
	total := time.Since(begin)
	var ms goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&ms)
	var rules monitoringv1.PrometheusRuleList
	if err := k.c.List(ctx, &rules, client.InNamespace(k.ns)); err != nil {
		t.Fatal(err)
	}
	if len(rules.Items) != n {
		t.Errorf("%d PrometheusRules for %d objects", len(rules.Items), n)
	}
	t.Logf("%d ServiceLevelObjectives (created in %s): all Ready %s after the operator started (%.0f objects/s, 8 workers); heap in use %.1f MiB, Go runtime Sys %.1f MiB (the test's client and the operator share the process)",
		n, created.Round(time.Millisecond), total.Round(time.Millisecond), float64(n)/total.Seconds(), float64(ms.HeapInuse)/(1<<20), float64(ms.Sys)/(1<<20))
}
