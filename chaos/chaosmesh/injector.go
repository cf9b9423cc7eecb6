package chaosmesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slokit/slokit/chaos"
)

// Labels every object slokit creates carries; `slokit chaos cleanup` sweeps by them.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "slokit"
	LabelRunID     = "slokit.dev/run-id"
	LabelGameDay   = "slokit.dev/gameday"
	// AnnotationGameDay keeps the game day's name unabridged (label values are limited).
	AnnotationGameDay = "slokit.dev/gameday"
)

// Chaos Mesh's escape hatch for an object whose finalizer cannot complete (its
// controller could not recover the targets): with this annotation its controller drops
// the finalizer without recovering. slokit reports it and never sets it itself.
const (
	AnnotationCleanFinalizer       = "chaos-mesh.chaos-mesh.org/cleanFinalizer"
	AnnotationCleanFinalizerForced = "forced"
)

// Injector creates one Chaos Mesh object for a run and deletes it again.
type Injector struct {
	c     client.Client
	kind  kind
	fault Fault
	run   chaos.Run
	poll  time.Duration
	log   *slog.Logger

	mu   sync.Mutex
	obj  chaosObject // the object to create, then the last state read from the cluster
	seen bool        // obj holds a state read from the cluster
	// created is set once this injector created the object; Remove deletes only that
	// object (by UID), never a namesake left by another run.
	created bool
}

var (
	_ chaos.Injector   = (*Injector)(nil)
	_ chaos.FaultTimer = (*Injector)(nil)
)

// ObjectName returns "Kind namespace/name" of the injector's object.
func (in *Injector) ObjectName() string {
	return fmt.Sprintf("%s %s/%s", in.kind.name, in.obj.GetNamespace(), in.obj.GetName())
}

