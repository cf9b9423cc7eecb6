// Package operator is `slokit operator`: a controller-runtime manager that turns
// slokit.dev/v1alpha1 ServiceLevelObjective objects into prometheus-operator
// PrometheusRules through the same code path as `slokit generate -o prometheusrule`
// (validation by slo, rules by alerts). It is an adapter on top of the domain:
// only internal/cli imports it (docs/architecture.md).
package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

// Name is the operator's field manager, event reporter and leader-election lock name.
const Name = "slokit-operator"

// Config is everything `slokit operator` is configured with.
type Config struct {
	// MetricsAddr serves Prometheus metrics (controller-runtime's); "0" disables it.
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz; "0" disables it.
	ProbeAddr string
	// LeaderElection makes only one replica reconcile at a time (a Lease named Name in
	// LeaderElectionNamespace; "" means the pod's namespace).
	LeaderElection          bool
	LeaderElectionNamespace string
	// Namespaces limits the watch to these namespaces; empty watches the whole cluster.
	Namespaces []string
	// Concurrency is how many objects are reconciled at once (default 4).
	Concurrency int
	// RuleLabels are extra labels on every PrometheusRule.
	RuleLabels map[string]string
	// Alerts configures alert annotations, as `slokit generate --grafana-url` does.
	Alerts alerts.Options
	// GracefulShutdown bounds how long running reconciles get after the context ends.
	GracefulShutdown time.Duration
	// Logger receives the structured logs; nil discards them.
	Logger *slog.Logger

	// GameDays runs the GameDay controller (Chaos Mesh faults; it needs the chaos
	// permissions of the chart's gameDays.enabled).
	GameDays bool
	// GameDayPrometheus is the Prometheus URL of GameDays that name none.
	GameDayPrometheus string
	// GameDaySignalLoss ends a run whose Prometheus is silent this long; 0: chaos's default.
	GameDaySignalLoss time.Duration
	// Foreign lists the other controllers' SLO kinds read drop-in (Sloth, Pyrra).
	Foreign []Foreign
	// Clock drives GameDay schedules; nil means the wall clock (tests use a fake one).
	Clock clock.WithDelayedExecution

	// skipNameValidation lets tests run several managers in one process.
	skipNameValidation bool
}

// Scheme returns kube.Scheme's types plus slokit.dev/v1alpha1.
func Scheme() (*runtime.Scheme, error) {
	s, err := kube.Scheme()
	if err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewManager builds the manager with the ServiceLevelObjective controller, the health
// and readiness checks and the metrics server; start it with Start(ctx), which returns
// once ctx ends and running reconciles finished (or GracefulShutdown passed).
func NewManager(cfg *rest.Config, c Config) (manager.Manager, error) {
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	log := logr.Discard()
	if c.Logger != nil {
		log = logr.FromSlogHandler(c.Logger.Handler())
	}
	shutdown := c.GracefulShutdown
	if shutdown == 0 {
		shutdown = 30 * time.Second
	}
	opts := ctrl.Options{
		Scheme:                        s,
		Logger:                        log,
		Metrics:                       metricsserver.Options{BindAddress: c.MetricsAddr},
		HealthProbeBindAddress:        c.ProbeAddr,
		LeaderElection:                c.LeaderElection,
		LeaderElectionID:              Name,
		LeaderElectionNamespace:       c.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &shutdown,
	}
	if len(c.Namespaces) > 0 {
		opts.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range c.Namespaces {
			opts.Cache.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("operator manager: %w", err)
	}
	if err := setup(mgr, c); err != nil {
		return nil, err
	}
	return mgr, nil
}

func setup(mgr manager.Manager, c Config) error {
	r := &Reconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Events: mgr.GetEventRecorder(Name),
		RuleLabels: c.RuleLabels, Alerts: c.Alerts,
	}
	workers := c.Concurrency
	if workers <= 0 {
		workers = 4
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("servicelevelobjective").
		For(&v1alpha1.ServiceLevelObjective{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&monitoringv1.PrometheusRule{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, SkipNameValidation: &c.skipNameValidation}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("servicelevelobjective controller: %w", err)
	}
	for _, f := range c.Foreign {
		if err := setupForeign(mgr, c, f); err != nil {
			return err
		}
	}
	if c.GameDays {
		if err := setupGameDays(mgr, c); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("informer caches not synced")
		}
		return nil
	})
}

// setupForeign adds the controller of one foreign SLO kind; its CRD must be installed.
func setupForeign(mgr manager.Manager, c Config, f Foreign) error {
	r := &ForeignReconciler{Kind: f, Client: mgr.GetClient(), Scheme: mgr.GetScheme(), Events: mgr.GetEventRecorder(Name),
		RuleLabels: c.RuleLabels, Alerts: c.Alerts}
	workers := max(c.Concurrency, 1)
	err := ctrl.NewControllerManagedBy(mgr).
		Named(strings.ToLower(f.Prefix)).
		For(r.newObj(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, SkipNameValidation: &c.skipNameValidation}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("%s controller (is the %s CRD installed?): %w", f.Controller, f.GVK.GroupKind(), err)
	}
	return nil
}

// setupGameDays adds the GameDay controller and its run pool to mgr.
func setupGameDays(mgr manager.Manager, c Config) error {
	direct, err := client.NewWithWatch(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return fmt.Errorf("gameday client: %w", err)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &GameDayReconciler{Client: mgr.GetClient(), Direct: direct, Events: mgr.GetEventRecorder(Name),
		Clock: c.Clock, Prometheus: c.GameDayPrometheus, SignalLoss: c.GameDaySignalLoss, Log: log.With("controller", "gameday")}
	r.init()
	if err := mgr.Add(r.pool); err != nil {
		return err
	}
	err = ctrl.NewControllerManagedBy(mgr).
		Named("gameday").
		For(&v1alpha1.GameDay{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(r.trigger, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: &c.skipNameValidation}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("gameday controller: %w", err)
	}
	return nil
}

// Logr adapts a slog logger to the logr interface controller-runtime logs through.
func Logr(l *slog.Logger) logr.Logger { return logr.FromSlogHandler(l.Handler()) }
