package testsummary

import (
	"fmt"
	"io"
	"strings"
)

// Write prints the closing summary: package and test counts, every skipped test with
// its reason, a loud banner when real-component tests were skipped, the failures, and
// last the line "tests: N passed, N failed, N skipped". trim is cut from the front of
// package names (the module path and a slash, for example).
func (s *Summary) Write(w io.Writer, trim string) error {
	name := func(p string) string { return trimName(p, trim) }
	var ok, failed, none int
	for _, p := range s.Packages {
		switch p.Status {
		case "ok":
			ok++
		case "no tests":
			none++
		default:
			failed++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n== test summary\npackages: %d ok, %d failed, %d without tests\n", ok, failed, none)
	if len(s.Skips) > 0 {
		fmt.Fprintf(&b, "\nskipped (%d), with the reason each gave:\n", len(s.Skips))
		for _, k := range s.Skips {
			fmt.Fprintf(&b, "  %s %s: %s\n", name(k.Package), k.Test, k.Reason)
		}
	}
	if n := s.RealMissing(); n > 0 {
		bar := strings.Repeat("!", 78)
		fmt.Fprintf(&b, "\n%s\n!!! %d real-component test(s) SKIPPED: %s\n", bar, n, RealMissingMarker)
		for _, k := range s.Skips {
			if k.Real {
				fmt.Fprintf(&b, "!!!   %s %s\n", name(k.Package), k.Test)
			}
		}
		fmt.Fprintf(&b, "!!! Install the components as .ci/run does; with SLOKIT_REQUIRE_REAL=1 (CI) these fail.\n%s\n", bar)
	}
	if len(s.Failures) > 0 {
		fmt.Fprintf(&b, "\nfailed (%d):\n", len(s.Failures))
		for _, f := range s.Failures {
			if f.Test == "" {
				fmt.Fprintf(&b, "  %s (the package itself: build error, panic or timeout; output above)\n", name(f.Package))
			} else {
				fmt.Fprintf(&b, "  %s %s\n", name(f.Package), f.Test)
			}
		}
	}
	fmt.Fprintf(&b, "\ntests: %s\n", counts(s.Passed, s.Failed, s.Skipped))
	_, err := io.WriteString(w, b.String())
	return err
}
