// Package v1alpha1 holds the slokit.dev/v1alpha1 API: the ServiceLevelObjective
// custom resource that `slokit operator` turns into a prometheus-operator PrometheusRule.
// The CRD YAML is generated from these types by controller-gen (see operator/gen.go).
//
// +kubebuilder:object:generate=true
// +groupName=slokit.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group and Version name the API.
const (
	Group   = "slokit.dev"
	Version = "v1alpha1"
)

// GroupVersion returns slokit.dev/v1alpha1.
func GroupVersion() schema.GroupVersion { return schema.GroupVersion{Group: Group, Version: Version} }

// AddToScheme registers the API's types in s.
func AddToScheme(s *runtime.Scheme) error {
	gv := GroupVersion()
	s.AddKnownTypes(gv, &ServiceLevelObjective{}, &ServiceLevelObjectiveList{}, &GameDay{}, &GameDayList{})
	metav1.AddToGroupVersion(s, gv)
	return nil
}
