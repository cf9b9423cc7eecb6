package operator

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cmv1 "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
	"github.com/slokit/slokit/operator/api/v1alpha1"
)

var chartDir = filepath.Dir(CRDDir)

// tlog writes logs to the test's log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) { w.t.Log(strings.TrimSpace(string(p))); return len(p), nil }

func TestChartLint(t *testing.T) {
	l := lint.All(chartDir, nil, "slokit-operator", false)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

// render renders the chart and decodes every object strictly into its Go type: an
// unknown or misspelt field fails the test.
func render(t *testing.T, values map[string]any) []client.Object {
	t.Helper()
	return renderAs(t, values, "slokit-operator", "slokit-system")
}

// renderAs renders the chart as release name in namespace ns.
func renderAs(t *testing.T, values map[string]any, name, ns string) []client.Object {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: name, Namespace: ns, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	var objs []client.Object
	for _, name := range names {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(out[name], "\n---") {
			if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "---")) == "" {
				continue
			}
			objs = append(objs, decode(t, name, doc))
		}
	}
	return objs
}

func decode(t *testing.T, name, doc string) client.Object {
	t.Helper()
	var meta struct{ Kind string }
	if err := sigsyaml.Unmarshal([]byte(doc), &meta); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, doc)
	}
	kinds := map[string]func() client.Object{
		"Deployment": func() client.Object { return new(appsv1.Deployment) }, "ServiceAccount": func() client.Object { return new(corev1.ServiceAccount) },
		"Service": func() client.Object { return new(corev1.Service) }, "ClusterRole": func() client.Object { return new(rbacv1.ClusterRole) },
		"ClusterRoleBinding": func() client.Object { return new(rbacv1.ClusterRoleBinding) }, "Role": func() client.Object { return new(rbacv1.Role) },
		"RoleBinding": func() client.Object { return new(rbacv1.RoleBinding) }, "PodDisruptionBudget": func() client.Object { return new(policyv1.PodDisruptionBudget) },
		"ServiceMonitor": func() client.Object { return new(monitoringv1.ServiceMonitor) },
	}
	mk, ok := kinds[meta.Kind]
	if !ok {
		t.Fatalf("%s: unexpected kind %q", name, meta.Kind)
	}
	obj := mk()
	if err := sigsyaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatalf("%s: not a valid %s: %v\n%s", name, meta.Kind, err, doc)
	}
	return obj
}

// operatorRules is everything the operator may do outside leader election; the chart
// must grant exactly this.
var operatorRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"slokit.dev"}, Resources: []string{"servicelevelobjectives"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"slokit.dev"}, Resources: []string{"servicelevelobjectives/status"}, Verbs: []string{"get", "patch"}},
	{APIGroups: []string{"slokit.dev"}, Resources: []string{"servicelevelobjectives/finalizers"}, Verbs: []string{"update"}},
	{APIGroups: []string{"monitoring.coreos.com"}, Resources: []string{"prometheusrules"}, Verbs: []string{"get", "list", "watch", "create", "update"}},
	{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
}

func TestChartRenders(t *testing.T) {
	objs := render(t, map[string]any{"ruleLabels": map[string]any{"release": "kube-prometheus-stack"}, "serviceMonitor": map[string]any{"enabled": true}})
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, fmt.Sprintf("%T", o))
		switch o := o.(type) {
		case *rbacv1.ClusterRole:
			if !reflect.DeepEqual(o.Rules, operatorRules) {
				t.Errorf("ClusterRole rules:\n%+v\nwant exactly\n%+v", o.Rules, operatorRules)
			}
		case *appsv1.Deployment:
			c := o.Spec.Template.Spec.Containers[0]
			for _, want := range []string{"operator", "--leader-elect", "--rule-label=release=kube-prometheus-stack", "--leader-election-namespace=slokit-system"} {
				if !slices.Contains(c.Args, want) {
					t.Errorf("container args %v lack %s", c.Args, want)
				}
			}
			if sc := o.Spec.Template.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				t.Error("the pod may run as root")
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("probes %+v %+v", c.ReadinessProbe, c.LivenessProbe)
			}
		}
	}
	for _, want := range []string{"*v1.ClusterRole", "*v1.ClusterRoleBinding", "*v1.Role", "*v1.RoleBinding", "*v1.Deployment", "*v1.ServiceAccount", "*v1.PodDisruptionBudget", "*v1.ServiceMonitor", "*v1.Service"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s rendered (got %v)", want, kinds)
		}
	}
	// Watching named namespaces grants Roles there and no ClusterRole.
	for _, o := range render(t, map[string]any{"watchNamespaces": []any{"shop", "payments"}, "replicas": 1}) {
		switch o := o.(type) {
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, *policyv1.PodDisruptionBudget:
			t.Errorf("%T %s rendered for watched namespaces with one replica", o, o.GetName())
		case *rbacv1.Role:
			if o.Namespace != "slokit-system" && !reflect.DeepEqual(o.Rules, operatorRules) {
				t.Errorf("Role in %s: %+v", o.Namespace, o.Rules)
			}
		}
	}
}

