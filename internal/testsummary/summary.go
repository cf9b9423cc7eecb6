// Package testsummary reads the event stream of `go test -json` and reports what ran:
// a line per package as it finishes, the output of each failing test, and a closing
// summary with every skipped test and its reason, the real-component skips counted
// loudly. `make test` pipes the whole test run through it.
package testsummary

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// RealMissingMarker starts the skip message of a test whose real component (promtool,
// Prometheus, Chromium, a kube-apiserver, …) is not installed; see internal/testutil.
const RealMissingMarker = "REAL COMPONENT MISSING"

// event is one line of `go test -json` (cmd/test2json's TestEvent, plus the build
// events of `go test -json` since Go 1.24).
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string
	FailedBuild string
}

// Skip is one skipped test and the reason it gave.
type Skip struct {
	Package, Test, Reason string
	// Real is set when the reason says a real component is missing.
	Real bool
}

// Failure is one failed test, or a package that failed outside any test (a build
// error, a panic in TestMain, a timeout), with its output.
type Failure struct {
	Package, Test, Output string
}

// Package is the result of one package.
type Package struct {
	Name                    string
	Status                  string // ok, FAIL, or "no tests"
	Elapsed                 time.Duration
	Passed, Failed, Skipped int
}

// Summary is what a whole run did. Tests count subtests as well.
type Summary struct {
	Packages                []Package
	Passed, Failed, Skipped int
	Skips                   []Skip
	Failures                []Failure
	// Lines is the count of input lines that were not test events (echoed as is).
	Lines int
}

// RealMissing counts the skips of tests whose real component is missing.
func (s *Summary) RealMissing() int {
	n := 0
	for _, k := range s.Skips {
		if k.Real {
			n++
		}
	}
	return n
}

// OK reports whether nothing failed.
func (s *Summary) OK() bool {
	if s.Failed > 0 || len(s.Failures) > 0 {
		return false
	}
	for _, p := range s.Packages {
		if p.Status == "FAIL" {
			return false
		}
	}
	return true
}

type key struct{ pkg, test string }

// reader accumulates a run.
type reader struct {
	sum      Summary
	progress io.Writer
	trim     string
	output   map[key]*strings.Builder // output of running tests and packages
	build    map[string]*strings.Builder
	pkgs     map[string]*Package
}

