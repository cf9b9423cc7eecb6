// Package kubetest starts one real kube-apiserver and etcd per test binary (with
// controller-runtime's envtest) with Chaos Mesh's and the Prometheus Operator's CRDs.
package kubetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/slokit/slokit/internal/kube"
	"github.com/slokit/slokit/internal/testutil"
)

// The modules whose downloads hold the CRDs. Chaos Mesh's api module and the
// Prometheus Operator's monitoring module (in go.mod) ship no CRDs; these are the
// nearest releases of the main modules that the module proxy serves.
const (
	ChaosMeshModule          = "github.com/chaos-mesh/chaos-mesh@v0.9.1-0.20260902003049-47411975a8cb"
	PrometheusOperatorModule = "github.com/prometheus-operator/prometheus-operator@v0.85.0"
)

// CRDFiles are the CRDs installed, by module and path inside it.
var CRDFiles = []struct{ Module, Path string }{
	{ChaosMeshModule, "config/crd/bases/chaos-mesh.org_networkchaos.yaml"},
	{ChaosMeshModule, "config/crd/bases/chaos-mesh.org_podchaos.yaml"},
	{ChaosMeshModule, "config/crd/bases/chaos-mesh.org_httpchaos.yaml"},
	{ChaosMeshModule, "config/crd/bases/chaos-mesh.org_stresschaos.yaml"},
	{PrometheusOperatorModule, "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"},
}

// AssetsEnv is the variable naming the directory with kube-apiserver and etcd;
// .ci/kube-assets.sh builds them and prints it.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// Env is a control plane shared by a package's tests, started by the first test that
// requires it (so that `-run` filters and fuzzing start none).
type Env struct {
	// Config is an admin (system:masters) config for the apiserver.
	Config *rest.Config
	// Client is an admin client knowing kube.Scheme's types.
	Client client.WithWatch
	// KubeConfig is an admin kubeconfig file's content, for commands under test.
	KubeConfig []byte

	once    sync.Once
	env     *envtest.Environment
	skipped string // why no control plane runs
	err     error  // why it failed to start
}

// Main runs the tests and stops the control plane if one started; use it in TestMain:
//
//	var kenv *kubetest.Env
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, &kenv)) }
//
// Without KUBEBUILDER_ASSETS, or with -short, nothing starts and Require skips the
// tests that need it (or fails them when SLOKIT_REQUIRE_REAL=1, except under -short).
func Main(m *testing.M, env **Env) int {
	flag.Parse()
	e := &Env{}
	*env = e
	code := m.Run()
	if e.env != nil {
		if err := e.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "kubetest: stop control plane: %v\n", err)
		}
	}
	return code
}

// Require returns the running control plane, starting it on first use, or skips t
// loudly (fails it when SLOKIT_REQUIRE_REAL=1 and not -short).
func (e *Env) Require(t testing.TB) *Env {
	t.Helper()
	if e == nil {
		t.Fatal("kubetest: TestMain did not call kubetest.Main")
	}
	e.once.Do(e.start)
	if e.err != nil {
		t.Fatalf("kubetest: %v", e.err)
	}
	if e.skipped == "" {
		return e
	}
	msg := "REAL COMPONENT MISSING: " + e.skipped
	if os.Getenv(testutil.RequireEnv) == "1" && !testing.Short() {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return nil
}

func (e *Env) start() {
	if testing.Short() {
		e.skipped = "kube-apiserver tests skipped by -short"
		return
	}
	assets := os.Getenv(AssetsEnv)
	if assets == "" {
		e.skipped = AssetsEnv + " is unset; run `export " + AssetsEnv + "=$(bash .ci/kube-assets.sh)` (builds kube-apiserver once, ~15 CPU-minutes)"
		return
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			e.skipped = fmt.Sprintf("%s has no %s; run .ci/kube-assets.sh", assets, bin)
			return
		}
	}
	paths, err := crdPaths()
	if err != nil {
		e.err = err
		return
	}
	s, err := kube.Scheme()
	if err != nil {
		e.err = err
		return
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true, MaxTime: time.Minute},
		Scheme:                   s,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := te.Start()
	if err != nil {
		e.err = fmt.Errorf("start kube-apiserver and etcd from %s: %w", assets, err)
		_ = te.Stop()
		return
	}
	c, err := kube.NewClient(cfg)
	if err != nil {
		e.err = err
		_ = te.Stop()
		return
	}
	e.Config, e.Client, e.KubeConfig, e.env = cfg, c, te.KubeConfig, te
}

// crdPaths finds the CRD files in the module cache, downloading the modules if needed.
func crdPaths() ([]string, error) {
	dirs := map[string]string{}
	var out []string
	for _, f := range CRDFiles {
		dir, ok := dirs[f.Module]
		if !ok {
			var err error
			if dir, err = ModuleDir(f.Module); err != nil {
				return nil, err
			}
			dirs[f.Module] = dir
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("CRD %s missing from %s: %w", f.Path, f.Module, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ModuleDir returns the directory of module@version in the module cache
// (`go mod download -json`), downloading it when absent.
func ModuleDir(moduleAtVersion string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", moduleAtVersion)
	cmd.Dir = os.TempDir() // outside slokit's module: no go.mod/go.sum is touched
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(b, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", moduleAtVersion, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %s", moduleAtVersion, err, stderr.String())
	}
	if info.Dir == "" {
		return "", errors.New("go mod download " + moduleAtVersion + ": no directory in its output")
	}
	return info.Dir, nil
}
