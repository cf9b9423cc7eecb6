package operator

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/store"
)

// kubectlList writes ConfigMaps as `kubectl get configmaps -o json` prints them: a List
// whose items carry their kind and apiVersion.
func kubectlList(t *testing.T, path string, cms ...corev1.ConfigMap) {
	t.Helper()
	items := make([]corev1.ConfigMap, len(cms))
	for i, cm := range cms {
		cm.TypeMeta = metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"}
		items[i] = cm
	}
	b, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// importReports imports the report ConfigMaps into a new game-day store, as `slokit
// chaos import` does, and returns the store.
func importReports(t *testing.T, cms ...corev1.ConfigMap) (*store.Store, []*chaos.Result) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.json")
	kubectlList(t, path, cms...)
	st, err := store.Open(context.Background(), filepath.Join(dir, "gamedays.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := st.ImportFile(context.Background(), path)
	if err != nil {
		t.Fatalf("import of the report ConfigMaps: %v", err)
	}
	return st, res
}

// The report ConfigMaps the operator writes, plain and gzipped, import into the store
// that `slokit serve` reads, whole.
func TestReportConfigMapsImport(t *testing.T) {
	gd := labGameDay("shop", "big")
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	small := &chaos.Result{RunID: "r1", GameDay: "big", Service: "shop", SLO: "checkout", Outcome: chaos.Pass, StartedAt: start}
	large := &chaos.Result{RunID: "r2", GameDay: "big", Service: "shop", SLO: "checkout", Outcome: chaos.Fail, StartedAt: start.Add(time.Hour)}
	for i := 0; i < 40000; i++ { // 11 hours of 1s polls: stored gzipped
		large.Samples = append(large.Samples, chaos.Sample{T: start.Add(time.Duration(i) * time.Second), Burn: map[string]float64{"5s": float64(i%97) / 7}})
	}
	var cms []corev1.ConfigMap
	for _, res := range []*chaos.Result{small, large} {
		cm, err := reportConfigMap(gd, res)
		if err != nil {
			t.Fatal(err)
		}
		cms = append(cms, *cm)
	}
	if cms[1].BinaryData["result.json.gz"] == nil {
		t.Fatalf("the large report is not gzipped: %v", keys(cms[1].Data))
	}
	st, res := importReports(t, cms...)
	if len(res) != 2 || res[0].RunID != "r1" || res[1].RunID != "r2" {
		t.Fatalf("imported %+v", res)
	}
	got, err := st.Get(context.Background(), "r2")
	if err != nil || got.Outcome != chaos.Fail || len(got.Samples) != 40000 {
		t.Errorf("r2 read back: %v", err)
	}
}
