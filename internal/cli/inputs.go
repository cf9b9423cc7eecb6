package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/slokit/slokit/slo"
)

// expandFiles turns the values of -f and the positional arguments of a command into
// the paths it reads, in order and without duplicates:
//
//   - "-" (stdin) is kept as is;
//   - a glob (`-f 'slos/*.yaml'`, quoted so the shell leaves it) gives its matches,
//     sorted, skipping hidden files as a shell does; a glob matching nothing is an error;
//   - a directory is kept: slo.LoadFiles walks it (recursively, *.yaml and *.yml), and
//     commands reading other files list it with slo.ExpandPath (expandDirs);
//   - anything else is taken as a file name, so that a missing file is reported by
//     the reader with the name the user typed.
//
// Every problem is returned at once, joined.
func expandFiles(args []string) ([]string, error) {
	var out []string
	var errs []error
	seen := map[string]bool{}
	for _, a := range args {
		got, err := expandGlob(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range got {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, errors.Join(errs...)
}

func expandGlob(a string) ([]string, error) {
	if a == "-" || !strings.ContainsAny(a, "*?[") {
		return []string{a}, nil
	}
	if _, err := os.Stat(a); err == nil {
		return []string{a}, nil // a file whose name holds a glob character
	}
	m, err := filepath.Glob(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a, err)
	}
	var out []string
	for _, p := range m {
		if strings.HasPrefix(filepath.Base(p), ".") && !strings.HasPrefix(filepath.Base(a), ".") {
			continue // like a shell, * does not match a leading dot
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no file matches", a)
	}
	return out, nil
}

// expandDirs replaces each directory of paths by the YAML files under it, as
// slo.LoadFiles reads a directory.
func expandDirs(paths []string) ([]string, error) {
	var out []string
	var errs []error
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		got, err := slo.ExpandPath(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		out = append(out, got...)
	}
	return out, errors.Join(errs...)
}

// hasSpecExtension reports whether name ends like a file slokit writes or reads.
func hasSpecExtension(name string) bool {
	for _, ext := range []string{".yaml", ".yml", ".json"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
