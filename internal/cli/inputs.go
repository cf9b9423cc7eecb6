package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// specExtensions are the file name endings a directory argument contributes.
var specExtensions = []string{".yaml", ".yml", ".json"}

// expandFiles turns the values of -f and the positional arguments of a command into
// the list of files it reads, in order and without duplicates:
//
//   - "-" (stdin) is kept as is;
//   - a glob (`-f 'slos/*.yaml'`, quoted so the shell leaves it) gives its matches,
//     sorted; a glob that matches nothing is an error;
//   - a directory gives its *.yaml, *.yml and *.json files, sorted, not descending
//     into subdirectories (hidden files are skipped);
//   - anything else is taken as a file name, so that a missing file is reported by
//     the reader with the name the user typed.
//
// Every problem is returned at once, joined.
func expandFiles(args []string) ([]string, error) {
	var out []string
	var errs []error
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, a := range args {
		got, err := expandOne(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range got {
			add(p)
		}
	}
	return out, errors.Join(errs...)
}

func expandOne(a string) ([]string, error) {
	if a == "-" {
		return []string{a}, nil
	}
	if strings.ContainsAny(a, "*?[") {
		if _, err := os.Stat(a); err == nil {
			return []string{a}, nil // a file whose name holds a glob character
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no file matches", a)
		}
		var out []string
		for _, p := range m {
			if strings.HasPrefix(filepath.Base(p), ".") && !strings.HasPrefix(filepath.Base(a), ".") {
				continue // like a shell, * does not match a leading dot
			}
			got, err := expandOne(p)
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no file matches (hidden files are skipped)", a)
		}
		return out, nil
	}
	st, err := os.Stat(a)
	if err != nil || !st.IsDir() {
		return []string{a}, nil
	}
	return specFilesIn(a)
}

// specFilesIn lists the spec files directly in dir, sorted.
func specFilesIn(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		if e.Type()&fs.ModeType != 0 && e.Type()&fs.ModeSymlink == 0 {
			continue // a directory, a socket, …
		}
		n := e.Name()
		if strings.HasPrefix(n, ".") || !hasSpecExtension(n) {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: a directory with no %s file", dir, strings.Join(specExtensions, ", "))
	}
	sort.Strings(out)
	return out, nil
}

func hasSpecExtension(name string) bool {
	for _, ext := range specExtensions {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