// TestChartRBACIsEnough installs the chart's ServiceAccount and RBAC on the real
// apiserver and runs the operator as that account (impersonation), leader election
// on: an SLO becomes Ready. Then it asks the apiserver whether the account can do
// more than it needs.
func TestChartRBACIsEnough(t *testing.T) {
	e := kenv.Require(t)
	ctx := context.Background()
	admin := start(t, Config{}).c // installs the CRD; its own operator watches another namespace
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "slokit-system"}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range render(t, map[string]any{"replicas": 1}) {
		if _, ok := o.(*appsv1.Deployment); ok {
			continue // no kubelet runs pods here; the test runs the operator itself
		}
		if err := admin.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	sa := "system:serviceaccount:slokit-system:slokit-operator"
	cfg := rest.CopyConfig(e.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: sa}
	cfg.QPS = -1
	mgr, err := NewManager(cfg, Config{
		MetricsAddr: "0", ProbeAddr: "0", LeaderElection: true, LeaderElectionNamespace: "slokit-system", skipNameValidation: true,
		Logger: slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager as %s: %v", sa, err)
		}
	}()
	ns := "rbac-shop"
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	obj := sample("rbac")
	obj.Namespace = ns
	if err := admin.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	k := &cluster{c: admin, ns: ns}
	k.waitFor(t, obj.Name, 60*time.Second, "Ready with the chart's RBAC", readyAt(1))
	k.rule(t, obj.Name)
	for _, a := range []authzv1.ResourceAttributes{
		{Namespace: ns, Verb: "delete", Group: "monitoring.coreos.com", Resource: "prometheusrules"},
		{Namespace: ns, Verb: "update", Group: "slokit.dev", Resource: "servicelevelobjectives"},
		{Namespace: ns, Verb: "get", Resource: "secrets"},
		{Namespace: ns, Verb: "create", Resource: "configmaps"},
		{Namespace: ns, Verb: "update", Group: "coordination.k8s.io", Resource: "leases"},
	} {
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: sa, ResourceAttributes: &a}}
		if err := admin.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed {
			t.Errorf("the chart lets the operator %s %s/%s in %s: more than it needs", a.Verb, a.Group, a.Resource, a.Namespace)
		}
	}
}

// featureRules are granted only with each feature's value.
var featureRules = map[string][]rbacv1.PolicyRule{
	"gameDays": {
		{APIGroups: []string{"slokit.dev"}, Resources: []string{"gamedays"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"slokit.dev"}, Resources: []string{"gamedays/status"}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{"chaos-mesh.org"}, Resources: []string{"networkchaos", "podchaos", "httpchaos", "stresschaos"}, Verbs: []string{"get", "list", "watch", "create", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "update", "delete"}},
	},
	"sloth": {
		{APIGroups: []string{"sloth.slok.dev"}, Resources: []string{"prometheusservicelevels"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"sloth.slok.dev"}, Resources: []string{"prometheusservicelevels/status"}, Verbs: []string{"patch"}},
		{APIGroups: []string{"sloth.slok.dev"}, Resources: []string{"prometheusservicelevels/finalizers"}, Verbs: []string{"update"}},
	},
	"pyrra": {
		{APIGroups: []string{"pyrra.dev"}, Resources: []string{"servicelevelobjectives"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"pyrra.dev"}, Resources: []string{"servicelevelobjectives/status"}, Verbs: []string{"patch"}},
		{APIGroups: []string{"pyrra.dev"}, Resources: []string{"servicelevelobjectives/finalizers"}, Verbs: []string{"update"}},
	},
}

var featureArgs = map[string][]string{
	"gameDays": {"--gamedays", "--gameday-prometheus=http://prometheus-operated.monitoring:9090"},
	"sloth":    {"--sloth"},
	"pyrra":    {"--pyrra"},
}

