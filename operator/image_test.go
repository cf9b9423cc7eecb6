package operator

// The operator image's Dockerfile, checked without a Docker engine: parsed by BuildKit's
// own Dockerfile parser (the one `docker build` uses), its rules asserted, and its exact
// go build command run to prove the binary static.

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	appsv1 "k8s.io/api/apps/v1"
)

const imageDockerfile = "../Dockerfile"

// dfStage is one FROM stage of the Dockerfile.
type dfStage struct {
	base, name string
	nodes      []*parser.Node
}

// args returns the node's arguments.
func args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

func (s dfStage) all(cmd string) []*parser.Node {
	var out []*parser.Node
	for _, n := range s.nodes {
		if strings.EqualFold(n.Value, cmd) {
			out = append(out, n)
		}
	}
	return out
}

func (s dfStage) last(cmd string) *parser.Node {
	all := s.all(cmd)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

// parseImageDockerfile parses the Dockerfile with BuildKit's parser; its warnings
// (empty continuation lines, …) fail the test. It returns the global ARGs and stages.
func parseImageDockerfile(t *testing.T) (map[string]string, []dfStage) {
	t.Helper()
	f, err := os.Open(imageDockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("BuildKit's parser rejects %s: %v", imageDockerfile, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s: BuildKit warns: %s", imageDockerfile, w.Short)
	}
	global := map[string]string{}
	var stages []dfStage
	for _, n := range res.AST.Children {
		a := args(n)
		n.Value = strings.ToLower(n.Value)
		switch {
		case n.Value == "from":
			s := dfStage{base: a[0]}
			if len(a) == 3 && strings.EqualFold(a[1], "as") {
				s.name = a[2]
			}
			stages = append(stages, s)
		case len(stages) == 0 && n.Value == "arg":
			k, v, _ := strings.Cut(a[0], "=")
			global[k] = v
		case len(stages) == 0:
			t.Fatalf("%s:%d: %s before the first FROM", imageDockerfile, n.StartLine, n.Value)
		default:
			stages[len(stages)-1].nodes = append(stages[len(stages)-1].nodes, n)
		}
	}
	return global, stages
}

// imageBuildCommand is the build stage's RUN that runs go build, as a shell command.
func imageBuildCommand(t *testing.T, s dfStage) string {
	t.Helper()
	for _, n := range s.all("run") {
		if cmd := strings.Join(args(n), " "); strings.Contains(cmd, "go build") {
			if n.Attributes["json"] {
				t.Fatalf("line %d: the go build RUN should be in shell form (it sets CGO_ENABLED inline)", n.StartLine)
			}
			return cmd
		}
	}
	t.Fatalf("stage %q has no RUN … go build", s.name)
	return ""
}

func TestImageDockerfile(t *testing.T) {
	global, stages := parseImageDockerfile(t)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(stages))
	}
	build, final := stages[0], stages[1]
	if !strings.HasPrefix(build.base, "golang:${GO_VERSION}") || build.name != "build" {
		t.Errorf("build stage FROM %s AS %s, want golang:${GO_VERSION}… AS build", build.base, build.name)
	}
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod); m == nil || global["GO_VERSION"] != string(m[1]) {
		t.Errorf("ARG GO_VERSION=%s, want go.mod's %s", global["GO_VERSION"], m[1])
	}
	run := imageBuildCommand(t, build)
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=linux", "-trimpath", `-ldflags "-s -w"`, "-o /out/slokit", "./cmd/slokit"} {
		if !strings.Contains(run, want) {
			t.Errorf("go build RUN lacks %s: %s", want, run)
		}
	}
	copies := build.all("copy")
	if len(copies) < 2 || strings.Join(args(copies[0]), " ") != "go.mod go.sum ./" {
		t.Error("the build stage should copy go.mod and go.sum before the sources (dependency layer cache)")
	}
	checkRuntimeStage(t, final)
}

