package slo

import (
	"regexp/syntax"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// promKeywords are the words the PromQL lexer does not read as a metric name.
var promKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range parser.Keywords() {
		m[strings.ToLower(k)] = true
	}
	return m
}()

// printedSelector reports, without the Prometheus parser, whether sel is a selector
// the parser accepts and its printer writes back unchanged: name{l1="v1",l2=~"v2"}
// with a legacy metric name that is no keyword, legacy label names other than
// __name__, values of printable ASCII without quotes or backslashes, matchers sorted as
// the printer sorts them, and regular expressions that compile (short, no counted
// repetition, so that the parser's anchored recompilation cannot fail either). It is
// conservative: false means "parse to find out", never "not canonical".
func printedSelector(sel string) bool {
	name, rest := identPrefix(sel, true)
	if name == "" || promKeywords[strings.ToLower(name)] {
		return false
	}
	if rest == "" {
		return true
	}
	if rest[0] != '{' || rest[len(rest)-1] != '}' || len(rest) < 3 {
		return false
	}
	prev := ""
	for _, m := range strings.Split(rest[1:len(rest)-1], ",") {
		if m < prev || !printedMatcher(m) {
			return false
		}
		prev = m
	}
	return true
}

// printedMatcher reports whether m is l="v", l!="v", l=~"v" or l!~"v" as the printer
// writes it (see printedSelector).
func printedMatcher(m string) bool {
	label, rest := identPrefix(m, false)
	if label == "" || label == "__name__" {
		return false
	}
	op := 0
	switch {
	case strings.HasPrefix(rest, "=~"), strings.HasPrefix(rest, "!~"), strings.HasPrefix(rest, "!="):
		op = 2
	case strings.HasPrefix(rest, "="):
		op = 1
	default:
		return false
	}
	v := rest[op:]
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	v = v[1 : len(v)-1]
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' || v[i] == '"' || v[i] == '\\' {
			return false
		}
	}
	if rest[1] != '~' {
		return true
	}
	if len(v) > 256 || strings.Contains(v, "{") {
		return false
	}
	_, err := syntax.Parse(v, syntax.Perl|syntax.DotNL)
	return err == nil
}

// identPrefix splits s after its leading [a-zA-Z_][a-zA-Z0-9_]* (colons too when
// metric is set), a legacy metric or label name.
func identPrefix(s string, metric bool) (ident, rest string) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || metric && c == ':' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		break
	}
	return s[:i], s[i:]
}

// PrintedSelector reports, without the Prometheus parser, that sel is a plain series
// selector written exactly as the Prometheus printer writes it. It is conservative:
// false means "parse to find out".
func PrintedSelector(sel string) bool { return printedSelector(sel) }
