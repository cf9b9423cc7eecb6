package slo

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

var printedSelectorSeeds = []string{
	`http_requests_total{code=~"5..",job="bench",route="/r0"}`,
	`http_requests_total{job="bench",route="/r0"}`,
	`up`, `a:b_c{x!="",y!~"a|b.*"}`,
	`sum{job="x"}`, `offset{job="x"}`, `Inf{job="x"}`, `nan`,
	`x{job="b",code="5"}`, `x{job="a", code="5"}`, `x{job='a'}`, `x{job="\"a"}`,
	`x{code=~"5{2}"}`, `x{code=~"5("}`, `x{__name__="x"}`, `{job="a"}`, `x{}`,
	`x{job="a"} offset 5m`, `x{job="a",}`, `9x{job="a"}`, `x{job="é"}`, `x{code=~"(?i)a"}`,
}

// TestPrintedSelector: the usual printed selectors are recognised without the parser,
// and neither recognised form disagrees with the parser and printer.
func TestPrintedSelector(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	want := map[string]bool{
		`http_requests_total{code=~"5..",job="bench",route="/r0"}`: true,
		`http_requests_total{job="bench",route="/r0"}`:             true,
		`up`:                      true,
		`a:b_c{x!="",y!~"a|b.*"}`: true,
		`x{code=~"(?i)a"}`:        true,
		`sum{job="x"}`:            false, // a keyword: left to the parser
		`x{job="b",code="5"}`:     false, // unsorted
		`x{job="a", code="5"}`:    false,
		`x{code=~"5("}`:           false, // invalid regular expression
		`x{code=~"5{2}"}`:         false, // counted repetition: left to the parser
		`x{job="a"} offset 5m`:    false,
		`x{__name__="x"}`:         false,
	}
	for _, s := range printedSelectorSeeds {
		got := printedSelector(s)
		if w, ok := want[s]; ok && got != w {
			t.Errorf("printedSelector(%s) = %v, want %v", s, got, w)
		}
		if got && !parsedCanonical(p, s) {
			t.Errorf("printedSelector(%s) = true, but the parser and printer disagree", s)
		}
	}
}

// FuzzPrintedSelector: whatever printedSelector accepts, the Prometheus parser parses as
// a plain selector its printer writes back unchanged, alone and inside absent().
func FuzzPrintedSelector(f *testing.F) {
	for _, s := range printedSelectorSeeds {
		f.Add(s)
	}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, s string) {
		if !printedSelector(s) {
			return
		}
		if !parsedCanonical(p, s) {
			t.Errorf("printedSelector(%q) = true, but the parser and printer disagree", s)
		}
		// alerts' no-data rule embeds such a selector in absent() without parsing.
		if out, err := CanonicalExpr(p, "absent("+s+")"); err != nil || out != "absent("+s+")" {
			t.Errorf("absent(%s) prints as %q (%v)", s, out, err)
		}
	})
}
