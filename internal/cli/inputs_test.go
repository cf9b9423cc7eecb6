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
	for _, n := range []string{"a.yaml", "b.yml", "c.json", "notes.txt", ".hidden.yaml", "sub/d.yaml", "sub/.x/e.yaml", "empty/.keep"} {
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
		{"directory kept for the reader to walk", []string{dir}, []string{dir}, ""},
		{"glob, hidden files skipped", []string{j("*.y*ml")}, []string{j("a.yaml"), j("b.yml")}, ""},
		{"glob reaching a directory", []string{j("s*")}, []string{j("sub")}, ""},
		{"duplicates dropped", []string{j("a.yaml"), j("*.yaml")}, []string{j("a.yaml")}, ""},
		{"unmatched glob", []string{j("*.toml")}, nil, "no file matches"},
		{"every error at once", []string{j("*.toml"), j("*.ini")}, nil, "*.toml: no file matches\n"},
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

	// apply lists a directory as slo.LoadFiles reads it: recursive, *.yaml and *.yml,
	// hidden directories skipped.
	got, err := expandDirs([]string{"-", dir, j("c.json")})
	want := []string{"-", j(".hidden.yaml"), j("a.yaml"), j("b.yml"), j("sub/d.yaml"), j("c.json")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("expandDirs = %q, %v\nwant %q", got, err, want)
	}
	if _, err := expandDirs([]string{j("empty")}); err == nil || !strings.Contains(err.Error(), "no .yaml or .yml file") {
		t.Errorf("expandDirs of a directory without YAML: %v", err)
	}
}
