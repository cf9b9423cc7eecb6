// Package ruleyaml writes Prometheus rule groups as YAML fast, byte for byte as yaml.v3
// would, for the values it fully understands.
package ruleyaml

import (
	"github.com/slokit/slokit/slo"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A purpose-built writer for rule groups. The generic YAML encoder builds an event per
// node and analyses every scalar through reflection; for 10,000 SLOs that dominated
// `slokit generate`. This writer produces, byte for byte, what go.yaml.in/yaml/v3 with
// SetIndent(2) writes for a slo.RuleGroup, but only for the values it fully understands:
// it reports ok = false for anything else (empty strings, line breaks, control
// characters, strings YAML would read as a number, bool, null or timestamp, map keys
// outside [a-z_], …) and the caller then encodes that group with yaml.v3. Tests compare
// both encoders on the golden files and under fuzzing.

// AppendRuleGroupYAML appends g as one item of a block sequence whose "- " starts at
// column indent (2 in a rule file, under "groups:"). It returns ok = false, and dst
// unchanged in length, when g holds a value this writer does not handle.
func AppendRuleGroupYAML(dst []byte, g slo.RuleGroup, indent int) (out []byte, ok bool) {
	start := len(dst)
	if dst, ok = AppendRuleGroupHead(dst, g, indent); !ok {
		return dst[:start], false
	}
	for _, r := range g.Rules {
		if dst, ok = AppendRule(dst, r, indent+4); !ok {
			return dst[:start], false
		}
	}
	return dst, true
}

// AppendRuleGroupHead appends what AppendRuleGroupYAML writes before g's rules: the
// sequence item's name, interval and partial_response_strategy, and "rules:". It reports
// false, with dst unchanged in length, for a group without rules or a value this writer
// does not handle. The rules follow as AppendRule items at column indent+4; yaml.v3
// writes each rule of a block sequence independently of its neighbours.
func AppendRuleGroupHead(dst []byte, g slo.RuleGroup, indent int) (out []byte, ok bool) {
	start := len(dst)
	if len(g.Rules) == 0 {
		return dst[:start], false
	}
	dst = appendIndent(dst, indent)
	dst = append(dst, "- name:"...)
	if dst, ok = appendScalar(dst, g.Name); !ok {
		return dst[:start], false
	}
	if g.Interval != "" {
		dst = appendKey(dst, indent+2, "interval")
		if dst, ok = appendScalar(dst, g.Interval); !ok {
			return dst[:start], false
		}
	}
	if g.PartialResponseStrategy != "" {
		dst = appendKey(dst, indent+2, "partial_response_strategy")
		if dst, ok = appendScalar(dst, g.PartialResponseStrategy); !ok {
			return dst[:start], false
		}
	}
	dst = appendKey(dst, indent+2, "rules")
	return append(dst, '\n'), true
}

// AppendRule appends r as an item of a block sequence whose "- " starts at column indent,
// as yaml.v3 writes it. It reports false, with dst unchanged in length, when r holds a
// value this writer does not handle.
func AppendRule(dst []byte, r slo.Rule, indent int) (out []byte, ok bool) {
	start := len(dst)
	if dst, ok = appendRule(dst, r, indent); !ok {
		return dst[:start], false
	}
	return dst, true
}

// appendRule appends r as a sequence item whose "- " starts at column indent.
func appendRule(dst []byte, r slo.Rule, indent int) ([]byte, bool) {
	ok := true
	first := true
	field := func(key, val string, omitEmpty bool) {
		if !ok || omitEmpty && val == "" {
			return
		}
		if first {
			dst = appendIndent(dst, indent)
			dst = append(dst, "- "...)
			dst = append(dst, key...)
			dst = append(dst, ':')
			first = false
		} else {
			dst = appendKey(dst, indent+2, key)
		}
		dst, ok = appendScalar(dst, val)
	}
	field("record", r.Record, true)
	field("alert", r.Alert, true)
	field("expr", r.Expr, false)
	field("for", r.For, true)
	field("keep_firing_for", r.KeepFiringFor, true)
	if !ok {
		return dst, false
	}
	for _, m := range []struct {
		key string
		m   map[string]string
	}{{"labels", r.Labels}, {"annotations", r.Annotations}} {
		if len(m.m) == 0 {
			continue
		}
		dst = appendKey(dst, indent+2, m.key)
		dst = append(dst, '\n')
		if dst, ok = appendStringMap(dst, m.m, indent+4); !ok {
			return dst, false
		}
	}
	return dst, true
}

// appendStringMap appends m as a block mapping at column indent, keys sorted. yaml.v3
// sorts keys in its own "natural" order, which equals byte order for keys made of
// a-z and '_' only; other keys make it report false.
func appendStringMap(dst []byte, m map[string]string, indent int) ([]byte, bool) {
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		if !simpleKey(k) {
			return dst, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ok := true
	for _, k := range keys {
		dst = appendIndent(dst, indent)
		dst = append(dst, k...)
		dst = append(dst, ':')
		if dst, ok = appendScalar(dst, m[k]); !ok {
			return dst, false
		}
	}
	return dst, true
}

// simpleKey reports whether k is written plain and sorts by bytes: [a-z_]{1,128}, and
// not a word YAML reads as a bool or null.
func simpleKey(k string) bool {
	if k == "" || len(k) > 128 || !plainIsString(k) {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// appendKey appends a newline-free "key:" at column indent.
func appendKey(dst []byte, indent int, key string) []byte {
	dst = appendIndent(dst, indent)
	dst = append(dst, key...)
	return append(dst, ':')
}

func appendIndent(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, ' ')
	}
	return dst
}

// appendScalar appends " " + s as a mapping value in block context, plain or single
// quoted as yaml.v3 chooses, then a newline. It reports false for strings whose
// encoding it does not reproduce: empty, control characters or line breaks, runes
// yaml.v3 escapes, and strings that plain would read as something other than a string
// (yaml.v3 double-quotes those).
func appendScalar(dst []byte, s string) ([]byte, bool) {
	if s == "" {
		return dst, false
	}
	if readsAsNonString(s) {
		dst = append(dst, ' ', '"')
		dst = append(dst, s...)
		return append(dst, '"', '\n'), true
	}
	if !plainIsString(s) {
		return dst, false
	}
	quote := strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") ||
		s[0] == ' ' || s[len(s)-1] == ' '
	for i := 0; i < len(s); {
		c := s[i]
		if i > 0 && !scalarSpecial[c] {
			i++ // the common case: a byte that matters only as the first one
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !printableRune(r, size) {
				return dst, false
			}
			i += size
			continue
		}
		if c < 0x20 || c == 0x7f {
			return dst, false
		}
		spaceNext := i+1 == len(s) || s[i+1] == ' '
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				quote = true
			case '?', ':', '-':
				quote = quote || spaceNext
			}
		} else {
			switch c {
			case ':':
				quote = quote || spaceNext
			case '#':
				quote = quote || s[i-1] == ' '
			}
		}
		i++
	}
	dst = append(dst, ' ')
	if !quote {
		dst = append(dst, s...)
		return append(dst, '\n'), true
	}
	dst = append(dst, '\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '\'')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '\'', '\n'), true
}

