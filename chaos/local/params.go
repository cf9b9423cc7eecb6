// Package local injects faults on one machine: an HTTP fault proxy, TCP faults through
// the toxiproxy library, and process kill or pause.
package local

import (
	"context"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/internal/strictyaml"
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

// decoder reads a params node strictly and collects every problem with its position. A
// null value is read as empty ("params:" with nothing after it).
type decoder struct {
	strictyaml.Decoder
}

func newDecoder(file string) *decoder {
	return &decoder{strictyaml.Decoder{File: file, NullIsEmpty: true}}
}

// isMapping reports whether n is a mapping or null (an empty mapping).
func isMapping(n *yaml.Node) bool { return strictyaml.IsNull(n) || n.Kind == yaml.MappingNode }

// percent reads 0 < p <= 100, written 50, 12.5 or "50%".
func (d *decoder) percent(n *yaml.Node, path string, dst *float64) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 100 {
		d.Errf(n, path, "must be a percentage in (0,100], like 50 or 12.5%%, got %q", v)
		return
	}
	*dst = f
}

func (d *decoder) integer(n *yaml.Node, path string, lo, hi int, dst *int) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < lo || i > hi {
		d.Errf(n, path, "must be an integer in [%d,%d], got %q", lo, hi, v)
		return
	}
	*dst = i
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		d.Errf(n, path, "must be true or false, got %q", v)
		return
	}
	*dst = b
}

// duration reads a Go duration ("250ms", "1m30s"); negative values are errors.
func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	t, err := time.ParseDuration(v)
	if err != nil || t < 0 {
		d.Errf(n, path, "must be a duration like 200ms or 1.5s, got %q", v)
		return
	}
	*dst = t
}

func (d *decoder) oneOf(n *yaml.Node, path string, dst *string, allowed ...string) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	for _, a := range allowed {
		if v == a {
			*dst = v
			return
		}
	}
	d.Errf(n, path, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

// hostPort checks a listen or upstream address "host:port".
func (d *decoder) hostPort(n *yaml.Node, path string, dst *string) {
	v, ok := d.Scalar(n, path)
	if !ok {
		return
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil || port == "" {
		d.Errf(n, path, "must be host:port like 127.0.0.1:8081, got %q", v)
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		d.Errf(n, path, "port must be in [0,65535], got %q", port)
		return
	}
	*dst = v
}
