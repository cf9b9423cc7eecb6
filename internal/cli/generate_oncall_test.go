package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const oncallSpec = "../../examples/shortlink.yaml"

func TestGenerateAlertmanager(t *testing.T) {
	for _, format := range []string{"alertmanager", "alertmanager-fragment"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := runCLI(t, "generate", "-q", "-f", oncallSpec, "-o", format, "--secrets-dir", "/run/am")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "/run/am/slokit-shortlink-pager-routing-key") {
				t.Errorf("no pager secret file under --secrets-dir in:\n%s", out)
			}
			if format == "alertmanager" {
				if _, err := amconfig.Load(out); err != nil {
					t.Errorf("Alertmanager rejects the output: %v", err)
				}
			}
		})
	}
}

func TestGenerateOncallUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-o", "alertmanager", "--pager", "pigeon"}, `receiver kind "pigeon"`},
		{[]string{"-o", "alertmanager", "--route-by", "no-such label"}, "route-by label"},
		{[]string{"-o", "grafana"}, "pass --out DIR"},
	}
	for _, tt := range tests {
		args := append([]string{"generate", "-q", "-f", oncallSpec}, tt.args...)
		code, _, errOut := runCLI(t, args...)
		if code == ExitOK || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want failure mentioning %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestGenerateGrafanaAndRunbooksIntoDir(t *testing.T) {
	dir := t.TempDir()
	// --out is the folder the files go in: nothing nested under it.
	for format, out := range map[string]string{"grafana": "dashboards", "runbook": "runbooks", "grafana-operator": "."} {
		code, _, errOut := runCLI(t, "generate", "-q", "-f", oncallSpec, "-o", format, "--out", filepath.Join(dir, out), "--grafana-url", "https://grafana.example")
		if code != ExitOK {
			t.Fatalf("-o %s: exit %d: %s", format, code, errOut)
		}
	}
	boards, _ := filepath.Glob(filepath.Join(dir, "dashboards", "*.json"))
	runbooks, _ := filepath.Glob(filepath.Join(dir, "runbooks", "*.md"))
	if nested, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*")); len(nested) > 0 {
		t.Errorf("files nested under --out: %v", nested)
	}
	if len(boards) < 2 || len(runbooks) < 1 || len(boards) != len(runbooks)+1 {
		t.Fatalf("got %d dashboards and %d runbooks, want an overview plus one dashboard per runbook", len(boards), len(runbooks))
	}
	for _, b := range boards {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ UID string }
		if err := json.Unmarshal(data, &d); err != nil || filepath.Base(b) != d.UID+".json" {
			t.Errorf("%s: uid %q (err %v); the file is named after the uid", b, d.UID, err)
		}
	}
	rb, err := os.ReadFile(runbooks[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rb), "https://grafana.example/d/slokit-") {
		t.Errorf("%s does not link the dashboard", runbooks[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "grafana-dashboards.yaml")); err != nil {
		t.Error(err)
	}
}
