package chaosmesh

// Tests against a real kube-apiserver and etcd (envtest) with Chaos Mesh's real CRDs.
// No Chaos Mesh controller runs there: where a test needs one, it plays the
// controller's part itself by writing what chaos-controller-manager writes (the
// chaos-mesh/records finalizer, the Selected/AllInjected/AllRecovered conditions and
// the per-target records with their Apply/Recover events), and says so.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/internal/kube/kubetest"
)

var kenv *kubetest.Env

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, &kenv)) }

var nsCounter atomic.Int64

// setup returns a backend on the real apiserver and a fresh namespace.
func setup(t *testing.T) (*Backend, client.WithWatch, string) {
	t.Helper()
	e := kenv.Require(t)
	ns := fmt.Sprintf("gameday-%d", nsCounter.Add(1))
	ctx := context.Background()
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// The target the testdata selectors match (app=shortlink); no kubelet runs it.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "shortlink-0", Namespace: ns, Labels: map[string]string{"app": "shortlink"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "shortlink:dev"}}},
	}
	if err := e.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	return &Backend{Client: e.Client, PollInterval: 50 * time.Millisecond, SweepTimeout: 5 * time.Second}, e.Client, ns
}

func fault(t *testing.T, file, ns string) *Fault {
	t.Helper()
	f, diags := parseFile(t, "testdata/valid/"+file)
	if diags != "" {
		t.Fatal(diags)
	}
	f.Namespace = ns
	f.InjectTimeout, f.RemoveTimeout = 20*time.Second, 20*time.Second
	return f
}

// controller plays chaos-controller-manager for one object.
type controller struct {
	t   *testing.T
	c   client.Client
	obj chaosObject
}

func newController(t *testing.T, c client.Client, in *Injector) *controller {
	return &controller{t: t, c: c, obj: in.kind.newObj()}
}

// waitFor polls until the object exists (and cond holds).
func (k *controller) waitFor(key client.ObjectKey, cond func(chaosObject) bool) {
	k.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := k.c.Get(context.Background(), key, k.obj)
		if err == nil && (cond == nil || cond(k.obj)) {
			return
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("controller: %s never reached the expected state (last error: %v)", key, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// update applies change to the latest object, retrying on conflicts as controllers do.
func (k *controller) update(change func(obj chaosObject)) {
	k.t.Helper()
	key := client.ObjectKeyFromObject(k.obj)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k.c.Get(context.Background(), key, k.obj); err != nil {
			return err
		}
		change(k.obj)
		return k.c.Update(context.Background(), k.obj)
	})
	if err != nil {
		k.t.Fatalf("controller: update %s: %v", key, err)
	}
}

func setCondition(st *v1alpha1.ChaosStatus, t v1alpha1.ChaosConditionType, s corev1.ConditionStatus, reason string) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			st.Conditions[i].Status, st.Conditions[i].Reason = s, reason
			return
		}
	}
	st.Conditions = append(st.Conditions, v1alpha1.ChaosCondition{Type: t, Status: s, Reason: reason})
}

// inject writes what Chaos Mesh writes after injecting into targets at time at.
func (k *controller) inject(at time.Time, targets ...string) {
	k.update(func(obj chaosObject) {
		obj.SetFinalizers([]string{"chaos-mesh/records"})
		st := obj.GetStatus()
		st.Experiment.DesiredPhase = v1alpha1.RunningPhase
		st.Experiment.Records = nil
		for _, id := range targets {
			st.Experiment.Records = append(st.Experiment.Records, &v1alpha1.Record{
				Id: id, SelectorKey: ".", Phase: v1alpha1.Injected, InjectedCount: 1,
				Events: []v1alpha1.RecordEvent{*v1alpha1.NewRecordEvent(v1alpha1.TypeSucceeded, v1alpha1.Apply, "", metav1.NewTime(at))},
			})
		}
		setCondition(st, v1alpha1.ConditionSelected, corev1.ConditionTrue, "")
		setCondition(st, v1alpha1.ConditionAllInjected, corev1.ConditionTrue, "")
		setCondition(st, v1alpha1.ConditionAllRecovered, corev1.ConditionFalse, "")
		setCondition(st, v1alpha1.ConditionPaused, corev1.ConditionFalse, "")
	})
}

