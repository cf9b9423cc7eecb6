package operator

// Sloth's and Pyrra's objects on the real tier: their real CRDs (read at test time from
// the Sloth v0.16.0 and Pyrra v0.10.1 module downloads), their own examples, the real
// prometheus-operator CRD for the rules slokit writes.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/kube/kubetest"
	"github.com/slokit/slokit/slo"
)

const (
	slothModule = "github.com/slok/sloth@v0.16.0"
	pyrraModule = "github.com/pyrra-dev/pyrra@v0.10.1"
)

var (
	foreignOnce sync.Once
	foreignErr  error
	foreignDirs = map[string]string{}
)

// foreignCluster installs Sloth's and Pyrra's CRDs from their modules (once).
func foreignCluster(t *testing.T) *cluster {
	t.Helper()
	k := newCluster(t)
	foreignOnce.Do(func() {
		for _, m := range []string{slothModule, pyrraModule} {
			if foreignDirs[m], foreignErr = kubetest.ModuleDir(m); foreignErr != nil {
				return
			}
		}
		_, foreignErr = envtest.InstallCRDs(kenv.Config, envtest.CRDInstallOptions{ErrorIfPathMissing: true, Paths: []string{
			filepath.Join(foreignDirs[slothModule], "pkg/kubernetes/gen/crd/sloth.slok.dev_prometheusservicelevels.yaml"),
			filepath.Join(foreignDirs[pyrraModule], "examples/kubernetes/manifests/setup/pyrra-slo-CustomResourceDefinition.yaml"),
		}})
	})
	if foreignErr != nil {
		t.Fatalf("Sloth and Pyrra CRDs: %v", foreignErr)
	}
	return k
}

// example reads an example object of a module, placed in namespace ns.
func example(t *testing.T, module, path, ns string) (*unstructured.Unstructured, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(foreignDirs[module], path))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := sigsyaml.Unmarshal(data, &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace(ns)
	moved, err := sigsyaml.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	return u, moved
}

// expectedRules is what `slokit generate -o prometheusrule` makes of the same object as a file.
func expectedRules(t *testing.T, name string, file []byte, prefix, object, ns string) string {
	t.Helper()
	svc, ds := slo.Parse(name, file)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	r, err := Rules(svc, prefix+"-"+object, ns, nil, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r.Spec.Groups)
	return string(b)
}

