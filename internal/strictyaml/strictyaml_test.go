package strictyaml_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
)

// spec is a small file format decoded the way every slokit format is.
type spec struct {
	Name   string
	Ratio  float64
	On     bool
	Tags   []string
	Nested struct{ Mode string }
}

func decode(file string, data []byte) (spec, strictyaml.Diagnostics) {
	var s spec
	d := strictyaml.New(file, len(data))
	root := d.Document(data, "a spec")
	if root == nil {
		return s, d.Diagnostics()
	}
	d.Mapping(root, "",
		strictyaml.Required("name", func(n *yaml.Node, p string) { d.Str(n, p, &s.Name) }),
		strictyaml.Optional("ratio", func(n *yaml.Node, p string) { d.Float(n, p, &s.Ratio) }),
		strictyaml.Optional("on", func(n *yaml.Node, p string) { d.Bool(n, p, &s.On) }),
		strictyaml.Optional("tags", func(n *yaml.Node, p string) { d.StrList(n, p, &s.Tags) }),
		strictyaml.Optional("nested", func(n *yaml.Node, p string) {
			d.Mapping(n, p, strictyaml.Required("mode", func(n *yaml.Node, p string) { d.Str(n, p, &s.Nested.Mode) }))
		}),
	)
	return s, d.Diagnostics()
}

func render(ds strictyaml.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func TestDecoderReportsEveryProblemSorted(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"valid", "name: a\nratio: 0.5\non: true\ntags: [x, y]\nnested: {mode: m}\n", ""},
		{"everything wrong", "nested: {}\nratio: \"0.5\"\nnmae: a\non: yes please\ntags: x\nratio: 1\n",
			"f.yaml:1:1: name: required field is missing\n" +
				"f.yaml:1:9: nested.mode: required field is missing\n" +
				"f.yaml:2:8: ratio: must be a number, got \"0.5\"\n" +
				"f.yaml:3:1: unknown field \"nmae\", did you mean \"name\"?\n" +
				"f.yaml:4:5: on: must be true or false, got \"yes please\"\n" +
				"f.yaml:5:7: tags: must be a list, got \"x\"\n" +
				"f.yaml:6:1: ratio: field given twice: keep one\n"},
		{"far from any field", "name: a\ncolour: red\n",
			"f.yaml:2:1: unknown field \"colour\"; allowed here: name, nested, on, ratio, tags\n"},
		{"not a mapping", "[1]\n", "f.yaml:1:1: must be a mapping, got a list\n"},
		{"empty", "", "f.yaml: empty file: expected a spec\n"},
		{"two documents", "name: a\n---\nname: b\n", "f.yaml:3:1: the file holds 2 YAML documents; expected one (a spec)\n"},
		{"syntax", "name: a\n\tratio: 1\n", "f.yaml:2:1: invalid YAML: found a tab character that violates indentation (the line is indented with a tab: YAML indents with spaces only)\n"},
		{"merge key", "name: a\n<<: {on: true}\n", "f.yaml:2:1: merge keys (<<) are not supported: write the fields out\n"},
		{"deep", "name: a\nnested: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n",
			"f.yaml:2:72: nested deeper than 64 levels\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := decode("f.yaml", []byte(tt.in))
			if got := render(ds); got != tt.want {
				t.Errorf("got\n%swant\n%s", got, tt.want)
			}
		})
	}
}

func TestAliasBombIsOneDiagnostic(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	d := strictyaml.New("bomb.yaml", b.Len())
	root := d.Document([]byte(b.String()), "a spec")
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n = d.Resolve(n); n == nil {
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	ds := d.Diagnostics()
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "aliases expand to too many nodes") {
		t.Fatalf("diagnostics %v, want the one budget diagnostic", ds)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"objective", "period", "alerting"}
	for in, want := range map[string]string{"objectve": "objective", "Period": "period", "alert": "alerting", "zzz": ""} {
		if got := strictyaml.Suggest(in, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSortOrdersByFileThenPosition(t *testing.T) {
	ds := strictyaml.Diagnostics{
		{File: "b", Line: 1, Message: "b1"}, {File: "a", Line: 3, Message: "a3"},
		{File: "b", Message: "b0"}, {File: "a", Line: 1, Col: 2, Message: "a1"},
	}
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.Message)
	}
	if strings.Join(got, " ") != "b0 b1 a1 a3" {
		t.Errorf("sorted %v", got)
	}
}

// FuzzDecoder feeds arbitrary bytes: no panic, every diagnostic has a message and the
// file name, diagnostics come sorted, and a clean decode has its required field.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"name: a\nratio: 0.5\non: true\ntags: [x, y]\nnested: {mode: m}\n",
		"nested: {}\nratio: \"0.5\"\nnmae: a\n", "a: &a [*a]\n", "- 1\n- 2\n", "name: a\n---\nname: b\n",
		"{name: a, name: b}\n", "<<: {name: a}\n", "? [a]\n: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, ds := decode("f.yaml", data)
		for i, d := range ds {
			if d.Message == "" || d.File != "f.yaml" {
				t.Fatalf("diagnostic without message or file: %+v", d)
			}
			if i > 0 && (d.Line < ds[i-1].Line || d.Line == ds[i-1].Line && d.Col < ds[i-1].Col) {
				t.Fatalf("diagnostics out of order:\n%s", render(ds))
			}
		}
		if len(ds.Errors()) == 0 && s.Name == "" {
			t.Fatalf("clean decode without the required name: %q", data)
		}
	})
}
