// Package yamlpos decodes yaml.v3 nodes strictly, collecting every problem as a
// slo.Diagnostic with its line and column.
package yamlpos

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// Decoder collects the diagnostics of one file. Its zero value (with File set) is ready
// to use.
type Decoder struct {
	// File prefixes every diagnostic.
	File string
	// Diags holds every problem found, in the order found.
	Diags slo.Diagnostics
	// NullIsEmpty accepts an explicit YAML null (`params:` with nothing after it) as an
	// empty mapping in Mapping and as its text in Scalar. When false, null is an error
	// in both.
	NullIsEmpty bool
}

// Errf records an error at node n; a nil n gives a diagnostic without position.
func (d *Decoder) Errf(n *yaml.Node, path, format string, args ...any) {
	diag := slo.Diagnostic{File: d.File, Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		diag.Line, diag.Col = n.Line, n.Column
	}
	d.Diags = append(d.Diags, diag)
}

// Warnf records a warning at node n.
func (d *Decoder) Warnf(n *yaml.Node, path, format string, args ...any) {
	d.Errf(n, path, format, args...)
	d.Diags[len(d.Diags)-1].Warning = true
}

// Field is one key of a mapping: Decode is called with its value node and path.
type Field struct {
	Name     string
	Required bool
	Decode   func(n *yaml.Node, path string)
}

// Mapping decodes n as a mapping with the given fields, calling each field's Decode for
// the keys present, in file order. Unknown and duplicate keys and missing required fields
// are errors. It returns the key node of each key seen, or nil when n is not a mapping
// (reported). A nil n (the key is absent) is an empty mapping.
func (d *Decoder) Mapping(n *yaml.Node, path string, fields ...Field) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	if n != nil && !(d.NullIsEmpty && IsNull(n)) {
		if n.Kind != yaml.MappingNode {
			d.Errf(n, path, "must be a mapping, got %s", KindName(n))
			return nil
		}
		known := make([]string, len(fields))
		for i, f := range fields {
			known[i] = f.Name
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := Join(path, k.Value)
			if _, dup := seen[k.Value]; dup {
				d.Errf(k, p, "duplicate field")
				continue
			}
			seen[k.Value] = k
			found := false
			for _, f := range fields {
				if f.Name == k.Value {
					f.Decode(v, p)
					found = true
				}
			}
			if !found {
				d.Errf(k, p, "unknown field; known fields are %s", strings.Join(known, ", "))
			}
		}
	}
	var required []string
	for _, f := range fields {
		if f.Required {
			required = append(required, f.Name)
		}
	}
	d.Require(n, path, seen, required...)
	return seen
}

// Require reports each of names that seen (from Mapping) lacks as a missing field of n.
// Nothing is reported when seen is nil: n was not a mapping, which Mapping reported.
func (d *Decoder) Require(n *yaml.Node, path string, seen map[string]*yaml.Node, names ...string) {
	if seen == nil {
		return
	}
	for _, name := range names {
		if _, ok := seen[name]; !ok {
			d.Errf(n, Join(path, name), "required field is missing")
		}
	}
}

// List calls each for every item of the list n.
func (d *Decoder) List(n *yaml.Node, path string, each func(n *yaml.Node, path string)) {
	if n.Kind != yaml.SequenceNode {
		d.Errf(n, path, "must be a list, got %s", KindName(n))
		return
	}
	for i, c := range n.Content {
		each(c, path+"["+strconv.Itoa(i)+"]")
	}
}

// Scalar returns the text of the scalar n; a mapping or list is an error, and so is
// null unless NullIsEmpty is set.
func (d *Decoder) Scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || (!d.NullIsEmpty && IsNull(n)) {
		d.Errf(n, path, "must be a scalar value, got %s", KindName(n))
		return "", false
	}
	return n.Value, true
}

// Str stores the non-empty scalar n in dst.
func (d *Decoder) Str(n *yaml.Node, path string, dst *string) {
	if v, ok := d.Scalar(n, path); ok {
		if v == "" {
			d.Errf(n, path, "must not be empty")
			return
		}
		*dst = v
	}
}

// StrList appends the non-empty strings of the list n to dst.
func (d *Decoder) StrList(n *yaml.Node, path string, dst *[]string) {
	d.List(n, path, func(n *yaml.Node, path string) {
		var s string
		d.Str(n, path, &s)
		*dst = append(*dst, s)
	})
}

// IsNull reports whether n is absent or an explicit YAML null.
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// KindName describes n for a message: "a mapping", "a list", "null" or the quoted value.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// Join appends a field name to a dotted path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Required is a field that must be present.
func Required(name string, decode func(n *yaml.Node, path string)) Field {
	return Field{Name: name, Required: true, Decode: decode}
}

// Optional is a field that may be absent.
func Optional(name string, decode func(n *yaml.Node, path string)) Field {
	return Field{Name: name, Decode: decode}
}
