package kube

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// FieldManager is slokit's name in server-side apply's managedFields.
const FieldManager = "slokit"

// DecodePrometheusRules reads the PrometheusRule documents of a file (the output of
// `slokit generate -o prometheusrule`) strictly: every document must be a
// monitoring.coreos.com/v1 PrometheusRule whose fields the operator's API knows.
// Every problem is returned at once.
func DecodePrometheusRules(file string, data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufioReader(data))
	var out []*unstructured.Unstructured
	var errs []error
	for doc := 1; ; doc++ {
		b, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", file, doc, err))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue // an empty document (comments only)
		}
		if what := notAnObject(j); what != "" {
			errs = append(errs, fmt.Errorf("%s: document %d: %s, not a PrometheusRule; %s", file, doc, what, notAnObjectHint))
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", file, doc, err))
			continue
		}
		where := fmt.Sprintf("%s: document %d (%s %q)", file, doc, u.GetKind(), u.GetName())
		if gvk := u.GroupVersionKind(); gvk != monitoringv1.SchemeGroupVersion.WithKind(monitoringv1.PrometheusRuleKind) {
			errs = append(errs, fmt.Errorf("%s: slokit applies only monitoring.coreos.com/v1 PrometheusRule objects (from `slokit generate -o prometheusrule`), got %s %s", where, u.GetAPIVersion(), u.GetKind()))
			continue
		}
		if u.GetName() == "" {
			errs = append(errs, fmt.Errorf("%s: metadata.name is missing", where))
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&monitoringv1.PrometheusRule{}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		out = append(out, u)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no PrometheusRule in it; write one with `slokit generate -o prometheusrule`", file)
	}
	return out, nil
}

const notAnObjectHint = "apply takes the output of `slokit generate -f SPEC -o prometheusrule` (or pipe it: ... | slokit apply -f -)"

// notAnObject names what a document that is not a Kubernetes object looks like (a
// Prometheus rule file, an SLO spec, …), or returns "" when it has apiVersion and kind.
// It keeps a wrong file from being answered with the whole document quoted back.
func notAnObject(j []byte) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(j, &m); err != nil {
		return "not a YAML mapping"
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(m[k], &s)
		return s
	}
	_, hasKind := m["kind"]
	_, hasAPI := m["apiVersion"]
	switch {
	case hasKind && hasAPI:
		return ""
	case strings.HasPrefix(str("version"), "slokit/"):
		return "an SLO spec (version: " + str("version") + ")"
	case str("version") == "prometheus/v1":
		return "a Sloth SLO spec (version: prometheus/v1)"
	case m["groups"] != nil:
		return "a Prometheus rule file (groups:, for rule_files)"
	case m["route"] != nil || m["receivers"] != nil:
		return "an Alertmanager configuration"
	case m["panels"] != nil:
		return "a Grafana dashboard"
	}
	return "a document without apiVersion and kind"
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Namespace, when set, is the namespace every object goes to; an object naming
	// another one is an error, as with kubectl.
	Namespace string
	// DefaultNamespace is used for objects that name none when Namespace is unset
	// (the kubeconfig context's namespace).
	DefaultNamespace string
	// DryRun asks the apiserver to validate and admit without persisting.
	DryRun bool
}

// Apply server-side-applies objs as field manager "slokit" (taking over fields other
// managers set) and returns "kind namespace/name" of each applied object. The
// apiserver validates each against the CRD's schema; its messages are returned.
func Apply(ctx context.Context, c client.Client, objs []*unstructured.Unstructured, o ApplyOptions) ([]string, error) {
	var applied []string
	for _, u := range objs {
		u = u.DeepCopy()
		switch ns := u.GetNamespace(); {
		case ns == "" && o.Namespace != "":
			u.SetNamespace(o.Namespace)
		case ns == "":
			u.SetNamespace(o.DefaultNamespace)
		case o.Namespace != "" && ns != o.Namespace:
			return applied, fmt.Errorf("%s %s: the file says namespace %q but %q was asked for; drop one of them", u.GetKind(), u.GetName(), ns, o.Namespace)
		}
		what := fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
		opts := []client.ApplyOption{client.FieldOwner(FieldManager), client.ForceOwnership}
		if o.DryRun {
			opts = append(opts, client.DryRunAll)
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
			return applied, applyError(what, err)
		}
		applied = append(applied, what)
	}
	return applied, nil
}

func applyError(what string, err error) error {
	var se apierrors.APIStatus
	switch {
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return fmt.Errorf("apply %s: the cluster does not know PrometheusRule; install the Prometheus Operator's CRDs: %w", what, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("apply %s: forbidden; the account needs get, create and patch on prometheusrules.monitoring.coreos.com there: %w", what, err)
	case apierrors.IsInvalid(err) && errors.As(err, &se) && se.Status().Details != nil && len(se.Status().Details.Causes) > 0:
		var causes []string
		for _, c := range se.Status().Details.Causes {
			causes = append(causes, fmt.Sprintf("%s: %s", c.Field, c.Message))
		}
		sort.Strings(causes) // the apiserver's order varies
		return fmt.Errorf("apply %s: rejected by the apiserver's schema:\n  %s", what, strings.Join(causes, "\n  "))
	}
	return fmt.Errorf("apply %s: %w", what, err)
}

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }
