// Package imagetest checks the repository's Dockerfiles without a Docker engine: BuildKit's
// own parser (the one `docker build` uses) reads them, the rules every slokit image keeps
// are asserted, and the build stage's go build command is run to prove the binary static.
package imagetest

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Dockerfile is a parsed Dockerfile: the global ARGs before the first FROM, then the stages.
type Dockerfile struct {
	Path   string
	Args   map[string]string
	Stages []Stage
}

// Stage is one FROM stage and its instructions (Value lower-cased).
type Stage struct {
	Base, Name string
	Nodes      []*parser.Node
}

// Args returns an instruction's arguments; for an exec form (JSON) they are the array's
// elements.
func Args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

// All returns the stage's instructions named cmd (any case), in order.
func (s Stage) All(cmd string) []*parser.Node {
	var out []*parser.Node
	for _, n := range s.Nodes {
		if strings.EqualFold(n.Value, cmd) {
			out = append(out, n)
		}
	}
	return out
}

// Last returns the stage's last instruction named cmd, or nil.
func (s Stage) Last(cmd string) *parser.Node {
	all := s.All(cmd)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

// LastArgs returns the arguments of the stage's last instruction named cmd joined by
// spaces, or "" when there is none.
func (s Stage) LastArgs(cmd string) string {
	if n := s.Last(cmd); n != nil {
		return strings.Join(Args(n), " ")
	}
	return ""
}

// Parse reads path with BuildKit's parser; its warnings (empty continuation lines, …) fail
// the test.
func Parse(t testing.TB, path string) Dockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("BuildKit's parser rejects %s: %v", path, err)
	}
	for _, w := range res.Warnings {
		t.Errorf("%s: BuildKit warns: %s", path, w.Short)
	}
	d := Dockerfile{Path: path, Args: map[string]string{}}
	for _, n := range res.AST.Children {
		a := Args(n)
		n.Value = strings.ToLower(n.Value)
		switch {
		case n.Value == "from":
			s := Stage{Base: a[0]}
			if len(a) == 3 && strings.EqualFold(a[1], "as") {
				s.Name = a[2]
			}
			d.Stages = append(d.Stages, s)
		case len(d.Stages) == 0 && n.Value == "arg":
			k, v, _ := strings.Cut(a[0], "=")
			d.Args[k] = v
		case len(d.Stages) == 0:
			t.Fatalf("%s:%d: %s before the first FROM", path, n.StartLine, n.Value)
		default:
			d.Stages[len(d.Stages)-1].Nodes = append(d.Stages[len(d.Stages)-1].Nodes, n)
		}
	}
	return d
}

// GoBuild returns the first stage's RUN that runs go build, as a shell command.
func (d Dockerfile) GoBuild(t testing.TB) string {
	t.Helper()
	if len(d.Stages) == 0 {
		t.Fatalf("%s has no stage", d.Path)
	}
	for _, n := range d.Stages[0].All("run") {
		if cmd := strings.Join(Args(n), " "); strings.Contains(cmd, "go build") {
			if n.Attributes["json"] {
				t.Fatalf("%s:%d: the go build RUN should be in shell form (it sets CGO_ENABLED inline)", d.Path, n.StartLine)
			}
			return cmd
		}
	}
	t.Fatalf("%s: stage %q has no RUN … go build", d.Path, d.Stages[0].Name)
	return ""
}

// Image is what one Dockerfile builds.
type Image struct {
	GoMod      string // the go.mod whose go line GO_VERSION must match
	Package    string // the go build package, like ./cmd/slokit
	Binary     string // the binary's path in the image, like /slokit (built to /out/<base>)
	Entrypoint string // the exec-form ENTRYPOINT, like /slokit
}

