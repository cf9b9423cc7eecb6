package chaosmesh

import (
	"reflect"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// chaosObject is what slokit needs of a Chaos Mesh custom resource.
type chaosObject interface {
	client.Object
	GetStatus() *v1alpha1.ChaosStatus
}

// kind describes one supported Chaos Mesh kind. The table below is the only place
// that knows the kinds apart.
type kind struct {
	name string
	// actions lists the actions slokit supports for the kind, in documentation order.
	actions []string
	newObj  func() chaosObject
	newList func() v1alpha1.GenericChaosList
	// spec returns a pointer to obj's spec.
	spec func(obj chaosObject) any
	// action returns the action the spec asks for ("" when it names none).
	action func(obj chaosObject) string
}

// specType returns the Go type of the kind's spec.
func (k kind) specType() reflect.Type { return reflect.TypeOf(k.spec(k.newObj())).Elem() }

// oneShot reports whether the action happens once and is never recovered by Chaos
// Mesh (pod-kill): its CR never reports AllRecovered and recovery is judged on the
// workload.
func oneShot(kindName, action string) bool {
	return kindName == v1alpha1.KindPodChaos && action == string(v1alpha1.PodKillAction)
}

var kinds = []kind{
	{
		name:    v1alpha1.KindNetworkChaos,
		actions: []string{"delay", "loss", "partition"},
		newObj:  func() chaosObject { return &v1alpha1.NetworkChaos{} },
		newList: func() v1alpha1.GenericChaosList { return &v1alpha1.NetworkChaosList{} },
		spec:    func(o chaosObject) any { return &o.(*v1alpha1.NetworkChaos).Spec },
		action:  func(o chaosObject) string { return string(o.(*v1alpha1.NetworkChaos).Spec.Action) },
	},
	{
		name:    v1alpha1.KindPodChaos,
		actions: []string{"pod-kill", "pod-failure"},
		newObj:  func() chaosObject { return &v1alpha1.PodChaos{} },
		newList: func() v1alpha1.GenericChaosList { return &v1alpha1.PodChaosList{} },
		spec:    func(o chaosObject) any { return &o.(*v1alpha1.PodChaos).Spec },
		action:  func(o chaosObject) string { return string(o.(*v1alpha1.PodChaos).Spec.Action) },
	},
	{
		name:    v1alpha1.KindHTTPChaos,
		actions: []string{"abort", "delay"},
		newObj:  func() chaosObject { return &v1alpha1.HTTPChaos{} },
		newList: func() v1alpha1.GenericChaosList { return &v1alpha1.HTTPChaosList{} },
		spec:    func(o chaosObject) any { return &o.(*v1alpha1.HTTPChaos).Spec },
		action: func(o chaosObject) string {
			// HTTPChaos has no action field: the action is whichever of abort/delay/
			// replace/patch is set; slokit supports abort and delay, one at a time.
			s := o.(*v1alpha1.HTTPChaos).Spec
			switch {
			case s.Replace != nil:
				return "replace"
			case s.Patch != nil:
				return "patch"
			case s.Abort != nil && *s.Abort && s.Delay != nil:
				return "abort+delay"
			case s.Abort != nil && *s.Abort:
				return "abort"
			case s.Delay != nil:
				return "delay"
			}
			return ""
		},
	},
	{
		name:    v1alpha1.KindStressChaos,
		actions: []string{"stress"},
		newObj:  func() chaosObject { return &v1alpha1.StressChaos{} },
		newList: func() v1alpha1.GenericChaosList { return &v1alpha1.StressChaosList{} },
		spec:    func(o chaosObject) any { return &o.(*v1alpha1.StressChaos).Spec },
		action: func(o chaosObject) string {
			s := o.(*v1alpha1.StressChaos).Spec
			if (s.Stressors != nil && (s.Stressors.CPUStressor != nil || s.Stressors.MemoryStressor != nil)) || s.StressngStressors != "" {
				return "stress"
			}
			return ""
		},
	},
}

func kindNamed(name string) (kind, bool) {
	for _, k := range kinds {
		if k.name == name {
			return k, true
		}
	}
	return kind{}, false
}

func kindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k.name
	}
	return out
}

// podSelector returns the spec's pod selector (every supported kind has one).
func podSelector(obj chaosObject) *v1alpha1.PodSelector {
	switch o := obj.(type) {
	case *v1alpha1.NetworkChaos:
		return &o.Spec.PodSelector
	case *v1alpha1.PodChaos:
		return &o.Spec.PodSelector
	case *v1alpha1.HTTPChaos:
		return &o.Spec.PodSelector
	case *v1alpha1.StressChaos:
		return &o.Spec.PodSelector
	}
	return nil
}
