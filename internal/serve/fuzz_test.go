package serve

import (
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
