package chaosmesh

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParseFault feeds arbitrary YAML to the fault parser: it must not panic, and a
// fault it accepts must be complete and carry no error.
func FuzzParseFault(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n yaml.Node
		if yaml.Unmarshal(data, &n) != nil {
			return
		}
		fault, ds := ParseFault("f.yaml", &n)
		if fault == nil {
			if len(ds.Errors()) == 0 {
				t.Fatal("rejected without an error")
			}
			return
		}
		if len(ds.Errors()) > 0 {
			t.Fatalf("accepted with errors: %v", ds)
		}
		k, ok := kindNamed(fault.Kind)
		if !ok || fault.Object == nil || k.action(fault.Object) != fault.Action || fault.InjectTimeout <= 0 || fault.RemoveTimeout <= 0 {
			t.Fatalf("incomplete fault: %+v", fault)
		}
	})
}
