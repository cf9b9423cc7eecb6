package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder stands in for a test to see what Check reports.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.msgs = append(r.msgs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) {
	r.msgs = append(r.msgs, "fatal: "+fmt.Sprintf(f, a...))
}
func (r *recorder) Fatal(a ...any) { r.msgs = append(r.msgs, "fatal: "+fmt.Sprint(a...)) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "out.txt")

	t.Setenv(UpdateEnv, "")
	r := &recorder{TB: t}
	Check(r, path, []byte("a\n"))
	if len(r.msgs) != 1 || r.msgs[0][:6] != "fatal:" {
		t.Fatalf("missing golden file: got %q, want one fatal message", r.msgs)
	}

	t.Setenv(UpdateEnv, "1")
	r = &recorder{TB: t}
	Check(r, path, []byte("a\nb\nc\n"))
	if data, err := os.ReadFile(path); err != nil || string(data) != "a\nb\nc\n" || len(r.msgs) != 0 {
		t.Fatalf("update: file %q (%v), messages %q", data, err, r.msgs)
	}

	t.Setenv(UpdateEnv, "")
	tests := []struct {
		got  string
		want []string
	}{
		{"a\nb\nc\n", nil},
		{"a\nx\nc\n", []string{path + " differs (UPDATE_GOLDEN=1 refreshes it), first at line 2:\n got: \"x\"\nwant: \"b\""}},
		{"a\nb\n", []string{path + " differs (UPDATE_GOLDEN=1 refreshes it), first at line 3:\n got: \"\"\nwant: \"c\""}},
		{"a\nb\nc\nd", []string{path + " differs (UPDATE_GOLDEN=1 refreshes it), first at line 4:\n got: \"d\"\nwant: \"\""}},
	}
	for _, tt := range tests {
		r := &recorder{TB: t}
		Check(r, path, []byte(tt.got))
		if fmt.Sprint(r.msgs) != fmt.Sprint(tt.want) {
			t.Errorf("Check(%q):\n got %q\nwant %q", tt.got, r.msgs, tt.want)
		}
	}
}