// Inject creates the object and waits until Chaos Mesh reports every selected target
// injected (condition AllInjected). It fails fast when the selector matched nothing
// (condition Selected false: Chaos Mesh does not retry the selection). On any failure
// after the creation, including ctx's cancellation, it deletes the object before
// returning.
func (in *Injector) Inject(ctx context.Context) (err error) {
	in.mu.Lock()
	obj := in.obj.DeepCopyObject().(chaosObject)
	in.mu.Unlock()
	if err := in.preflight(ctx, obj); err != nil {
		return err
	}
	if err := in.c.Create(ctx, obj); err != nil {
		err = in.apiError("create", err)
		if ctx.Err() != nil {
			// Interrupted mid-request: the apiserver may have stored the object anyway.
			// Remove finds it by name and deletes it if it carries this run's label.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.fault.RemoveTimeout)
			defer cancel()
			if rerr := in.Remove(rctx); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return err
	}
	in.observe(obj)
	in.mu.Lock()
	in.created = true
	in.mu.Unlock()
	in.log.Info("chaos mesh fault created", "object", in.ObjectName(), "action", in.fault.Action)
	defer func() {
		if err == nil {
			return
		}
		// Clean up even when ctx is cancelled (Ctrl-C): the fault must not outlive the run.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.fault.RemoveTimeout)
		defer cancel()
		if rerr := in.Remove(rctx); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()

	var began time.Time
	timedOut, err := in.follow(ctx, in.fault.InjectTimeout, func(cur chaosObject, gone bool) (bool, error) {
		if gone {
			return false, fmt.Errorf("%s was deleted by someone else while slokit waited for it to be injected", in.ObjectName())
		}
		st := cur.GetStatus()
		if c := condition(st, v1alpha1.ConditionSelected); c != nil && c.Status == corev1.ConditionFalse {
			return false, fmt.Errorf("%s selected no target%s; Chaos Mesh does not retry the selection, so check spec.selector against the pods in namespace %s",
				in.ObjectName(), reason(c), cur.GetNamespace())
		}
		if c := condition(st, v1alpha1.ConditionPaused); c != nil && c.Status == corev1.ConditionTrue {
			return false, fmt.Errorf("%s is paused (annotation %s); remove the annotation or the pause", in.ObjectName(), v1alpha1.PauseAnnotationKey)
		}
		if c := condition(st, v1alpha1.ConditionAllInjected); c != nil && c.Status == corev1.ConditionTrue {
			began, _, _ = faultTimes(st, in.oneShot())
			in.log.Info("chaos mesh fault injected", "object", in.ObjectName(), "targets", len(st.Experiment.Records), "began", began)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if timedOut {
		return in.injectTimeout(in.last().GetStatus())
	}
	return nil
}

// follow passes every state of the object to step (gone: it no longer exists) until
// step is done or fails, timeout passes or ctx ends. It watches the object when the
// client can, so that no state is missed (such as the recovery records Chaos Mesh
// writes just before it drops its finalizer), and otherwise polls.
func (in *Injector) follow(ctx context.Context, timeout time.Duration, step func(cur chaosObject, gone bool) (bool, error)) (timedOut bool, err error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	wc, canWatch := in.c.(client.WithWatch)
	for {
		cur, gone, err := in.get(ctx)
		if err != nil {
			return false, err
		}
		if done, err := step(cur, gone); done || err != nil {
			return false, err
		}
		var events <-chan watch.Event
		stopWatch := func() {}
		if canWatch && !gone {
			w, err := wc.Watch(ctx, in.kind.newList(), &client.ListOptions{
				Namespace:     cur.GetNamespace(),
				FieldSelector: fields.OneTermEqualSelector("metadata.name", cur.GetName()),
				Raw:           &metav1.ListOptions{ResourceVersion: cur.GetResourceVersion()},
			})
			if err == nil {
				stopWatch = w.Stop
				events = w.ResultChan()
			} else {
				in.log.Debug("watch failed; polling", "object", in.ObjectName(), "err", err)
			}
		}
		poll := time.NewTimer(in.poll)
	events:
		for {
			select {
			case <-ctx.Done():
				poll.Stop()
				stopWatch()
				return false, ctx.Err()
			case <-deadline.C:
				poll.Stop()
				stopWatch()
				return true, nil
			case <-poll.C:
				if events == nil {
					break events // no watch: read again
				}
				poll.Reset(in.poll)
			case ev, ok := <-events:
				if !ok || ev.Type == watch.Error {
					break events // the watch ended: read again and watch anew
				}
				obj, isChaos := ev.Object.(chaosObject)
				if !isChaos {
					continue
				}
				in.observe(obj)
				done, err := step(obj, ev.Type == watch.Deleted)
				if done || err != nil {
					poll.Stop()
					stopWatch()
					return false, err
				}
			}
		}
		poll.Stop()
		stopWatch()
	}
}

// preflight checks, with the Role's read access on pods, that the selector's pods or
// labels match at least one pod, so that a typo fails before anything is created.
// Chaos Mesh applies the remaining filters (phases, nodes, annotations, mode) and
// reports an empty result as Selected=false.
func (in *Injector) preflight(ctx context.Context, obj chaosObject) error {
	s := podSelector(obj).Selector
	ns := obj.GetNamespace()
	if len(s.Pods) > 0 {
		for pns, names := range s.Pods {
			for _, name := range names {
				err := in.c.Get(ctx, client.ObjectKey{Namespace: pns, Name: name}, &corev1.Pod{})
				if apierrors.IsNotFound(err) {
					return fmt.Errorf("%s: spec.selector.pods names pod %s/%s, which does not exist", in.ObjectName(), pns, name)
				}
				if err != nil {
					return apiError("read", "pod "+pns+"/"+name, err)
				}
			}
		}
		return nil
	}
	ls, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: s.LabelSelectors, MatchExpressions: s.ExpressionSelectors})
	if err != nil {
		return fmt.Errorf("%s: spec.selector: %w", in.ObjectName(), err)
	}
	var pods corev1.PodList
	if err := in.c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: ls}, client.Limit(1)); err != nil {
		return apiError("list", "pods in "+ns, err)
	}
	if len(pods.Items) == 0 {
		return fmt.Errorf("%s: spec.selector matches no pod in namespace %s (labels %q); nothing was created", in.ObjectName(), ns, ls.String())
	}
	return nil
}

func (in *Injector) injectTimeout(st *v1alpha1.ChaosStatus) error {
	if len(st.Conditions) == 0 && len(st.Experiment.Records) == 0 {
		return fmt.Errorf("%s: no Chaos Mesh controller acted on it within %s; is Chaos Mesh installed and does it watch namespace %s?",
			in.ObjectName(), in.fault.InjectTimeout, in.obj.GetNamespace())
	}
	var failed []string
	for _, r := range st.Experiment.Records {
		if r.Phase != v1alpha1.Injected {
			msg := string(r.Phase)
			if e := lastEvent(r, v1alpha1.Apply, v1alpha1.TypeFailed); e != nil {
				msg = e.Message
			}
			failed = append(failed, fmt.Sprintf("%s: %s", r.Id, msg))
		}
	}
	return fmt.Errorf("%s not injected into every target within %s (injectTimeout): %s",
		in.ObjectName(), in.fault.InjectTimeout, strings.Join(failed, "; "))
}

// Remove deletes the object and waits until it is gone, so that Chaos Mesh has
// recovered every target. It is idempotent. When the object stays because its
// finalizer cannot complete, the error names Chaos Mesh's forced-clean annotation as
// the escape; slokit never applies it.
func (in *Injector) Remove(ctx context.Context) error {
	in.mu.Lock()
	obj, created := in.obj.DeepCopyObject().(chaosObject), in.created
	in.mu.Unlock()
	if !created {
		// An injector re-created for cleanup (after a crash) deletes the object of its
		// name only if it carries this run's label: never a namesake of another run.
		cur, gone, err := in.get(ctx)
		if err != nil || gone {
			return err
		}
		if cur.GetLabels()[LabelRunID] != labelValue(in.run.ID) {
			return nil
		}
		obj = cur
	}
	uid := obj.GetUID()
	err := in.c.Delete(ctx, obj, client.PropagationPolicy("Background"), client.Preconditions{UID: &uid})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return in.apiError("delete", err)
	}
	in.log.Info("chaos mesh fault deleted", "object", in.ObjectName())
	timedOut, err := in.follow(ctx, in.fault.RemoveTimeout, func(_ chaosObject, gone bool) (bool, error) {
		return gone, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %s to be gone: %w", in.ObjectName(), err)
	}
	if timedOut {
		return stuckError(in.kind.name, in.last(), in.fault.RemoveTimeout)
	}
	return nil
}

// FaultTimes returns when the fault took effect (the first successful injection
// recorded by Chaos Mesh) and when it ended (the last successful recovery, or zero
// while a target is still injected). pod-kill is instantaneous: its end is the last
// kill, and recovery is the workload's to show. After Remove the times come from the
// last state read before the object disappeared.
func (in *Injector) FaultTimes(ctx context.Context) (began, ended time.Time, err error) {
	if _, _, err := in.get(ctx); err != nil {
		return time.Time{}, time.Time{}, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.seen {
		return time.Time{}, time.Time{}, fmt.Errorf("%s was never created", in.ObjectName())
	}
	return faultTimes(in.obj.GetStatus(), in.oneShot())
}

func (in *Injector) oneShot() bool { return oneShot(in.kind.name, in.fault.Action) }

// get reads the object and remembers it; gone reports that it no longer exists.
func (in *Injector) get(ctx context.Context) (chaosObject, bool, error) {
	in.mu.Lock()
	key := client.ObjectKeyFromObject(in.obj)
	in.mu.Unlock()
	cur := in.kind.newObj()
	err := in.c.Get(ctx, key, cur)
	if apierrors.IsNotFound(err) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, in.apiError("read", err)
	}
	in.observe(cur)
	return cur, false, nil
}

// last returns the last state read from the cluster (or the object to create).
func (in *Injector) last() chaosObject {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.obj.DeepCopyObject().(chaosObject)
}

func (in *Injector) observe(obj chaosObject) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.obj = obj.DeepCopyObject().(chaosObject)
	in.seen = true
}

