package cli

import (
	"github.com/spf13/cobra"

	"github.com/slokit/slokit/slo"
)

// newSpecTopic is `slokit help spec`: the annotated slokit/v1 spec, printed as valid YAML
// so that it can start a file.
func newSpecTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "spec",
		Short: "The slokit/v1 spec with every field annotated (slokit help spec > slos.yaml)",
		Long: `# The slokit/v1 spec: every field with its meaning and default. Full reference:
# docs/spec.md. Start a file from it with: slokit help spec > slos.yaml
` + slo.AnnotatedSpec,
	}
}
