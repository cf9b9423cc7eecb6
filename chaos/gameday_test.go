package chaos

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/internal/golden"
	"github.com/slokit/slokit/slo"
)

func diagText(ds slo.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestParseValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, ds := Parse(f, data, []Backend{fakeBackend{}})
			if g == nil || len(ds) > 0 {
				t.Fatalf("want a clean parse, got:\n%s", diagText(ds))
			}
		})
	}
}

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, ds := Parse("full.yaml", data, []Backend{fakeBackend{}})
	if g == nil {
		t.Fatal(diagText(ds))
	}
	yes := true
	g.Fault.Params = nil // a node; checked by the backend
	g.expectedPos = pos{}
	for i := range g.Expect {
		g.Expect[i].at = pos{}
	}
	for i := range g.MustNotFire {
		g.MustNotFire[i].at = pos{}
	}
	g.Recovery.at = pos{}
	want := GameDay{
		Name:               "redirect-errors",
		Description:        "Half of the redirects fail; the fast page must fire and the SLO recover.",
		Source:             "full.yaml",
		SLO:                SLORef{File: "../slos.yaml", Service: "shortlink", Name: "redirect-availability"},
		Signals:            SignalsSpec{Prometheus: "http://127.0.0.1:9090", AlertsURL: "http://127.0.0.1:10902", PollInterval: time.Second, Tolerance: 30 * time.Second},
		Fault:              Fault{Backend: "fake", Duration: 5 * time.Minute},
		ExpectedErrorRatio: 0.5,
		SteadyState:        SteadyState{Window: 5 * time.Minute, MaxBurnRate: 1, NoAlerts: &yes},
		Expect: []Expectation{
			{AlertSelector: AlertSelector{Severity: slo.Page, Window: time.Hour}},
			{AlertSelector: AlertSelector{Severity: slo.Page}, Within: 10 * time.Minute},
		},
		MustNotFire: []AlertSelector{{Severity: slo.Ticket}},
		Recovery:    Recovery{Within: 10 * time.Minute, BurnRateBelow: 1, Window: 5 * time.Minute},
		Guardrails:  Guardrails{MaxBudget: 0.1, Timeout: 30 * time.Minute},
	}
	if got := *g; !equalGameDay(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func equalGameDay(a, b GameDay) bool {
	if (a.SteadyState.NoAlerts == nil) != (b.SteadyState.NoAlerts == nil) ||
		a.SteadyState.NoAlerts != nil && *a.SteadyState.NoAlerts != *b.SteadyState.NoAlerts {
		return false
	}
	a.SteadyState.NoAlerts, b.SteadyState.NoAlerts = nil, nil
	if len(a.Expect) != len(b.Expect) || len(a.MustNotFire) != len(b.MustNotFire) {
		return false
	}
	for i := range a.Expect {
		if a.Expect[i] != b.Expect[i] {
			return false
		}
	}
	for i := range a.MustNotFire {
		if a.MustNotFire[i] != b.MustNotFire[i] {
			return false
		}
	}
	a.Expect, b.Expect, a.MustNotFire, b.MustNotFire = nil, nil, nil, nil
	return a.Name == b.Name && a.Description == b.Description && a.Source == b.Source &&
		a.SLO == b.SLO && a.Signals == b.Signals && a.Fault.Backend == b.Fault.Backend &&
		a.Fault.Duration == b.Fault.Duration && a.ExpectedErrorRatio == b.ExpectedErrorRatio &&
		a.SteadyState == b.SteadyState && a.Recovery == b.Recovery && a.Guardrails == b.Guardrails
}

// TestParseInvalid pairs every broken file with its full expected diagnostics.
func TestParseInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) < 10 {
		t.Fatalf("want at least 10 invalid fixtures, got %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, ds := Parse(filepath.Base(f), data, []Backend{fakeBackend{}})
			if g != nil || len(ds.Errors()) == 0 {
				t.Fatalf("want errors, got none")
			}
			golden.Check(t, strings.TrimSuffix(f, ".yaml")+".err", []byte(diagText(ds)))
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, ds := Parse("fuzz.yaml", data, []Backend{fakeBackend{}})
		if (g == nil) != (len(ds.Errors()) > 0) {
			t.Fatalf("game day %v with errors %v", g != nil, ds.Errors())
		}
		if g == nil {
			return
		}
		if g.Name == "" || g.SLO.Name == "" || len(g.Expect) == 0 && g.Mitigation.Name == "" || g.Fault.Backend != "fake" {
			t.Fatalf("valid game day misses required fields: %+v", g)
		}
		// A valid game day must resolve against an objective or be rejected with diagnostics.
		p, pds := Prepare(g, goodObjective(), 0)
		if (p == nil) != (len(pds.Errors()) > 0) {
			t.Fatalf("plan %v with errors %v", p != nil, pds.Errors())
		}
		if p != nil && (p.Timeout <= 0 || p.Recovery.Within <= 0 || p.PollInterval <= 0) {
			t.Fatalf("plan with unset deadlines: %+v", p)
		}
	})
}

// TestParseLimits: a game day gets the limits every file slokit reads has (size,
// nesting depth), in the same words as a spec.
func TestParseLimits(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"size":  {append([]byte("name: x\n#"), bytes.Repeat([]byte("x"), 8<<20)...), "big.yaml: file larger than 8 MiB"},
		"depth": {[]byte("name: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "\n"), "big.yaml:1:"},
	} {
		t.Run(name, func(t *testing.T) {
			g, ds := Parse("big.yaml", tc.data, []Backend{fakeBackend{}})
			if g != nil || len(ds.Errors()) != 1 || !strings.HasPrefix(ds.Errors()[0].String(), tc.want) {
				t.Fatalf("want one error starting %q, got %v", tc.want, ds.Errors())
			}
			if name == "depth" && !strings.Contains(ds.Errors()[0].String(), "nested deeper than 64 levels") {
				t.Errorf("got %v", ds.Errors())
			}
		})
	}
}
