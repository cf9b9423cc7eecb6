package chaosmesh

import (
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
)

// TestExpireWithRun: a fault without spec.duration gets the run's timeout, so Chaos Mesh
// ends it even if slokit dies; a duration the game day set is kept.
func TestExpireWithRun(t *testing.T) {
	nc := &v1alpha1.NetworkChaos{Spec: v1alpha1.NetworkChaosSpec{Action: v1alpha1.DelayAction}}
	out, err := expireWithRun(nc, 7*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := out.(*v1alpha1.NetworkChaos).Spec.Duration; d == nil || *d != "7m0s" {
		t.Errorf("duration %v, want 7m0s", d)
	}
	if nc.Spec.Duration != nil {
		t.Error("the parsed fault was changed")
	}
	own := "90s"
	nc.Spec.Duration = &own
	out, err = expireWithRun(nc, 7*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d := out.(*v1alpha1.NetworkChaos).Spec.Duration; d == nil || *d != "90s" {
		t.Errorf("duration %v, want the game day's 90s", d)
	}
}