// scalarSpecial marks the bytes appendScalar looks at after a scalar's first byte:
// control characters, DEL, non-ASCII, ':' and '#'.
var scalarSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == 0x7f || c >= utf8.RuneSelf || c == ':' || c == '#'
	}
	return t
}()

// printableRune reports whether yaml.v3 writes the non-ASCII rune r (of size bytes)
// as is, with no escape, and treats it as an ordinary character (not a line break).
func printableRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return false
	case r == 0x2028 || r == 0x2029 || r == 0xFEFF:
		return false
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD:
		return true
	}
	return false
}

// plainIsString reports whether s, written plain, certainly reads back as a string
// (and yaml.v3 would not quote it for looking like something else). It errs on the
// side of false.
func plainIsString(s string) bool {
	switch c := s[0]; {
	case strings.IndexByte("yYnNtTfFoO~<", c) >= 0:
		if len(s) <= 5 {
			switch strings.ToLower(s) {
			case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<":
				return false
			}
		}
		return true
	case c == '.':
		_, err := strconv.ParseFloat(s, 64)
		return err != nil && !isSpecialFloat(s)
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		if (c == '+' || c == '-') && isSpecialFloat(s[1:]) {
			return false
		}
		if strings.IndexByte(s, ':') >= 0 && strings.Trim(s, "0123456789_:.+-") == "" {
			return false // maybe a sexagesimal number
		}
		if len(s) >= 5 && s[4] == '-' && isDigits(s[:4]) {
			return false // maybe a timestamp
		}
		if strings.ContainsAny(s, " (){}[]\"=,/") || decimalWithLetter(s) {
			return true // no number looks like this
		}
		plain := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return false
		}
		for _, p := range []string{"0b", "-0b", "+0b", "0o", "-0o", "+0o"} {
			if strings.HasPrefix(plain, p) {
				return false
			}
		}
	}
	return true
}

// readsAsNonString reports whether s certainly reads as a bool, null or integer when
// plain, and needs no escape in double quotes, as in `tier: "1"`: yaml.v3 double-quotes
// those. Only all-digit strings and YAML's bool and null words qualify.
func readsAsNonString(s string) bool {
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL",
		"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return isDigits(s)
}

// isSpecialFloat reports whether s is YAML's spelling of infinity or NaN.
func isSpecialFloat(s string) bool {
	switch strings.ToLower(s) {
	case ".inf", ".nan":
		return true
	}
	return false
}

// RuleGroupYAMLSize estimates the bytes AppendRuleGroupYAML writes for g, to size buffers.
func RuleGroupYAMLSize(g slo.RuleGroup) int {
	n := len(g.Name) + len(g.Interval) + len(g.PartialResponseStrategy) + 96
	for _, r := range g.Rules {
		n += len(r.Record) + len(r.Alert) + len(r.Expr) + len(r.For) + len(r.KeepFiringFor) + 128
		for _, m := range []map[string]string{r.Labels, r.Annotations} {
			for k, v := range m {
				n += len(k) + len(v) + 16
			}
		}
	}
	return n
}

// decimalWithLetter reports whether s is an optional sign, a digit that does not start a
// 0x/0o/0b prefix, and later a letter other than e or E, with no '_': like "5m" or "1d",
// which no integer or float syntax accepts.
func decimalWithLetter(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' || strings.IndexByte(s, '_') >= 0 ||
		len(s) > 1 && s[0] == '0' && strings.IndexByte("xXoObB", s[1]) >= 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' && c != 'e' {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
