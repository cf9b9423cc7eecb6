package chaosmesh

import (
	"strings"
	"testing"

	"github.com/slokit/slokit/chaos"
)

// TestGameDayParse checks the backend inside a whole GameDay file, as `slokit chaos
// validate` reads it: valid params pass, and a bad one is reported at its position
// under fault.params.
func TestGameDayParse(t *testing.T) {
	const head = `name: shortlink-latency
slo: {file: slos.yaml, name: redirect-latency}
signals: {prometheus: "http://127.0.0.1:9090"}
expect:
  - {severity: page, within: 10m}
fault:
  backend: chaosmesh
  params:
    kind: NetworkChaos
    namespace: shortlink
    spec:
      action: delay
      mode: all
      selector: {labelSelectors: {app: shortlink}}
`
	bks := []chaos.Backend{&Backend{}}
	g, ds := chaos.Parse("gd.yaml", []byte(head+"      delay: {latency: 200ms}\n"), bks)
	if g == nil || len(ds.Errors()) > 0 {
		t.Fatalf("valid game day rejected: %v", ds)
	}
	if g.Fault.Backend != BackendName {
		t.Errorf("backend = %q", g.Fault.Backend)
	}
	_, ds = chaos.Parse("gd.yaml", []byte(head+"      delay: {latncy: 200ms}\n"), bks)
	want := `gd.yaml:15:15: fault.params.spec.delay: unknown field "latncy", did you mean "latency"?`
	var got []string
	for _, d := range ds.Errors() {
		got = append(got, d.String())
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
