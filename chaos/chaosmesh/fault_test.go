package chaosmesh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slokit/slokit/chaos"
)

func parseFile(t *testing.T, path string) (*Fault, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	f, ds := ParseFault(filepath.Base(path), &n)
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return f, strings.Join(lines, "\n")
}

func TestParseFaultValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/valid files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, diags := parseFile(t, path)
			if diags != "" {
				t.Fatalf("unexpected diagnostics:\n%s", diags)
			}
			if f == nil || f.Object == nil || f.Namespace != "shortlink" {
				t.Fatalf("fault = %+v", f)
			}
			k, _ := kindNamed(f.Kind)
			if !strings.Contains(path, f.Action) && !strings.Contains(path, "stress") {
				t.Errorf("action %q does not match the file %s", f.Action, path)
			}
			if k.action(f.Object) != f.Action {
				t.Errorf("Action = %q, object says %q", f.Action, k.action(f.Object))
			}
		})
	}
}

// TestParseFaultInvalid pairs each testdata/invalid file with its full expected
// diagnostics (.err); UPDATE_GOLDEN=1 rewrites them.
func TestParseFaultInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/invalid files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, got := parseFile(t, path)
			if f != nil {
				t.Errorf("invalid file accepted: %+v", f)
			}
			if got == "" {
				t.Fatal("no diagnostics")
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".err"
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
			}
			if got+"\n" != string(want) {
				t.Errorf("diagnostics differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestParseFaultDecodesSpec(t *testing.T) {
	f, diags := parseFile(t, "testdata/valid/network-delay.yaml")
	if diags != "" {
		t.Fatal(diags)
	}
	got := f.Object.(*v1alpha1.NetworkChaos).Spec
	if got.Action != v1alpha1.DelayAction || got.Mode != v1alpha1.AllMode ||
		got.Delay == nil || got.Delay.Latency != "200ms" || got.Delay.Jitter != "20ms" || got.Delay.Correlation != "25" ||
		got.Direction != v1alpha1.To || got.Selector.LabelSelectors["app"] != "shortlink" {
		t.Errorf("spec = %+v", got)
	}
	if f.InjectTimeout != DefaultInjectTimeout || f.RemoveTimeout != DefaultRemoveTimeout {
		t.Errorf("timeouts = %s, %s", f.InjectTimeout, f.RemoveTimeout)
	}
	f, _ = parseFile(t, "testdata/valid/network-loss.yaml")
	if f.InjectTimeout != 90*time.Second {
		t.Errorf("injectTimeout = %s, want 90s", f.InjectTimeout)
	}
}

func TestObjectNameAndLabels(t *testing.T) {
	tests := []struct {
		run       chaos.Run
		name      string
		gameLabel string
	}{
		{chaos.Run{ID: "k3x9", GameDay: "shortlink-latency"}, "slokit-shortlink-latency-k3x9", "shortlink-latency"},
		{chaos.Run{ID: "k3x9", GameDay: "Redirect outage (EU)"}, "slokit-redirect-outage-eu-k3x9", "Redirect-outage-EU"},
		{chaos.Run{ID: "k3x9", GameDay: strings.Repeat("long", 30)}, "slokit-" + strings.Repeat("long", 30)[:63-len("slokit--k3x9")] + "-k3x9", strings.Repeat("long", 16)[:63]},
		{chaos.Run{ID: "k3x9"}, "slokit-k3x9", ""},
	}
	for _, tt := range tests {
		if got := ObjectName(tt.run); got != tt.name || len(got) > 63 {
			t.Errorf("ObjectName(%+v) = %q, want %q", tt.run, got, tt.name)
		}
		l := RunLabels(tt.run)
		if l[LabelGameDay] != tt.gameLabel || l[LabelRunID] != "k3x9" || l[LabelManagedBy] != "slokit" {
			t.Errorf("RunLabels(%+v) = %v", tt.run, l)
		}
	}
}

func ts(s string) *metav1.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &metav1.Time{Time: t}
}

func record(id string, phase v1alpha1.Phase, events ...v1alpha1.RecordEvent) *v1alpha1.Record {
	return &v1alpha1.Record{Id: id, SelectorKey: ".", Phase: phase, Events: events}
}

func ev(op v1alpha1.RecordEventOperation, typ v1alpha1.RecordEventType, at string) v1alpha1.RecordEvent {
	return v1alpha1.RecordEvent{Operation: op, Type: typ, Timestamp: ts(at)}
}

func TestFaultTimes(t *testing.T) {
	const (
		t0 = "2026-11-27T10:00:00Z"
		t1 = "2026-11-27T10:00:02Z"
		t2 = "2026-11-27T10:05:00Z"
		t3 = "2026-11-27T10:05:03Z"
	)
	tests := []struct {
		name         string
		records      []*v1alpha1.Record
		oneShot      bool
		began, ended string
		err          bool
	}{
		{name: "nothing injected yet", records: []*v1alpha1.Record{record("ns/a", v1alpha1.NotInjected)}, err: true},
		{name: "failed apply only", records: []*v1alpha1.Record{record("ns/a", v1alpha1.NotInjected, ev(v1alpha1.Apply, v1alpha1.TypeFailed, t0))}, err: true},
		{name: "injected, still running", began: t0, records: []*v1alpha1.Record{
			record("ns/a", v1alpha1.Injected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t0)),
			record("ns/b", v1alpha1.Injected, ev(v1alpha1.Apply, v1alpha1.TypeFailed, t0), ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t1)),
		}},
		{name: "one target recovered, one not", began: t0, records: []*v1alpha1.Record{
			record("ns/a", v1alpha1.NotInjected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t0), ev(v1alpha1.Recover, v1alpha1.TypeSucceeded, t2)),
			record("ns/b", v1alpha1.Injected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t1), ev(v1alpha1.Recover, v1alpha1.TypeFailed, t2)),
		}},
		{name: "all recovered: end is the last recovery", began: t0, ended: t3, records: []*v1alpha1.Record{
			record("ns/a", v1alpha1.NotInjected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t1), ev(v1alpha1.Recover, v1alpha1.TypeSucceeded, t3)),
			record("ns/b", v1alpha1.NotInjected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t0), ev(v1alpha1.Recover, v1alpha1.TypeSucceeded, t2)),
		}},
		{name: "pod-kill ends with its last kill", oneShot: true, began: t0, ended: t1, records: []*v1alpha1.Record{
			record("ns/a", v1alpha1.Injected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t0)),
			record("ns/b", v1alpha1.Injected, ev(v1alpha1.Apply, v1alpha1.TypeSucceeded, t1)),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &v1alpha1.ChaosStatus{Experiment: v1alpha1.ExperimentStatus{Records: tt.records}}
			began, ended, err := faultTimes(st, tt.oneShot)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error: %v", err, tt.err)
			}
			if tt.err {
				return
			}
			if want := ts(tt.began).Time; !began.Equal(want) {
				t.Errorf("began = %s, want %s", began, want)
			}
			var want time.Time
			if tt.ended != "" {
				want = ts(tt.ended).Time
			}
			if !ended.Equal(want) {
				t.Errorf("ended = %s, want %s", ended, want)
			}
		})
	}
}
