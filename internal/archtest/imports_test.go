package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/slokit/slokit"

// room is one row of the import table in docs/architecture.md: the packages matching
// pattern may import the slokit packages matching one of may, and must not depend,
// directly or not, on a module path starting with one of never.
type room struct {
	name    string
	pattern string
	may     []string
	never   []string
}

// Third-party stacks kept out of the core: the Kubernetes client stack (Chaos Mesh,
// controller-runtime) and the tracing stack (OpenTelemetry SDK, gRPC).
var (
	kubeStack  = []string{"k8s.io/", "sigs.k8s.io/", "github.com/chaos-mesh/"}
	traceStack = []string{"go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/otel/exporters", "google.golang.org/grpc"}
	coreNever  = append(slices.Clone(kubeStack), traceStack...)
)

// leaves import no slokit package but other leaves; everything may import them.
var leaves = []string{"internal/strictyaml", "internal/golden", "internal/testutil", "internal/corpus", "internal/testsummary"}

// rooms, most specific pattern first; the first matching room applies. A package that
// matches none is an adapter on top (operator, web UI, …): it may import anything, and
// no room above lets a domain package import it.
var rooms = []room{
	{"leaf", "internal/strictyaml", nil, coreNever},
	{"leaf", "internal/golden", nil, coreNever},
	{"leaf", "internal/testutil", nil, nil},
	{"leaf", "internal/corpus", nil, coreNever},
	{"leaf", "internal/load", nil, kubeStack},
	{"leaf", "internal/kube", nil, nil},
	{"leaf", "internal/kube/kubetest", []string{"internal/kube"}, nil},
	{"leaf", "internal/testsummary", nil, coreNever},
	{"domain", "slo", nil, coreNever},
	{"domain", "internal/ruleyaml", []string{"slo"}, coreNever},
	{"domain", "alerts", []string{"slo", "internal/ruleyaml"}, coreNever},
	{"domain", "dashboards", []string{"slo"}, coreNever},
	{"domain", "chaos", []string{"slo", "alerts"}, coreNever},
	{"domain", "internal/engine", []string{"slo"}, kubeStack},
	{"domain", "internal/backtest", []string{"slo", "alerts", "internal/engine"}, kubeStack},
	{"instrumentation", "sli", nil, coreNever},
	{"instrumentation", "sli/*", []string{"sli"}, kubeStack},
	{"adapter", "chaos/chaosmesh", []string{"slo", "alerts", "chaos", "internal/kube"}, nil},
	{"adapter", "chaos/*", []string{"slo", "alerts", "chaos"}, kubeStack},
	{"adapter", "internal/store", []string{"slo", "chaos"}, kubeStack},
	{"adapter", "internal/lab", []string{"slo", "alerts", "internal/engine"}, kubeStack},
	{"adapter", "internal/thanoslab", []string{"slo"}, kubeStack},
	{"adapter", "internal/propose", []string{"slo"}, kubeStack},
	{"adapter", "internal/livelint", []string{"slo"}, kubeStack},
	{"sample service", "sample-service/shortlink", []string{"sli", "sli/*", "sample-service/linkcheck"}, coreNever},
	{"sample service", "sample-service/...", []string{"sli", "sli/*", "sample-service/..."}, kubeStack},
	{"adapter on top", "operator/api/...", nil, nil},
	{"adapter on top", "operator/...", []string{"*"}, nil},
	{"wiring", "internal/demo", []string{"*"}, nil},
	{"wiring", "internal/cli", []string{"*"}, nil},
	{"wiring", "internal/*", []string{"*"}, nil},
	{"wiring", "cmd/...", []string{"*"}, nil},
	{"wiring", "bench/...", []string{"*"}, nil},
}

// match reports whether the module-relative package rel matches pattern: exact, "x/*"
// (one level below x) or "x/..." (x and everything below it).
func match(pattern, rel string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "/..."):
		base := strings.TrimSuffix(pattern, "/...")
		return rel == base || strings.HasPrefix(rel, base+"/")
	case strings.HasSuffix(pattern, "/*"):
		return path.Dir(rel) == strings.TrimSuffix(pattern, "/*")
	}
	return rel == pattern
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImportRules fails on an import edge the rooms do not allow, naming the rule. It
// checks non-test imports (what ships); tests may import test helpers freely.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("lists every package of the module")
	}
	pkgs := listPackages(t)
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the module has more", len(pkgs))
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		r, ok := roomOf(rel)
		if !ok {
			r = room{name: "adapter on top", may: []string{"*"}}
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if !allowed(r, dep) {
				t.Errorf("%s (%s) imports %s: not allowed (may import: %s; see docs/architecture.md)", rel, r.name, dep, mayText(r))
			}
		}
		for _, d := range p.Deps {
			for _, bad := range r.never {
				if strings.HasPrefix(d, bad) {
					t.Errorf("%s (%s) depends on %s: the %s stack must stay out of it (see docs/architecture.md)", rel, r.name, d, strings.TrimSuffix(bad, "/"))
					break
				}
			}
		}
	}
}

