package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// cmJSON is a report ConfigMap as kubectl prints it: the result in data, or gzipped in
// binaryData (base64 in JSON).
func cmJSON(t testing.TB, name string, result []byte, zipped bool) string {
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "shop", "labels": map[string]string{"slokit.dev/run-id": name}}}
	if zipped {
		cm["binaryData"] = map[string][]byte{"result.json.gz": gz(t, result)}
	} else {
		cm["data"] = map[string]string{"result.json": string(result), "report.html": "<html></html>"}
	}
	b, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseFileShapes(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r1, _ := json.MarshalIndent(result("r1", start, 36), "", "  ")
	r2, _ := json.Marshal(result("r2", start.Add(time.Hour), 40))
	other := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"shop"},"data":{"ca.crt":"x"}}`
	list := `{"apiVersion":"v1","kind":"List","items":[` + cmJSON(t, "a", r1, false) + "," + other + "," + cmJSON(t, "b", r2, true) + `]}`
	for _, tc := range []struct {
		name string
		data []byte
		want string // run IDs and where they came from
	}{
		{"result", r1, "r1@f"},
		{"gzipped result", gz(t, r1), "r1@f"},
		{"ConfigMap, data", []byte(cmJSON(t, "a", r1, false)), "r1@f: ConfigMap shop/a"},
		{"ConfigMap, binaryData gzipped", []byte(cmJSON(t, "b", r2, true)), "r2@f: ConfigMap shop/b"},
		{"List, another ConfigMap skipped", []byte(list), "r1@f: ConfigMap shop/a r2@f: ConfigMap shop/b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imps, err := ParseFile("f", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, i := range imps {
				got = append(got, i.Result.RunID+"@"+i.From)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(result("ok1", start, 36))
	bad := []byte("{\n  \"runId\": 12\n}")
	for _, tc := range []struct {
		name, in string
		want     []string
		imported int
	}{
		{"ConfigMap holding another thing", `{"kind":"ConfigMap","metadata":{"name":"x","namespace":"shop"},"data":{"a":"b"}}`,
			[]string{"f: ConfigMap shop/x holds no result.json or result.json.gz: not a slokit game-day report"}, 0},
		{"bad result inside, positioned in it", cmJSON(t, "bad", bad, false),
			[]string{"f: ConfigMap shop/bad result.json:2:12: runId: want string, got JSON number"}, 0},
		{"List: the good one kept, the bad one reported", `{"kind":"List","items":[` + cmJSON(t, "good", good, false) + "," + cmJSON(t, "bad", bad, true) + `]}`,
			[]string{"f: ConfigMap shop/bad result.json.gz:2:12: runId: want string, got JSON number"}, 1},
		{"List without reports", `{"kind":"List","items":[{"kind":"Pod"}]}`,
			[]string{"f: a List of 1 objects without a slokit game-day report"}, 0},
		{"broken gzip", "\x1f\x8b\x08garbage", []string{"f: gzip: "}, 0},
		{"neither", "{\n  \"kind\": 3\n}", []string{"f: not a slokit game-day result"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imps, err := ParseFile("f", []byte(tc.in))
			if err == nil {
				t.Fatalf("accepted: %+v", imps)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(imps) != tc.imported {
				t.Errorf("%d results read, want %d", len(imps), tc.imported)
			}
		})
	}
}

// ImportFile records every report of a List, each with the ConfigMap as its source.
func TestImportConfigMaps(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r1, _ := json.Marshal(result("c1", start, 36))
	r2, _ := json.Marshal(result("c2", start.Add(time.Hour), 40))
	path := filepath.Join(t.TempDir(), "runs.json")
	list := `{"apiVersion":"v1","kind":"List","items":[` + cmJSON(t, "gd-c1", r1, false) + "," + cmJSON(t, "gd-c2", r2, true) + `]}`
	if err := os.WriteFile(path, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportFile(ctx, path)
	if err != nil || len(res) != 2 {
		t.Fatalf("import: %d results, %v", len(res), err)
	}
	runs, _ := s.List(ctx, Filter{})
	sources := map[string]string{}
	for _, r := range runs {
		sources[r.RunID] = r.Source
	}
	if sources["c1"] != "import "+path+": ConfigMap shop/gd-c1" || sources["c2"] != "import "+path+": ConfigMap shop/gd-c2" {
		t.Errorf("sources: %v", sources)
	}
	if got, err := s.Get(ctx, "c2"); err != nil || *got.Expectations[1].DetectedSeconds != 40 {
		t.Errorf("c2 read back: %v", err)
	}
}

func FuzzParseFile(f *testing.F) {
	r, _ := json.Marshal(result("seed", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 35))
	f.Add([]byte(cmJSON(f, "a", r, false)))
	f.Add([]byte(`{"kind":"List","items":[` + cmJSON(f, "b", r, true) + `,{"kind":"Pod"}]}`))
	f.Add(gz(f, r))
	f.Fuzz(func(t *testing.T, data []byte) {
		imps, err := ParseFile("f", data)
		for _, i := range imps {
			if i.Result.RunID == "" || i.Result.StartedAt.IsZero() || !strings.HasPrefix(i.From, "f") {
				t.Errorf("accepted a result without runId or startedAt, or from %q: %+v", i.From, i.Result)
			}
		}
		if err != nil && !strings.HasPrefix(err.Error(), "f") {
			t.Errorf("error without the file name: %v", err)
		}
	})
}
