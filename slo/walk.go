package slo

import (
	"slices"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
)

// walker reads yaml.v3 nodes into wire types with the strict decoder shared by every
// file slokit reads (internal/strictyaml). It never stops at the first problem: every
// error and warning is recorded with the node's line and column.
type walker struct {
	*strictyaml.Decoder
	parser parser.Parser // created on first use
	// format is the spec format being read.
	format format
	// lf is the file being read.
	lf *loadedFile
	// origins collects the origins of the objective being converted (imports only).
	origins map[string]Origin
}

// origin records where an imported objective's field came from.
func (w *walker) origin(field string, n *yaml.Node, path, note string) {
	if w.origins == nil {
		w.origins = map[string]Origin{}
	}
	o := Origin{File: w.File, Path: path, Note: note}
	if n != nil {
		o.Line, o.Col = n.Line, n.Column
	}
	w.origins[field] = o
}

// takeOrigins returns the origins collected since the last call.
func (w *walker) takeOrigins() map[string]Origin {
	o := w.origins
	w.origins = nil
	return o
}

// withOrigins attaches origins of objective name to s.
func withOrigins(s *Service, name string, o map[string]Origin) {
	if o == nil {
		return
	}
	if s.Origins == nil {
		s.Origins = map[string]map[string]Origin{}
	}
	s.Origins[name] = o
}

func newWalker(file string, size int) *walker { return &walker{Decoder: strictyaml.New(file, size)} }

// errf records an error at node n (nil: no position).
func (w *walker) errf(n *yaml.Node, path, format string, args ...any) {
	w.Errf(n, path, format, args...)
}

// missing records a "required" error at path unless an error was already recorded
// there (a value of the wrong kind is reported once, not also as missing).
func (w *walker) missing(n *yaml.Node, path, format string, args ...any) {
	w.Missing(n, path, format, args...)
}

// warnf records a warning at node n.
func (w *walker) warnf(n *yaml.Node, path, format string, args ...any) {
	w.Warnf(n, path, format, args...)
}

// failed reports whether any error (not warning) was recorded.
func (w *walker) failed() bool { return w.Failed() }

// resolve follows aliases and charges the node budget; nil once the budget is spent.
func (w *walker) resolve(n *yaml.Node) *yaml.Node { return w.Resolve(n) }

// joinPath appends a field name to a path.
func joinPath(path, field string) string { return strictyaml.Join(path, field) }

// indexPath appends a list index to a path.
func indexPath(path string, i int) string { return strictyaml.Index(path, i) }

// isNull reports whether n is absent or an explicit YAML null (`key:`, `~`, `null`).
func isNull(n *yaml.Node) bool { return strictyaml.IsNull(n) }

func kindName(n *yaml.Node) string { return strictyaml.KindName(n) }

// fields checks that n is a mapping whose keys are all in known (strictyaml.Fields).
func (w *walker) fields(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, bool) {
	return w.Fields(n, path, known...)
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// unknownField phrases an unknown-field error with the closest known name as a hint.
func unknownField(got string, known []string) string { return strictyaml.UnknownField(got, known) }

// scalar is a YAML scalar kept with its node for positions. Node is nil when the field
// is absent or null.
type scalar struct {
	Value string
	Tag   string
	Node  *yaml.Node
}

func (s scalar) set() bool { return s.Node != nil }

// scalarAt reads n as a scalar; a null or absent node gives the zero scalar. A mapping
// or list is an error.
func (w *walker) scalarAt(n *yaml.Node, path string) scalar {
	n = w.resolve(n)
	if isNull(n) {
		return scalar{}
	}
	if n.Kind != yaml.ScalarNode {
		w.errf(n, path, "must be a single value, got %s", kindName(n))
		return scalar{}
	}
	return scalar{Value: n.Value, Tag: n.Tag, Node: n}
}

// boolAt reads an optional boolean.
func (w *walker) boolAt(n *yaml.Node, path string) (bool, *yaml.Node) {
	s := w.scalarAt(n, path)
	if !s.set() {
		return false, nil
	}
	if s.Tag != "!!bool" {
		w.errf(s.Node, path, "must be true or false, got %s", kindName(s.Node))
		return false, s.Node
	}
	return s.Value == "true" || s.Value == "True" || s.Value == "TRUE", s.Node
}

// seqAt reads an optional list; null gives nil.
func (w *walker) seqAt(n *yaml.Node, path string) ([]*yaml.Node, *yaml.Node) {
	n = w.resolve(n)
	if isNull(n) {
		return nil, n
	}
	if n.Kind != yaml.SequenceNode {
		w.errf(n, path, "must be a list, got %s", kindName(n))
		return nil, n
	}
	return n.Content, n
}

// stringMap is a mapping of strings to strings in file order (labels, annotations,
// selectors), each entry kept with its nodes.
type stringMap struct {
	Node    *yaml.Node
	Entries []stringEntry
}

type stringEntry struct {
	Key, Value scalar
}

// stringMapAt reads an optional mapping of string to string.
func (w *walker) stringMapAt(n *yaml.Node, path string) stringMap {
	n = w.resolve(n)
	if isNull(n) {
		return stringMap{}
	}
	if n.Kind != yaml.MappingNode {
		w.errf(n, path, "must be a mapping of names to values, got %s", kindName(n))
		return stringMap{}
	}
	out := stringMap{Node: n}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := w.resolve(n.Content[i])
		if k == nil {
			break
		}
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			w.errf(k, path, "keys must be plain names, got %s", kindName(k))
			continue
		}
		kp := joinPath(path, k.Value)
		if seen[k.Value] {
			w.errf(k, kp, "given twice: keep one")
			continue
		}
		seen[k.Value] = true
		v := w.resolve(n.Content[i+1])
		if v == nil {
			break
		}
		if v.Kind != yaml.ScalarNode {
			w.errf(v, kp, "must be a string, got %s", kindName(v))
			continue
		}
		val := v.Value
		if v.Tag == "!!null" {
			val = ""
		}
		out.Entries = append(out.Entries, stringEntry{
			Key:   scalar{Value: k.Value, Tag: k.Tag, Node: k},
			Value: scalar{Value: val, Tag: v.Tag, Node: v},
		})
	}
	return out
}
