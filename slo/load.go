package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest spec file Parse reads.
const MaxFileSize = 8 << 20

// Parse decodes and validates one spec file's bytes (slokit/v1, Sloth prometheus/v1 or
// OpenSLO v1), reporting every problem at once. The Service is nil when any error is found.
func Parse(file string, data []byte) (*Service, Diagnostics) {
	w := newWalker(file, len(data))
	svc := w.parse(data)
	if w.exhausted != nil {
		return nil, Diagnostics{*w.exhausted}
	}
	sortDiagnostics(w.diags)
	if w.failed() {
		return nil, w.diags
	}
	svc.Source = file
	return svc, w.diags
}

// LoadFiles reads and parses each path; diagnostics of every file are returned together.
// An SLO defined twice across files (same service and name, so the same rule group) is an
// error of the later file. A file that cannot be read is a diagnostic with Err set, so
// that Diagnostics.Err returns a *ReadError rather than a validation error.
func LoadFiles(paths ...string) ([]*Service, Diagnostics) {
	var out []*Service
	var all Diagnostics
	seen := map[string]string{} // objective ID → file
	for _, p := range paths {
		data, err := readFile(p)
		if err != nil {
			all = append(all, Diagnostic{File: p, Message: err.Error(), Err: err})
			continue
		}
		if len(data) > MaxFileSize {
			all = append(all, Diagnostic{File: p, Message: fmt.Sprintf(
				"spec larger than %d MiB: split it into one file per service", MaxFileSize>>20)})
			continue
		}
		s, ds := Parse(p, data)
		all = append(all, ds...)
		if s == nil {
			continue
		}
		dup := false
		for _, o := range s.Objectives {
			if first, ok := seen[o.ID()]; ok {
				all = append(all, Diagnostic{File: p, Message: fmt.Sprintf(
					"service %q SLO %q is also defined in %s: its rules would collide; keep one definition", o.Service, o.Name, first)})
				dup = true
				continue
			}
			seen[o.ID()] = p
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out, all
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

// sortDiagnostics puts diagnostics in file order (position-less ones first), keeping
// the order in which they were found for equal positions.
func sortDiagnostics(ds Diagnostics) {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Line != ds[j].Line {
			return ds[i].Line < ds[j].Line
		}
		return ds[i].Col < ds[j].Col
	})
}

// format is the kind of spec a document holds.
type format int

const (
	formatUnknown format = iota
	formatV1
	formatSloth
	formatOpenSLO
)

func (w *walker) parse(data []byte) *Service {
	docs := w.documents(data)
	if w.failed() {
		return nil
	}
	if len(docs) == 0 {
		w.errf(nil, "", "empty file: a spec starts with version: %s", VersionV1)
		return nil
	}
	w.format = w.detect(docs[0])
	switch w.format {
	case formatV1:
		w.onlyOne(docs)
		return w.convertV1(w.decodeV1(docs[0]))
	case formatSloth:
		w.onlyOne(docs)
		return w.convertSloth(w.decodeSloth(docs[0]))
	case formatOpenSLO:
		return w.convertOpenSLO(docs)
	}
	return nil
}

// onlyOne rejects every document after the first: one service per file.
func (w *walker) onlyOne(docs []*yaml.Node) {
	for _, d := range docs[1:] {
		w.errf(d, "", "a second YAML document starts here: a spec file holds one service; move it to its own file")
	}
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// documents splits data into its YAML documents' root nodes, skipping empty documents.
func (w *walker) documents(data []byte) []*yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			w.yamlError(err, data)
			return out
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 && !isNull(doc.Content[0]) {
			out = append(out, doc.Content[0])
		}
	}
}

// yamlError reports a YAML syntax error at its line (yaml.v3 gives no column), with a
// hint when the line is indented with tabs.
func (w *walker) yamlError(err error, data []byte) {
	msg := err.Error()
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := "invalid YAML: " + m[2]
		if lines := bytes.Split(data, []byte("\n")); line >= 1 && line <= len(lines) {
			indent := lines[line-1][:len(lines[line-1])-len(bytes.TrimLeft(lines[line-1], " \t"))]
			if bytes.Contains(indent, []byte("\t")) {
				text += " (the line is indented with a tab: YAML indents with spaces only)"
			}
		}
		w.nerr++
		w.diags = append(w.diags, Diagnostic{File: w.file, Line: line, Col: 1, Message: text})
		return
	}
	w.errf(nil, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// detect tells the format of a document from its version or apiVersion field.
func (w *walker) detect(root *yaml.Node) format {
	root = w.resolve(root)
	if root == nil {
		return formatUnknown
	}
	if root.Kind == yaml.SequenceNode && len(root.Content) > 0 {
		// OpenSLO allows a list of objects in one document.
		if first := w.resolve(root.Content[0]); first != nil && first.Kind == yaml.MappingNode {
			if v := lookup(first, "apiVersion"); v != nil && strings.HasPrefix(v.Value, "openslo/") {
				return w.detect(first)
			}
		}
	}
	if root.Kind != yaml.MappingNode {
		w.errf(root, "", "must be a mapping starting with version: %s, got %s", VersionV1, kindName(root))
		return formatUnknown
	}
	if v := lookup(root, "version"); v != nil {
		switch v.Value {
		case VersionV1:
			return formatV1
		case VersionSloth:
			return formatSloth
		}
		w.errf(v, "version", "unsupported version %q: slokit reads version: %s, Sloth's version: %s and OpenSLO's apiVersion: %s", v.Value, VersionV1, VersionSloth, APIVersionOpenSLO)
		return formatUnknown
	}
	if v := lookup(root, "apiVersion"); v != nil {
		switch {
		case v.Value == APIVersionOpenSLO:
			return formatOpenSLO
		case strings.HasPrefix(v.Value, "openslo/"):
			w.errf(v, "apiVersion", "unsupported OpenSLO version %q: slokit reads apiVersion: %s", v.Value, APIVersionOpenSLO)
		case strings.HasPrefix(v.Value, "sloth.slok.dev/"):
			w.errf(v, "apiVersion", "Sloth's Kubernetes PrometheusServiceLevel is not read: save its spec as a version: %s file", VersionSloth)
		default:
			w.errf(v, "apiVersion", "unsupported apiVersion %q: slokit reads version: %s, Sloth's version: %s and OpenSLO's apiVersion: %s", v.Value, VersionV1, VersionSloth, APIVersionOpenSLO)
		}
		return formatUnknown
	}
	w.missing(root, "version", "required: start the file with version: %s (or %s for Sloth files, apiVersion: %s for OpenSLO)", VersionV1, VersionSloth, APIVersionOpenSLO)
	return formatUnknown
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
