package serve

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// paramError lists every problem of a request's query string at once.
type paramError struct{ problems []string }

func (e *paramError) Error() string { return strings.Join(e.problems, "; ") }

// params reads a query string strictly: unknown keys, repeated keys and bad values are
// all reported together.
type params struct {
	v        url.Values
	known    map[string]bool
	problems []string
}

func newParams(v url.Values, keys ...string) *params {
	p := &params{v: v, known: map[string]bool{}}
	for _, k := range keys {
		p.known[k] = true
	}
	var unknown []string
	for k := range v {
		if !p.known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p.problems = append(p.problems, fmt.Sprintf("%s: unknown parameter; this page takes %s", k, strings.Join(keys, ", ")))
	}
	return p
}

func (p *params) addf(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// str returns the single value of key, or def.
func (p *params) str(key, def string) string {
	vs := p.v[key]
	switch {
	case len(vs) == 0:
		return def
	case len(vs) > 1:
		p.addf("%s: given %d times; give it once", key, len(vs))
	}
	return vs[0]
}

// oneOf returns key's value, which must be one of allowed ("" always allowed: the default).
func (p *params) oneOf(key, def string, allowed ...string) string {
	s := p.str(key, def)
	if s == "" {
		return def
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.addf("%s: must be one of %s, got %q", key, strings.Join(allowed, ", "), s)
	return def
}

// duration returns key's value as a Prometheus duration within [lo, hi].
func (p *params) duration(key string, def, lo, hi time.Duration) time.Duration {
	s := p.str(key, "")
	if s == "" {
		return def
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		p.addf("%s: %q is not a duration like 15m, 1h or 7d", key, s)
		return def
	}
	if time.Duration(d) < lo || time.Duration(d) > hi {
		p.addf("%s: must be between %s and %s, got %s", key, model.Duration(lo), model.Duration(hi), s)
		return def
	}
	return time.Duration(d)
}

func (p *params) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return &paramError{p.problems}
}
