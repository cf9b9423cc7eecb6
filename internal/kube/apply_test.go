package kube_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/slokit/slokit/internal/cli"
	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/internal/kube/kubetest"
)

var kenv *kubetest.Env

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, &kenv)) }

func slokit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, nil, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestRealApplyGeneratedPrometheusRule: the real `slokit generate -o prometheusrule`
// output is applied by `slokit apply` to a real kube-apiserver that validates it
// against the Prometheus Operator's CRD schema; a second apply changes nothing, a
// dry run persists nothing, and a schema violation comes back with the apiserver's
// message.
func TestRealApplyGeneratedPrometheusRule(t *testing.T) {
	e := kenv.Require(t)
	ctx := context.Background()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, e.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}}); err != nil {
		t.Fatal(err)
	}

	rules, stderr, code := slokit(t, "generate", "-f", "../../examples/shortlink.yaml", "-o", "prometheusrule", "--namespace", "monitoring")
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	file := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(file, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := kube.DecodePrometheusRules(file, []byte(rules))
	if err != nil || len(want) != 1 {
		t.Fatalf("generated file: %d objects, %v", len(want), err)
	}

	for i := 0; i < 2; i++ {
		stdout, stderr, code := slokit(t, "apply", "-f", file, "--kubeconfig", kubeconfig)
		if code != 0 || stdout != "PrometheusRule monitoring/slokit-shortlink applied\n" {
			t.Fatalf("apply #%d: exit %d\nstdout: %s\nstderr: %s", i+1, code, stdout, stderr)
		}
	}
	var got monitoringv1.PrometheusRule
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: "monitoring", Name: "slokit-shortlink"}, &got); err != nil {
		t.Fatal(err)
	}
	wantGroups := countGroups(want[0].Object)
	if len(got.Spec.Groups) != wantGroups || got.Labels["app.kubernetes.io/managed-by"] != "slokit" || got.Generation != 1 {
		t.Errorf("stored: %d groups (want %d), labels %v, generation %d (want 1: the second apply changed nothing)",
			len(got.Spec.Groups), wantGroups, got.Labels, got.Generation)
	}
	managed := false
	for _, m := range got.ManagedFields {
		managed = managed || (m.Manager == kube.FieldManager && m.Operation == metav1.ManagedFieldsOperationApply)
	}
	if !managed {
		t.Errorf("no server-side apply entry of field manager %q: %+v", kube.FieldManager, got.ManagedFields)
	}

	// A dry run against another name is admitted but not stored.
	dry := filepath.Join(dir, "dry.yaml")
	if err := os.WriteFile(dry, []byte(strings.Replace(rules, "name: slokit-shortlink", "name: slokit-dry", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := slokit(t, "apply", "-f", dry, "--kubeconfig", kubeconfig, "--dry-run"); code != 0 || !strings.Contains(stdout, "(server dry run)") {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	err = e.Client.Get(ctx, client.ObjectKey{Namespace: "monitoring", Name: "slokit-dry"}, &monitoringv1.PrometheusRule{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the dry run stored its object (get: %v)", err)
	}

	// A duration the operator's type accepts as a string but its CRD pattern does not.
	bad := filepath.Join(dir, "bad.yaml")
	badRules := strings.Replace(rules, "name: slokit-shortlink", "name: slokit-bad", 1)
	badRules = strings.Replace(badRules, "      rules:\n", "      rules:\n        - alert: Broken\n          expr: vector(1)\n          for: 5 minutes\n", 1)
	if err := os.WriteFile(bad, []byte(badRules), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = slokit(t, "apply", "-f", bad, "--kubeconfig", kubeconfig)
	if code == 0 {
		t.Fatal("the apiserver accepted an invalid PrometheusRule")
	}
	t.Logf("the user sees:\n%s", stderr)
	for _, w := range []string{"rejected by the apiserver's schema", "spec.groups[0].rules[0].for", "should match"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
}

func countGroups(obj map[string]any) int {
	spec, _ := obj["spec"].(map[string]any)
	groups, _ := spec["groups"].([]any)
	return len(groups)
}
