package strictyaml

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UnknownField phrases an unknown-field error: with the closest known name as a hint when
// one is near ("unknown field \"objectve\", did you mean \"objective\"?"), else with the
// sorted list of the names allowed there.
func UnknownField(got string, known []string) string {
	if best := Suggest(got, known); best != "" {
		return fmt.Sprintf("unknown field %q, did you mean %q?", got, best)
	}
	sorted := slices.Clone(known)
	slices.Sort(sorted)
	return fmt.Sprintf("unknown field %q; allowed here: %s", got, strings.Join(sorted, ", "))
}

// Suggest returns the name of known closest to got (case-insensitive edit distance), or
// "" when none is close enough to be the one meant.
func Suggest(got string, known []string) string {
	best, bestDist := "", 1<<30
	for _, k := range known {
		if d := editDistance(strings.ToLower(got), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" && bestDist <= 2+len(best)/4 {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b; long strings are far apart.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// IsNull reports whether n is absent or an explicit YAML null (`key:`, `~`, `null`).
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// KindName describes n for a message: "a mapping", "a list", "null", "the number 3",
// "the boolean true" or the quoted value (shortened past 40 characters).
func KindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		if len(n.Value) > 40 {
			return strconv.Quote(n.Value[:37] + "...")
		}
		return strconv.Quote(n.Value)
	}
	return "an unknown node"
}

// Join appends a field name to a dotted path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a path: "slos" and 1 give "slos[1]".
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func contains(list []string, s string) bool { return slices.Contains(list, s) }
