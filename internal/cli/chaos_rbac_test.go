//go:build !slokit_nok8s

package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestChaosRBACMatchesDeploy keeps deploy/rbac/gameday-runner.yaml equal to what
// `slokit chaos rbac --namespace shortlink` prints (UPDATE_GOLDEN=1 rewrites it).
func TestChaosRBACMatchesDeploy(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"chaos", "rbac", "--namespace", "shortlink"}, nil, &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	const golden = "../../deploy/rbac/gameday-runner.yaml"
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != string(want) {
		t.Errorf("%s is stale; run UPDATE_GOLDEN=1 go test ./internal/cli -run RBAC\ngot:\n%s", golden, stdout.String())
	}
}

func TestChaosRBACUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"chaos", "rbac"}, ExitUsage, "rbac needs --namespace"},
		{[]string{"chaos", "rbac", "-n", "Not_A_Namespace"}, ExitUsage, `invalid namespace "Not_A_Namespace"`},
		{[]string{"chaos", "rbac", "-n", "payments", "--name", "gameday-bot"}, ExitOK, ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), tt.args, nil, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
		if code == ExitOK && (!strings.Contains(stdout.String(), "name: gameday-bot\n  namespace: payments") || strings.Contains(stdout.String(), "shortlink")) {
			t.Errorf("%v printed:\n%s", tt.args, stdout.String())
		}
	}
}

func TestApplyUsageAndValidation(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: rules-y}\nspec:\n  groups: []\n  grups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"apply"}, ExitUsage, []string{"apply needs -f FILE"}},
		{[]string{"apply", "-f", bad}, ExitInvalid, []string{
			`document 1 (ConfigMap "x"): slokit applies only monitoring.coreos.com/v1 PrometheusRule`,
			`document 2 (PrometheusRule "rules-y"): json: unknown field "grups"`,
		}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), tt.args, nil, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d; stderr %s", tt.args, code, tt.code, stderr.String())
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, w, stderr.String())
			}
		}
	}
}
