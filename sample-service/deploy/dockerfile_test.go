package deploy

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dockerfilePath = "../Dockerfile"

// instruction is one Dockerfile instruction with continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, …
	args string
	line int
}

type stage struct {
	name, base string
	instrs     []instruction
}

// last returns the arguments of the stage's last instruction named cmd, or "".
func (s stage) last(cmd string) string {
	for i := len(s.instrs) - 1; i >= 0; i-- {
		if s.instrs[i].cmd == cmd {
			return s.instrs[i].args
		}
	}
	return ""
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

type dockerfile struct {
	args   map[string]string // global ARGs before the first FROM
	stages []stage
}

// parseDockerfile reads the Dockerfile's instructions: comments dropped, lines ending in
// a backslash joined, each FROM starting a stage.
func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	df := dockerfile{args: map[string]string{}}
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		text := cur.String()
		cur.Reset()
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.Join(strings.Fields(args), " "), line: start}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			s := stage{base: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			df.stages = append(df.stages, s)
		case len(df.stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			df.args[k] = v
		case len(df.stages) == 0:
			t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
		default:
			df.stages[len(df.stages)-1].instrs = append(df.stages[len(df.stages)-1].instrs, in)
		}
	}
	return df
}

// goBuildRun returns the build stage's RUN instruction that runs go build.
func goBuildRun(t *testing.T, s stage) string {
	t.Helper()
	for _, r := range s.all("RUN") {
		if strings.Contains(r, "go build") {
			return r
		}
	}
	t.Fatalf("stage %q has no RUN … go build", s.name)
	return ""
}

func TestDockerfile(t *testing.T) {
	df := parseDockerfile(t)
	if len(df.stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(df.stages))
	}
	build, final := df.stages[0], df.stages[1]

	// Build stage: the Go toolchain of go.mod, a static trimmed stripped build.
	if !strings.HasPrefix(build.base, "golang:${GO_VERSION}") || build.name != "build" {
		t.Errorf("build stage FROM %s AS %s, want golang:${GO_VERSION}… AS build", build.base, build.name)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goLine == nil || df.args["GO_VERSION"] != string(goLine[1]) {
		t.Errorf("ARG GO_VERSION=%s, want go.mod's %s", df.args["GO_VERSION"], goLine[1])
	}
	run := goBuildRun(t, build)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "./sample-service/cmd/shortlink"} {
		if !strings.Contains(run, want) {
			t.Errorf("go build RUN lacks %s: %s", want, run)
		}
	}
	if !strings.Contains(strings.Join(build.all("COPY"), "\n"), "go.mod go.sum") {
		t.Errorf("build stage does not copy go.mod and go.sum first (dependency layer cache)")
	}

	// Runtime stage: distroless static or scratch, non-root, only the binary.
	if !strings.HasPrefix(final.base, "gcr.io/distroless/static") && final.base != "scratch" {
		t.Errorf("runtime FROM %s, want distroless static or scratch", final.base)
	}
	user := final.last("USER")
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("runtime USER %q, want a non-root numeric user", user)
	}
	if !regexp.MustCompile(`^\d+(:\d+)?$`).MatchString(user) {
		t.Errorf("USER %q should be numeric so that runAsNonRoot can verify it", user)
	}
	for _, c := range final.all("COPY") {
		if !strings.Contains(c, "--from=build") {
			t.Errorf("runtime COPY %q does not come from the build stage", c)
		}
	}
	if r := final.all("RUN"); len(r) > 0 {
		t.Errorf("runtime stage runs %q; a distroless image has no shell", r)
	}
	var entry []string
	if err := json.Unmarshal([]byte(final.last("ENTRYPOINT")), &entry); err != nil || len(entry) != 1 || entry[0] != "/shortlink" {
		t.Errorf("ENTRYPOINT %q, want exec form [\"/shortlink\"] (signals reach the process)", final.last("ENTRYPOINT"))
	}
	var cmd []string
	if err := json.Unmarshal([]byte(final.last("CMD")), &cmd); err != nil || !strings.Contains(strings.Join(cmd, " "), "-db /data/") {
		t.Errorf("CMD %q, want exec form with the store under /data", final.last("CMD"))
	}
}

// TestDockerignore: the context filter BuildKit reads for this Dockerfile keeps the
// repository's history and local stores out of the image build, and the sources in.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(dockerfilePath + ".dockerignore")
	if err != nil {
		t.Fatalf("%v (BuildKit reads <Dockerfile>.dockerignore; without it the whole work tree is sent)", err)
	}
	var rules []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules = append(rules, l)
		}
	}
	for _, want := range []string{".git", "**/*.db"} {
		if !slices.Contains(rules, want) {
			t.Errorf("dockerignore lacks %s", want)
		}
	}
	for _, r := range rules {
		for _, needed := range []string{"go.mod", "go.sum", "sli", "sample-service", "sample-service/cmd", "sample-service/shortlink"} {
			if r == needed || r == needed+"/" || r == "*" || r == "**" {
				t.Errorf("dockerignore rule %q excludes %s, which the build needs", r, needed)
			}
		}
	}
}

// TestDockerfileBuildIsStaticAndStripped runs the Dockerfile's own go build command (no
// Docker engine needed) and checks the binary: statically linked, no symbol table, no
// paths of the build machine.
func TestDockerfileBuildIsStaticAndStripped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the service binary; skipped with -short")
	}
	df := parseDockerfile(t)
	run := goBuildRun(t, df.stages[0])
	// Drop BuildKit's --mount options; keep the shell command.
	shell := regexp.MustCompile(`--mount=\S+\s*`).ReplaceAllString(run, "")
	out := filepath.Join(t.TempDir(), "shortlink")
	if !strings.Contains(shell, "-o /out/shortlink") {
		t.Fatalf("go build RUN does not write /out/shortlink: %s", run)
	}
	shell = strings.Replace(shell, "-o /out/shortlink", "-o "+out, 1)
	repo, err := filepath.Abs("../..")
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
			t.Error("binary has an ELF interpreter: it is dynamically linked (CGO_ENABLED=0 missing?)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary imports %v; want none", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("binary has a .symtab: not stripped (-ldflags \"-s -w\" missing?)")
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bin, []byte(repo+"/")) {
		t.Errorf("binary contains the build path %s: -trimpath missing", repo)
	}
}

// goBinDir is the directory of the go command running the tests' toolchain.
func goBinDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin")
}
