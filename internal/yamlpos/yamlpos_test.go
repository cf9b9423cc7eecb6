package yamlpos

import (
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root parses src and returns its top node.
func root(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func diagLines(d *Decoder) []string {
	var out []string
	for _, x := range d.Diags {
		out = append(out, x.String())
	}
	return out
}

// TestMapping reads a mapping with one required and one optional string field.
func TestMapping(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		nullIsEmpty bool
		wantName    string
		want        []string
	}{
		{"ok", "name: a\nnote: b", false, "a", nil},
		{"unknown and duplicate", "name: a\nnmae: b\nname: c", false, "a", []string{
			"f.yaml:2:1: p.nmae: unknown field; known fields are name, note",
			"f.yaml:3:1: p.name: duplicate field",
		}},
		{"required missing", "note: b", false, "", []string{"f.yaml:1:1: p.name: required field is missing"}},
		{"not a mapping", "[a]", false, "", []string{"f.yaml:1:1: p: must be a mapping, got a list"}},
		{"null is an error", "~", false, "", []string{"f.yaml:1:1: p: must be a mapping, got null"}},
		{"null is empty", "~", true, "", []string{"f.yaml:1:1: p.name: required field is missing"}},
		{"empty name", "name: ''", false, "", []string{"f.yaml:1:7: p.name: must not be empty"}},
		{"name is a list", "name: [x]", false, "", []string{"f.yaml:1:7: p.name: must be a scalar value, got a list"}},
		{"null name", "name: ~", false, "", []string{"f.yaml:1:7: p.name: must be a scalar value, got null"}},
		{"null name accepted as text", "name: ~", true, "~", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Decoder{File: "f.yaml", NullIsEmpty: tt.nullIsEmpty}
			var name, note string
			d.Mapping(root(t, tt.src), "p",
				Required("name", func(n *yaml.Node, p string) { d.Str(n, p, &name) }),
				Optional("note", func(n *yaml.Node, p string) { d.Str(n, p, &note) }),
			)
			if got := diagLines(d); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diagnostics:\n got %q\nwant %q", got, tt.want)
			}
			if name != tt.wantName {
				t.Errorf("name = %q, want %q", name, tt.wantName)
			}
		})
	}
}

// TestMappingAbsent treats a nil node (the key is absent) as an empty mapping: required
// fields are reported without a position, and Require sees the keys.
func TestMappingAbsent(t *testing.T) {
	d := &Decoder{File: "f.yaml"}
	seen := d.Mapping(nil, "p", Required("a", func(*yaml.Node, string) {}))
	d.Require(nil, "p", seen, "b")
	want := []string{"f.yaml: p.a: required field is missing", "f.yaml: p.b: required field is missing"}
	if got := diagLines(d); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n got %q\nwant %q", got, want)
	}
	// Not a mapping: seen is nil and Require adds nothing to the one error.
	d = &Decoder{File: "f.yaml"}
	d.Require(nil, "p", d.Mapping(root(t, "x"), "p"), "b")
	if got := diagLines(d); !reflect.DeepEqual(got, []string{`f.yaml:1:1: p: must be a mapping, got "x"`}) {
		t.Errorf("diagnostics: %q", got)
	}
}

func TestStrList(t *testing.T) {
	d := &Decoder{File: "f.yaml"}
	var got []string
	d.StrList(root(t, "[a, '', b]"), "l", &got)
	if want := []string{"a", "", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("list = %q, want %q", got, want)
	}
	if want := []string{"f.yaml:1:5: l[1]: must not be empty"}; !reflect.DeepEqual(diagLines(d), want) {
		t.Errorf("diagnostics %q, want %q", diagLines(d), want)
	}
	d = &Decoder{File: "f.yaml"}
	d.StrList(root(t, "{a: 1}"), "l", &got)
	d.Warnf(nil, "w", "careful")
	want := []string{"f.yaml:1:1: l: must be a list, got a mapping", "f.yaml: w: warning: careful"}
	if !reflect.DeepEqual(diagLines(d), want) {
		t.Errorf("diagnostics %q, want %q", diagLines(d), want)
	}
}

func TestJoin(t *testing.T) {
	for _, tt := range []struct{ path, key, want string }{{"", "a", "a"}, {"a", "b", "a.b"}, {"a[0]", "b", "a[0].b"}} {
		if got := Join(tt.path, tt.key); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.path, tt.key, got, tt.want)
		}
	}
}
