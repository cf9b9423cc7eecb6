// Package kube builds the Kubernetes client slokit uses for Chaos Mesh and PrometheusRule objects.
package kube

import (
	"errors"
	"fmt"

	chaosv1alpha1 "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Options selects the cluster, like kubectl's flags of the same names.
type Options struct {
	// Kubeconfig is a kubeconfig file. "" follows kubectl: $KUBECONFIG, then
	// ~/.kube/config, then the in-cluster service account.
	Kubeconfig string
	// Context is the kubeconfig context to use; "" means its current context.
	Context string
	// Namespace overrides the context's namespace; "" keeps it ("default" when unset).
	Namespace string
}

// ErrNoConfig reports that no cluster is configured at all.
var ErrNoConfig = errors.New("no Kubernetes cluster configured: set --kubeconfig or KUBECONFIG, or run inside a cluster")

// Scheme returns a scheme holding the Kubernetes built-in types, Chaos Mesh's
// chaos-mesh.org/v1alpha1 and the Prometheus Operator's monitoring.coreos.com/v1.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, chaosv1alpha1.AddToScheme, monitoringv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return s, nil
}

// Config loads the REST config and the namespace to work in.
func Config(o Options) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	if o.Namespace != "" {
		overrides.Context.Namespace = o.Namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, "", ErrNoConfig
	}
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes config: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes namespace: %w", err)
	}
	cfg.UserAgent = "slokit"
	return cfg, ns, nil
}

// NewClient returns a controller-runtime client for cfg that knows Scheme's types.
func NewClient(cfg *rest.Config) (client.WithWatch, error) {
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for %s: %w", cfg.Host, err)
	}
	return c, nil
}