// apiError turns an apiserver error into one that says what to do.
func (in *Injector) apiError(verb string, err error) error {
	return apiError(verb, in.ObjectName(), err)
}

func apiError(verb, what string, err error) error {
	var se apierrors.APIStatus
	switch {
	case meta.IsNoMatchError(err) || (apierrors.IsNotFound(err) && verb == "create"):
		return fmt.Errorf("%s %s: the cluster does not know Chaos Mesh's kinds; install Chaos Mesh (its CRDs): %w", verb, what, err)
	case apierrors.IsAlreadyExists(err):
		return fmt.Errorf("%s %s: it exists already, left by an earlier run? remove it with `slokit chaos cleanup`: %w", verb, what, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s: forbidden; grant slokit's Role (`slokit chaos rbac`) in that namespace: %w", verb, what, err)
	case apierrors.IsInvalid(err) && errors.As(err, &se):
		d := se.Status().Details
		var causes []string
		if d != nil {
			for _, c := range d.Causes {
				causes = append(causes, fmt.Sprintf("%s: %s", c.Field, c.Message))
			}
		}
		sort.Strings(causes) // the apiserver's order varies
		if len(causes) == 0 {
			return fmt.Errorf("%s %s: rejected by the apiserver: %w", verb, what, err)
		}
		return fmt.Errorf("%s %s: rejected by the apiserver's schema:\n  %s", verb, what, strings.Join(causes, "\n  "))
	}
	return fmt.Errorf("%s %s: %w", verb, what, err)
}

// stuckError reports an object that stays after its deletion and the escape.
func stuckError(kindName string, obj chaosObject, waited time.Duration) error {
	lower := strings.ToLower(kindName)
	var pending []string
	for _, r := range obj.GetStatus().Experiment.Records {
		if r.Phase == v1alpha1.NotInjected {
			continue
		}
		msg := string(r.Phase)
		if e := lastEvent(r, v1alpha1.Recover, v1alpha1.TypeFailed); e != nil {
			msg = "recovery failed: " + e.Message
		}
		pending = append(pending, fmt.Sprintf("%s (%s)", r.Id, msg))
	}
	detail := ""
	if len(pending) > 0 {
		detail = "; targets not recovered: " + strings.Join(pending, ", ")
	}
	return fmt.Errorf("%s %s/%s is still there %s after its deletion, held by finalizers %v%s.\n"+
		"Chaos Mesh could not recover its targets; check the chaos-controller-manager logs and the targets first.\n"+
		"If the targets are gone or healthy, Chaos Mesh's documented escape drops the finalizer WITHOUT recovering them:\n"+
		"  kubectl annotate %s -n %s %s %s=%s",
		kindName, obj.GetNamespace(), obj.GetName(), waited, obj.GetFinalizers(), detail,
		lower, obj.GetNamespace(), obj.GetName(), AnnotationCleanFinalizer, AnnotationCleanFinalizerForced)
}

func condition(st *v1alpha1.ChaosStatus, t v1alpha1.ChaosConditionType) *v1alpha1.ChaosCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func reason(c *v1alpha1.ChaosCondition) string {
	if c.Reason == "" {
		return ""
	}
	return " (" + c.Reason + ")"
}

func lastEvent(r *v1alpha1.Record, op v1alpha1.RecordEventOperation, typ v1alpha1.RecordEventType) *v1alpha1.RecordEvent {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if e := r.Events[i]; e.Operation == op && e.Type == typ {
			return &r.Events[i]
		}
	}
	return nil
}

