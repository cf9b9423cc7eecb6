package chaosmesh

import (
	"strings"
	"testing"
)

func TestRBACYAML(t *testing.T) {
	got, err := RBACYAML("shortlink", DefaultServiceAccount)
	if err != nil {
		t.Fatal(err)
	}
	s := string(got)
	for _, want := range []string{
		"kind: ServiceAccount", "kind: Role\n", "kind: RoleBinding",
		"  - networkchaos\n  - podchaos\n  - httpchaos\n  - stresschaos\n",
		"  - get\n  - list\n  - watch\n  - create\n  - delete\n",
		"namespace: shortlink",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("RBAC lacks %q:\n%s", want, s)
		}
	}
	for _, never := range []string{"update", "patch", "ClusterRole", "'*'", "creationTimestamp"} {
		if strings.Contains(s, never) {
			t.Errorf("RBAC contains %q:\n%s", never, s)
		}
	}
	if _, err := RBACYAML("Bad_NS", DefaultServiceAccount); err == nil {
		t.Error("invalid namespace accepted")
	}
}
