package testsummary

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
)

// testdata/run.jsonl is the real `go test -json` output of a small module with a
// passing, a failing and a non-building package, a package without tests, skips with
// and without the real-component marker, and a skipped subtest.
func TestReadRealStream(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "run.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := Read(bytes.NewReader(data), &out, "example.com/fix/")
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.Write(&out, "example.com/fix/"); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "run.golden"), out.Bytes())

	if sum.Passed != 4 || sum.Failed != 1 || sum.Skipped != 3 || sum.RealMissing() != 1 || sum.OK() {
		t.Errorf("passed %d failed %d skipped %d real %d ok %v, want 4 1 3 1 false",
			sum.Passed, sum.Failed, sum.Skipped, sum.RealMissing(), sum.OK())
	}
	if len(sum.Failures) != 2 || !strings.Contains(sum.Failures[0].Output, "undefined: undefined") {
		t.Errorf("failures = %+v, want the build error first, then TestBroken", sum.Failures)
	}
	wantPkgs := []Package{
		{Name: "example.com/fix/bad", Status: "FAIL", Elapsed: 10e6, Passed: 1, Failed: 1},
		{Name: "example.com/fix/broken", Status: "FAIL", Elapsed: 10e6},
		{Name: "example.com/fix/good", Status: "ok", Elapsed: 10e6, Passed: 3, Skipped: 3},
		{Name: "example.com/fix/none", Status: "no tests", Elapsed: 10e6},
	}
	if len(sum.Packages) != len(wantPkgs) {
		t.Fatalf("packages = %+v", sum.Packages)
	}
	for i, p := range sum.Packages {
		if p != wantPkgs[i] {
			t.Errorf("package %d = %+v, want %+v", i, p, wantPkgs[i])
		}
	}
}

func TestReadAllPassing(t *testing.T) {
	in := `{"Action":"start","Package":"m/a"}
{"Action":"run","Package":"m/a","Test":"TestA"}
{"Action":"output","Package":"m/a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"m/a","Test":"TestA","Elapsed":0}
{"Action":"pass","Package":"m/a","Elapsed":0.5}
`
	var out bytes.Buffer
	sum, err := Read(strings.NewReader(in), &out, "")
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OK() || sum.Passed != 1 || len(sum.Skips) != 0 {
		t.Errorf("summary = %+v", sum)
	}
	var w bytes.Buffer
	if err := sum.Write(&w, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(w.String(), "\ntests: 1 passed, 0 failed, 0 skipped\n") || strings.Contains(w.String(), "!!!") {
		t.Errorf("summary text:\n%s", w.String())
	}
}

func TestReadCutStream(t *testing.T) {
	in := "go: downloading example.com/x v1.0.0\n" + `{"Action":"start","Package":"m/a"}
{"Action":"run","Package":"m/a","Test":"TestA"}
`
	var out bytes.Buffer
	sum, err := Read(strings.NewReader(in), &out, "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK() || sum.Lines != 1 || !strings.HasPrefix(out.String(), "go: downloading") {
		t.Errorf("a stream cut before the package ended must fail; summary %+v, progress %q", sum, out.String())
	}
}

// FuzzRead feeds arbitrary streams: Read must not panic, and its counts must add up.
func FuzzRead(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "run.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"Action":"skip","Package":"p","Test":"T"}`))
	f.Add([]byte("not json\n{\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		sum, err := Read(bytes.NewReader(in), &out, "")
		if err != nil {
			return // a line longer than the scanner's limit
		}
		p, fl, sk := 0, 0, 0
		for _, pk := range sum.Packages {
			p, fl, sk = p+pk.Passed, fl+pk.Failed, sk+pk.Skipped
		}
		if p != sum.Passed || fl != sum.Failed || sk != sum.Skipped || len(sum.Skips) != sum.Skipped {
			t.Errorf("package counts %d/%d/%d, totals %d/%d/%d, %d skips", p, fl, sk, sum.Passed, sum.Failed, sum.Skipped, len(sum.Skips))
		}
		if err := sum.Write(&out, ""); err != nil {
			t.Fatal(err)
		}
	})
}
