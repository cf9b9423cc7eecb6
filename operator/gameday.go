package operator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

// GameDay condition reasons and event reasons.
const (
	ReasonSLONotFound  = "SLONotFound"
	ReasonRunStarted   = "RunStarted"
	ReasonRunFinished  = "RunFinished"
	ReasonRunSkipped   = "RunSkipped"
	ReasonRunReplaced  = "RunReplaced"
	ReasonOperatorLost = "OperatorLost"
	ReasonRunning      = "Running"
	ReasonIdle         = "Idle"
	// CauseOperatorLost is the cause of a run whose operator stopped mid-run.
	CauseOperatorLost = "operator-lost"
)

// GameDayReconciler runs GameDays: once per generation, or on their schedule. Runs
// execute in goroutines of a runPool (the manager waits for them at shutdown, and
// their faults are removed when they are interrupted). status.active is the run's
// journal: it is written before anything is injected, so that an operator that finds
// an active run it did not start removes its fault by the run's labels.
type GameDayReconciler struct {
	// Client reads through the manager's cache; Direct reads and writes the apiserver
	// (status updates with optimistic concurrency, Chaos Mesh objects).
	Client client.Client
	Direct client.WithWatch
	Events events.EventRecorder
	// Clock drives the schedule; nil means the wall clock.
	Clock clock.WithDelayedExecution
	// Prometheus is the signals URL of GameDays that name none.
	Prometheus string
	// SignalLoss ends a run whose Prometheus is silent this long; 0 means chaos's default.
	SignalLoss time.Duration
	Log        *slog.Logger

	pool    *runPool
	trigger chan event.GenericEvent
	backend *chaosmesh.Backend

	mu     sync.Mutex
	timers map[types.NamespacedName]clock.Timer
}

func (r *GameDayReconciler) init() {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	r.pool = newRunPool()
	r.trigger = make(chan event.GenericEvent, 64)
	r.timers = map[types.NamespacedName]clock.Timer{}
	r.backend = &chaosmesh.Backend{Client: r.Direct, Log: r.Log}
}

