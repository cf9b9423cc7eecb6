package testutil

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestStartPrometheusAndAlertmanager(t *testing.T) {
	p := StartPrometheus(t, "global:\n  scrape_interval: 1s\n", nil)
	a := StartAlertmanager(t, "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
	for _, u := range []string{p.URL + "/api/v1/status/buildinfo", a.URL + "/api/v2/status"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", u, resp.Status)
		}
	}
}

// TestThanosVersionMatchesCI keeps the version the tests look for equal to the one
// .ci/thanos.sh builds.
func TestThanosVersionMatchesCI(t *testing.T) {
	b, err := os.ReadFile("../../.ci/thanos.sh")
	if err != nil {
		t.Fatal(err)
	}
	want := "THANOS_VERSION=${THANOS_VERSION:-" + ThanosVersion + "}"
	if !strings.Contains(string(b), want) {
		t.Errorf(".ci/thanos.sh does not contain %q: keep ThanosVersion and the script in step", want)
	}
}