// importers lists, for adapters on top, the only packages that may import them: the
// operator is reached from its command and nowhere else.
var importers = map[string][]string{
	"operator/...": {"internal/cli", "operator/..."},
}

// TestAdaptersOnTopImportedOnlyByTheirCommand fails when a package other than those
// importers list imports an adapter on top.
func TestAdaptersOnTopImportedOnlyByTheirCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("lists every package of the module")
	}
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			dep := strings.TrimPrefix(imp, module+"/")
			if dep == imp {
				continue
			}
			if msg := importerRule(rel, dep); msg != "" {
				t.Error(msg)
			}
		}
	}
	if importerRule("chaos", "operator") == "" || importerRule("internal/demo", "operator/api/v1alpha1") == "" {
		t.Error("the importer rule lets a domain or wiring package import the operator")
	}
	if importerRule("internal/cli", "operator") != "" {
		t.Error("the importer rule refuses internal/cli → operator")
	}
}

func importerRule(rel, dep string) string {
	for target, allowedFrom := range importers {
		if !match(target, dep) || slices.ContainsFunc(allowedFrom, func(a string) bool { return match(a, rel) }) {
			continue
		}
		return rel + " imports " + dep + ": only " + strings.Join(allowedFrom, ", ") + " may (see docs/architecture.md)"
	}
	return ""
}

func roomOf(rel string) (room, bool) {
	for _, r := range rooms {
		if match(r.pattern, rel) {
			return r, true
		}
	}
	return room{}, false
}

func allowed(r room, dep string) bool {
	for _, l := range leaves {
		if dep == l {
			return true
		}
	}
	for _, m := range r.may {
		if match(m, dep) {
			return true
		}
	}
	return false
}

func mayText(r room) string {
	if len(r.may) == 0 {
		return "leaves only"
	}
	return strings.Join(r.may, ", ") + " and leaves"
}

// TestRulesCatchAWrongEdge proves the checker can fail: slo importing alerts, a chaos
// adapter importing its sibling and the sample service importing slo are refused.
func TestRulesCatchAWrongEdge(t *testing.T) {
	for _, e := range [][2]string{
		{"slo", "alerts"}, {"chaos/local", "chaos/chaosmesh"}, {"sample-service/shortlink", "slo"},
		{"alerts", "chaos"}, {"internal/strictyaml", "slo"}, {"chaos", "internal/cli"}, {"sli", "slo"},
	} {
		r, ok := roomOf(e[0])
		if !ok {
			t.Fatalf("%s has no room", e[0])
		}
		if allowed(r, e[1]) {
			t.Errorf("%s → %s is allowed; it must not be", e[0], e[1])
		}
	}
	for _, e := range [][2]string{{"chaos/local", "chaos"}, {"internal/cli", "chaos/chaosmesh"}, {"slo", "internal/strictyaml"}} {
		r, _ := roomOf(e[0])
		if !allowed(r, e[1]) {
			t.Errorf("%s → %s is refused; it must be allowed", e[0], e[1])
		}
	}
}

// noKubeNever are the packages a slokit built with -tags slokit_nok8s must not contain:
// the Kubernetes client, controller-runtime, Chaos Mesh, Helm and prometheus-operator,
// and slokit's own Kubernetes code. (k8s.io/apimachinery's label validation stays: the
// --label flag of generate checks keys and values with it.)
var noKubeNever = []string{
	"k8s.io/client-go/", "k8s.io/api/", "k8s.io/apiextensions-apiserver/", "sigs.k8s.io/", "github.com/chaos-mesh/",
	"helm.sh/", "github.com/prometheus-operator/",
	module + "/internal/kube", module + "/operator", module + "/chaos/chaosmesh",
}

// TestNoKubeBuildLeavesKubernetesOut lists what `go build -tags slokit_nok8s ./cmd/slokit`
// links and fails on any package of the Kubernetes stack; the default build must still
// have them, or the check proves nothing.
func TestNoKubeBuildLeavesKubernetesOut(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the dependencies of both builds")
	}
	deps := func(tags ...string) []string {
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.Command("go", append(args, module+"/cmd/slokit")...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}
	kube := func(p string) bool {
		return slices.ContainsFunc(noKubeNever, func(bad string) bool { return strings.HasPrefix(p, bad) })
	}
	for _, p := range deps("-tags", "slokit_nok8s") {
		if kube(p) {
			t.Errorf("-tags slokit_nok8s links %s: the Kubernetes stack must stay out of that build (see docs/architecture.md)", p)
		}
	}
	if n := len(slices.DeleteFunc(deps(), func(p string) bool { return !kube(p) })); n < 50 {
		t.Errorf("the default build links %d Kubernetes packages; want the whole stack (apply, operator, chaosmesh)", n)
	}
}
