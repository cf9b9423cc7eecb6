package alerts

import "testing"

// TestPrintedAbsent: absent() of a selector slo.PrintedSelector accepts prints back to
// itself, so noDataRule may skip the parser; other shapes are left to it.
func TestPrintedAbsent(t *testing.T) {
	for _, s := range []string{
		`http_requests_total{job="bench",route="/r0"}`,
		`http_requests_total{code=~"5..",job="bench",route="/r0"}`,
		`up`, `a:b_c{x!="",y!~"a|b.*"}`, `x{code=~"(?i)a"}`, `x{job=""}`,
	} {
		if !printedAbsent([]string{s}) {
			t.Errorf("printedAbsent(%s) = false, want true", s)
		}
		if !isCanonical("absent(" + s + ")") {
			t.Errorf("absent(%s) does not print back to itself", s)
		}
	}
	for _, sels := range [][]string{
		{`x{job="b",code="5"}`}, {`sum{job="x"}`}, {`x{job="a"}`, `y{job="a"}`}, nil,
	} {
		if printedAbsent(sels) {
			t.Errorf("printedAbsent(%q) = true, want false", sels)
		}
	}
}
