package slo

import (
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
	n = w.Resolve(n)
	if strictyaml.IsNull(n) {
		return scalar{}
	}
	if n.Kind != yaml.ScalarNode {
		w.Errf(n, path, "must be a single value, got %s", strictyaml.KindName(n))
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
		w.Errf(s.Node, path, "must be true or false, got %s", strictyaml.KindName(s.Node))
		return false, s.Node
	}
	return s.Value == "true" || s.Value == "True" || s.Value == "TRUE", s.Node
}

// seqAt reads an optional list; null gives nil.
func (w *walker) seqAt(n *yaml.Node, path string) ([]*yaml.Node, *yaml.Node) {
	n = w.Resolve(n)
	if strictyaml.IsNull(n) {
		return nil, n
	}
	if n.Kind != yaml.SequenceNode {
		w.Errf(n, path, "must be a list, got %s", strictyaml.KindName(n))
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
	n = w.Resolve(n)
	if strictyaml.IsNull(n) {
		return stringMap{}
	}
	if n.Kind != yaml.MappingNode {
		w.Errf(n, path, "must be a mapping of names to values, got %s", strictyaml.KindName(n))
		return stringMap{}
	}
	out := stringMap{Node: n}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := w.Resolve(n.Content[i])
		if k == nil {
			break
		}
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			w.Errf(k, path, "keys must be plain names, got %s", strictyaml.KindName(k))
			continue
		}
		kp := strictyaml.Join(path, k.Value)
		if seen[k.Value] {
			w.Errf(k, kp, "given twice: keep one")
			continue
		}
		seen[k.Value] = true
		v := w.Resolve(n.Content[i+1])
		if v == nil {
			break
		}
		if v.Kind != yaml.ScalarNode {
			w.Errf(v, kp, "must be a string, got %s", strictyaml.KindName(v))
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