// checkRuntimeStage: distroless static, a numeric non-root user the chart's
// runAsUser matches, only the binary from the build stage, no shell, exec form.
func checkRuntimeStage(t *testing.T, final dfStage) {
	t.Helper()
	if !strings.HasPrefix(final.base, "gcr.io/distroless/static") && final.base != "scratch" {
		t.Errorf("runtime FROM %s, want distroless static or scratch", final.base)
	}
	if len(final.all("run")) > 0 {
		t.Error("the runtime stage has RUN instructions: a distroless image has no shell")
	}
	for _, c := range final.all("copy") {
		if !slices.Contains(c.Flags, "--from=build") {
			t.Errorf("line %d: COPY %v not from the build stage", c.StartLine, args(c))
		}
	}
	user := final.last("user")
	if user == nil || !regexp.MustCompile(`^[1-9]\d*:[1-9]\d*$`).MatchString(args(user)[0]) {
		t.Fatalf("USER %v: want a numeric non-root uid:gid (runAsNonRoot can only verify numbers)", user)
	}
	for _, o := range render(t, nil) {
		if d, ok := o.(*appsv1.Deployment); ok {
			sc := d.Spec.Template.Spec.SecurityContext
			if uid := strings.Split(args(user)[0], ":")[0]; sc.RunAsUser == nil || uid != strconv.FormatInt(*sc.RunAsUser, 10) {
				t.Errorf("chart runAsUser %v, image USER %s", sc.RunAsUser, uid)
			}
		}
	}
	entry, cmd := final.last("entrypoint"), final.last("cmd")
	if entry == nil || !entry.Attributes["json"] || strings.Join(args(entry), " ") != "/slokit" {
		t.Errorf("ENTRYPOINT should be exec form [\"/slokit\"] (signals reach the process directly)")
	}
	if cmd == nil || !cmd.Attributes["json"] || strings.Join(args(cmd), " ") != "operator" {
		t.Errorf("CMD should be exec form [\"operator\"]")
	}
	if exp := final.last("expose"); exp == nil || strings.Join(args(exp), " ") != "8080 8081" {
		t.Errorf("EXPOSE should list the chart's metrics and probe ports 8080 8081")
	}
}

// The build context filter keeps the history out and every Go source in.
func TestImageDockerignore(t *testing.T) {
	b, err := os.ReadFile(imageDockerfile + ".dockerignore")
	if err != nil {
		t.Fatalf("%v (BuildKit reads <Dockerfile>.dockerignore; without it the whole work tree is sent)", err)
	}
	var rules []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	if !slices.Contains(rules, ".git") {
		t.Error("dockerignore lacks .git")
	}
	for _, r := range rules {
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal", "operator", "slo", "alerts", "chaos", "sli", "dashboards", "sample-service"} {
			if r == needed || r == needed+"/" || r == "*" || r == "**" {
				t.Errorf("dockerignore rule %q excludes %s, which the build needs", r, needed)
			}
		}
	}
}

// TestImageBuildIsStatic runs the Dockerfile's own go build command (BuildKit's mount
// flags dropped, the output redirected) and checks the binary with debug/elf: no
// PT_INTERP (statically linked), no imported libraries, stripped, no build paths.
func TestImageBuildIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the slokit binary; skipped with -short")
	}
	_, stages := parseImageDockerfile(t)
	shell := imageBuildCommand(t, stages[0])
	shell = regexp.MustCompile(`--mount=\S+\s*`).ReplaceAllString(shell, "")
	out := filepath.Join(t.TempDir(), "slokit")
	shell = strings.Replace(shell, "-o /out/slokit", "-o "+out, 1)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("sh", "-c", shell)
	c.Dir = repo
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: dynamically linked (CGO_ENABLED=0 missing?)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary imports %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a .symtab: not stripped")
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bin, []byte(repo+"/")) {
		t.Errorf("the binary contains the build path %s: -trimpath missing", repo)
	}
	st, _ := os.Stat(out)
	t.Logf("%s: static, stripped, %.1f MiB", shell, float64(st.Size())/(1<<20))
}
