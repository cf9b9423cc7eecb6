// Package strictyaml is the one strict YAML decoder behind every file slokit reads: SLO
// specs in every format, game days, fault parameters, backtest scenarios and Chaos Mesh
// specs. It reads yaml.v3 nodes and never stops at the first problem: every unknown,
// duplicate or missing field and every value of the wrong kind becomes a Diagnostic with
// file, line, column and field path, in one style ("did you mean" for near misses), sorted
// into reading order. Files are bounded in size, nesting depth and alias expansion.
//
// A decoder for a file format is a few lines:
//
//	d := strictyaml.New(file, len(data))
//	root := d.Document(data)                       // syntax errors, limits, one document
//	d.Mapping(root, "", strictyaml.Required("name", func(n *yaml.Node, path string) {
//		d.Str(n, path, &spec.Name)
//	}), strictyaml.Optional("labels", func(n *yaml.Node, path string) { ... }))
//	return spec, d.Diagnostics()                   // every problem, sorted
package strictyaml

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// MaxNodes is how many nodes a Decoder visits in one file beyond one per byte of the file,
// aliases counted at every use. A file without aliases never reaches it; a "billion
// laughs" file does, and gets one diagnostic instead of exhausting memory.
const MaxNodes = 100000

// Decoder collects the diagnostics of one file. New sets it up; a Decoder with only File
// set works too (its node budget is then MaxNodes).
type Decoder struct {
	// File prefixes every diagnostic.
	File string
	// Size is the file's length in bytes; it raises the node budget (see MaxNodes).
	Size int
	// Diags holds every problem found, in the order found; Diagnostics returns them sorted.
	Diags Diagnostics
	// Errs counts the errors (not warnings) in Diags.
	Errs int
	// Exhausted is set once the node budget ran out; it then replaces every other
	// diagnostic, which would be noise.
	Exhausted *Diagnostic
	// Scope tells apart objects whose paths repeat (several documents in one file): an
	// error recorded at a path is remembered per scope, so Missing does not repeat it.
	Scope string
	// NullIsEmpty accepts an explicit YAML null (`params:` with nothing after it) as an
	// empty mapping in Mapping and as an empty text in Scalar. When false, null is an
	// error in both.
	NullIsEmpty bool

	used     int
	errPaths map[string]bool
}

// New returns a Decoder for file of size bytes.
func New(file string, size int) *Decoder { return &Decoder{File: file, Size: size} }

// Diagnostics returns every problem found, sorted into reading order; only the budget
// diagnostic when the node budget ran out.
func (d *Decoder) Diagnostics() Diagnostics {
	if d.Exhausted != nil {
		return Diagnostics{*d.Exhausted}
	}
	out := append(Diagnostics(nil), d.Diags...)
	out.Sort()
	return out
}

// Failed reports whether an error (not a warning) was recorded.
func (d *Decoder) Failed() bool { return d.Errs > 0 || d.Exhausted != nil }

func (d *Decoder) add(n *yaml.Node, path string, warn bool, format string, args ...any) {
	if !warn {
		d.Errs++
	}
	diag := Diagnostic{File: d.File, Path: path, Message: fmt.Sprintf(format, args...), Warning: warn}
	if n != nil {
		diag.Line, diag.Col = n.Line, n.Column
	}
	d.Diags = append(d.Diags, diag)
}

// Errf records an error at node n; a nil n gives a diagnostic without position.
func (d *Decoder) Errf(n *yaml.Node, path, format string, args ...any) {
	if d.errPaths == nil {
		d.errPaths = map[string]bool{}
	}
	d.errPaths[d.Scope+"\x00"+path] = true
	d.add(n, path, false, format, args...)
}

// Warnf records a warning at node n.
func (d *Decoder) Warnf(n *yaml.Node, path, format string, args ...any) {
	d.add(n, path, true, format, args...)
}

// Missing records an error at path unless one was already recorded there: a value of the
// wrong kind is reported once, not again as missing.
func (d *Decoder) Missing(n *yaml.Node, path, format string, args ...any) {
	if d.errPaths[d.Scope+"\x00"+path] {
		return
	}
	d.Errf(n, path, format, args...)
}

// HasError reports whether an error was recorded at path (in the current Scope).
func (d *Decoder) HasError(path string) bool { return d.errPaths[d.Scope+"\x00"+path] }

// Resolve follows aliases and charges the node budget. It returns nil for nil and once
// the budget is spent (reported once, in Exhausted).
func (d *Decoder) Resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.used++
	if d.used == MaxNodes+d.Size {
		d.Exhausted = &Diagnostic{File: d.File, Line: n.Line, Col: n.Column,
			Message: "YAML aliases expand to too many nodes: write the values out instead of nesting aliases"}
	}
	if d.used >= MaxNodes+d.Size {
		return nil
	}
	return n
}

// Fields checks that n is a mapping whose keys are all in known, reporting unknown keys
// (with the closest known name as a hint), duplicate keys, merge keys and non-string
// keys, and returns the value node of each key found. ok is false when n is not a
// mapping (reported). A null or absent n yields an empty map.
func (d *Decoder) Fields(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, bool) {
	out, _, ok := d.fields(n, path, known)
	return out, ok
}

