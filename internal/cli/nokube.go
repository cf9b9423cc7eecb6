//go:build slokit_nok8s

package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/strictyaml"
	"github.com/slokit/slokit/slo"
)

// kubeBuilt reports whether this build has Kubernetes support: not with -tags slokit_nok8s.
const kubeBuilt = false

// errNoKube is what every Kubernetes command and the chaosmesh backend say here.
var errNoKube = errors.New("this slokit was built with -tags slokit_nok8s, without Kubernetes support " +
	"(apply, operator, chaos rbac and the chaosmesh fault backend); use a default build " +
	"(go install github.com/slokit/slokit/cmd/slokit) for them")

// addKubeCommands adds apply, operator and chaos rbac as commands that only say they are
// not in this build, so that scripts get that message rather than "unknown command".
func addKubeCommands(root *cobra.Command, e *env) {
	stub := func(path, short string) *cobra.Command {
		return &cobra.Command{Use: path[strings.LastIndex(path, " ")+1:], Short: short + " (not in this build: -tags slokit_nok8s)",
			Example:            "  slokit " + path + "   # needs a default build, without -tags slokit_nok8s",
			DisableFlagParsing: true,
			RunE:               func(*cobra.Command, []string) error { return errNoKube }}
	}
	root.AddCommand(stub("apply", "Apply generated PrometheusRule objects to a Kubernetes cluster"),
		stub("operator", "Run the Kubernetes operator"))
	addChaosSubcommand(root, stub("chaos rbac", "Print the RBAC a Chaos Mesh game-day runner needs"))
}

// kubeBackends has the chaosmesh backend report, at validation, that it is not built in.
func kubeBackends() []chaos.Backend { return []chaos.Backend{noChaosMesh{}} }

// noChaosMesh stands in for the chaosmesh backend in a build without Kubernetes.
type noChaosMesh struct{}

func (noChaosMesh) Name() string { return "chaosmesh" }

func (noChaosMesh) Parse(file string, params *yaml.Node) (chaos.FaultParams, slo.Diagnostics) {
	d := strictyaml.New(file, 0)
	d.Errf(params, "fault.params", "%v", errNoKube)
	return nil, d.Diagnostics()
}

func (noChaosMesh) New(chaos.FaultParams, chaos.Run) (chaos.Injector, error) { return nil, errNoKube }
