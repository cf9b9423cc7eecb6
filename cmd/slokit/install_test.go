package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGoInstallLatest proves the README's one-line install: it serves this checkout's
// HEAD from a local module proxy (a directory in the GOPROXY protocol's layout, the zip
// made by git archive) and runs exactly `go install github.com/slokit/slokit/cmd/slokit@latest`,
// with every other module taken from the module cache only. The installed binary must
// report the pseudo-version and its commit.
func TestGoInstallLatest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds slokit from a module zip; skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	rev := git("rev-parse", "HEAD")
	secs, err := strconv.ParseInt(git("show", "-s", "--format=%ct", "HEAD"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Unix(secs, 0).UTC()
	version := fmt.Sprintf("v0.0.0-%s-%s", when.Format("20060102150405"), rev[:12])

	const module = "github.com/slokit/slokit"
	proxy := t.TempDir()
	at := filepath.Join(proxy, module, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": when})
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		filepath.Join(at, "list"):               nil, // no release tag: @latest asks for …/@latest
		filepath.Join(proxy, module, "@latest"): info,
		filepath.Join(at, version+".info"):      info,
		filepath.Join(at, version+".mod"):       gomod,
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A module zip leaves out nested modules (directories with their own go.mod), as the
	// module proxy's zips do; git archive would keep them and the go command refuses that.
	archive := []string{"archive", "--format=zip", "--prefix=" + module + "@" + version + "/", "-o", filepath.Join(at, version+".zip"), "HEAD", "--", "."}
	for _, f := range strings.Fields(git("ls-files", "*/go.mod")) {
		archive = append(archive, ":(exclude)"+filepath.Dir(f))
	}
	git(archive...)

	bin := t.TempDir()
	cmd := exec.Command("go", "install", module+"/cmd/slokit@latest")
	cmd.Dir = t.TempDir() // outside any module, as a user would be
	// GOSUMDB=off: `go install m@v` checks m's dependencies against the checksum
	// database (there is no go.sum of the temporary main module), and CI reaches only the
	// module proxy; the modules come from the local cache, checked when first downloaded.
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOPROXY=file://"+filepath.ToSlash(proxy)+",off",
		"GOSUMDB=off", "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s/cmd/slokit@latest: %v\n%s", module, err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "slokit"), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("slokit version: %v\n%s", err, out)
	}
	want := "slokit " + version + "\n  commit  " + rev[:12] + "\n  module  " + module + "\n"
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("slokit version printed\n%s\nwant it to start with\n%s", out, want)
	}
}