// faultTimes reads the fault's real begin and end from the per-target records: began
// is the first successful Apply of any target; ended is the last successful Recover
// once every target has recovered (zero before), or for a one-shot action the last
// successful Apply.
func faultTimes(st *v1alpha1.ChaosStatus, oneShot bool) (began, ended time.Time, err error) {
	var applies []time.Time
	allRecovered := len(st.Experiment.Records) > 0
	for _, r := range st.Experiment.Records {
		var lastApply, lastRecover time.Time
		for _, e := range r.Events {
			if e.Type != v1alpha1.TypeSucceeded || e.Timestamp == nil {
				continue
			}
			ts := e.Timestamp.Time
			switch e.Operation {
			case v1alpha1.Apply:
				applies = append(applies, ts)
				if ts.After(lastApply) {
					lastApply = ts
				}
			case v1alpha1.Recover:
				if ts.After(lastRecover) {
					lastRecover = ts
				}
				if ts.After(ended) {
					ended = ts
				}
			}
		}
		if lastApply.IsZero() || lastRecover.Before(lastApply) || r.Phase == v1alpha1.Injected {
			allRecovered = false
		}
	}
	if len(applies) == 0 {
		return time.Time{}, time.Time{}, errors.New("chaos mesh recorded no successful injection yet")
	}
	sort.Slice(applies, func(i, j int) bool { return applies[i].Before(applies[j]) })
	began = applies[0]
	if oneShot {
		return began, applies[len(applies)-1], nil
	}
	if !allRecovered {
		ended = time.Time{}
	}
	return began, ended, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
