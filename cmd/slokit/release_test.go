package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaserConfig is the part of goreleaser's v2 schema .goreleaser.yaml uses; the
// strict decoder rejects any other field, so a typo fails here rather than at release.
type goreleaserConfig struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		ID           string   `yaml:"id"`
		Formats      []string `yaml:"formats"`
		NameTemplate string   `yaml:"name_template"`
		Files        []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	Snapshot struct {
		VersionTemplate string `yaml:"version_template"`
	} `yaml:"snapshot"`
	Changelog struct {
		Sort string `yaml:"sort"`
	} `yaml:"changelog"`
}

func readReleaseConfig(t *testing.T) goreleaserConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c goreleaserConfig
	if err := dec.Decode(&c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return c
}

// TestReleaseConfig checks .goreleaser.yaml's structure: goreleaser is not installed
// in CI (no approved release on the module proxy), so this stands in for
// `goreleaser check`, and TestReleaseBuild for its build step.
func TestReleaseConfig(t *testing.T) {
	c := readReleaseConfig(t)
	if c.Version != 2 || c.ProjectName != "slokit" || len(c.Builds) != 1 || len(c.Archives) != 1 {
		t.Fatalf("want version 2, project slokit, one build and one archive; got %+v", c)
	}
	b := c.Builds[0]
	if b.Main != "./cmd/slokit" || b.Binary != "slokit" || !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("build: main %q binary %q env %v", b.Main, b.Binary, b.Env)
	}
	if _, err := os.Stat(filepath.Join("..", "..", b.Main, "main.go")); err != nil {
		t.Errorf("build main: %v", err)
	}
	ld := strings.Join(b.Ldflags, " ")
	for _, want := range []string{"internal/cli.Version=v{{.Version}}", "internal/cli.Commit={{.FullCommit}}"} {
		if !strings.Contains(ld, "github.com/slokit/slokit/"+want) {
			t.Errorf("ldflags %q lack %q", ld, want)
		}
	}
	for _, os := range []string{"linux", "darwin"} {
		if !slices.Contains(b.Goos, os) {
			t.Errorf("goos %v lacks %s", b.Goos, os)
		}
	}
	a := c.Archives[0]
	if !slices.Equal(a.Formats, []string{"tar.gz"}) {
		t.Errorf("archives: formats %v", a.Formats)
	}
	for _, f := range a.Files {
		if strings.HasPrefix(f, "completions/") {
			continue // made by the before hook
		}
		m, _ := filepath.Glob(filepath.Join("..", "..", f))
		if len(m) == 0 {
			t.Errorf("archive file %q matches nothing", f)
		}
	}
	if c.Checksum.Algorithm != "sha256" || c.Checksum.NameTemplate == "" {
		t.Errorf("checksum: %+v", c.Checksum)
	}
	if !strings.Contains(strings.Join(c.Before.Hooks, "\n"), "completion") {
		t.Errorf("no before hook writes the shell completions: %v", c.Before.Hooks)
	}
}

// TestReleaseBuild builds slokit with the config's ldflags, the templates filled in, and
// checks `slokit version` prints the stamped version and
// commit, and that the completion scripts the before hook writes generate. The build
// leaves out the config's -trimpath and CGO_ENABLED=0 (checked above as text): either
// changes the cache key of nearly every dependency, and rebuilding them all takes tens
// of minutes on a 2-core CI machine. Only the host platform is built, for the same reason.
func TestReleaseBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds slokit; skipped with -short")
	}
	c := readReleaseConfig(t)
	b := c.Builds[0]
	const version, commit = "9.8.7", "0123456789abcdef0123456789abcdef01234567"
	ld := strings.NewReplacer("{{.Version}}", version, "{{.FullCommit}}", commit).Replace(strings.Join(b.Ldflags, " "))
	bin := filepath.Join(t.TempDir(), "slokit")
	args := []string{"build", "-ldflags", ld, "-o", bin, b.Main}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "..")
	if !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build flags %v lack -trimpath", b.Flags)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("slokit version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "slokit v"+version+"\n  commit  "+commit) {
		t.Errorf("slokit version printed:\n%s", out)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, err := exec.Command(bin, "completion", shell).Output()
		if err != nil || !bytes.Contains(out, []byte("slokit")) || len(out) < 1000 {
			t.Errorf("slokit completion %s: %v, %d bytes", shell, err, len(out))
		}
	}
}
