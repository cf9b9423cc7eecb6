package chaosmesh

import (
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
)

// checker walks a YAML node alongside the Go type the apiserver would decode it into
// (by json tags, inline structs flattened) and reports every unknown field and every
// value of the wrong kind with its position, before anything is sent to a cluster.
type checker struct {
	*strictyaml.Decoder
}

// paramsPath prefixes the field paths of diagnostics: a GameDay holds the parameters
// under fault.params.
const paramsPath = "fault.params"

func (c *checker) errorf(n *yaml.Node, path, format string, args ...any) {
	c.Errf(n, strictyaml.Join(paramsPath, path), format, args...)
}

// missing reports a required field that is absent, in the style of every slokit file:
// "required: what to give".
func (c *checker) missing(n *yaml.Node, path, format string, args ...any) {
	c.Missing(n, strictyaml.Join(paramsPath, path), "required: "+format, args...)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// check reports where n does not fit t; path is the field path shown to the user.
func (c *checker) check(n *yaml.Node, t reflect.Type, path string) {
	n = c.Resolve(n)
	if strictyaml.IsNull(n) {
		return // null is accepted for every field, as by the apiserver's JSON decoding
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return // a type with its own decoding (quantities, times): the apiserver judges it
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, path, "must be a mapping, got %s", strictyaml.KindName(n))
			return
		}
		fields := jsonFields(t)
		vals, _ := c.Fields(n, strictyaml.Join(paramsPath, path), slices.Sorted(maps.Keys(fields))...)
		for _, name := range slices.Sorted(maps.Keys(vals)) {
			c.check(vals[name], fields[name].Type, strictyaml.Join(path, name))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.errorf(n, path, "must be a mapping, got %s", strictyaml.KindName(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := c.Resolve(n.Content[i]), n.Content[i+1]
			if k == nil {
				return // the node budget is spent (reported once)
			}
			if k.Kind != yaml.ScalarNode {
				c.errorf(k, path, "keys must be strings, got %s", strictyaml.KindName(k))
				continue
			}
			c.check(v, t.Elem(), strictyaml.Join(path, k.Value))
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			c.scalar(n, "!!str", path, "a string")
			return
		}
		if n.Kind != yaml.SequenceNode {
			c.errorf(n, path, "must be a list, got %s", strictyaml.KindName(n))
			return
		}
		for i, item := range n.Content {
			c.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		c.scalar(n, "!!str", path, "a string")
	case reflect.Bool:
		c.scalar(n, "!!bool", path, "true or false")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		c.scalar(n, "!!int", path, "an integer")
	case reflect.Float32, reflect.Float64:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
			return
		}
		c.scalar(n, "!!float", path, "a number")
	case reflect.Interface:
		// free-form: anything goes
	}
}

func (c *checker) scalar(n *yaml.Node, tag, path, want string) {
	if n.Kind == yaml.ScalarNode && n.Tag == tag {
		return
	}
	if tag == "!!str" && n.Kind == yaml.ScalarNode {
		c.errorf(n, path, "must be a string, got %s; quote it: %q", strictyaml.KindName(n), n.Value)
		return
	}
	c.errorf(n, path, "must be %s, got %s", want, strictyaml.KindName(n))
}

// resolve follows aliases and unwraps a document, without the node budget: for locate and
// mapValue, which look up paths in a spec the checker has already walked under it.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

// jsonFields maps the JSON names of t's fields to the fields, flattening inline structs.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

var pathSegment = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// locate finds the YAML node and the JSON field path that a Chaos Mesh webhook error
// path (Go field names such as "Spec.PodSelector.value" or "Spec.Target[0]") points
// at. spec is the node of the object's spec, specType its Go type. It returns the
// deepest node found.
func locate(spec *yaml.Node, specType reflect.Type, errPath string) (*yaml.Node, string) {
	segs := pathSegment.FindAllString(errPath, -1)
	if len(segs) > 0 && segs[0] == "Spec" {
		segs = segs[1:]
	}
	n, t, path := resolve(spec), specType, "spec"
	for _, s := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(s, "[") {
			i, _ := strconv.Atoi(strings.Trim(s, "[]"))
			if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) || t.Kind() != reflect.Slice {
				return n, path
			}
			n, t, path = resolve(n.Content[i]), t.Elem(), fmt.Sprintf("%s[%d]", path, i)
			continue
		}
		if t.Kind() != reflect.Struct {
			return n, path
		}
		f, inline, ok := fieldByName(t, s)
		if !ok {
			return n, path
		}
		t = f.Type
		if inline {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		v := mapValue(n, name)
		if v == nil {
			return n, strictyaml.Join(path, name)
		}
		n, path = v, strictyaml.Join(path, name)
	}
	return n, path
}

// fieldByName finds s among t's fields by Go name or JSON name, reporting whether
// the field is an inline (flattened) struct.
func fieldByName(t reflect.Type, s string) (reflect.StructField, bool, bool) {
	if f, ok := t.FieldByName(s); ok && len(f.Index) == 1 {
		_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		return f, f.Anonymous && strings.Contains(opts, "inline") || f.Anonymous && f.Tag.Get("json") == "", true
	}
	if f, ok := jsonFields(t)[s]; ok {
		return f, false, true
	}
	return reflect.StructField{}, false, false
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}
