package thanoslab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigErrorsAllAtOnce(t *testing.T) {
	_, err := Start(context.Background(), Config{
		Clusters:  []Cluster{{Name: "A"}, {Name: "b"}, {Name: "b"}},
		RuleFiles: map[string][]byte{"../x.yml": nil},
		Thanos:    "/nonexistent/thanos",
	})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{
		"a directory (Config.Dir) is required",
		`Thanos binary "/nonexistent/thanos" not found`,
		`Prometheus binary "" not found`,
		`clusters[0]: name "A" must match [a-z0-9-]+`,
		`clusters[2]: name "b" is used twice`,
		`rule file "../x.yml" must be a base name`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestPrometheusConfigCarriesClusterAndReplica(t *testing.T) {
	l := &Lab{cfg: Config{}}
	l.cfg.defaults()
	got := l.prometheusConfig(Cluster{Name: "a", Job: "shortlink", Targets: []string{"127.0.0.1:1", "127.0.0.1:2"}}, "a-0", []string{"/r/x.yml"})
	want := `global:
  scrape_interval: 1s
  evaluation_interval: 1s
  external_labels: {cluster: "a", replica: "a-0"}
rule_files:
  - "/r/x.yml"
scrape_configs:
  - job_name: "shortlink"
    static_configs:
      - targets: ["127.0.0.1:1", "127.0.0.1:2"]
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestEndpointsStrictByDefault: every sidecar is a strict endpoint (a lost cluster stays
// in the fan-out and makes the query partial), the ruler an ordinary one.
func TestEndpointsStrictByDefault(t *testing.T) {
	l := &Lab{Replicas: []Replica{{SidecarGRPC: "127.0.0.1:1"}, {SidecarGRPC: "127.0.0.1:2"}}}
	want := "endpoints:\n  - address: \"127.0.0.1:1\"\n    strict: true\n  - address: \"127.0.0.1:2\"\n    strict: true\n  - address: \"127.0.0.1:9\"\n"
	if got := l.endpointsConfig(true, "127.0.0.1:9"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := l.endpointsConfig(false, ""); strings.Contains(got, "strict: true") {
		t.Errorf("NonStrict still strict:\n%s", got)
	}
}

// TestProcLifecycle starts a real process, sees it not ready, kills it, and tells a kill
// from an exit on its own.
func TestProcLifecycle(t *testing.T) {
	dir := t.TempDir()
	p, err := spawn(dir, "sleeper", "/bin/sh", "-c", "echo started; exec sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.unexpectedExit(); err != nil {
		t.Errorf("running: %v", err)
	}
	p.kill()
	if err := p.unexpectedExit(); err != nil {
		t.Errorf("killed on purpose: %v", err)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "sleeper.log")); !strings.Contains(string(log), "started") {
		t.Errorf("log %q", log)
	}
	q, err := spawn(dir, "quitter", "/bin/sh", "-c", "echo bye; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	err = q.waitReady(context.Background(), "http://127.0.0.1:1/-/ready", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "quitter exited before it was ready") || !strings.Contains(err.Error(), "bye") {
		t.Errorf("waitReady: %v", err)
	}
	if err := q.unexpectedExit(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("unexpectedExit: %v", err)
	}
}

// TestFreeAddrNeverTwice: the ports handed to components are distinct within the
// process, even when the kernel offers a just-closed port again.
func TestFreeAddrNeverTwice(t *testing.T) {
	seen := map[string]bool{}
	for range 300 {
		a, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		if seen[a] {
			t.Fatalf("freeAddr returned %s twice", a)
		}
		seen[a] = true
	}
}
