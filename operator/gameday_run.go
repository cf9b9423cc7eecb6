package operator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/chaos/promsource"
	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

// runPool holds the runs this process started. It is a manager Runnable: at shutdown
// it cancels them (each removes its fault) and waits for them.
type runPool struct {
	mu   sync.Mutex
	ctx  context.Context
	runs map[types.NamespacedName]map[string]context.CancelCauseFunc
	wg   sync.WaitGroup
	up   chan struct{}
}

func newRunPool() *runPool {
	return &runPool{runs: map[types.NamespacedName]map[string]context.CancelCauseFunc{}, up: make(chan struct{})}
}

// Start implements manager.Runnable.
func (p *runPool) Start(ctx context.Context) error {
	p.mu.Lock()
	p.ctx = ctx
	close(p.up)
	p.mu.Unlock()
	<-ctx.Done()
	p.wg.Wait()
	return nil
}

// add registers a run and returns its context, derived from the manager's.
func (p *runPool) add(key types.NamespacedName, id string) context.Context {
	<-p.up
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithCancelCause(p.ctx)
	if p.runs[key] == nil {
		p.runs[key] = map[string]context.CancelCauseFunc{}
	}
	p.runs[key][id] = cancel
	p.wg.Add(1)
	return ctx
}

func (p *runPool) done(key types.NamespacedName, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.runs[key][id]; c != nil {
		c(nil)
	}
	delete(p.runs[key], id)
	if len(p.runs[key]) == 0 {
		delete(p.runs, key)
	}
	p.wg.Done()
}

// stopping says whether the manager is shutting down (the runs' parent context ended).
func (p *runPool) stopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctx != nil && p.ctx.Err() != nil
}

// cancel interrupts key's runs (all of them when why is "").
func (p *runPool) cancel(key types.NamespacedName, why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.runs[key] {
		c(errors.New(why))
	}
}

// running returns the IDs of key's runs in this process.
func (p *runPool) running(key types.NamespacedName) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for id := range p.runs[key] {
		out[id] = true
	}
	return out
}

func newRunID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// launch executes run in its own goroutine.
func (r *GameDayReconciler) launch(gd *v1alpha1.GameDay, run v1alpha1.GameDayRun, plan *chaos.Plan) {
	key := types.NamespacedName{Namespace: gd.Namespace, Name: gd.Name}
	ctx := r.pool.add(key, run.ID)
	r.event(gd, corev1.EventTypeNormal, ReasonRunStarted, "Run", fmt.Sprintf("run %s started: %s fault on SLO %s/%s, signals from %s",
		run.ID, gd.Spec.Fault.Kind, plan.Objective.Service, plan.Objective.Name, plan.GameDay.Signals.Prometheus))
	go func() {
		defer r.pool.done(key, run.ID)
		defer r.enqueue(key) // a Replace or a new generation may wait for this run
		res, err := r.execute(ctx, key, run, plan)
		r.finish(context.WithoutCancel(ctx), gd, run, res, err)
	}()
}

// execute runs the chaos runner with the Chaos Mesh backend and Prometheus signals.
func (r *GameDayReconciler) execute(ctx context.Context, key types.NamespacedName, run v1alpha1.GameDayRun, plan *chaos.Plan) (*chaos.Result, error) {
	crun := chaos.Run{ID: run.ID, GameDay: plan.GameDay.Name, Timeout: plan.Timeout}
	inj, err := r.backend.New(plan.GameDay.Fault.Params, crun)
	if err != nil {
		return nil, err
	}
	sig, err := promsource.New(plan.GameDay.Signals.Prometheus)
	if err != nil {
		return nil, err
	}
	fault := ""
	if n, ok := inj.(interface{ ObjectName() string }); ok {
		fault = n.ObjectName()
	}
	phase := chaos.Phase("")
	progress := func(p chaos.Progress) {
		if p.Phase == phase {
			return
		}
		phase = p.Phase
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := r.updateStatus(pctx, key, func(cur *v1alpha1.GameDay) {
			for i := range cur.Status.Active {
				if cur.Status.Active[i].ID == run.ID {
					cur.Status.Active[i].Phase, cur.Status.Active[i].Fault = string(p.Phase), fault
				}
			}
			setCondition(&cur.Status.Conditions, cur.Generation, v1alpha1.ConditionRunning, len(cur.Status.Active) > 0, runningReason(cur), runningMessage(cur))
		})
		if err != nil {
			r.Log.Warn("recording the run's phase", "gameday", key, "run", run.ID, "err", err)
		}
	}
	runner := &chaos.Runner{Plan: plan, Injector: inj, Signals: sig, Run: crun, Progress: progress,
		Log: r.Log.With("gameday", key.String(), "run", run.ID), SignalLoss: r.SignalLoss}
	return runner.Execute(ctx)
}

