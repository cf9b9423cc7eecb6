package chaos

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
)

// decoder walks a game-day file's yaml.Nodes strictly, collecting every problem with its
// position; null is an error wherever a value is expected.
type decoder struct {
	strictyaml.Decoder
}

func newDecoder(file string) *decoder { return &decoder{strictyaml.Decoder{File: file}} }

func (d *decoder) float(n *yaml.Node, path string, dst *float64) bool {
	v, ok := d.Scalar(n, path)
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || n.Tag == "!!str" && n.Style != 0 {
		hint := ""
		if strings.Contains(v, ",") {
			hint = " (use a dot as the decimal separator)"
		}
		d.Errf(n, path, "must be a number, got %q%s", v, hint)
		return false
	}
	*dst = f
	return true
}

// ratio decodes a fraction in (0,1]; a percentage like "50%" is accepted too.
func (d *decoder) ratio(n *yaml.Node, path string, dst *float64) bool {
	v, ok := d.Scalar(n, path)
	if !ok {
		return false
	}
	pct := strings.HasSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil {
		d.Errf(n, path, "must be a fraction like 0.5 or a percentage like 50%%, got %q", v)
		return false
	}
	if pct {
		f /= 100
	}
	if f <= 0 || f > 1 {
		d.Errf(n, path, "must be in (0,1] (a fraction, or a percentage in (0%%,100%%]), got %s", v)
		return false
	}
	*dst = f
	return true
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	switch v {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.Errf(n, path, "must be true or false, got %q", v)
	}
}

// duration decodes a positive Prometheus duration ("90s", "5m", "1h30m").
func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) bool {
	v, ok := d.Scalar(n, path)
	if !ok {
		return false
	}
	md, err := model.ParseDuration(v)
	if err != nil {
		d.Errf(n, path, "must be a duration like 90s, 5m or 1h, got %q", v)
		return false
	}
	if md <= 0 {
		d.Errf(n, path, "must be positive, got %q", v)
		return false
	}
	*dst = time.Duration(md)
	return true
}
