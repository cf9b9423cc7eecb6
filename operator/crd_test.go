package operator

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCRDUpToDate runs the pinned controller-gen into a temporary directory and
// compares its output with the committed CRD and deep-copy code: edit the Go types,
// then `go generate ./operator`.
func TestCRDUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds controller-gen")
	}
	tmp := t.TempDir()
	cmd := exec.Command("go", "run", ControllerGen, "object", "crd:allowDangerousTypes=true",
		"paths=./api/...", "output:crd:artifacts:config="+tmp, "output:object:dir="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, out)
	}
	for gen, committed := range map[string]string{
		"slokit.dev_servicelevelobjectives.yaml": filepath.Join(CRDDir, "slokit.dev_servicelevelobjectives.yaml"),
		"slokit.dev_gamedays.yaml":               filepath.Join(CRDDir, "slokit.dev_gamedays.yaml"),
		"zz_generated.deepcopy.go":               "api/v1alpha1/zz_generated.deepcopy.go",
	} {
		want, err := os.ReadFile(filepath.Join(tmp, gen))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(committed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what controller-gen generates from api/v1alpha1: run go generate ./operator", committed)
		}
	}
}
