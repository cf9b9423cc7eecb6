//go:build ignore

// vulncheck reads `govulncheck -format json` on stdin and prints the advisories whose
// vulnerable code slokit's code calls, grouped by module. It exits 1 when one lies in a
// module slokit requires (the fix is a go.mod bump, slokit's business), and only warns
// about the Go standard library (the fix is the Go toolchain that builds the binary, not
// slokit's code) unless -stdlib=fail. Advisories in imported but never called code are
// counted, not listed.
// Usage: govulncheck -format json ./... | go run .ci/vulncheck.go [-stdlib=warn|fail]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

type message struct {
	Config *struct {
		DB        string `json:"db"`
		GoVersion string `json:"go_version"`
	} `json:"config"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

type advisory struct {
	id, module, version, fixed, symbol string
}

func main() {
	stdlib := flag.String("stdlib", "warn", "what a called advisory in the Go standard library does: warn or fail")
	flag.Parse()
	called, uncalled, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(2)
	}
	var mods, std []advisory
	for _, a := range called {
		if a.module == "stdlib" || a.module == "toolchain" {
			std = append(std, a)
		} else {
			mods = append(mods, a)
		}
	}
	fmt.Printf("govulncheck: %d advisories reached from slokit's code (%d in required modules, %d in the Go standard library); %d more in imported code it never calls\n",
		len(called), len(mods), len(std), len(uncalled))
	list := func(title string, as []advisory) {
		if len(as) > 0 {
			fmt.Println(title)
		}
		for _, a := range as {
			fmt.Printf("  %s  %s %s, fixed in %s  (called: %s)\n", a.id, a.module, a.version, a.fixed, a.symbol)
		}
	}
	list("required modules (bump them in go.mod):", mods)
	list("Go standard library (build with a Go release that has the fix):", std)
	if len(mods) > 0 || (len(std) > 0 && *stdlib == "fail") {
		os.Exit(1)
	}
	if len(std) > 0 {
		fmt.Println("warning: the standard library findings are the Go toolchain's (its version above), not slokit's code; -stdlib=fail makes them fatal")
	}
}

// read returns, per advisory, the called finding (one with a function in its trace) and
// the ids of advisories found only in imported or required, never called, code.
func read(r io.Reader) (called []advisory, uncalled []string, err error) {
	seen := map[string]advisory{}
	other := map[string]bool{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, err
		}
		if c := m.Config; c != nil {
			fmt.Printf("govulncheck: %s, database %s\n", c.GoVersion, c.DB)
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		top := f.Trace[0]
		if top.Function == "" {
			other[f.OSV] = true
			continue
		}
		sym := top.Package + "." + top.Function
		if top.Receiver != "" {
			sym = top.Package + "." + top.Receiver + "." + top.Function
		}
		// govulncheck reports one call site per finding in no fixed order: keep the
		// smallest symbol so that the output is the same from run to run.
		if a, ok := seen[f.OSV]; !ok || sym < a.symbol {
			seen[f.OSV] = advisory{id: f.OSV, module: top.Module, version: top.Version, fixed: f.FixedVersion, symbol: sym}
		}
	}
	for id, a := range seen {
		called = append(called, a)
		delete(other, id)
	}
	sort.Slice(called, func(i, j int) bool { return called[i].id < called[j].id })
	for id := range other {
		uncalled = append(uncalled, id)
	}
	sort.Strings(uncalled)
	return called, uncalled, nil
}
