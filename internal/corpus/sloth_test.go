package corpus

import (
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
)

// slothCorpus lists the SLO files of Sloth's module: its examples and the integration
// fixtures, each file alone, plus the fixture directories Sloth's own tests read as a
// whole (duplicates across files must be refused there).
func slothCorpus(t *testing.T, root string) []string {
	skip := func(rel string) bool { return strings.HasSuffix(rel, "_gen") }
	files := yamlFiles(t, root, "examples", skip)
	files = append(files, yamlFiles(t, root, "test/integration/prometheus/testdata", skip)...)
	for _, d := range []string{"prom", "k8s", "openslo"} {
		files = append(files, "test/integration/prometheus/testdata/validate_with_duplicates/"+d)
	}
	return files
}

// TestSlothCorpusAcceptTable records, for every Sloth file, whether slokit reads it and
// why not, in testdata/sloth-accept.txt: a regression shows as a diff.
func TestSlothCorpusAcceptTable(t *testing.T) {
	root := testutil.ModuleDir(t, slothModule, slothVersion)
	var b strings.Builder
	b.WriteString("# Sloth " + slothVersion + " corpus: file\tslokit's verdict\tdetail (UPDATE_GOLDEN=1 refreshes)\n")
	for _, rel := range slothCorpus(t, root) {
		b.WriteString(load(root, rel).row(root) + "\n")
	}
	golden.Check(t, "testdata/sloth-accept.txt", []byte(b.String()))
}