// finish keeps the report, moves the run from status.active to status.runs (pruning
// the history and its ConfigMaps) and records the verdict in an Event.
func (r *GameDayReconciler) finish(ctx context.Context, gd *v1alpha1.GameDay, run v1alpha1.GameDayRun, res *chaos.Result, runErr error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	key := types.NamespacedName{Namespace: gd.Namespace, Name: gd.Name}
	done := run
	done.Phase, done.CompletionTime = "done", &metav1.Time{Time: time.Now()}
	if res != nil {
		done.Outcome, done.Cause, done.Message = string(res.Outcome), string(res.Cause), strings.Join(res.Reasons, "; ")
		for _, e := range res.Expectations {
			if e.DetectedSeconds != nil {
				done.DetectedSeconds = append(done.DetectedSeconds, fmt.Sprintf("%s=%.1f", e.FiredTier, *e.DetectedSeconds))
			}
		}
		if name, err := r.keepReport(ctx, gd, res); err != nil {
			r.Log.Warn("keeping the report", "gameday", key, "run", run.ID, "err", err)
		} else {
			done.Report = name
		}
	} else {
		done.Outcome = string(chaos.Error)
	}
	if runErr != nil && !strings.Contains(done.Message, runErr.Error()) {
		done.Message = strings.TrimPrefix(done.Message+"; "+runErr.Error(), "; ")
	}
	var pruned []string
	err := r.updateStatus(ctx, key, func(cur *v1alpha1.GameDay) {
		var fault string
		cur.Status.Active, fault = withoutRun(cur.Status.Active, run.ID)
		done.Fault = cmp(fault, done.Fault)
		cur.Status.Runs, pruned = history(cur, append([]v1alpha1.GameDayRun{done}, withoutRunList(cur.Status.Runs, run.ID)...))
		setCondition(&cur.Status.Conditions, cur.Generation, v1alpha1.ConditionRunning, len(cur.Status.Active) > 0, runningReason(cur), runningMessage(cur))
	})
	if err != nil {
		r.Log.Warn("recording the run's verdict", "gameday", key, "run", run.ID, "err", err)
		return
	}
	r.deleteReports(ctx, gd.Namespace, pruned)
	typ := corev1.EventTypeNormal
	if done.Outcome != string(chaos.Pass) {
		typ = corev1.EventTypeWarning
	}
	note := fmt.Sprintf("run %s: %s%s %s", run.ID, strings.ToUpper(done.Outcome), causeSuffix(done.Cause), done.Message)
	if !r.pool.stopping() {
		r.event(gd, typ, ReasonRunFinished, "Verdict", note)
		return
	}
	// The manager stops its event broadcaster right after the runs: an Event queued
	// there now would be lost, so the verdict of a run ended by shutdown is written here.
	if err := r.eventNow(ctx, gd, typ, ReasonRunFinished, "Verdict", note); err != nil {
		r.Log.Warn("recording the run's verdict Event", "gameday", key, "run", run.ID, "err", err)
	}
}

// eventNow creates an events.k8s.io Event synchronously, as the recorder would have.
func (r *GameDayReconciler) eventNow(ctx context.Context, gd *v1alpha1.GameDay, typ, reason, action, note string) error {
	if len(note) > 1000 {
		note = note[:1000] + "…"
	}
	host, _ := os.Hostname()
	now := metav1.NowMicro()
	ev := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", gd.Name, now.UnixNano()), Namespace: gd.Namespace},
		EventTime:  now, ReportingController: Name, ReportingInstance: Name + "-" + cmp(host, "unknown"),
		Action: action, Reason: reason, Type: typ, Note: note,
		Regarding: corev1.ObjectReference{APIVersion: v1alpha1.GroupVersion().String(), Kind: "GameDay",
			Namespace: gd.Namespace, Name: gd.Name, UID: gd.UID},
	}
	return r.Direct.Create(ctx, ev)
}

func causeSuffix(c string) string {
	if c == "" {
		return ""
	}
	return " (" + c + ")"
}

func withoutRun(runs []v1alpha1.GameDayRun, id string) ([]v1alpha1.GameDayRun, string) {
	var out []v1alpha1.GameDayRun
	fault := ""
	for _, r := range runs {
		if r.ID == id {
			fault = r.Fault
			continue
		}
		out = append(out, r)
	}
	return out, fault
}

func withoutRunList(runs []v1alpha1.GameDayRun, id string) []v1alpha1.GameDayRun {
	out, _ := withoutRun(runs, id)
	return out
}

// Default history limits, as CronJob's.
const (
	DefaultSuccessfulRunsHistory = 3
	DefaultFailedRunsHistory     = 1
)

