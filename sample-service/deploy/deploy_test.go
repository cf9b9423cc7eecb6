package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/internal/cli"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/internal/testutil/imagetest"
	"github.com/slokit/slokit/slo"
)

const (
	chartDir  = "helm/shortlink"
	rulesFile = "helm/shortlink/files/slokit-rules.yaml"
	slosFile  = "../slos.yaml"
)

func TestHelmLint(t *testing.T) {
	l := lint.All(chartDir, nil, "shortlink", false)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		} else {
			t.Logf("helm lint: %s", m)
		}
	}
}

// manifests renders the chart with values over its defaults and decodes every object
// strictly into its Kubernetes or prometheus-operator Go type: an unknown or misspelt
// field fails the test.
type manifests struct {
	deploy  *appsv1.Deployment
	svc     *corev1.Service
	pdb     *policyv1.PodDisruptionBudget
	sm      *monitoringv1.ServiceMonitor
	rule    *monitoringv1.PrometheusRule
	ruleRaw map[string]any
}

func render(t *testing.T, values map[string]any) manifests {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "shortlink", Namespace: "shortlink", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var m manifests
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		text := out[name]
		if !strings.HasSuffix(name, ".yaml") || strings.TrimSpace(text) == "" {
			continue
		}
		var meta struct{ Kind string }
		if err := sigsyaml.Unmarshal([]byte(text), &meta); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, text)
		}
		var target any
		switch meta.Kind {
		case "Deployment":
			m.deploy = new(appsv1.Deployment)
			target = m.deploy
		case "Service":
			m.svc = new(corev1.Service)
			target = m.svc
		case "PodDisruptionBudget":
			m.pdb = new(policyv1.PodDisruptionBudget)
			target = m.pdb
		case "ServiceMonitor":
			m.sm = new(monitoringv1.ServiceMonitor)
			target = m.sm
		case "PrometheusRule":
			m.rule = new(monitoringv1.PrometheusRule)
			target = m.rule
			if err := sigsyaml.Unmarshal([]byte(text), &m.ruleRaw); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: unexpected kind %q", name, meta.Kind)
		}
		if err := sigsyaml.UnmarshalStrict([]byte(text), target); err != nil {
			t.Errorf("%s: not a valid %s: %v\n%s", name, meta.Kind, err, text)
		}
	}
	return m
}

func TestHelmRenderDefaults(t *testing.T) {
	m := render(t, nil)
	if m.deploy == nil || m.svc == nil || m.pdb == nil || m.sm == nil || m.rule == nil {
		t.Fatalf("rendered objects: %+v; want Deployment, Service, PodDisruptionBudget, ServiceMonitor, PrometheusRule", m)
	}
	d := m.deploy.Spec
	if d.Replicas == nil || *d.Replicas != 3 {
		t.Errorf("replicas %v, want 3", d.Replicas)
	}
	if s := d.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate == nil ||
		s.RollingUpdate.MaxUnavailable == nil || s.RollingUpdate.MaxUnavailable.IntValue() != 0 ||
		s.RollingUpdate.MaxSurge == nil || s.RollingUpdate.MaxSurge.IntValue() < 1 {
		t.Errorf("strategy %+v, want RollingUpdate with maxUnavailable 0 and a surge", s)
	}
	pod := d.Template.Spec
	if len(pod.ImagePullSecrets) == 0 || pod.ImagePullSecrets[0].Name == "" {
		t.Errorf("imagePullSecrets %v, want one", pod.ImagePullSecrets)
	}
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v, want runAsNonRoot and a non-zero runAsUser", sc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "ghcr.io/slokit/shortlink:0.1.0" {
		t.Errorf("image %q, want the chart's appVersion tag", c.Image)
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe %+v, want GET %s on port http", name, p, path)
		}
	}
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("readiness", c.ReadinessProbe, "/readyz")
	if got := c.Resources.Requests[corev1.ResourceCPU]; got.Cmp(resource.MustParse("200m")) != 0 {
		t.Errorf("cpu request %s, want 200m", got.String())
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %+v, want http 8080", c.Ports)
	}
	for _, a := range []string{"-addr=:8080", "-admin-addr=127.0.0.1:6060", "-db=/data/shortlink.db", "-drain-delay=5s", "-shutdown-timeout=20s"} {
		if !slices.Contains(c.Args, a) {
			t.Errorf("args %q lack %s", c.Args, a)
		}
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/data" {
		t.Errorf("volume mounts %+v, want the store on /data", c.VolumeMounts)
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container securityContext %+v, want a read-only root and no privilege escalation", sc)
	}
	// SIGTERM handling must fit in the grace period: drain 5s + shutdown 20s < grace.
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= 25 {
		t.Errorf("terminationGracePeriodSeconds %v, want more than drain-delay + shutdown-timeout (25s)", g)
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "OTEL_") {
			t.Errorf("tracing env %s set by default; tracing must be off unless configured", e.Name)
		}
	}

	podLabels := labels.Set(d.Template.Labels)
	if sel := labels.SelectorFromSet(m.svc.Spec.Selector); !sel.Matches(podLabels) {
		t.Errorf("service selector %v does not select the pods %v", m.svc.Spec.Selector, podLabels)
	}
	if len(m.svc.Spec.Ports) != 1 || m.svc.Spec.Ports[0].Name != "http" || m.svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("service ports %+v, want http → http", m.svc.Spec.Ports)
	}
	if m.pdb.Spec.Selector == nil || !labels.SelectorFromSet(m.pdb.Spec.Selector.MatchLabels).Matches(podLabels) {
		t.Errorf("PDB selector %v does not select the pods", m.pdb.Spec.Selector)
	}
	if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.IntValue() != 1 {
		t.Errorf("PDB maxUnavailable %v, want 1 of 3", mu)
	}

	if !labels.SelectorFromSet(m.sm.Spec.Selector.MatchLabels).Matches(labels.Set(m.svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the service %v", m.sm.Spec.Selector.MatchLabels, m.svc.Labels)
	}
	if len(m.sm.Spec.Endpoints) != 1 || m.sm.Spec.Endpoints[0].Port != "http" || m.sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v, want port http path /metrics", m.sm.Spec.Endpoints)
	}
	if m.sm.Labels["release"] != "prometheus" || m.rule.Labels["release"] != "prometheus" {
		t.Errorf("ServiceMonitor/PrometheusRule lack the release label Prometheus selects them by")
	}
}