func (k *cluster) waitRule(t *testing.T, name string) *monitoringv1.PrometheusRule {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r monitoringv1.PrometheusRule
		err := k.c.Get(context.Background(), client.ObjectKey{Namespace: k.ns, Name: name}, &r)
		if err == nil {
			return &r
		}
		if time.Now().After(deadline) {
			t.Fatalf("PrometheusRule %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (k *cluster) waitStatus(t *testing.T, u *unstructured.Unstructured, key, want string) *unstructured.Unstructured {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(u.GroupVersionKind())
		err := k.c.Get(context.Background(), client.ObjectKeyFromObject(u), cur)
		got, _, _ := unstructured.NestedFieldNoCopy(cur.Object, "status", key)
		if err == nil && strings.EqualFold(jsonString(got), want) {
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s status.%s = %v, want %s (err %v)", u.GetName(), key, got, want, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// With --sloth and --pyrra, their own examples become PrometheusRules the real CRD
// accepts, equal to what slokit generates from the same objects as files, owned by the
// objects, and the objects' own status fields say so (written by slokit-operator).
func TestSlothAndPyrraObjectsDropIn(t *testing.T) {
	k := foreignCluster(t)
	k.run(t, Config{Foreign: []Foreign{Sloth, Pyrra}})
	ctx := context.Background()
	for _, tc := range []struct {
		module, path, prefix, statusKey, statusWant string
	}{
		{slothModule, "examples/k8s-getting-started.yml", "sloth", "promOpRulesGenerated", "true"},
		{pyrraModule, "examples/pyrra-kubernetes-errors.yaml", "pyrra", "type", "PrometheusRule"},
	} {
		u, file := example(t, tc.module, tc.path, k.ns)
		if err := k.c.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		rule := k.waitRule(t, RuleName(tc.prefix+"-"+u.GetName()))
		got, _ := json.Marshal(rule.Spec.Groups)
		if want := expectedRules(t, tc.path, file, tc.prefix, u.GetName(), k.ns); string(got) != want {
			t.Errorf("%s: rules differ from slokit generate's:\n got %s\nwant %s", tc.path, got, want)
		}
		if owner := metav1.GetControllerOf(rule); owner == nil || owner.UID != u.GetUID() || owner.Kind != u.GetKind() {
			t.Errorf("%s: owner %+v", tc.path, owner)
		}
		cur := k.waitStatus(t, u, tc.statusKey, tc.statusWant)
		for _, mf := range cur.GetManagedFields() {
			if mf.Subresource == "status" && mf.Manager != Name {
				t.Errorf("status written by %q", mf.Manager)
			}
		}
		t.Logf("%s → PrometheusRule %s (%d groups), status %v", tc.path, rule.Name, len(rule.Spec.Groups), cur.Object["status"])
	}
}

// An object whose status another controller writes, or that owns a PrometheusRule
// slokit did not write, is left alone: no rules, no status, one Event saying why.
func TestForeignObjectsOfAnotherController(t *testing.T) {
	k := foreignCluster(t)
	ctx := context.Background()
	psl, _ := example(t, slothModule, "examples/k8s-getting-started.yml", k.ns)
	if err := k.c.Create(ctx, psl); err != nil {
		t.Fatal(err)
	}
	// Sloth's controller wrote the status.
	status := psl.DeepCopy()
	status.Object["status"] = map[string]any{"observedGeneration": 1, "processedSLOs": 1, "promOpRulesGeneratedSLOs": 1, "promOpRulesGenerated": true}
	if err := k.c.Status().Patch(ctx, status, client.Merge, client.FieldOwner("sloth")); err != nil {
		t.Fatal(err)
	}
	pyrra, _ := example(t, pyrraModule, "examples/pyrra-kubernetes-errors.yaml", k.ns)
	if err := k.c.Create(ctx, pyrra); err != nil {
		t.Fatal(err)
	}
	// Pyrra's controller wrote its PrometheusRule, owned by the object.
	yes := true
	theirs := &monitoringv1.PrometheusRule{ObjectMeta: metav1.ObjectMeta{Name: pyrra.GetName(), Namespace: k.ns,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "pyrra.dev/v1alpha1", Kind: "ServiceLevelObjective", Name: pyrra.GetName(), UID: pyrra.GetUID(), Controller: &yes}}},
		Spec: monitoringv1.PrometheusRuleSpec{Groups: []monitoringv1.RuleGroup{{Name: "pyrra"}}}}
	if err := k.c.Create(ctx, theirs, client.FieldOwner("pyrra")); err != nil {
		t.Fatal(err)
	}
	k.run(t, Config{Foreign: []Foreign{Sloth, Pyrra}})
	want := map[string]string{
		psl.GetName():   `left to Sloth: field manager "sloth" writes this object's status`,
		pyrra.GetName(): "left to Pyrra: it owns PrometheusRule " + pyrra.GetName(),
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		var list eventsv1.EventList
		if err := k.c.List(ctx, &list, client.InNamespace(k.ns)); err != nil {
			t.Fatal(err)
		}
		for _, e := range list.Items {
			if w, ok := want[e.Regarding.Name]; ok && e.Reason == ReasonOtherController && strings.Contains(e.Note, w) {
				delete(want, e.Regarding.Name)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(want) > 0 {
		t.Errorf("no OtherController Event for %v", want)
	}
	for _, name := range []string{RuleName("sloth-" + psl.GetName()), RuleName("pyrra-" + pyrra.GetName())} {
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: name}, &monitoringv1.PrometheusRule{}); !apierrors.IsNotFound(err) {
			t.Errorf("slokit wrote %s beside the other controller: %v", name, err)
		}
	}
	cur := pyrra.DeepCopy()
	if err := k.c.Get(ctx, client.ObjectKeyFromObject(pyrra), cur); err != nil || cur.Object["status"] != nil {
		t.Errorf("Pyrra object's status written: %v (%v)", cur.Object["status"], err)
	}
}