// Check asserts the rules every slokit image keeps. Build stage: golang:${GO_VERSION} of
// go.mod, go.mod and go.sum copied before the sources (the dependency layer), a static,
// trimmed, stripped go build. Runtime stage: distroless static or scratch, no RUN (no
// shell there), only files from the build stage, a numeric non-root USER (runAsNonRoot can
// only verify numbers), an exec-form ENTRYPOINT (signals reach the process).
func Check(t testing.TB, d Dockerfile, want Image) {
	t.Helper()
	if len(d.Stages) != 2 {
		t.Fatalf("%s: %d stages, want 2 (build, runtime)", d.Path, len(d.Stages))
	}
	build, final := d.Stages[0], d.Stages[1]
	if !strings.HasPrefix(build.Base, "golang:${GO_VERSION}") || build.Name != "build" {
		t.Errorf("%s: build stage FROM %s AS %s, want golang:${GO_VERSION}… AS build", d.Path, build.Base, build.Name)
	}
	gomod, err := os.ReadFile(want.GoMod)
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod); m == nil || d.Args["GO_VERSION"] != string(m[1]) {
		t.Errorf("%s: ARG GO_VERSION=%s, want the go line of %s", d.Path, d.Args["GO_VERSION"], want.GoMod)
	}
	run := d.GoBuild(t)
	out := "/out/" + filepath.Base(want.Binary)
	for _, flag := range []string{"CGO_ENABLED=0", "GOOS=linux", "-trimpath", `-ldflags "-s -w"`, "-o " + out, want.Package} {
		if !strings.Contains(run, flag) {
			t.Errorf("%s: go build RUN lacks %s: %s", d.Path, flag, run)
		}
	}
	if copies := build.All("copy"); len(copies) < 2 || strings.Join(Args(copies[0]), " ") != "go.mod go.sum ./" {
		t.Errorf("%s: the build stage should copy go.mod and go.sum before the sources (dependency layer cache)", d.Path)
	}
	checkRuntime(t, d.Path, final, want)
}

func checkRuntime(t testing.TB, path string, final Stage, want Image) {
	t.Helper()
	if !strings.HasPrefix(final.Base, "gcr.io/distroless/static") && final.Base != "scratch" {
		t.Errorf("%s: runtime FROM %s, want distroless static or scratch", path, final.Base)
	}
	if len(final.All("run")) > 0 {
		t.Errorf("%s: the runtime stage has RUN instructions; a distroless image has no shell", path)
	}
	for _, c := range final.All("copy") {
		if !slices.Contains(c.Flags, "--from=build") {
			t.Errorf("%s:%d: COPY %v not from the build stage", path, c.StartLine, Args(c))
		}
	}
	if user := final.LastArgs("user"); !regexp.MustCompile(`^[1-9]\d*:[1-9]\d*$`).MatchString(user) {
		t.Errorf("%s: USER %q: want a numeric non-root uid:gid (runAsNonRoot can only verify numbers)", path, user)
	}
	if e := final.Last("entrypoint"); e == nil || !e.Attributes["json"] || strings.Join(Args(e), " ") != want.Entrypoint {
		t.Errorf("%s: ENTRYPOINT should be exec form [%q] (signals reach the process directly)", path, want.Entrypoint)
	}
}

// BuildStatic runs the Dockerfile's own go build command in repo (BuildKit's --mount flags
// dropped, the output redirected into a temporary folder) with the toolchain running the
// tests, and checks the binary with debug/elf: no PT_INTERP (statically linked), no
// imported libraries, stripped, no build paths. It returns the binary's path.
func BuildStatic(t testing.TB, d Dockerfile, repo string, want Image) string {
	t.Helper()
	shell := regexp.MustCompile(`--mount=\S+\s*`).ReplaceAllString(d.GoBuild(t), "")
	out := filepath.Join(t.TempDir(), filepath.Base(want.Binary))
	in := "-o /out/" + filepath.Base(want.Binary)
	if !strings.Contains(shell, in) {
		t.Fatalf("%s: go build RUN does not write %s: %s", d.Path, in, shell)
	}
	shell = strings.Replace(shell, in, "-o "+out, 1)
	repo, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command("sh", "-c", shell)
	c.Dir = repo
	c.Env = append(os.Environ(), "PATH="+goBinDir(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
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
		t.Error(`the binary has a .symtab: not stripped (-ldflags "-s -w" missing?)`)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bin, []byte(repo+"/")) {
		t.Errorf("the binary contains the build path %s: -trimpath missing", repo)
	}
	return out
}

// goBinDir is the directory of the go command of the toolchain running the tests.
func goBinDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin")
}

// Dockerignore returns the rules of the context filter BuildKit reads for path
// (<Dockerfile>.dockerignore), failing when it is missing or excludes a needed path.
func Dockerignore(t testing.TB, path string, needed ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path + ".dockerignore")
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
		t.Errorf("%s.dockerignore lacks .git", path)
	}
	for _, r := range rules {
		for _, n := range needed {
			if r == n || r == n+"/" || r == "*" || r == "**" {
				t.Errorf("%s.dockerignore rule %q excludes %s, which the build needs", path, r, n)
			}
		}
	}
	return rules
}
