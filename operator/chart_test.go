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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"
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
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "slokit-operator", Namespace: "slokit-system", IsInstall: true}, chartutil.DefaultCapabilities)
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
