package chaos

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/slo"
)

// decoder walks yaml.Nodes strictly, collecting every problem with its position.
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

func (d *decoder) warnf(n *yaml.Node, path, format string, args ...any) {
	d.errf(n, path, format, args...)
	d.ds[len(d.ds)-1].Warning = true
}

// field describes one key of a mapping.
type field struct {
	name     string
	required bool
	decode   func(n *yaml.Node, path string)
}

// mapping decodes n as a mapping with exactly the given keys; unknown and duplicate keys
// and missing required keys are errors.
func (d *decoder) mapping(n *yaml.Node, path string, fields ...field) bool {
	if n.Kind != yaml.MappingNode {
		d.errf(n, path, "must be a mapping, got %s", kindName(n))
		return false
	}
	seen := map[string]bool{}
	var known []string
	for _, f := range fields {
		known = append(known, f.name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if seen[k.Value] {
			d.errf(k, p, "duplicate field")
			continue
		}
		seen[k.Value] = true
		var f *field
		for j := range fields {
			if fields[j].name == k.Value {
				f = &fields[j]
			}
		}
		if f == nil {
			d.errf(k, p, "unknown field; known fields are %s", strings.Join(known, ", "))
			continue
		}
		f.decode(v, p)
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			d.errf(n, join(path, f.name), "required field is missing")
		}
	}
	return true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
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

func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errf(n, path, "must be a scalar value, got %s", kindName(n))
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

func (d *decoder) float(n *yaml.Node, path string, dst *float64) bool {
	v, ok := d.scalar(n, path)
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || n.Tag == "!!str" && n.Style != 0 {
		hint := ""
		if strings.Contains(v, ",") {
			hint = " (use a dot as the decimal separator)"
		}
		d.errf(n, path, "must be a number, got %q%s", v, hint)
		return false
	}
	*dst = f
	return true
}

// ratio decodes a fraction in (0,1]; a percentage like "50%" is accepted too.
func (d *decoder) ratio(n *yaml.Node, path string, dst *float64) bool {
	v, ok := d.scalar(n, path)
	if !ok {
		return false
	}
	pct := strings.HasSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil {
		d.errf(n, path, "must be a fraction like 0.5 or a percentage like 50%%, got %q", v)
		return false
	}
	if pct {
		f /= 100
	}
	if f <= 0 || f > 1 {
		d.errf(n, path, "must be in (0,1] (a fraction, or a percentage in (0%%,100%%]), got %s", v)
		return false
	}
	*dst = f
	return true
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	v, ok := d.scalar(n, path)
	if !ok {
		return
	}
	switch v {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.errf(n, path, "must be true or false, got %q", v)
	}
}

// duration decodes a positive Prometheus duration ("90s", "5m", "1h30m").
func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) bool {
	v, ok := d.scalar(n, path)
	if !ok {
		return false
	}
	md, err := model.ParseDuration(v)
	if err != nil {
		d.errf(n, path, "must be a duration like 90s, 5m or 1h, got %q", v)
		return false
	}
	if md <= 0 {
		d.errf(n, path, "must be positive, got %q", v)
		return false
	}
	*dst = time.Duration(md)
	return true
}

// parseWindow parses a window label in Prometheus duration syntax.
func parseWindow(w string) (time.Duration, error) {
	d, err := model.ParseDuration(w)
	return time.Duration(d), err
}
