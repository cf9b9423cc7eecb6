//go:build ignore

// binsize attributes the symbols of an unstripped Go binary (`go tool nm -size`) to the
// modules it was built from (`go version -m`) and prints the largest, with the Go
// standard library as one row. Symbol bytes are text and read-only data (type data
// included); the rest of the file (pclntab, function metadata, data, DWARF when not
// stripped) is not attributed.
// Usage: go run .ci/binsize.go [-top 15] BINARY
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

func main() {
	top := flag.Int("top", 15, "rows to print")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/binsize.go [-top N] BINARY")
		os.Exit(2)
	}
	bin := flag.Arg(0)
	mods, err := modules(bin)
	if err != nil {
		fail(err)
	}
	out, err := exec.Command("go", "tool", "nm", "-size", bin).Output()
	if err != nil {
		fail(fmt.Errorf("go tool nm: %w", err))
	}
	sizes := map[string]int64{}
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Text and read-only data only: data and BSS (D, B) include zeroed memory that is
		// not in the file (a 32 MB FIPS DRBG buffer). go:func.* is the runtime's blob of
		// every function's metadata, attributed to no package.
		if len(f) < 4 || !strings.ContainsAny(f[2], "TtRr") || f[3] == "go:func.*" {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		sizes[owner(strings.Join(f[3:], " "), mods)] += n
		total += n
	}
	type row struct {
		mod  string
		size int64
	}
	var rows []row
	for m, s := range sizes {
		rows = append(rows, row{m, s})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].size > rows[j].size })
	st, _ := os.Stat(bin)
	fmt.Printf("%s: file %.1f MB, symbols %.1f MB\n", bin, mb(st.Size()), mb(total))
	for i, r := range rows {
		if i == *top {
			var rest int64
			for _, r := range rows[i:] {
				rest += r.size
			}
			fmt.Printf("%8.2f MB %5.1f%%  %d more modules\n", mb(rest), pct(rest, total), len(rows)-i)
			break
		}
		fmt.Printf("%8.2f MB %5.1f%%  %s\n", mb(r.size), pct(r.size, total), r.mod)
	}
}

// modules returns the main module and dependency paths `go version -m` lists, longest
// first, so that the first prefix match is the most specific module.
func modules(bin string) ([]string, error) {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("go version -m: %w", err)
	}
	var mods []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && (f[0] == "mod" || f[0] == "dep") {
			mods = append(mods, f[1])
		}
	}
	sort.Slice(mods, func(i, j int) bool { return len(mods[i]) > len(mods[j]) })
	return mods, nil
}

// owner returns the module a symbol's package belongs to, "Go standard library and
// runtime" for packages without a dot in their first element, or "unattributed".
func owner(sym string, mods []string) string {
	for _, p := range []string{"type:", "go:itab.", "go:", "*"} {
		sym = strings.TrimPrefix(sym, p)
	}
	sym = strings.TrimPrefix(sym, "*")
	if i := strings.IndexAny(sym, "[("); i >= 0 {
		sym = sym[:i]
	}
	pkg := sym
	if i := strings.LastIndex(sym, "/"); i >= 0 {
		if j := strings.Index(sym[i:], "."); j >= 0 {
			pkg = sym[:i+j]
		}
	} else if j := strings.Index(sym, "."); j >= 0 {
		pkg = sym[:j]
	}
	for _, m := range mods {
		if pkg == m || strings.HasPrefix(pkg, m+"/") {
			return m
		}
	}
	if first, _, _ := strings.Cut(pkg, "/"); pkg != "" && !strings.Contains(first, ".") {
		return "Go standard library and runtime"
	}
	return "unattributed"
}

func mb(n int64) float64         { return float64(n) / 1e6 }
func pct(n, total int64) float64 { return 100 * float64(n) / float64(total) }
func fail(err error)             { fmt.Fprintln(os.Stderr, "binsize:", err); os.Exit(1) }
