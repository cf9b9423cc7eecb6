package corpus

import (
	"strings"
	"testing"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/internal/testutil"
)

// The OpenSLO project's oslo tool reaches the module cache as one of Sloth's
// dependencies; its test data holds the shapes OpenSLO files take (v1 and v1alpha, every
// kind, Prometheus and other sources).
const osloModule, osloVersion = "github.com/OpenSLO/oslo", "v0.12.0"

// TestOSLOCorpusAcceptTable records, for every file of oslo's test data, whether slokit
// reads it and why not (most refusals: sources other than Prometheus, threshold SLIs,
// references to objects of other files), in testdata/oslo-accept.txt.
func TestOSLOCorpusAcceptTable(t *testing.T) {
	root := testutil.ModuleDir(t, osloModule, osloVersion)
	var b strings.Builder
	b.WriteString("# oslo " + osloVersion + " test data: file\tslokit's verdict\tdetail (UPDATE_GOLDEN=1 refreshes)\n")
	for _, rel := range yamlFiles(t, root, "test", func(string) bool { return false }) {
		b.WriteString(load(root, rel).row(root) + "\n")
	}
	golden.Check(t, "testdata/oslo-accept.txt", []byte(b.String()))
}
