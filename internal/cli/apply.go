//go:build !slokit_nok8s

package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/slokit/slokit/internal/kube"
)

func newApplyCmd(e *env) *cobra.Command {
	var (
		files  []string
		ko     kube.Options
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Apply generated PrometheusRule objects to a Kubernetes cluster (server-side apply)",
		Long: `apply sends the output of 'slokit generate -o prometheusrule' to the cluster of the
current kubeconfig context with server-side apply (field manager "slokit"). The
apiserver checks each object against the Prometheus Operator's CRD schema; with
--dry-run it only checks. The account needs get, create and patch on
prometheusrules.monitoring.coreos.com in the target namespace.

  slokit generate -f slos.yaml -o prometheusrule --namespace monitoring > rules.yaml
  slokit apply -f rules.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return &usageError{fmt.Errorf("apply needs -f FILE (or -f - for stdin)")}
			}
			paths, err := expandFiles(files)
			if err == nil {
				paths, err = expandDirs(paths)
			}
			if err != nil {
				return err
			}
			var objs []*unstructured.Unstructured
			for _, f := range paths {
				data, err := readInput(e, f)
				if err != nil {
					return err
				}
				got, err := kube.DecodePrometheusRules(f, data)
				if err != nil {
					return &CodeError{Code: ExitInvalid, Err: err}
				}
				objs = append(objs, got...)
			}
			cfg, ns, err := kube.Config(ko)
			if err != nil {
				return err
			}
			c, err := kube.NewClient(cfg)
			if err != nil {
				return err
			}
			applied, err := kube.Apply(cmd.Context(), c, objs, kube.ApplyOptions{Namespace: ko.Namespace, DefaultNamespace: ns, DryRun: dryRun})
			suffix := ""
			if dryRun {
				suffix = " (server dry run)"
			}
			for _, a := range applied {
				fmt.Fprintf(e.stdout, "%s applied%s\n", a, suffix)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "`FILE`, directory or quoted glob of PrometheusRule documents; - reads stdin (repeatable)")
	f.StringVar(&ko.Kubeconfig, "kubeconfig", "", "kubeconfig `FILE` (default $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	f.StringVar(&ko.Context, "context", "", "kubeconfig `CONTEXT` (default the current one)")
	f.StringVarP(&ko.Namespace, "namespace", "n", "", "`NAMESPACE` for objects that name none (default the context's)")
	f.BoolVar(&dryRun, "dry-run", false, "let the apiserver validate and admit the objects without persisting them")
	return cmd
}

// readInput reads a file, or stdin for "-".
func readInput(e *env, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(e.stdin)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}