// Each feature adds exactly its rules and flags, alone and together, in a ClusterRole
// or in each watched namespace's Role.
func TestChartFeatureRBAC(t *testing.T) {
	for _, features := range [][]string{{"gameDays"}, {"sloth"}, {"pyrra"}, {"gameDays", "sloth", "pyrra"}} {
		for _, watch := range []bool{false, true} {
			values := map[string]any{}
			want := slices.Clone(operatorRules)
			var args []string
			for _, f := range []string{"gameDays", "sloth", "pyrra"} { // the template's order
				if slices.Contains(features, f) {
					want = append(want, featureRules[f]...)
					args = append(args, featureArgs[f]...)
					values[f] = map[string]any{"enabled": true}
				}
			}
			if slices.Contains(features, "gameDays") {
				values["gameDays"] = map[string]any{"enabled": true, "prometheus": "http://prometheus-operated.monitoring:9090"}
			}
			if watch {
				values["watchNamespaces"] = []any{"shop"}
			}
			for _, o := range render(t, values) {
				switch o := o.(type) {
				case *rbacv1.ClusterRole:
					if !reflect.DeepEqual(o.Rules, want) {
						t.Errorf("%v: ClusterRole rules\n%+v\nwant\n%+v", features, o.Rules, want)
					}
				case *rbacv1.Role:
					if o.Namespace == "shop" && !reflect.DeepEqual(o.Rules, want) {
						t.Errorf("%v: Role rules\n%+v\nwant\n%+v", features, o.Rules, want)
					}
				case *appsv1.Deployment:
					for _, a := range args {
						if !slices.Contains(o.Spec.Template.Spec.Containers[0].Args, a) {
							t.Errorf("%v: args %v lack %s", features, o.Spec.Template.Spec.Containers[0].Args, a)
						}
					}
				}
			}
		}
	}
}

