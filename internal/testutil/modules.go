package testutil

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Missing skips the test with a loud "REAL COMPONENT MISSING" reason, or fails it when
// SLOKIT_REQUIRE_REAL=1.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "REAL COMPONENT MISSING: " + fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ModuleDir returns the directory of module@version in the Go module cache, asking the
// go command to download it when needed (.ci/run downloads the pinned corpora first).
func ModuleDir(t testing.TB, module, version string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", "mod", "download", "-json", module+"@"+version)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); err != nil || jerr != nil || m.Dir == "" {
		Missing(t, "module %s@%s not in the module cache (go mod download %s@%s): %v %s", module, version, module, version, err, m.Error)
	}
	return m.Dir
}

// Cache returns ${SLOKIT_CACHE:-/var/cache/slokit}/<parts...>.
func Cache(parts ...string) string {
	root := os.Getenv("SLOKIT_CACHE")
	if root == "" {
		root = "/var/cache/slokit"
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// Sloth returns the Sloth v0.16.0 binary built by .ci/sloth.sh ($SLOTH overrides it).
func Sloth(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SLOTH")
	if p == "" {
		p = Cache("sloth", "v0.16.0", "sloth")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		Missing(t, "no Sloth binary at %s; build it with bash .ci/sloth.sh", p)
	}
	return p
}

// PyrraHelper returns the Pyrra v0.10.1 anchor helper built by .ci/pyrra.sh
// ($PYRRA_HELPER overrides it).
func PyrraHelper(t testing.TB) string {
	t.Helper()
	p := os.Getenv("PYRRA_HELPER")
	if p == "" {
		out, err := exec.CommandContext(t.Context(), "bash", "-c", `cd "$(git rev-parse --show-toplevel)" && bash .ci/pyrra.sh`).Output()
		if err != nil {
			Missing(t, "no Pyrra helper: bash .ci/pyrra.sh failed: %v", err)
		}
		p = strings.TrimSpace(string(out))
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		Missing(t, "no Pyrra helper at %s; build it with bash .ci/pyrra.sh", p)
	}
	return p
}

// ThanosVersion is the Thanos release .ci/thanos.sh builds and caches.
const ThanosVersion = "v0.42.5"

// Thanos returns the Thanos binary built by .ci/thanos.sh: $THANOS when set, else the
// cached ${SLOKIT_CACHE:-/var/cache/slokit}/thanos/<ThanosVersion>/thanos. It never
// builds (that takes many CPU-minutes): a missing binary skips loudly, or fails under
// SLOKIT_REQUIRE_REAL=1.
func Thanos(t testing.TB) string {
	t.Helper()
	p := os.Getenv("THANOS")
	if p == "" {
		p = Cache("thanos", ThanosVersion, "thanos")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		Missing(t, "no Thanos binary at %s; build it once with bash .ci/thanos.sh (or set THANOS)", p)
	}
	return p
}
