package slo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// walker reads yaml.v3 nodes into wire types. It never stops at the first problem: every
// error and warning is appended to diags with the node's line and column.
type walker struct {
	file  string
	diags Diagnostics
	// budget bounds how many nodes one file may make the walker visit, so that alias
	// expansion ("billion laughs") cannot blow up.
	budget int
	parser parser.Parser // created on first use
	// exhausted is set when the budget ran out; it replaces every other diagnostic.
	exhausted *Diagnostic
	// nerr counts the errors in diags.
	nerr int
	// errPaths holds the paths (prefixed by scope) that already have an error.
	errPaths map[string]bool
	// scope tells apart objects whose paths repeat (OpenSLO documents).
	scope string
	// format is the spec format being read.
	format format
	// lf is the file being read.
	lf *loadedFile
}

// maxNodes is the most nodes a walker visits in one file beyond one per byte of the
// file, aliases counted at every use. A file without aliases never reaches it.
const maxNodes = 100000

func newWalker(file string, size int) *walker { return &walker{file: file, budget: maxNodes + size} }

func (w *walker) add(n *yaml.Node, path string, warn bool, format string, args ...any) {
	if !warn {
		w.nerr++
	}
	d := Diagnostic{File: w.file, Path: path, Message: fmt.Sprintf(format, args...), Warning: warn}
	if n != nil {
		d.Line, d.Col = n.Line, n.Column
	}
	w.diags = append(w.diags, d)
}

// errf records an error at node n (nil: no position).
func (w *walker) errf(n *yaml.Node, path, format string, args ...any) {
	if w.errPaths == nil {
		w.errPaths = map[string]bool{}
	}
	w.errPaths[w.scope+path] = true
	w.add(n, path, false, format, args...)
}

// missing records a "required" error at path unless an error was already recorded
// there (a value of the wrong kind is reported once, not also as missing).
func (w *walker) missing(n *yaml.Node, path, format string, args ...any) {
	if w.errPaths[w.scope+path] {
		return
	}
	w.errf(n, path, format, args...)
}

// warnf records a warning at node n.
func (w *walker) warnf(n *yaml.Node, path, format string, args ...any) {
	w.add(n, path, true, format, args...)
}

// failed reports whether any error (not warning) was recorded.
func (w *walker) failed() bool { return w.nerr > 0 }

// resolve follows aliases and charges the node budget. It returns nil once the budget is
// spent (after reporting it once).
func (w *walker) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	w.budget--
	if w.budget == 0 {
		w.exhausted = &Diagnostic{File: w.file, Line: n.Line, Col: n.Column,
			Message: "YAML aliases expand to too many nodes: write the values out instead of nesting aliases"}
	}
	if w.budget <= 0 {
		return nil
	}
	return n
}

// joinPath appends a field name to a path.
func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// indexPath appends a list index to a path.
func indexPath(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// isNull reports whether n is absent or an explicit YAML null (`key:`, `~`, `null`).
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		if len(n.Value) > 40 {
			return strconv.Quote(n.Value[:37] + "...")
		}
		return strconv.Quote(n.Value)
	case yaml.DocumentNode:
		return "a document"
	}
	return "an unknown node"
}

// fields checks that n is a mapping whose keys are all in known, reporting unknown and
// duplicate keys, and returns the value node of each key found. ok is false when n is
// not a mapping (nothing can be read from it). A null n yields an empty map.
func (w *walker) fields(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, bool) {
	n = w.resolve(n)
	if isNull(n) {
		return map[string]*yaml.Node{}, true
	}
	if n.Kind != yaml.MappingNode {
		w.errf(n, path, "must be a mapping, got %s", kindName(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := w.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			return out, true
		}
		if k.Kind != yaml.ScalarNode {
			w.errf(k, path, "field names must be strings, got %s", kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			w.errf(k, path, "merge keys (<<) are not supported: write the fields out")
			continue
		}
		if !contains(known, k.Value) {
			w.errf(k, path, "%s", unknownField(k.Value, known))
			continue
		}
		if _, dup := out[k.Value]; dup {
			w.errf(k, joinPath(path, k.Value), "field given twice: keep one")
			continue
		}
		out[k.Value] = v
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unknownField phrases an unknown-field error with the closest known name as a hint.
func unknownField(got string, known []string) string {
	best, bestDist := "", 1<<30
	for _, k := range known {
		if d := editDistance(strings.ToLower(got), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" && bestDist <= 2+len(best)/4 {
		return fmt.Sprintf("unknown field %q, did you mean %q?", got, best)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return fmt.Sprintf("unknown field %q; allowed here: %s", got, strings.Join(sorted, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

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