// TestHelmPrometheusRuleIsGenerated: the PrometheusRule's spec is exactly slokit's rule
// file for slos.yaml, and files/slokit-rules.yaml is what `slokit generate` writes today
// (refresh with UPDATE_GOLDEN=1 go test ./sample-service/deploy/).
func TestHelmPrometheusRuleIsGenerated(t *testing.T) {
	svcs, ds := slo.LoadFiles(slosFile)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	f, err := alerts.RuleFile(svcs, alerts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := alerts.MarshalRuleFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(rulesFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: regenerate it with\n  go run ./cmd/slokit generate -f sample-service/slos.yaml -q > sample-service/deploy/%s\nor UPDATE_GOLDEN=1 go test ./sample-service/deploy/", rulesFile, rulesFile)
	}

	m := render(t, nil)
	spec, _ := json.Marshal(m.ruleRaw["spec"])
	wantSpec, _ := json.Marshal(f)
	var a, b any
	_ = json.Unmarshal(spec, &a)
	_ = json.Unmarshal(wantSpec, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("rendered PrometheusRule spec differs from the generated rule file")
	}
	var alertsN, records int
	for _, g := range m.rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alertsN++
			} else {
				records++
			}
		}
	}
	if len(m.rule.Spec.Groups) != 2 || alertsN != 18 || records == 0 {
		t.Errorf("PrometheusRule: %d groups, %d alerts, %d records; want 2 groups (the service's fast and long ones) with a page, a ticket and a no-data alert for each of the 6 SLOs", len(m.rule.Spec.Groups), alertsN, records)
	}
}

// TestChartRulesPromtool checks the chart's rule file with the real promtool.
func TestChartRulesPromtool(t *testing.T) {
	promtool := testutil.Binary(t, "promtool")
	b, err := exec.Command(promtool, "check", "rules", rulesFile).CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool: %s", out)
	}
}

func TestHelmRenderOverrides(t *testing.T) {
	m := render(t, map[string]any{
		"image":                         map[string]any{"repository": "registry.example/shortlink", "digest": "sha256:" + strings.Repeat("ab", 32)},
		"tracing":                       map[string]any{"otlpEndpoint": "http://otel-collector:4318"},
		"baseURL":                       "https://sho.rt",
		"serviceMonitor":                map[string]any{"enabled": false},
		"prometheusRule":                map[string]any{"enabled": false},
		"podDisruptionBudget":           map[string]any{"enabled": false},
		"terminationGracePeriodSeconds": 40,
	})
	c := m.deploy.Spec.Template.Spec.Containers[0]
	if want := "registry.example/shortlink@sha256:" + strings.Repeat("ab", 32); c.Image != want {
		t.Errorf("image %q, want %q (the digest wins over the tag)", c.Image, want)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "http://otel-collector:4318" || env["OTEL_TRACES_SAMPLER"] == "" {
		t.Errorf("tracing env %v, want the OTLP endpoint and a sampler", env)
	}
	if !slices.Contains(c.Args, "-base-url=https://sho.rt") {
		t.Errorf("args %q lack -base-url", c.Args)
	}
	if m.sm != nil || m.rule != nil || m.pdb != nil {
		t.Errorf("disabled ServiceMonitor/PrometheusRule/PDB still rendered")
	}
	if g := m.deploy.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g != 40 {
		t.Errorf("terminationGracePeriodSeconds %v, want 40", g)
	}
}

// TestChartMatchesImage: the pod's user is the image's USER and the container port the
// one the image exposes.
func TestChartMatchesImage(t *testing.T) {
	df := imagetest.Parse(t, dockerfilePath)
	final := df.Stages[len(df.Stages)-1]
	m := render(t, nil)
	pod := m.deploy.Spec.Template.Spec
	if u := final.LastArgs("user"); u != fmt.Sprintf("%d:%d", *pod.SecurityContext.RunAsUser, *pod.SecurityContext.RunAsGroup) {
		t.Errorf("image USER %q, pod runs as %d:%d", u, *pod.SecurityContext.RunAsUser, *pod.SecurityContext.RunAsGroup)
	}
	if p := final.LastArgs("expose"); p != fmt.Sprint(pod.Containers[0].Ports[0].ContainerPort) {
		t.Errorf("image EXPOSE %q, pod port %d", p, pod.Containers[0].Ports[0].ContainerPort)
	}
}

// TestSlokitValidate runs `slokit validate sample-service/slos.yaml` through the CLI.
func TestSlokitValidate(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(t.Context(), []string{"validate", slosFile}, strings.NewReader(""), &stdout, &stderr)
	if code != cli.ExitOK || stderr.Len() > 0 {
		t.Fatalf("slokit validate %s: exit %d\nstdout:\n%s\nstderr:\n%s", slosFile, code, &stdout, &stderr)
	}
}