// Read consumes a `go test -json` stream from r. As packages finish it writes a line
// each to progress (package names without the prefix trim), with the output of every
// test that failed; lines that are not test events are echoed to progress unchanged.
// It returns when r ends.
func Read(r io.Reader, progress io.Writer, trim string) (*Summary, error) {
	rd := &reader{progress: progress, trim: trim, output: map[key]*strings.Builder{}, build: map[string]*strings.Builder{}, pkgs: map[string]*Package{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil || ev.Action == "" {
			rd.sum.Lines++
			fmt.Fprintf(progress, "%s\n", line)
			continue
		}
		rd.handle(ev)
	}
	rd.flushUnfinished()
	sort.Slice(rd.sum.Packages, func(i, j int) bool { return rd.sum.Packages[i].Name < rd.sum.Packages[j].Name })
	return &rd.sum, sc.Err()
}

func (rd *reader) pkg(name string) *Package {
	p, ok := rd.pkgs[name]
	if !ok {
		p = &Package{Name: name}
		rd.pkgs[name] = p
	}
	return p
}

func (rd *reader) out(k key) *strings.Builder {
	b, ok := rd.output[k]
	if !ok {
		b = &strings.Builder{}
		rd.output[k] = b
	}
	return b
}

func (rd *reader) handle(ev event) {
	switch ev.Action {
	case "build-output":
		b, ok := rd.build[ev.ImportPath]
		if !ok {
			b = &strings.Builder{}
			rd.build[ev.ImportPath] = b
		}
		b.WriteString(ev.Output)
		return
	case "build-fail":
		return // reported by the package's fail event (FailedBuild)
	}
	k := key{ev.Package, ev.Test}
	switch ev.Action {
	case "start":
		rd.pkg(ev.Package)
	case "output":
		rd.out(k).WriteString(ev.Output)
	case "pass", "fail", "skip":
		if ev.Test == "" {
			rd.packageDone(ev)
		} else {
			rd.testDone(ev)
		}
	}
}

func (rd *reader) testDone(ev event) {
	k := key{ev.Package, ev.Test}
	out := rd.output[k]
	delete(rd.output, k)
	p := rd.pkg(ev.Package)
	switch ev.Action {
	case "pass":
		p.Passed++
		rd.sum.Passed++
	case "skip":
		p.Skipped++
		rd.sum.Skipped++
		reason := skipReason(out)
		rd.sum.Skips = append(rd.sum.Skips, Skip{Package: ev.Package, Test: ev.Test, Reason: reason,
			Real: strings.Contains(reason, RealMissingMarker)})
	case "fail":
		p.Failed++
		rd.sum.Failed++
		text := ""
		if out != nil {
			text = out.String()
		}
		rd.sum.Failures = append(rd.sum.Failures, Failure{Package: ev.Package, Test: ev.Test, Output: text})
		fmt.Fprintf(rd.progress, "--- FAIL: %s %s\n%s", trimName(ev.Package, rd.trim), ev.Test, indent(text))
	}
}

func (rd *reader) packageDone(ev event) {
	k := key{ev.Package, ""}
	out := rd.output[k]
	delete(rd.output, k)
	p := rd.pkg(ev.Package)
	p.Elapsed = time.Duration(ev.Elapsed * float64(time.Second))
	switch {
	case ev.Action == "skip":
		p.Status = "no tests"
	case ev.Action == "pass":
		p.Status = "ok"
	default:
		p.Status = "FAIL"
	}
	rd.sum.Packages = append(rd.sum.Packages, *p)
	delete(rd.pkgs, ev.Package)
	switch p.Status {
	case "no tests":
		return
	case "ok":
		fmt.Fprintf(rd.progress, "ok    %s %s (%s)\n", trimName(p.Name, rd.trim), p.Elapsed.Round(10*time.Millisecond), counts(p.Passed, p.Failed, p.Skipped))
		return
	}
	fmt.Fprintf(rd.progress, "FAIL  %s %s (%s)\n", trimName(p.Name, rd.trim), p.Elapsed.Round(10*time.Millisecond), counts(p.Passed, p.Failed, p.Skipped))
	if p.Failed == 0 {
		// A build error, a panic outside a test, a timeout: show what the package said.
		text := str(out)
		if b, ok := rd.build[ev.FailedBuild]; ok && ev.FailedBuild != "" {
			text = b.String() + text
		}
		rd.sum.Failures = append(rd.sum.Failures, Failure{Package: ev.Package, Output: text})
		fmt.Fprint(rd.progress, indent(text))
	}
}

// flushUnfinished records the tests and packages that started but never ended (the
// stream was cut: go test was killed) as failures.
func (rd *reader) flushUnfinished() {
	var names []string
	for n := range rd.pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := rd.pkgs[n]
		p.Status = "FAIL"
		rd.sum.Packages = append(rd.sum.Packages, *p)
		rd.sum.Failures = append(rd.sum.Failures, Failure{Package: n, Output: "the test stream ended before the package finished\n"})
	}
}

// trimName cuts trim from the front of a package name, unless nothing would be left.
func trimName(pkg, trim string) string {
	if rest, ok := strings.CutPrefix(pkg, trim); ok && rest != "" {
		return rest
	}
	return pkg
}

func str(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}

// skipReason extracts the message a test gave t.Skip from its output: its lines
// without the === and --- framing test2json keeps.
func skipReason(out *strings.Builder) string {
	var lines []string
	for _, l := range strings.Split(str(out), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		lines = append(lines, t)
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return strings.Join(lines, " / ")
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}

func counts(passed, failed, skipped int) string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", passed, failed, skipped)
}