// Reconcile adopts runs orphaned by a previous operator, validates the GameDay against
// its SLO object, applies the schedule and starts the runs that are due.
func (r *GameDayReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var gd v1alpha1.GameDay
	if err := r.Direct.Get(ctx, req.NamespacedName, &gd); err != nil {
		if apierrors.IsNotFound(err) {
			r.pool.cancel(req.NamespacedName, "") // deleted: the runs remove their faults
			r.stopTimer(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gd.DeletionTimestamp.IsZero() {
		r.pool.cancel(req.NamespacedName, "")
		return ctrl.Result{}, nil
	}
	if err := r.adoptOrphans(ctx, &gd); err != nil {
		return ctrl.Result{}, err
	}
	plan, sched, problems := r.validate(ctx, &gd)
	var d decision
	var launch *v1alpha1.GameDayRun
	err := r.updateStatus(ctx, req.NamespacedName, func(cur *v1alpha1.GameDay) {
		launch = nil
		r.validCondition(cur, problems)
		d = decision{}
		if problems == nil {
			d = decide(cur, sched, r.Clock.Now(), len(r.pool.running(req.NamespacedName)))
			launch = r.applyDecision(cur, d)
		}
		cur.Status.NextScheduleTime = nil
		if !d.next.IsZero() {
			cur.Status.NextScheduleTime = &metav1.Time{Time: d.next}
		}
		setCondition(&cur.Status.Conditions, cur.Generation, v1alpha1.ConditionRunning, len(cur.Status.Active) > 0, runningReason(cur), runningMessage(cur))
		cur.Status.ObservedGeneration = cur.Generation
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	r.announce(&gd, problems, d)
	if launch != nil {
		r.launch(&gd, *launch, plan)
	}
	r.setTimer(req.NamespacedName, d.next)
	if problems != nil && strings.Contains(strings.Join(problems, "\n"), "ServiceLevelObjective") {
		return ctrl.Result{RequeueAfter: time.Minute}, nil // the SLO object may appear or be fixed
	}
	return ctrl.Result{}, nil
}

// applyDecision records d in cur's status and returns the run to launch, if any.
func (r *GameDayReconciler) applyDecision(cur *v1alpha1.GameDay, d decision) *v1alpha1.GameDayRun {
	if d.record {
		cur.Status.LastScheduleTime = &metav1.Time{Time: d.scheduled}
	}
	if d.replace {
		r.pool.cancel(types.NamespacedName{Namespace: cur.Namespace, Name: cur.Name}, "replaced by the run of "+d.scheduled.Format(time.RFC3339))
	}
	if !d.start {
		return nil
	}
	run := v1alpha1.GameDayRun{
		ID: newRunID(), StartTime: metav1.Time{Time: r.Clock.Now()}, Phase: "pending",
		Generation: cur.Generation,
	}
	if !d.scheduled.IsZero() {
		run.ScheduledTime = &metav1.Time{Time: d.scheduled}
	} else {
		cur.Status.LastRunGeneration = cur.Generation
	}
	cur.Status.Active = append(cur.Status.Active, run)
	return &run
}

func (r *GameDayReconciler) announce(gd *v1alpha1.GameDay, problems []string, d decision) {
	switch {
	case problems != nil:
		if !sameProblems(gd, problems) {
			r.event(gd, corev1.EventTypeWarning, ReasonSpecInvalid, "Validate", strings.Join(problems, "; "))
		}
	case d.skipped != "":
		r.event(gd, corev1.EventTypeWarning, ReasonRunSkipped, "Schedule", d.skipped)
	case d.replace:
		r.event(gd, corev1.EventTypeNormal, ReasonRunReplaced, "Schedule", "stopping the running run (concurrencyPolicy Replace); the new run starts once its fault is removed")
	}
}

// sameProblems reports whether gd's Valid condition already lists problems.
func sameProblems(gd *v1alpha1.GameDay, problems []string) bool {
	c := meta.FindStatusCondition(gd.Status.Conditions, v1alpha1.ConditionValid)
	return c != nil && c.Status == metav1.ConditionFalse && c.Message == strings.Join(problems, "\n") && c.ObservedGeneration == gd.Generation
}

func (r *GameDayReconciler) validCondition(gd *v1alpha1.GameDay, problems []string) {
	if problems == nil {
		setCondition(&gd.Status.Conditions, gd.Generation, v1alpha1.ConditionValid, true, ReasonSpecValid, "the game day passes slokit's validation against its SLO")
		return
	}
	reason := ReasonSpecInvalid
	if strings.Contains(problems[0], "not found") {
		reason = ReasonSLONotFound
	}
	setCondition(&gd.Status.Conditions, gd.Generation, v1alpha1.ConditionValid, false, reason, strings.Join(problems, "\n"))
}

// validate reads gd's SLO object and checks gd and its schedule.
func (r *GameDayReconciler) validate(ctx context.Context, gd *v1alpha1.GameDay) (*chaos.Plan, *schedule, []string) {
	var sloObj v1alpha1.ServiceLevelObjective
	key := client.ObjectKey{Namespace: gd.Namespace, Name: gd.Spec.SLO.Name}
	if err := r.Client.Get(ctx, key, &sloObj); err != nil {
		msg := fmt.Sprintf("spec.slo.name: ServiceLevelObjective %s/%s: %v", key.Namespace, key.Name, err)
		if apierrors.IsNotFound(err) {
			msg = fmt.Sprintf("spec.slo.name: ServiceLevelObjective %s not found in namespace %s", key.Name, key.Namespace)
		}
		return nil, nil, []string{msg}
	}
	plan, problems := ParseGameDay(gd, &sloObj, r.Prometheus, r.backend)
	var sched *schedule
	if gd.Spec.Schedule != nil {
		var sp []string
		sched, sp = parseSchedule(gd.Spec.Schedule)
		problems = append(problems, sp...)
	}
	if problems != nil {
		return nil, nil, problems
	}
	return plan, sched, nil
}

// updateStatus applies change to the latest GameDay read from the apiserver and writes
// its status, retrying on conflicts (runs and reconciles write the same status).
func (r *GameDayReconciler) updateStatus(ctx context.Context, key types.NamespacedName, change func(*v1alpha1.GameDay)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.GameDay
		if err := r.Direct.Get(ctx, key, &cur); err != nil {
			return err
		}
		before := cur.Status.DeepCopy()
		change(&cur)
		if statusUnchanged(before, &cur.Status) {
			return nil
		}
		return r.Direct.Status().Update(ctx, &cur)
	})
}

func statusUnchanged(a, b *v1alpha1.GameDayStatus) bool {
	ca, cb := a.DeepCopy(), b.DeepCopy()
	for _, s := range []*v1alpha1.GameDayStatus{ca, cb} {
		for i := range s.Conditions {
			s.Conditions[i].LastTransitionTime = metav1.Time{}
		}
	}
	return equalJSON(ca, cb)
}

func runningReason(gd *v1alpha1.GameDay) string {
	if len(gd.Status.Active) > 0 {
		return ReasonRunning
	}
	return ReasonIdle
}

func runningMessage(gd *v1alpha1.GameDay) string {
	if len(gd.Status.Active) == 0 {
		return "no run in progress"
	}
	var ids []string
	for _, a := range gd.Status.Active {
		ids = append(ids, a.ID+" ("+a.Phase+")")
	}
	return "run " + strings.Join(ids, ", ") + " in progress"
}

func setCondition(conds *[]metav1.Condition, gen int64, typ string, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
}

func (r *GameDayReconciler) event(gd *v1alpha1.GameDay, typ, reason, action, note string) {
	if r.Events == nil {
		return
	}
	if len(note) > 1000 {
		note = note[:1000] + "…"
	}
	r.Events.Eventf(gd, nil, typ, reason, action, "%s", note)
}

// setTimer arranges a reconcile of key at next (on r.Clock), replacing an earlier timer.
func (r *GameDayReconciler) setTimer(key types.NamespacedName, next time.Time) {
	r.stopTimer(key)
	if next.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timers[key] = r.Clock.AfterFunc(next.Sub(r.Clock.Now()), func() { r.enqueue(key) })
}

func (r *GameDayReconciler) stopTimer(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.timers[key]; ok {
		t.Stop()
		delete(r.timers, key)
	}
}

// enqueue asks for a reconcile of key.
func (r *GameDayReconciler) enqueue(key types.NamespacedName) {
	obj := &v1alpha1.GameDay{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	select {
	case r.trigger <- event.GenericEvent{Object: obj}:
	default:
		go func() { r.trigger <- event.GenericEvent{Object: obj} }()
	}
}
