package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/store"
)

// checkRecorded asserts that the store at db holds want, whole.
func checkRecorded(t *testing.T, db string, want *chaos.Result) {
	t.Helper()
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(context.Background(), want.RunID)
	if err != nil {
		t.Fatalf("run not recorded: %v", err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("recorded run differs from result.json:\n got %s\nwant %s", gb, wb)
	}
	runs, _ := s.List(context.Background(), store.Filter{})
	if len(runs) != 1 || runs[0].Source != "chaos run" {
		t.Errorf("history: %+v", runs)
	}
}

func TestChaosImport(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "result.json")
	res := &chaos.Result{RunID: "abc123", GameDay: "g", Service: "shortlink", SLO: "redirect-availability",
		Outcome: chaos.Pass, StartedAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	b, _ := json.Marshal(res)
	if err := os.WriteFile(good, b, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"runId\": 7\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "gd.db")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"chaos", "import", "--store", db, good, bad, filepath.Join(dir, "missing.json")}, nil, &stdout, &stderr)
	if code != ExitInvalid {
		t.Errorf("exit %d, want %d", code, ExitInvalid)
	}
	if want := good + ": imported run abc123 (g on shortlink/redirect-availability, pass)\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	for _, want := range []string{bad + ":2:12: runId: want string, got JSON number", "missing.json: no such file",
		"2 of 3 file(s) not imported into " + db} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if runs, _ := s.List(context.Background(), store.Filter{}); len(runs) != 1 || runs[0].RunID != "abc123" {
		t.Errorf("store holds %+v", runs)
	}
	stdout.Reset()
	stderr.Reset()
	if code := Main(context.Background(), []string{"chaos", "import", "--store", "none", good}, nil, &stdout, &stderr); code != ExitUsage {
		t.Errorf("--store none: exit %d, want %d", code, ExitUsage)
	}
}

// The operator's report ConfigMaps, as kubectl prints them, import run by run: the good
// one is recorded and printed, the bad one named with its position inside its result.
func TestChaosImportConfigMaps(t *testing.T) {
	dir := t.TempDir()
	res := &chaos.Result{RunID: "op1", GameDay: "checkout-outage", Service: "shop", SLO: "checkout",
		Outcome: chaos.Pass, StartedAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	good, _ := json.Marshal(res)
	cm := func(name, result string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "shop"},
			"data": map[string]string{"result.json": result}}
	}
	list, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List",
		"items": []any{cm("checkout-outage-op1", string(good)), cm("checkout-outage-op2", "{\n  \"runId\": 7\n}")}})
	path := filepath.Join(dir, "runs.json")
	if err := os.WriteFile(path, list, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "gd.db")
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"chaos", "import", "--store", db, path}, nil, &stdout, &stderr); code != ExitInvalid {
		t.Errorf("exit %d, want %d", code, ExitInvalid)
	}
	if want := path + ": imported run op1 (checkout-outage on shop/checkout, pass)\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if want := path + ": ConfigMap shop/checkout-outage-op2 result.json:2:12: runId: want string, got JSON number"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if runs, _ := s.List(context.Background(), store.Filter{}); len(runs) != 1 || runs[0].Source != "import "+path+": ConfigMap shop/checkout-outage-op1" {
		t.Errorf("store holds %+v", runs)
	}
}