// recoverAndRelease waits for the deletion, writes the recovery records at time at,
// then drops the finalizer: Chaos Mesh's two steps.
func (k *controller) recoverAndRelease(at time.Time) {
	k.waitFor(client.ObjectKeyFromObject(k.obj), func(o chaosObject) bool { return o.GetDeletionTimestamp() != nil })
	k.update(func(obj chaosObject) {
		st := obj.GetStatus()
		st.Experiment.DesiredPhase = v1alpha1.StoppedPhase
		for _, r := range st.Experiment.Records {
			r.Phase = v1alpha1.NotInjected
			r.RecoveredCount++
			r.Events = append(r.Events, *v1alpha1.NewRecordEvent(v1alpha1.TypeSucceeded, v1alpha1.Recover, "", metav1.NewTime(at)))
		}
		setCondition(st, v1alpha1.ConditionAllInjected, corev1.ConditionFalse, "")
		setCondition(st, v1alpha1.ConditionAllRecovered, corev1.ConditionTrue, "")
	})
	k.update(func(obj chaosObject) { obj.SetFinalizers(nil) })
}

func exists(t *testing.T, c client.Client, in *Injector) bool {
	t.Helper()
	err := c.Get(context.Background(), client.ObjectKeyFromObject(in.last()), in.kind.newObj())
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestRealFaultLifecycle: a valid fault is created, labelled and visible; Inject
// returns once (the test, playing the controller) reports AllInjected; Remove waits
// for the recovery; the fault times are the records' times, not the calls' times.
func TestRealFaultLifecycle(t *testing.T) {
	b, c, ns := setup(t)
	run := chaos.Run{ID: "r1a2", GameDay: "shortlink latency"}
	in, err := b.Injector(fault(t, "network-delay.yaml", ns), run)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(ctx) }()

	k := newController(t, c, in)
	k.waitFor(client.ObjectKey{Namespace: ns, Name: "slokit-shortlink-latency-r1a2"}, nil)

	// Visible to anyone listing by the run's labels, with the spec as written.
	var list v1alpha1.NetworkChaosList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{LabelRunID: "r1a2", LabelGameDay: "shortlink-latency", LabelManagedBy: "slokit"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Spec.Delay == nil || list.Items[0].Spec.Delay.Latency != "200ms" ||
		list.Items[0].Annotations[AnnotationGameDay] != "shortlink latency" {
		t.Fatalf("listed by run labels: %+v", list.Items)
	}
	select {
	case err := <-injected:
		t.Fatalf("Inject returned before AllInjected: %v", err)
	case <-time.After(300 * time.Millisecond):
	}

	// Times distinct from the wall clock of the calls, as a controller's would be.
	began := time.Now().Add(-90 * time.Second).Truncate(time.Second)
	ended := began.Add(5 * time.Minute)
	k.inject(began, ns+"/shortlink-0", ns+"/shortlink-1")
	if err := <-injected; err != nil {
		t.Fatalf("Inject: %v", err)
	}
	gotBegan, gotEnded, err := in.FaultTimes(ctx)
	if err != nil || !gotBegan.Equal(began) || !gotEnded.IsZero() {
		t.Fatalf("FaultTimes while injected = %s, %s, %v; want %s, zero", gotBegan, gotEnded, err, began)
	}

	removed := make(chan error, 1)
	go func() { removed <- in.Remove(ctx) }()
	k.recoverAndRelease(ended)
	if err := <-removed; err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if exists(t, c, in) {
		t.Fatal("the object exists after Remove")
	}
	gotBegan, gotEnded, err = in.FaultTimes(ctx)
	if err != nil || !gotBegan.Equal(began) || !gotEnded.Equal(ended) {
		t.Fatalf("FaultTimes after Remove = %s, %s, %v; want %s, %s", gotBegan, gotEnded, err, began, ended)
	}
	if err := in.Remove(ctx); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

// TestRealPodKill: pod-kill never reports AllRecovered; its end is the kill.
func TestRealPodKill(t *testing.T) {
	b, c, ns := setup(t)
	in, err := b.Injector(fault(t, "pod-kill.yaml", ns), chaos.Run{ID: "pk1", GameDay: "kill"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(ctx) }()
	k := newController(t, c, in)
	k.waitFor(client.ObjectKeyFromObject(in.last()), nil)
	killed := time.Now().Add(-time.Minute).Truncate(time.Second)
	k.inject(killed, ns+"/shortlink-0")
	if err := <-injected; err != nil {
		t.Fatal(err)
	}
	began, ended, err := in.FaultTimes(ctx)
	if err != nil || !began.Equal(killed) || !ended.Equal(killed) {
		t.Fatalf("FaultTimes = %s, %s, %v; want the kill time twice", began, ended, err)
	}
	removed := make(chan error, 1)
	go func() { removed <- in.Remove(ctx) }()
	k.recoverAndRelease(time.Now())
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
}

// TestRealSchemaRejects: a spec slokit's own checks would stop is sent anyway; the
// apiserver rejects it by the CRD's OpenAPI schema and the user sees its message.
func TestRealSchemaRejects(t *testing.T) {
	b, c, ns := setup(t)
	f := fault(t, "network-delay.yaml", ns)
	spec := &f.Object.(*v1alpha1.NetworkChaos).Spec
	spec.Action = "teleport"
	spec.Mode = "some"
	in, err := b.Injector(f, chaos.Run{ID: "bad1", GameDay: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	err = in.Inject(context.Background())
	if err == nil {
		t.Fatal("the apiserver accepted an invalid NetworkChaos")
	}
	msg := err.Error()
	t.Logf("the user sees:\n%s", msg)
	for _, want := range []string{"rejected by the apiserver's schema", `spec.action: Unsupported value: "teleport"`, `spec.mode: Unsupported value: "some"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if exists(t, c, in) {
		t.Error("a rejected object exists")
	}
}

// TestRealNothingSelected: the controller (played by the test) reports Selected
// false; Inject fails at once, without waiting for its timeout, and cleans up.
func TestRealNothingSelected(t *testing.T) {
	b, c, ns := setup(t)
	f := fault(t, "http-abort.yaml", ns)
	f.InjectTimeout = time.Hour
	in, err := b.Injector(f, chaos.Run{ID: "sel0", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(context.Background()) }()
	k := newController(t, c, in)
	k.waitFor(client.ObjectKeyFromObject(in.last()), nil)
	k.update(func(obj chaosObject) {
		setCondition(obj.GetStatus(), v1alpha1.ConditionSelected, corev1.ConditionFalse, "no pod is selected")
	})
	select {
	case err := <-injected:
		if err == nil || !strings.Contains(err.Error(), "selected no target (no pod is selected)") {
			t.Fatalf("Inject error = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Inject did not fail fast on Selected=False")
	}
	if exists(t, c, in) {
		t.Error("the object outlived the failed Inject")
	}
}

// TestRealSelectorMatchesNothing: a selector whose labels match no pod fails before
// anything is created (read on pods is part of the Role for this check).
func TestRealSelectorMatchesNothing(t *testing.T) {
	b, c, ns := setup(t)
	f := fault(t, "network-delay.yaml", ns)
	f.Object.(*v1alpha1.NetworkChaos).Spec.Selector.LabelSelectors = map[string]string{"app": "shortlnk"}
	in, err := b.Injector(f, chaos.Run{ID: "none1", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	err = in.Inject(context.Background())
	if err == nil || !strings.Contains(err.Error(), `spec.selector matches no pod in namespace `+ns+` (labels "app=shortlnk"); nothing was created`) {
		t.Fatalf("Inject = %v", err)
	}
	if exists(t, c, in) {
		t.Error("an object was created for an empty selection")
	}
}

// TestRealInterrupt: Ctrl-C (ctx cancelled) right after the object appears deletes
// the fault before Inject returns, whether the cancellation lands while the create
// request is still in flight or while Inject waits for AllInjected.
func TestRealInterrupt(t *testing.T) {
	b, c, ns := setup(t)
	in, err := b.Injector(fault(t, "stress-cpu.yaml", ns), chaos.Run{ID: "int1", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(ctx) }()
	k := newController(t, c, in)
	k.waitFor(client.ObjectKeyFromObject(in.last()), nil)
	cancel()
	if err := <-injected; !errors.Is(err, context.Canceled) {
		t.Fatalf("Inject error = %v, want context.Canceled", err)
	}
	if exists(t, c, in) {
		t.Error("the fault outlived the interrupted run")
	}
}

// TestRealStuckFinalizer: when Chaos Mesh cannot recover a target its finalizer holds
// the object; Remove reports the forced-clean annotation as the escape and does not
// apply it.
func TestRealStuckFinalizer(t *testing.T) {
	b, c, ns := setup(t)
	f := fault(t, "network-loss.yaml", ns)
	f.RemoveTimeout = time.Second
	in, err := b.Injector(f, chaos.Run{ID: "stk1", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(ctx) }()
	k := newController(t, c, in)
	k.waitFor(client.ObjectKeyFromObject(in.last()), nil)
	k.inject(time.Now(), ns+"/shortlink-0")
	if err := <-injected; err != nil {
		t.Fatal(err)
	}
	err = in.Remove(ctx)
	if err == nil {
		t.Fatal("Remove succeeded although a finalizer holds the object")
	}
	t.Logf("the user sees:\n%v", err)
	want := fmt.Sprintf("kubectl annotate networkchaos -n %s %s chaos-mesh.chaos-mesh.org/cleanFinalizer=forced", ns, in.last().GetName())
	for _, w := range []string{want, "[chaos-mesh/records]", ns + "/shortlink-0 (Injected)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	k.waitFor(client.ObjectKeyFromObject(in.last()), nil)
	if _, forced := k.obj.GetAnnotations()[AnnotationCleanFinalizer]; forced {
		t.Error("slokit applied the forced-clean annotation itself")
	}
	k.update(func(obj chaosObject) { obj.SetFinalizers(nil) }) // the operator's decision
	if err := in.Remove(ctx); err != nil {
		t.Errorf("Remove once released: %v", err)
	}
}

// TestRealSweep: objects left by crashed runs are found by label and deleted; other
// runs' and unlabelled objects are left alone until a full sweep (never unlabelled).
func TestRealSweep(t *testing.T) {
	b, c, ns := setup(t)
	_, _, ns2 := setup(t)
	ctx := context.Background()
	mk := func(file, ns, runID, name string, labels bool) {
		t.Helper()
		f := fault(t, file, ns)
		in, err := b.Injector(f, chaos.Run{ID: runID, GameDay: "crashed"})
		if err != nil {
			t.Fatal(err)
		}
		obj := in.last()
		obj.SetName(name)
		if !labels {
			obj.SetLabels(nil)
		}
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	mk("network-delay.yaml", ns, "run-a", "a-delay", true)
	mk("pod-kill.yaml", ns2, "run-a", "a-kill", true)
	mk("http-delay.yaml", ns, "run-b", "b-delay", true)
	mk("stress-cpu.yaml", ns, "run-b", "not-ours", false)

	removed, err := b.Sweep(ctx, "run-a")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"NetworkChaos " + ns + "/a-delay", "PodChaos " + ns2 + "/a-kill"}
	if strings.Join(removed, ",") != strings.Join(want, ",") {
		t.Errorf("Sweep(run-a) = %q, want %q", removed, want)
	}
	removed, err = b.Sweep(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"HTTPChaos " + ns + "/b-delay"}; strings.Join(removed, ",") != strings.Join(want, ",") {
		t.Errorf("Sweep(all) = %q, want %q", removed, want)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "not-ours"}, &v1alpha1.StressChaos{}); err != nil {
		t.Errorf("the unlabelled object was touched: %v", err)
	}
}

// TestRealCleanupFromJournal: after a crash `slokit chaos cleanup` re-creates the
// injector from the journal's parameters; its Remove deletes the run's object by
// name, and never a namesake of another run.
func TestRealCleanupFromJournal(t *testing.T) {
	b, c, ns := setup(t)
	b2 := &Backend{Client: c, Kube: b.Kube, PollInterval: b.PollInterval}
	params := func() chaos.FaultParams {
		data, err := os.ReadFile("testdata/valid/network-partition.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(strings.ReplaceAll(string(data), "shortlink", ns)), &n); err != nil {
			t.Fatal(err)
		}
		root := &n
		if root.Kind == yaml.DocumentNode {
			root = root.Content[0]
		}
		f, ds := b.Parse("network-partition.yaml", root)
		if err := ds.Err(); err != nil {
			t.Fatal(err)
		}
		return f
	}
	ctx := context.Background()
	crashed, err := b.New(params(), chaos.Run{ID: "crash1", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	// The crashed run got as far as creating its object.
	if err := c.Create(ctx, crashed.(*Injector).last()); err != nil {
		t.Fatal(err)
	}
	other, err := b2.New(params(), chaos.Run{ID: "other", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Remove(ctx); err != nil || !exists(t, c, crashed.(*Injector)) {
		t.Fatalf("another run's Remove touched the object (err %v)", err)
	}
	again, err := b2.New(params(), chaos.Run{ID: "crash1", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if exists(t, c, crashed.(*Injector)) {
		t.Error("the crashed run's object survived its cleanup")
	}
}

// TestRealRBACSuffices: the Role of `slokit chaos rbac` is enough for a whole run
// (inject, follow, remove, sweep) when the apiserver's RBAC authorizer judges the
// ServiceAccount, and it grants nothing in another namespace.
func TestRealRBACSuffices(t *testing.T) {
	_, admin, ns := setup(t)
	_, _, other := setup(t)
	ctx := context.Background()
	objs, err := RBAC(ns, DefaultServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := admin.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(kenv.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + DefaultServiceAccount}
	sa, err := kube.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := &Backend{Client: sa, Kube: kube.Options{Namespace: ns}, PollInterval: 50 * time.Millisecond, SweepTimeout: 5 * time.Second}

	var pods corev1.PodList
	if err := sa.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		t.Errorf("the Role cannot list pods: %v", err)
	}
	in, err := b.Injector(fault(t, "network-delay.yaml", ns), chaos.Run{ID: "rbac1", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(ctx) }()
	k := newController(t, admin, in) // the controller runs with its own rights
	k.waitFor(client.ObjectKeyFromObject(in.last()), nil)
	k.inject(time.Now(), ns+"/shortlink-0")
	if err := <-injected; err != nil {
		t.Fatalf("Inject as the ServiceAccount: %v", err)
	}
	removed := make(chan error, 1)
	go func() { removed <- in.Remove(ctx) }()
	k.recoverAndRelease(time.Now())
	if err := <-removed; err != nil {
		t.Fatalf("Remove as the ServiceAccount: %v", err)
	}
	// A crashed run's leftover, swept with namespace-only rights (the cluster-wide
	// list is forbidden and Sweep falls back to the namespace).
	left, _ := b.Injector(fault(t, "pod-kill.yaml", ns), chaos.Run{ID: "rbac2", GameDay: "g"})
	if err := admin.Create(ctx, left.last()); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Sweep(ctx, "rbac2"); err != nil || len(got) != 1 {
		t.Errorf("Sweep as the ServiceAccount = %v, %v", got, err)
	}

	elsewhere, err := b.Injector(fault(t, "network-delay.yaml", other), chaos.Run{ID: "rbac3", GameDay: "g"})
	if err != nil {
		t.Fatal(err)
	}
	err = elsewhere.Inject(ctx)
	if err == nil || !strings.Contains(err.Error(), "forbidden; grant slokit's Role (`slokit chaos rbac`)") {
		t.Errorf("Inject in another namespace: %v, want forbidden with the RBAC hint", err)
	}
}

// TestRealSampleGameDay: the shipped Chaos Mesh resilience game day's NetworkChaos, read
// through the whole game-day parser, is accepted by the real CRD schema, selects the
// linkcheck pods, and goes through its lifecycle.
func TestRealSampleGameDay(t *testing.T) {
	b, c, ns := setup(t)
	const file = "../../sample-service/gamedays/linkcheck-delay-chaosmesh.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, ds := chaos.Parse(file, data, []chaos.Backend{&Backend{}})
	if g == nil {
		t.Fatalf("%s: %v", file, ds)
	}
	parsed, ok := g.Fault.Params.(*Fault)
	if !ok {
		t.Fatalf("params %T, want the typed *Fault", g.Fault.Params)
	}
	f := *parsed
	f.Namespace = ns
	f.InjectTimeout, f.RemoveTimeout = 20*time.Second, 20*time.Second
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "linkcheck-0", Namespace: ns, Labels: map[string]string{"app": "linkcheck"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "linkcheck:dev"}}},
	}
	ctx := context.Background()
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	in, err := b.Injector(&f, chaos.Run{ID: "lk1", GameDay: g.Name})
	if err != nil {
		t.Fatal(err)
	}
	injected := make(chan error, 1)
	go func() { injected <- in.Inject(ctx) }()
	k := newController(t, c, in)
	k.waitFor(client.ObjectKey{Namespace: ns, Name: "slokit-linkcheck-delay-k8s-lk1"}, nil)
	nc := k.obj.(*v1alpha1.NetworkChaos)
	if nc.Spec.Delay == nil || nc.Spec.Delay.Latency != "1s" || nc.Spec.Selector.LabelSelectors["app"] != "linkcheck" {
		t.Fatalf("stored NetworkChaos: %+v", nc.Spec)
	}
	k.inject(time.Now(), ns+"/linkcheck-0")
	if err := <-injected; err != nil {
		t.Fatalf("Inject: %v", err)
	}
	removed := make(chan error, 1)
	go func() { removed <- in.Remove(ctx) }()
	k.recoverAndRelease(time.Now())
	if err := <-removed; err != nil {
		t.Fatalf("Remove: %v", err)
	}
}
