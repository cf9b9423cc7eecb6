package slo

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest spec file Parse reads.
const MaxFileSize = 8 << 20

// Parse decodes and validates one spec file's bytes, reporting every problem at once.
// The file must describe one service (documents of several services: use ParseFiles).
// The Service is nil when any error is found.
func Parse(file string, data []byte) (*Service, Diagnostics) {
	svcs, ds := ParseFiles(File{Name: file, Data: data})
	if len(svcs) == 0 || ds.Err() != nil {
		return nil, ds
	}
	names := make([]string, len(svcs))
	for i, s := range svcs {
		names[i] = s.Name
		if s.Name != svcs[0].Name {
			ds = append(ds, Diagnostic{File: file, Message: fmt.Sprintf(
				"holds several services (%s): read it with LoadFiles, which returns one Service each", strings.Join(names[:i+1], ", "))})
			return nil, ds
		}
	}
	out := svcs[0]
	for _, s := range svcs[1:] {
		out.Objectives = append(out.Objectives, s.Objectives...)
		for k, v := range s.Origins {
			withOrigins(out, k, v)
		}
	}
	return out, ds
}

// File is one spec file given by content.
type File struct {
	Name string
	Data []byte
	// readErr is why the file could not be read (LoadFiles only).
	readErr error
}

// LoadFiles reads each path and parses every spec in them (see ParseFiles). A path that
// is a directory is walked recursively for *.yaml and *.yml files, in lexical order,
// like Sloth's generate -i DIR; there, files holding no SLO spec at all (Kubernetes
// manifests, Helm charts) are skipped with a warning. A file that cannot be read is a
// diagnostic with Err set, so that Diagnostics.Err returns a *ReadError rather than a
// validation error.
func LoadFiles(paths ...string) ([]*Service, Diagnostics) {
	var files []File
	walked := map[string]bool{}
	for _, p := range paths {
		names, err := expandPath(p)
		if err != nil {
			files = append(files, File{Name: p, readErr: err})
			continue
		}
		for _, name := range names {
			if name != p {
				walked[name] = true
			}
			data, err := readFile(name)
			files = append(files, File{Name: name, Data: data, readErr: err})
		}
	}
	return parseFiles(files, walked)
}

// ParseFiles parses the documents of every file: slokit/v1 specs, Sloth prometheus/v1
// specs and PrometheusServiceLevel objects (alone or in a Kubernetes List), OpenSLO
// v1/v1alpha objects (resolved across all the files: an SLO may reference an SLI, a
// DataSource or an AlertPolicy of another file) and Pyrra ServiceLevelObjectives. It
// returns one Service per service and file, in file order. Diagnostics of every file
// come together; a file with an error contributes no Service. An SLO defined twice
// across files (same service and name, so the same rule group) is an error of the later
// file.
func ParseFiles(files ...File) ([]*Service, Diagnostics) { return parseFiles(files, nil) }

func parseFiles(files []File, walked map[string]bool) ([]*Service, Diagnostics) {
	l := &loader{}
	for _, f := range files {
		l.file(f, walked[f.Name])
	}
	l.resolveOpenSLO()
	return l.finish()
}

// ExpandPath returns path itself, or the *.yaml and *.yml files under it, recursively
// and in lexical order, when it is a directory (hidden directories skipped): the files
// LoadFiles reads for path. Commands reading other YAML files (slokit apply) list a
// directory the same way with it.
func ExpandPath(path string) ([]string, error) { return expandPath(path) }

// expandPath returns path itself, or the *.yaml and *.yml files under it when it is a
// directory (hidden directories skipped).
func expandPath(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the spec directory: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cannot read the spec directory: no .yaml or .yml file in %s: %w", path, fs.ErrNotExist)
	}
	return out, nil
}

// readFile reads at most MaxFileSize+1 bytes of path; an error is an I/O error.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the spec: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the spec: %w", err)
	}
	return data, nil
}

// lookup returns the scalar value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			for v != nil && v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			if v != nil && v.Kind == yaml.ScalarNode {
				return v
			}
			return nil
		}
	}
	return nil
}
