//go:build !slokit_nok8s

package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/operator"
)

type operatorFlags struct {
	ko         kube.Options
	cfg        operator.Config
	labels     labelsFlag
	grafana    string
	logFormat  string
	namespaces []string
	sloth      bool
	pyrra      bool
}

func newOperatorCmd(e *env) *cobra.Command {
	f := operatorFlags{labels: labelsFlag{}}
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the Kubernetes operator: SLO objects become PrometheusRules; GameDay objects run",
		Long: `operator runs a controller that watches slokit.dev/v1alpha1 ServiceLevelObjective
objects (one slokit/v1 SLO each, CRD in deploy/helm/slokit-operator/crds) and keeps one
PrometheusRule per object, generated exactly as 'slokit generate -o prometheusrule'
does and owned by the object (deleting it deletes the rules). Each object's status
says whether its spec is Valid (with every problem and its field path), whether the
rules are applied (RulesApplied) and Ready, for the generation it observed; Events
record changes. The Helm chart in deploy/helm/slokit-operator runs it with
least-privilege RBAC. docs/kubernetes.md describes it.

With --sloth and --pyrra it also reads Sloth's PrometheusServiceLevel and Pyrra's
ServiceLevelObjective objects through slokit's importers, so that a cluster can switch
controllers without rewriting objects; an object another controller still handles is
left to it.

With --gamedays it also runs slokit.dev/v1alpha1 GameDay objects: a Chaos Mesh fault in
the GameDay's namespace while the burn rates and alerts of a ServiceLevelObjective are
read from Prometheus (spec.signals.prometheus or --gameday-prometheus), once per
generation or on a cron schedule (CronJob semantics). Phases and verdicts go to the
GameDay's status, the report to a ConfigMap, start and verdict to Events. A run left
behind by a killed operator is cleaned up by the next one from its labels.

Replicas with --leader-elect share a Lease; only the leader reconciles. /healthz and
/readyz (--health-probe-bind-address) serve the kubelet's probes, /metrics
(--metrics-bind-address) controller-runtime's metrics. Logs are log/slog records on
stderr, controller-runtime's and client-go's included. SIGTERM stops it cleanly: running
reconciles and game-day runs (removing their faults) get --graceful-shutdown, the Lease
is released, and the exit status is 0.`,
		Example: `  slokit operator --kubeconfig ~/.kube/config --metrics-bind-address 0 --log-format text
  slokit operator --leader-elect --rule-label release=kube-prometheus-stack --watch-namespace shop
  slokit operator --leader-elect --gamedays --gameday-prometheus http://prometheus-operated.monitoring:9090`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runOperator(cmd, e, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.ko.Kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fl.StringVar(&f.ko.Context, "context", "", "kubeconfig `CONTEXT` (default the current one)")
	fl.StringVar(&f.cfg.MetricsAddr, "metrics-bind-address", ":8080", "`ADDRESS` serving the operator's Prometheus metrics; 0 disables them")
	fl.StringVar(&f.cfg.ProbeAddr, "health-probe-bind-address", ":8081", "`ADDRESS` serving /healthz and /readyz; 0 disables them")
	fl.BoolVar(&f.cfg.LeaderElection, "leader-elect", false, "elect a leader (a Lease named "+operator.Name+") so that only one replica reconciles")
	fl.StringVar(&f.cfg.LeaderElectionNamespace, "leader-election-namespace", "", "`NAMESPACE` of the leader-election Lease (default the pod's)")
	fl.StringArrayVar(&f.namespaces, "watch-namespace", nil, "watch only this `NAMESPACE` (repeatable; default the whole cluster)")
	fl.IntVar(&f.cfg.Concurrency, "concurrency", 4, "objects reconciled at once")
	fl.Var(f.labels, "rule-label", "Kubernetes label `KEY=VALUE` on each PrometheusRule, like release=kube-prometheus-stack for its rule selector (repeatable)")
	fl.StringVar(&f.grafana, "grafana-url", "", "Grafana base `URL`: alerts get a dashboard_url annotation, as with slokit generate")
	fl.DurationVar(&f.cfg.GracefulShutdown, "graceful-shutdown", 30*time.Second, "after SIGTERM, how long running reconciles and game-day runs (removing their faults) may take")
	fl.StringVar(&f.logFormat, "log-format", "json", "log `FORMAT`: json or text")
	fl.BoolVar(&f.sloth, "sloth", false, "also read Sloth's PrometheusServiceLevel objects (sloth.slok.dev/v1) into PrometheusRules slokit-sloth-NAME; objects whose status Sloth's controller writes are left to it")
	fl.BoolVar(&f.pyrra, "pyrra", false, "also read Pyrra's ServiceLevelObjective objects (pyrra.dev/v1alpha1) into PrometheusRules slokit-pyrra-NAME; objects Pyrra's controller handles are left to it")
	fl.BoolVar(&f.cfg.GameDays, "gamedays", false, "run slokit.dev GameDay objects (Chaos Mesh faults in the GameDay's namespace; needs the chart's gameDays.enabled RBAC)")
	fl.StringVar(&f.cfg.GameDayPrometheus, "gameday-prometheus", "", "Prometheus base `URL` of GameDays whose spec.signals.prometheus is empty")
	fl.DurationVar(&f.cfg.GameDaySignalLoss, "gameday-signal-loss", chaos.DefaultSignalLoss, "remove a game day's fault and end its run when Prometheus has not answered for this long")
	return cmd
}

func runOperator(cmd *cobra.Command, e *env, f *operatorFlags) error {
	var h slog.Handler
	switch f.logFormat {
	case "json":
		h = slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
	case "text":
		h = slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
	default:
		return &usageError{fmt.Errorf("--log-format is json or text, not %q", f.logFormat)}
	}
	log := slog.New(h).With("component", "operator")
	// controller-runtime's packages log through its own logger, client-go's (leader
	// election, reflectors) through klog: route both to ours, so that every line on
	// stderr is one structured record.
	ctrl.SetLogger(operator.Logr(log))
	klog.SetLogger(operator.Logr(log))
	cfg, _, err := kube.Config(f.ko)
	if err != nil {
		return err
	}
	cfg.UserAgent = operator.Name
	// No client-side rate limit: the apiserver's priority and fairness governs, as with
	// controller-runtime's own config loader (client-go's default of 5 requests/s would
	// take minutes to reconcile a thousand objects).
	cfg.QPS = -1
	c := f.cfg
	c.Logger, c.RuleLabels, c.Namespaces = log, f.labels, f.namespaces
	c.Alerts = alerts.Options{GrafanaURL: f.grafana}
	if f.sloth {
		c.Foreign = append(c.Foreign, operator.Sloth)
	}
	if f.pyrra {
		c.Foreign = append(c.Foreign, operator.Pyrra)
	}
	mgr, err := operator.NewManager(cfg, c)
	if err != nil {
		return err
	}
	log.Info("starting", "metrics", c.MetricsAddr, "probes", c.ProbeAddr, "leaderElection", c.LeaderElection, "ruleLabels", map[string]string(f.labels), "gamedays", c.GameDays)
	if err := mgr.Start(cmd.Context()); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	log.Info("stopped")
	return nil
}
