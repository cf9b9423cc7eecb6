package strictyaml

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest file a Decoder parses (8 MiB): slokit's files are
// hand-written; anything larger is a mistake or an attack.
const MaxFileSize = 8 << 20

// MaxDepth is the deepest nesting of mappings and lists a Decoder accepts.
const MaxDepth = 64

// Documents parses data into the root nodes of its YAML documents, skipping empty ones.
// A syntax error (reported with its line and a hint for tab indentation), a file over
// MaxFileSize or nesting deeper than MaxDepth is an error; the documents before it are
// returned.
func (d *Decoder) Documents(data []byte) []*yaml.Node {
	if len(data) > MaxFileSize {
		d.Errf(nil, "", "file larger than %d MiB", MaxFileSize>>20)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			d.syntaxError(err, data)
			return out
		}
		if n := tooDeep(&doc, 0); n != nil {
			d.Errf(n, "", "nested deeper than %d levels", MaxDepth)
			return out
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 && !IsNull(doc.Content[0]) {
			out = append(out, doc.Content[0])
		}
	}
}

// Document parses data as exactly one YAML document and returns its root node; nil
// (reported) when the file is empty, holds several documents or does not parse.
// what names the file's content for the empty-file message ("a game day").
func (d *Decoder) Document(data []byte, what string) *yaml.Node {
	docs := d.Documents(data)
	if d.Failed() {
		return nil
	}
	switch len(docs) {
	case 0:
		d.Errf(nil, "", "empty file: expected %s", what)
		return nil
	case 1:
		return docs[0]
	}
	d.Errf(docs[1], "", "the file holds %d YAML documents; expected one (%s)", len(docs), what)
	return nil
}

// tooDeep returns the first node nested deeper than MaxDepth under n, or nil. Aliases
// are not followed: their expansion is bounded by the node budget.
func tooDeep(n *yaml.Node, depth int) *yaml.Node {
	if depth > MaxDepth {
		return n
	}
	for _, c := range n.Content {
		if bad := tooDeep(c, depth+1); bad != nil {
			return bad
		}
	}
	return nil
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError reports a YAML syntax error at its line (yaml.v3 gives no column), with a
// hint when the line is indented with tabs.
func (d *Decoder) syntaxError(err error, data []byte) {
	msg := err.Error()
	m := yamlLineErr.FindStringSubmatch(msg)
	if m == nil {
		d.Errf(nil, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
		return
	}
	line, _ := strconv.Atoi(m[1])
	text := "invalid YAML: " + m[2]
	if lines := bytes.Split(data, []byte("\n")); line >= 1 && line <= len(lines) {
		indent := lines[line-1][:len(lines[line-1])-len(bytes.TrimLeft(lines[line-1], " \t"))]
		if bytes.Contains(indent, []byte("\t")) {
			text += " (the line is indented with a tab: YAML indents with spaces only)"
		}
	}
	d.Errf(&yaml.Node{Line: line, Column: 1}, "", "%s", text)
}
