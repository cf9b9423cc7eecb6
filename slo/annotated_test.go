package slo

import (
	"os"
	"strings"
	"testing"
)

// TestAnnotatedSpec: the spec `slokit help spec` prints validates, and is the example of
// the package documentation, line for line.
func TestAnnotatedSpec(t *testing.T) {
	s, ds := Parse("annotated.yaml", []byte(AnnotatedSpec))
	if err := ds.Err(); err != nil || s == nil || len(s.Objectives) != 3 {
		t.Fatalf("the annotated spec does not validate: %v", err)
	}
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	in := false
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "//\tversion: slokit/v1") {
			in = true
		}
		if in {
			if !strings.HasPrefix(l, "//\t") {
				break
			}
			doc = append(doc, strings.TrimPrefix(l, "//\t"))
		}
	}
	if got, want := strings.Join(doc, "\n")+"\n", AnnotatedSpec; got != want {
		t.Errorf("doc.go's example and annotated.yaml differ: edit both\ndoc.go:\n%s\nannotated.yaml:\n%s", got, want)
	}
}
