package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
)

// pyrraCorpus lists the files of Pyrra's module that hold ServiceLevelObjectives (its
// examples, Kubernetes and OpenShift manifests); CRD definitions are not SLOs.
func pyrraCorpus(t *testing.T, root string) []string {
	var out []string
	for _, rel := range yamlFiles(t, root, "examples", func(string) bool { return false }) {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(data); strings.Contains(s, "kind: ServiceLevelObjective") && !strings.Contains(s, "kind: CustomResourceDefinition") {
			out = append(out, rel)
		}
	}
	return out
}

// TestPyrraCorpusAcceptTable records, for every Pyrra file, whether slokit reads it and
// why not, in testdata/pyrra-accept.txt.
func TestPyrraCorpusAcceptTable(t *testing.T) {
	root := testutil.ModuleDir(t, pyrraModule, pyrraVersion)
	var b strings.Builder
	b.WriteString("# Pyrra " + pyrraVersion + " corpus: file\tslokit's verdict\tdetail (UPDATE_GOLDEN=1 refreshes)\n")
	for _, rel := range pyrraCorpus(t, root) {
		b.WriteString(load(root, rel).row(root) + "\n")
	}
	golden.Check(t, "testdata/pyrra-accept.txt", []byte(b.String()))
}