// TestChartRBACFeaturesAreEnough runs the operator with game days, Sloth and Pyrra as
// the chart's ServiceAccount with every feature enabled (impersonation): it adopts an
// orphaned run (lists and deletes its HTTPChaos, updates the GameDay's status), runs
// the GameDay (its Prometheus is unreachable: the run ends in error and its report
// ConfigMap is written), and turns Sloth's and Pyrra's examples into rules and status.
// Then it asks the apiserver whether the account can do more than that.
func TestChartRBACFeaturesAreEnough(t *testing.T) {
	k := foreignCluster(t)
	ctx := context.Background()
	release, relNS := "slokit-features", k.ns+"-system"
	if err := k.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: relNS}}); err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"replicas": 1, "gameDays": map[string]any{"enabled": true}, "sloth": map[string]any{"enabled": true}, "pyrra": map[string]any{"enabled": true}}
	var saName string
	for _, o := range renderAs(t, values, release, relNS) {
		switch o.(type) {
		case *appsv1.Deployment:
			continue
		case *corev1.ServiceAccount:
			saName = o.GetName()
		}
		if err := k.c.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	// An orphaned run: its GameDay says it is active, its fault is in place.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "lab-0", Namespace: k.ns, Labels: map[string]string{"app": "lab"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "lab:dev"}}}}
	gd := labGameDay(k.ns, "orphan")
	for _, o := range []client.Object{pod, labSLO(k.ns), gd} {
		if err := k.c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	gd.Status.Active = []v1alpha1.GameDayRun{{ID: "orph1234", Phase: "expect", StartTime: metav1.Now()}}
	gd.Status.LastRunGeneration = 0
	if err := k.c.Status().Update(ctx, gd); err != nil {
		t.Fatal(err)
	}
	fault := &cmv1.HTTPChaos{ObjectMeta: metav1.ObjectMeta{Name: "slokit-orphan-orph1234", Namespace: k.ns,
		Labels: chaosmesh.RunLabels(chaos.Run{ID: "orph1234", GameDay: "orphan"})}}
	if err := sigsyaml.Unmarshal(gd.Spec.Fault.Spec.Raw, &fault.Spec); err != nil {
		t.Fatal(err)
	}
	if err := k.c.Create(ctx, fault); err != nil {
		t.Fatal(err)
	}
	psl, _ := example(t, slothModule, "examples/k8s-getting-started.yml", k.ns)
	pyrra, _ := example(t, pyrraModule, "examples/pyrra-kubernetes-errors.yaml", k.ns)
	for _, o := range []client.Object{psl, pyrra} {
		if err := k.c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	sa := "system:serviceaccount:" + relNS + ":" + saName
	cfg := rest.CopyConfig(k.cfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: sa}
	k.manager(t, cfg, Config{GameDays: true, GameDayPrometheus: "http://127.0.0.1:1", Foreign: []Foreign{Sloth, Pyrra},
		Logger: slog.New(slog.NewTextHandler(tlog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	l := &lab{cluster: k}
	// The orphan is aborted (and then dropped from the history by the run that follows:
	// one failed run is kept by default); its Event and the fault's absence remain.
	done := l.gameDay(t, gd.Name, time.Minute, "adopted and run", func(g *v1alpha1.GameDay) bool {
		return len(g.Status.Runs) == 1 && g.Status.Runs[0].Outcome == "error" && len(g.Status.Active) == 0
	})
	l.waitEvents(t, gd.Name, "Warning OperatorLost: run orph1234 aborted", "removed HTTPChaos "+k.ns+"/slokit-orphan-orph1234")
	if err := k.c.Get(ctx, client.ObjectKeyFromObject(fault), &cmv1.HTTPChaos{}); !apierrors.IsNotFound(err) {
		t.Errorf("orphaned fault still there: %v", err)
	}
	if r := done.Status.Runs[0]; r.Report == "" || !strings.Contains(r.Message, "127.0.0.1:1") {
		t.Errorf("run %+v", r)
	} else if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: r.Report}, &corev1.ConfigMap{}); err != nil {
		t.Errorf("report: %v", err)
	}
	k.waitRule(t, RuleName("sloth-"+psl.GetName()))
	k.waitRule(t, RuleName("pyrra-"+pyrra.GetName()))
	k.waitStatus(t, psl, "promOpRulesGenerated", "true")
	k.waitStatus(t, pyrra, "type", "PrometheusRule")
	for _, a := range []authzv1.ResourceAttributes{
		{Namespace: k.ns, Verb: "update", Group: "chaos-mesh.org", Resource: "httpchaos"},
		{Namespace: k.ns, Verb: "create", Group: "chaos-mesh.org", Resource: "iochaos"},
		{Namespace: k.ns, Verb: "delete", Resource: "pods"},
		{Namespace: k.ns, Verb: "get", Resource: "secrets"},
		{Namespace: k.ns, Verb: "update", Group: "slokit.dev", Resource: "gamedays"},
		{Namespace: k.ns, Verb: "update", Group: "sloth.slok.dev", Resource: "prometheusservicelevels"},
		{Namespace: k.ns, Verb: "delete", Group: "pyrra.dev", Resource: "servicelevelobjectives"},
	} {
		sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: sa, ResourceAttributes: &a}}
		if err := k.c.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed {
			t.Errorf("the chart lets the operator %s %s/%s: more than it needs", a.Verb, a.Group, a.Resource)
		}
	}
}

// The chart ships both CRDs in crds/ (helm installs them before the templates and
// never deletes them): each decodes strictly into a CustomResourceDefinition, in
// group slokit.dev, version v1alpha1 served and stored, with a status subresource and
// an OpenAPI schema. TestCRDUpToDate proves they are controller-gen's output; the
// kube tests install them from the same directory.
func TestChartShipsCRDs(t *testing.T) {
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range ch.CRDObjects() {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := sigsyaml.UnmarshalStrict(f.File.Data, &crd); err != nil {
			t.Fatalf("%s: not a valid CustomResourceDefinition: %v", f.Filename, err)
		}
		got[crd.Name] = true
		if crd.Spec.Group != v1alpha1.Group || crd.Spec.Scope != apiextensionsv1.NamespaceScoped || len(crd.Spec.Versions) != 1 {
			t.Errorf("%s: group %s, scope %s, %d versions", f.Filename, crd.Spec.Group, crd.Spec.Scope, len(crd.Spec.Versions))
			continue
		}
		v := crd.Spec.Versions[0]
		if v.Name != v1alpha1.Version || !v.Served || !v.Storage || v.Subresources == nil || v.Subresources.Status == nil ||
			v.Schema == nil || v.Schema.OpenAPIV3Schema == nil || v.Schema.OpenAPIV3Schema.Properties["spec"].Type != "object" {
			t.Errorf("%s: version %s served %v storage %v, status subresource and spec schema required", f.Filename, v.Name, v.Served, v.Storage)
		}
	}
	want := map[string]bool{"servicelevelobjectives.slokit.dev": true, "gamedays.slokit.dev": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the chart's CRDs are %v, want %v", got, want)
	}
}

// The rendered objects fit together as a cluster would join them: the metrics
// Service selects the operator's pods and targets the container port the operator
// binds its metrics to; the ServiceMonitor selects that Service and scrapes its port;
// the PodDisruptionBudget selects the pods and exists only with more than one replica;
// the probes reach the probe address; the pod's termination grace period is longer
// than the operator's graceful shutdown (a SIGKILL must not cut a run's cleanup).
func TestChartWiring(t *testing.T) {
	objs := render(t, map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}}})
	var (
		dep *appsv1.Deployment
		svc *corev1.Service
		sm  *monitoringv1.ServiceMonitor
		pdb *policyv1.PodDisruptionBudget
	)
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			dep = o
		case *corev1.Service:
			svc = o
		case *monitoringv1.ServiceMonitor:
			sm = o
		case *policyv1.PodDisruptionBudget:
			pdb = o
		}
	}
	if dep == nil || svc == nil || sm == nil || pdb == nil {
		t.Fatalf("Deployment %v, Service %v, ServiceMonitor %v, PodDisruptionBudget %v", dep != nil, svc != nil, sm != nil, pdb != nil)
	}
	pod := dep.Spec.Template
	c := pod.Spec.Containers[0]
	selects := func(sel map[string]string, labels map[string]string) bool {
		return len(sel) > 0 && labelsMatch(sel, labels)
	}
	if !selects(dep.Spec.Selector.MatchLabels, pod.Labels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, pod.Labels)
	}
	port := func(name string) int32 {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
		t.Errorf("no container port %q in %+v", name, c.Ports)
		return 0
	}
	arg := func(flag string) string {
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, flag+"="); ok {
				return v
			}
		}
		t.Errorf("no %s in %v", flag, c.Args)
		return ""
	}
	if m, p := arg("--metrics-bind-address"), port("metrics"); m != fmt.Sprintf(":%d", p) {
		t.Errorf("metrics bound to %q, container port metrics %d", m, p)
	}
	if m, p := arg("--health-probe-bind-address"), port("probes"); m != fmt.Sprintf(":%d", p) {
		t.Errorf("probes bound to %q, container port probes %d", m, p)
	}
	for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Port.StrVal != "probes" {
			t.Errorf("probe %+v does not reach the probes port", pr)
		}
	}
	if !selects(svc.Spec.Selector, pod.Labels) || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.StrVal != "metrics" || svc.Namespace != dep.Namespace {
		t.Errorf("metrics Service %+v does not reach the pods' metrics port", svc.Spec)
	}
	if len(sm.Spec.Endpoints) != 1 || len(svc.Spec.Ports) != 1 {
		t.Fatalf("ServiceMonitor endpoints %+v, Service ports %+v: one each", sm.Spec.Endpoints, svc.Spec.Ports)
	}
	if !selects(sm.Spec.Selector.MatchLabels, svc.Labels) || sm.Namespace != svc.Namespace || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name {
		t.Errorf("ServiceMonitor selector %v, namespace %s, port %q do not scrape Service %s (labels %v, port %q)",
			sm.Spec.Selector.MatchLabels, sm.Namespace, sm.Spec.Endpoints[0].Port, svc.Namespace, svc.Labels, svc.Spec.Ports[0].Name)
	}
	if sm.Labels["release"] != "kube-prometheus-stack" || sm.Spec.Endpoints[0].Interval != "30s" {
		t.Errorf("ServiceMonitor labels %v, interval %q: serviceMonitor.labels and interval not applied", sm.Labels, sm.Spec.Endpoints[0].Interval)
	}
	if !selects(pdb.Spec.Selector.MatchLabels, pod.Labels) || pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || *dep.Spec.Replicas < 2 {
		t.Errorf("PodDisruptionBudget %+v for %d replicas", pdb.Spec, *dep.Spec.Replicas)
	}
	grace, err := time.ParseDuration(arg("--graceful-shutdown"))
	if err != nil || pod.Spec.TerminationGracePeriodSeconds == nil {
		t.Errorf("--graceful-shutdown %v, terminationGracePeriodSeconds %v", err, pod.Spec.TerminationGracePeriodSeconds)
	} else if tg := time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second; tg <= grace {
		t.Errorf("terminationGracePeriodSeconds %s is not longer than --graceful-shutdown %s", tg, grace)
	}
	// No ServiceMonitor unless asked (its CRD may be absent); no PDB for one replica
	// (it would block every drain) or when disabled.
	for _, values := range []map[string]any{{"replicas": 1}, {"podDisruptionBudget": map[string]any{"enabled": false}}} {
		for _, o := range render(t, values) {
			switch o.(type) {
			case *policyv1.PodDisruptionBudget, *monitoringv1.ServiceMonitor, *corev1.Service:
				t.Errorf("values %v render %T %s", values, o, o.GetName())
			}
		}
	}
}

func labelsMatch(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
