package serve

import (
	"math"
	"net/url"
	"strings"
	"testing"
)

// FuzzOverviewParams feeds raw query strings to the overview's parser: it must not
// panic, must either accept or name every problem, and what it accepts must render back
// to a query string it accepts again unchanged.
func FuzzOverviewParams(f *testing.F) {
	for _, s := range []string{"", "sort=budget&range=6h", "q=checkout&team=web&state=nodata", "sort=x&sort=y&bogus=1",
		"range=1s", "range=%zz", "service=a%2Fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := parseOverviewParams(v)
		if err != nil {
			pe, ok := err.(*paramError)
			if !ok || len(pe.problems) == 0 || strings.TrimSpace(pe.Error()) == "" {
				t.Fatalf("%q: error without problems: %v", raw, err)
			}
			return
		}
		again, err := url.ParseQuery(strings.TrimPrefix(p.Query(), "?"))
		if err != nil {
			t.Fatalf("%q: rendered %q does not parse: %v", raw, p.Query(), err)
		}
		p2, err := parseOverviewParams(again)
		if err != nil || p2 != p {
			t.Fatalf("%q: round trip %+v → %q → %+v, %v", raw, p, p.Query(), p2, err)
		}
	})
}

// FuzzDecodeAnswer feeds arbitrary bytes to the Prometheus answer decoder: it must not
// panic, and every value it keeps must be finite.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []string{`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"slokit_slo":"a"},"value":[1,"2"]}]}}`,
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"NaN"],[2,"1e400"],[3,"x"],[4]]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"e"}`, `[]`, `{"data":{"result":[1,{"values":3}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeAnswer(b)
		if err != nil {
			return
		}
		for _, s := range a.Samples {
			if math.IsNaN(s.V) || math.IsInf(s.V, 0) {
				t.Fatalf("kept %v", s.V)
			}
		}
		for _, ss := range a.Series {
			for _, p := range ss.Points {
				if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
					t.Fatalf("kept %v", p.V)
				}
			}
		}
	})
}
