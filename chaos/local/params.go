// Package local injects faults on one machine: an HTTP fault proxy, TCP faults through
// the toxiproxy library, and process kill or pause.
package local

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// Starter is implemented by every injector of this package. Its long-lived part (the
// proxy's listener, the command slokit runs) starts with Start, before the game day's
// preflight, so that load flows through the proxy or reaches the command from the
// beginning; Close (io.Closer) stops it after the run. Inject starts it too when nobody
// called Start; building an injector (Backend.New) starts nothing, so that `slokit chaos
// cleanup` can re-create one just to call Remove.
type Starter interface {
	Start(ctx context.Context) error
}

var (
	_ Starter   = (*HTTPProxy)(nil)
	_ Starter   = (*TCPProxy)(nil)
	_ Starter   = (*Process)(nil)
	_ io.Closer = (*HTTPProxy)(nil)
	_ io.Closer = (*TCPProxy)(nil)
	_ io.Closer = (*Process)(nil)
)

// paramsPath prefixes the field paths of diagnostics: backends see fault.params.
const paramsPath = "fault.params"

// decoder reads a params node strictly and collects every problem with its position.
type decoder struct {
	file string
	ds   slo.Diagnostics
}

func (d *decoder) errf(n *yaml.Node, path, format string, args ...any) {
	diag := slo.Diagnostic{File: d.file, Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		diag.Line, diag.Col = n.Line, n.Column
	}
	d.ds = append(d.ds, diag)
}

type field struct {
	name   string
	decode func(n *yaml.Node, path string)
}

// mapping calls each field's decode for the keys present; unknown and duplicate keys are
// errors. It returns the keys seen.
func (d *decoder) mapping(n *yaml.Node, path string, fields ...field) map[string]*yaml.Node {
	seen := map[string]*yaml.Node{}
	if n == nil {
		return seen
	}
	if !isMapping(n) {
		d.errf(n, path, "must be a mapping, got %s", kindName(n))
		return seen
	}
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.name
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := path + "." + k.Value
		if _, dup := seen[k.Value]; dup {
			d.errf(k, p, "duplicate field")
			continue
		}
		seen[k.Value] = k
		found := false
		for _, f := range fields {
			if f.name == k.Value {
				f.decode(v, p)
				found = true
			}
		}
		if !found {
			d.errf(k, p, "unknown field; known fields are %s", strings.Join(known, ", "))
		}
	}
	return seen
}

func (d *decoder) require(n *yaml.Node, path string, seen map[string]*yaml.Node, names ...string) {
	if !isMapping(n) {
		return // already reported
	}
	for _, name := range names {
		if _, ok := seen[name]; !ok {
			d.errf(n, path+"."+name, "required field is missing")
		}
	}
}

// isMapping reports whether n is a mapping or null (an empty mapping: "params:" with
// nothing after it).
func isMapping(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.MappingNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errf(n, path, "must be a scalar, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, path string, dst *string) {
	if v, ok := d.scalar(n, path); ok {
		if v == "" {
			d.errf(n, path, "must not be empty")
			return
		}
		*dst = v
	}
}

func (d *decoder) strList(n *yaml.Node, path string, dst *[]string) {
	if n.Kind != yaml.SequenceNode {
		d.errf(n, path, "must be a list, got %s", kindName(n))
		return
	}
	for i, c := range n.Content {
		var s string
		d.str(c, fmt.Sprintf("%s[%d]", path, i), &s)
		*dst = append(*dst, s)
	}
}

// percent reads 0 < p <= 100, written 50, 12.5 or "50%".
func (d *decoder) percent(n *yaml.Node, path string, dst *float64) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 100 {
		d.errf(n, path, "must be a percentage in (0,100], like 50 or 12.5%%, got %q", v)
		return
	}
	*dst = f
}

func (d *decoder) integer(n *yaml.Node, path string, lo, hi int, dst *int) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < lo || i > hi {
		d.errf(n, path, "must be an integer in [%d,%d], got %q", lo, hi, v)
		return
	}
	*dst = i
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		d.errf(n, path, "must be true or false, got %q", v)
		return
	}
	*dst = b
}

// duration reads a Go duration ("250ms", "1m30s"); negative values are errors.
func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	t, err := time.ParseDuration(v)
	if err != nil || t < 0 {
		d.errf(n, path, "must be a duration like 200ms or 1.5s, got %q", v)
		return
	}
	*dst = t
}

func (d *decoder) oneOf(n *yaml.Node, path string, dst *string, allowed ...string) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	for _, a := range allowed {
		if v == a {
			*dst = v
			return
		}
	}
	d.errf(n, path, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

// hostPort checks a listen or upstream address "host:port".
func (d *decoder) hostPort(n *yaml.Node, path string, dst *string) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		d.errf(n, path, "must be host:port like 127.0.0.1:8081, got %q", v)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		d.errf(n, path, "port must be in [0,65535], got %q", port)
		return
	}
	*dst = v
}
