package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestExpandFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.yaml", "b.yml", "c.json", "notes.txt", ".hidden.yaml", "sub/d.yaml", "empty/.keep"} {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	j := func(n string) string { return filepath.Join(dir, n) }
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"files kept in order", []string{j("b.yml"), j("a.yaml")}, []string{j("b.yml"), j("a.yaml")}, ""},
		{"stdin", []string{"-"}, []string{"-"}, ""},
		{"missing file left to the reader", []string{j("missing.yaml")}, []string{j("missing.yaml")}, ""},
		{"directory: spec files, sorted, not hidden, not nested", []string{dir}, []string{j("a.yaml"), j("b.yml"), j("c.json")}, ""},
		{"glob", []string{j("*.y*ml")}, []string{j("a.yaml"), j("b.yml")}, ""},
		{"glob reaching a directory", []string{j("s*")}, []string{j("sub/d.yaml")}, ""},
		{"duplicates dropped", []string{j("a.yaml"), dir}, []string{j("a.yaml"), j("b.yml"), j("c.json")}, ""},
		{"unmatched glob", []string{j("*.toml")}, nil, "no file matches"},
		{"directory without specs", []string{j("empty")}, nil, "a directory with no .yaml, .yml, .json file"},
		{"every error at once", []string{j("*.toml"), j("empty")}, nil, "no file matches\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandFiles(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}
