//go:build !slokit_nok8s

package cli

import (
	"github.com/spf13/cobra"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/chaosmesh"
)

// kubeBuilt reports whether this build has Kubernetes support (no -tags slokit_nok8s).
const kubeBuilt = true

// addKubeCommands adds the commands that talk to a Kubernetes cluster: apply, operator
// and chaos rbac.
func addKubeCommands(root *cobra.Command, e *env) {
	root.AddCommand(newApplyCmd(e), newOperatorCmd(e))
	addChaosSubcommand(root, newChaosRBACCmd(e))
}

// kubeBackends are the fault backends that need a cluster.
func kubeBackends() []chaos.Backend { return []chaos.Backend{&chaosmesh.Backend{}} }
