// Command testsummary reads `go test -json` on stdin, prints a line per package as it
// finishes and the output of failing tests, then a summary with every skip and its
// reason. It exits 1 when a test or package failed, or when a real-component test was
// skipped while SLOKIT_REQUIRE_REAL=1.
//
//	go test -json ./... 2>&1 | go run ./internal/testsummary/cmd/testsummary
package main

import (
	"fmt"
	"os"

	"github.com/slokit/slokit/internal/testsummary"
)

func main() {
	os.Exit(run())
}

func run() int {
	const module = "github.com/slokit/slokit/"
	sum, err := testsummary.Read(os.Stdin, os.Stdout, module)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: reading the test stream: %v\n", err)
		return 1
	}
	if err := sum.Write(os.Stdout, module); err != nil {
		return 1
	}
	if len(sum.Packages) == 0 {
		fmt.Fprintln(os.Stderr, "testsummary: no test events on stdin; pipe `go test -json` into it")
		return 1
	}
	if os.Getenv("SLOKIT_REQUIRE_REAL") == "1" && sum.RealMissing() > 0 {
		fmt.Fprintln(os.Stderr, "testsummary: SLOKIT_REQUIRE_REAL=1 and real-component tests were skipped")
		return 1
	}
	if !sum.OK() {
		return 1
	}
	return 0
}