func (d *Decoder) fields(n *yaml.Node, path string, known []string) (vals, keys map[string]*yaml.Node, ok bool) {
	n = d.Resolve(n)
	if IsNull(n) {
		return map[string]*yaml.Node{}, map[string]*yaml.Node{}, true
	}
	if n.Kind != yaml.MappingNode {
		d.Errf(n, path, "must be a mapping, got %s", KindName(n))
		return nil, nil, false
	}
	vals = make(map[string]*yaml.Node, len(n.Content)/2)
	keys = make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.Resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			return vals, keys, true
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			d.Errf(k, path, "field names must be strings, got %s", KindName(k))
		case k.Tag == "!!merge":
			d.Errf(k, path, "merge keys (<<) are not supported: write the fields out")
		case !contains(known, k.Value):
			d.Errf(k, path, "%s", UnknownField(k.Value, known))
		case keys[k.Value] != nil:
			d.Errf(k, Join(path, k.Value), "field given twice: keep one")
		default:
			vals[k.Value], keys[k.Value] = v, k
		}
	}
	return vals, keys, true
}

// Field is one key of a mapping for Mapping: Decode is called with its value node and
// path when the key is present.
type Field struct {
	Name     string
	Required bool
	Decode   func(n *yaml.Node, path string)
}

// Required is a field that must be present.
func Required(name string, decode func(n *yaml.Node, path string)) Field {
	return Field{Name: name, Required: true, Decode: decode}
}

// Optional is a field that may be absent.
func Optional(name string, decode func(n *yaml.Node, path string)) Field {
	return Field{Name: name, Decode: decode}
}

// Mapping decodes n as a mapping with the given fields (as Fields does) and calls each
// present field's Decode in the order of fields; a missing required field is an error.
// It returns the key node of each key seen, or nil when n is not a mapping (reported).
// An absent n is an empty mapping, and so is a null n when NullIsEmpty is set.
func (d *Decoder) Mapping(n *yaml.Node, path string, fields ...Field) map[string]*yaml.Node {
	if n != nil && IsNull(d.Resolve(n)) && !d.NullIsEmpty {
		d.Errf(n, path, "must be a mapping, got null")
		return nil
	}
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.Name
	}
	vals, keys, ok := d.fields(n, path, known)
	if !ok {
		return nil
	}
	for _, f := range fields {
		if v, present := vals[f.Name]; present {
			f.Decode(v, Join(path, f.Name))
		} else if f.Required {
			d.Missing(n, Join(path, f.Name), "required field is missing")
		}
	}
	return keys
}

// List calls each for every item of the list n; anything but a list is an error.
func (d *Decoder) List(n *yaml.Node, path string, each func(n *yaml.Node, path string)) {
	items, ok := d.Seq(n, path)
	if !ok || n == nil {
		if ok {
			d.Errf(n, path, "must be a list, got nothing")
		}
		return
	}
	for i, c := range items {
		each(c, Index(path, i))
	}
}

// Seq returns the items of the list n; nil and ok for an absent or null n. Anything
// else is an error.
func (d *Decoder) Seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = d.Resolve(n)
	if IsNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.Errf(n, path, "must be a list, got %s", KindName(n))
		return nil, false
	}
	return n.Content, true
}

// Scalar returns the text of the scalar n; a mapping or list is an error, and so is
// null or an absent value unless NullIsEmpty is set.
func (d *Decoder) Scalar(n *yaml.Node, path string) (string, bool) {
	r := d.Resolve(n)
	if IsNull(r) {
		if d.NullIsEmpty {
			return "", true
		}
		d.Errf(n, path, "must be a single value, got null")
		return "", false
	}
	if r.Kind != yaml.ScalarNode {
		d.Errf(r, path, "must be a single value, got %s", KindName(r))
		return "", false
	}
	return r.Value, true
}

// Str stores the non-empty scalar n in dst.
func (d *Decoder) Str(n *yaml.Node, path string, dst *string) bool {
	v, ok := d.Scalar(n, path)
	if !ok {
		return false
	}
	if v == "" {
		d.Errf(n, path, "must not be empty")
		return false
	}
	*dst = v
	return true
}

// StrList appends the non-empty strings of the list n to dst.
func (d *Decoder) StrList(n *yaml.Node, path string, dst *[]string) {
	d.List(n, path, func(n *yaml.Node, path string) {
		var s string
		if d.Str(n, path, &s) {
			*dst = append(*dst, s)
		}
	})
}

// Bool stores the boolean n in dst; anything but true or false is an error.
func (d *Decoder) Bool(n *yaml.Node, path string, dst *bool) bool {
	r := d.Resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.Tag != "!!bool" {
		if r == nil {
			r = n
		}
		d.Errf(r, path, "must be true or false, got %s", KindName(r))
		return false
	}
	*dst = r.Value == "true" || r.Value == "True" || r.Value == "TRUE"
	return true
}

// Float stores the number n in dst; a quoted string or anything else is an error.
func (d *Decoder) Float(n *yaml.Node, path string, dst *float64) bool {
	r := d.Resolve(n)
	if r != nil && r.Kind == yaml.ScalarNode && (r.Tag == "!!int" || r.Tag == "!!float") {
		if f, err := strconv.ParseFloat(r.Value, 64); err == nil {
			*dst = f
			return true
		}
	}
	if r == nil {
		r = n
	}
	d.Errf(r, path, "must be a number, got %s", KindName(r))
	return false
}

// Require reports each of names that seen (the keys Mapping returned) lacks as a missing
// field of n. Nothing is reported when seen is nil: n was not a mapping, already reported.
func (d *Decoder) Require(n *yaml.Node, path string, seen map[string]*yaml.Node, names ...string) {
	if seen == nil {
		return
	}
	for _, name := range names {
		if _, ok := seen[name]; !ok {
			d.Missing(n, Join(path, name), "required field is missing")
		}
	}
}
