// Package golden compares test output with files under testdata, rewriting them when
// UPDATE_GOLDEN=1.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// UpdateEnv is the environment variable that, set to 1, makes Check write the golden
// files instead of comparing with them.
const UpdateEnv = "UPDATE_GOLDEN"

// Check compares got with the file at path, reporting the first line that differs. With
// UPDATE_GOLDEN=1 it writes got to path (creating its directory) instead.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if os.Getenv(UpdateEnv) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with %s=1 to create it)", err, UpdateEnv)
		return
	}
	if bytes.Equal(got, want) {
		return
	}
	line, g, w := firstDiff(got, want)
	t.Errorf("%s differs (%s=1 refreshes it), first at line %d:\n got: %q\nwant: %q", path, UpdateEnv, line, g, w)
}

// firstDiff returns the 1-based number of the first line where got and want differ, and
// both lines there (empty past the end).
func firstDiff(got, want []byte) (int, string, string) {
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; ; i++ {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) || i >= len(gl) || i >= len(wl) {
			return i + 1, string(g), string(w)
		}
	}
}
