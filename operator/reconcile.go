package operator

import (
	"context"
	"fmt"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

// Condition reasons.
const (
	ReasonSpecValid        = "SpecValid"
	ReasonSpecInvalid      = "SpecInvalid"
	ReasonGenerationFailed = "GenerationFailed"
	ReasonApplied          = "RulesApplied"
	ReasonApplyFailed      = "ApplyFailed"
	ReasonReady            = "Ready"
	ReasonNotReady         = "NotReady"
)

// Reconciler keeps one PrometheusRule per ServiceLevelObjective, owned by it (so the
// garbage collector deletes the rules with the object).
type Reconciler struct {
	Client client.Client
	Scheme *runtime.Scheme
	Events events.EventRecorder
	// RuleLabels are extra labels on every PrometheusRule, like the release label
	// kube-prometheus-stack's ruleSelector matches.
	RuleLabels map[string]string
	// Alerts configures the alert annotations (Grafana URL, runbooks).
	Alerts alerts.Options
}

// Reconcile validates one object, applies its rules and records the outcome in status.
// An invalid spec is not an error for the controller: it is reported in the Valid
// condition and an Event, and not retried until the object changes. The PrometheusRule
// of the last valid generation is kept, so a bad edit does not silence alerts.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj v1alpha1.ServiceLevelObjective
	if err := r.Client.Get(ctx, req.NamespacedName, &obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the owner reference lets the garbage collector delete the rule
	}
	orig := obj.DeepCopy()
	before, st := &orig.Status, &obj.Status
	svc, problems := Parse(&obj)
	var rule *monitoringv1.PrometheusRule
	if problems == nil {
		var err error
		if rule, err = Rules(svc, obj.Name, obj.Namespace, r.RuleLabels, r.Alerts); err != nil {
			problems = []string{"spec: generating rules: " + err.Error()}
			r.setCondition(&obj, v1alpha1.ConditionValid, false, ReasonGenerationFailed, problems[0])
		}
	} else {
		r.setCondition(&obj, v1alpha1.ConditionValid, false, ReasonSpecInvalid, strings.Join(problems, "\n"))
	}
	var applyErr error
	if problems != nil {
		r.setCondition(&obj, v1alpha1.ConditionRulesApplied, false, ReasonSpecInvalid,
			"the PrometheusRule, if any, keeps the rules of the last valid spec")
		if !sameCondition(before, st, v1alpha1.ConditionValid) {
			r.event(&obj, corev1.EventTypeWarning, ReasonSpecInvalid, "Validate", strings.Join(problems, "; "))
		}
	} else {
		r.setCondition(&obj, v1alpha1.ConditionValid, true, ReasonSpecValid, "the spec passes slokit's validation")
		applyErr = r.apply(ctx, &obj, rule)
	}
	ready := meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionValid) && meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionRulesApplied)
	if ready {
		r.setCondition(&obj, v1alpha1.ConditionReady, true, ReasonReady, "PrometheusRule "+st.PrometheusRule+" holds the SLO's rules")
	} else {
		r.setCondition(&obj, v1alpha1.ConditionReady, false, ReasonNotReady, "see the Valid and RulesApplied conditions")
	}
	st.ObservedGeneration = obj.Generation
	if !statusEqual(before, st) {
		// A merge patch, not an update: no conflict with a cache a write behind.
		if err := r.Client.Status().Patch(ctx, &obj, client.MergeFrom(orig)); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, applyErr
}

// apply creates or updates rule, owned by obj, and records the outcome.
func (r *Reconciler) apply(ctx context.Context, obj *v1alpha1.ServiceLevelObjective, want *monitoringv1.PrometheusRule) error {
	op, err := applyRule(ctx, r.Client, r.Scheme, obj, want)
	if err != nil {
		msg := fmt.Sprintf("PrometheusRule %s: %v", want.Name, err)
		r.setCondition(obj, v1alpha1.ConditionRulesApplied, false, ReasonApplyFailed, msg)
		r.event(obj, corev1.EventTypeWarning, ReasonApplyFailed, "Apply", msg)
		return err
	}
	recording, alerting := countRules(want)
	obj.Status.PrometheusRule, obj.Status.RecordingRules, obj.Status.AlertingRules = want.Name, recording, alerting
	r.setCondition(obj, v1alpha1.ConditionRulesApplied, true, ReasonApplied,
		fmt.Sprintf("PrometheusRule %s: %d recording and %d alerting rules", want.Name, recording, alerting))
	if op != controllerutil.OperationResultNone {
		r.event(obj, corev1.EventTypeNormal, ReasonApplied, "Apply", fmt.Sprintf("PrometheusRule %s %s", want.Name, op))
	}
	return nil
}

func countRules(p *monitoringv1.PrometheusRule) (recording, alerting int32) {
	for _, g := range p.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerting++
			} else {
				recording++
			}
		}
	}
	return recording, alerting
}

func (r *Reconciler) setCondition(obj *v1alpha1.ServiceLevelObjective, typ string, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.Generation,
	})
}

func (r *Reconciler) event(obj *v1alpha1.ServiceLevelObjective, typ, reason, action, note string) {
	if r.Events == nil {
		return
	}
	if len(note) > 1000 {
		note = note[:1000] + "…"
	}
	r.Events.Eventf(obj, nil, typ, reason, action, "%s", note)
}

// sameCondition reports whether condition typ has the same status and message in a and b.
func sameCondition(a, b *v1alpha1.ServiceLevelObjectiveStatus, typ string) bool {
	ca, cb := meta.FindStatusCondition(a.Conditions, typ), meta.FindStatusCondition(b.Conditions, typ)
	if ca == nil || cb == nil {
		return ca == cb
	}
	return ca.Status == cb.Status && ca.Message == cb.Message && ca.ObservedGeneration == cb.ObservedGeneration
}

func statusEqual(a, b *v1alpha1.ServiceLevelObjectiveStatus) bool {
	if a.ObservedGeneration != b.ObservedGeneration || a.PrometheusRule != b.PrometheusRule ||
		a.RecordingRules != b.RecordingRules || a.AlertingRules != b.AlertingRules || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for _, c := range a.Conditions {
		if !sameCondition(a, b, c.Type) {
			return false
		}
		if meta.FindStatusCondition(b.Conditions, c.Type).Reason != c.Reason {
			return false
		}
	}
	return true
}

// applyRule creates or updates want in owner's namespace, owned by owner: it sets want's
// labels (keeping labels others added) and replaces the spec. Both reconcilers apply
// through it.
func applyRule(ctx context.Context, c client.Client, scheme *runtime.Scheme, owner client.Object, want *monitoringv1.PrometheusRule) (controllerutil.OperationResult, error) {
	got := &monitoringv1.PrometheusRule{ObjectMeta: metav1.ObjectMeta{Name: want.Name, Namespace: owner.GetNamespace()}}
	return controllerutil.CreateOrUpdate(ctx, c, got, func() error {
		if got.Labels == nil {
			got.Labels = map[string]string{}
		}
		for k, v := range want.Labels {
			got.Labels[k] = v
		}
		got.Spec = want.Spec
		return controllerutil.SetControllerReference(owner, got, scheme)
	})
}