// history keeps the newest runs within the limits (passed runs, and the others) and
// returns the report ConfigMaps of the runs dropped.
func history(gd *v1alpha1.GameDay, runs []v1alpha1.GameDayRun) (kept []v1alpha1.GameDayRun, pruned []string) {
	okMax, badMax := int32(DefaultSuccessfulRunsHistory), int32(DefaultFailedRunsHistory)
	if s := gd.Spec.Schedule; s != nil {
		if s.SuccessfulRunsHistoryLimit != nil {
			okMax = *s.SuccessfulRunsHistoryLimit
		}
		if s.FailedRunsHistoryLimit != nil {
			badMax = *s.FailedRunsHistoryLimit
		}
	}
	var ok, bad int32
	for _, run := range runs {
		keep := false
		if run.Outcome == string(chaos.Pass) {
			ok++
			keep = ok <= okMax
		} else {
			bad++
			keep = bad <= badMax
		}
		if keep {
			kept = append(kept, run)
		} else if run.Report != "" {
			pruned = append(pruned, run.Report)
		}
	}
	return kept, pruned
}

// keepReport creates (or replaces) the run's report ConfigMap, owned by the GameDay so
// that deleting the GameDay deletes its reports.
func (r *GameDayReconciler) keepReport(ctx context.Context, gd *v1alpha1.GameDay, res *chaos.Result) (string, error) {
	want, err := reportConfigMap(gd, res)
	if err != nil {
		return "", err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: want.Name, Namespace: want.Namespace}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Direct, cm, func() error {
		cm.Labels, cm.Annotations, cm.Data, cm.BinaryData = want.Labels, want.Annotations, want.Data, want.BinaryData
		return controllerutil.SetOwnerReference(gd, cm, r.Direct.Scheme())
	})
	return want.Name, err
}

func (r *GameDayReconciler) deleteReports(ctx context.Context, ns string, names []string) {
	for _, n := range names {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns}}
		if err := r.Direct.Delete(ctx, cm); err != nil && !apierrors.IsNotFound(err) {
			r.Log.Warn("pruning a report", "configmap", ns+"/"+n, "err", err)
		}
	}
}

// adoptOrphans handles the runs in gd's status.active that this process did not start:
// their operator stopped mid-run (pod killed, node lost). Their faults are removed by
// the run label, as `slokit chaos cleanup --sweep` does, and each run is recorded as
// aborted with the reason. A sweep that fails is retried by the next reconcile.
func (r *GameDayReconciler) adoptOrphans(ctx context.Context, gd *v1alpha1.GameDay) error {
	key := types.NamespacedName{Namespace: gd.Namespace, Name: gd.Name}
	mine := r.pool.running(key)
	swept := map[string]string{}
	for _, a := range gd.Status.Active {
		if mine[a.ID] {
			continue
		}
		// In the GameDay's namespace when a cluster-wide list is forbidden (namespaced Roles).
		sweeper := &chaosmesh.Backend{Client: r.Direct, Kube: kube.Options{Namespace: gd.Namespace}, Log: r.Log}
		removed, err := sweeper.Sweep(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("removing the fault of orphaned run %s: %w", a.ID, err)
		}
		what := "no Chaos Mesh object was left"
		if len(removed) > 0 {
			what = "removed " + strings.Join(removed, ", ")
		}
		swept[a.ID] = fmt.Sprintf("the operator running this run stopped in phase %s (pod killed or evicted?); the next operator swept the faults labelled slokit.dev/run-id=%s: %s", a.Phase, a.ID, what)
	}
	if len(swept) == 0 {
		return nil
	}
	err := r.updateStatus(ctx, key, func(cur *v1alpha1.GameDay) {
		var active, ended []v1alpha1.GameDayRun
		for _, a := range cur.Status.Active {
			msg, orphan := swept[a.ID]
			if !orphan {
				active = append(active, a)
				continue
			}
			a.Phase, a.Outcome, a.Cause, a.Message = "done", string(chaos.Aborted), CauseOperatorLost, msg
			a.CompletionTime = &metav1.Time{Time: time.Now()}
			ended = append(ended, a)
		}
		cur.Status.Active = active
		cur.Status.Runs, _ = history(cur, append(ended, cur.Status.Runs...))
	})
	if err != nil {
		return err
	}
	for id, msg := range swept {
		r.event(gd, corev1.EventTypeWarning, ReasonOperatorLost, "Cleanup", "run "+id+" aborted: "+msg)
	}
	return nil
}

func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return reflect.DeepEqual(a, b)
	}
	return string(ja) == string(jb)
}

var _ client.Object = (*v1alpha1.GameDay)(nil)
