//go:build !slokit_nok8s

package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/slokit/slokit/chaos/chaosmesh"
)

func newChaosRBACCmd(e *env) *cobra.Command {
	var namespace, name string
	cmd := &cobra.Command{
		Use:   "rbac --namespace NAMESPACE",
		Short: "Print the ServiceAccount, Role and RoleBinding a Chaos Mesh game-day runner needs",
		Long: `rbac prints the least privilege 'slokit chaos run' needs for Chaos Mesh faults in one
namespace: create, get, list, watch and delete on the Chaos Mesh kinds slokit injects
(NetworkChaos, PodChaos, HTTPChaos, StressChaos) and read-only pods, all in that
namespace; nothing cluster-wide. deploy/rbac/ holds the same for namespace shortlink.

  slokit chaos rbac --namespace shortlink | kubectl apply -f -`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if namespace == "" {
				return &usageError{errNoNamespace}
			}
			out, err := chaosmesh.RBACYAML(namespace, name)
			if err != nil {
				return &usageError{err}
			}
			_, err = e.stdout.Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "`NAMESPACE` of the faults (required)")
	cmd.Flags().StringVar(&name, "name", chaosmesh.DefaultServiceAccount, "`NAME` of the ServiceAccount, Role and RoleBinding")
	return cmd
}

var errNoNamespace = errors.New("rbac needs --namespace: the namespace the game day's faults are created in")
