package demo

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slokit/slokit/alerts"
	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/chaos/local"
	"github.com/slokit/slokit/slo"
)

// TestPredictions pins the maths the demo is built on (docs/demo.md): the page fires on
// a 50% fault after 0.288 × 60s / 0.5 and resets 5s × (1 − 0.576) after it ends.
func TestPredictions(t *testing.T) {
	o, err := Objective()
	if err != nil {
		t.Fatal(err)
	}
	ws := o.Windows()
	if len(ws) != 1 || ws[0].Severity != slo.Page || ws[0].Long != time.Minute || ws[0].Short != 5*time.Second {
		t.Fatalf("tiers %+v, want one page tier over 1m and 5s", ws)
	}
	tests := []struct {
		e             float64
		fires         bool
		detect, reset time.Duration
	}{
		{e: 0.5, fires: true, detect: 35 * time.Second, reset: 2 * time.Second}, // 34.56s, 2.12s
		{e: 1, fires: true, detect: 17 * time.Second, reset: 4 * time.Second},   // 17.28s, 3.56s
		{e: 0.288, fires: false},
		{e: 0.1, fires: false},
	}
	for _, tt := range tests {
		p := alerts.Predict(o, ws[0], tt.e)
		if p.Fires != tt.fires || p.Detect != tt.detect || p.Reset != tt.reset {
			t.Errorf("e=%g: fires %v after %s, reset %s; want %v, %s, %s", tt.e, p.Fires, p.Detect, p.Reset, tt.fires, tt.detect, tt.reset)
		}
	}
}

// TestRulesGolden keeps the demo's generated rules (what the lab and a real Prometheus
// evaluate) under review. UPDATE_GOLDEN=1 rewrites testdata/rules.yml.
func TestRulesGolden(t *testing.T) {
	rf, err := Rules(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, err := yaml.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "rules.yml")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("rules differ from %s (UPDATE_GOLDEN=1 to accept):\n%s", golden, got)
	}
	for _, g := range rf.Groups {
		if g.Interval != "1s" {
			t.Errorf("group %s interval %q, want 1s", g.Name, g.Interval)
		}
	}
}

// TestStartWritesValidFiles starts a stack with the lab and checks what a user gets in
// --out: a game day that validates against the http-proxy backend and points at this
// run's addresses, a Prometheus config scraping the edge, and an edge that refuses
// traffic until it is routed and closes with the stack.
func TestStartWritesValidFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = s.Close()
		}
	}()
	for _, f := range []string{FileSLOs, FileRules, FilePrometheus, FileGameDay} {
		if s.Files[f] != filepath.Join(dir, f) {
			t.Errorf("Files[%s] = %q", f, s.Files[f])
		}
	}
	gd, err := os.ReadFile(s.Files[FileGameDay])
	if err != nil {
		t.Fatal(err)
	}
	g, ds := chaos.Parse(s.Files[FileGameDay], gd, []chaos.Backend{local.HTTPProxyBackend{}})
	if err := ds.Err(); err != nil || g == nil {
		t.Fatalf("the written game day is invalid: %v", err)
	}
	if g.Signals.Prometheus != s.Lab.URL() || g.SteadyState.Wait != 75*time.Second {
		t.Errorf("signals %q (want the lab %s), steady-state wait %s", g.Signals.Prometheus, s.Lab.URL(), g.SteadyState.Wait)
	}
	if !strings.Contains(string(gd), "target: "+s.ServiceURL) {
		t.Errorf("the game day does not target the service %s:\n%s", s.ServiceURL, gd)
	}
	pc, err := os.ReadFile(s.Files[FilePrometheus])
	if err != nil {
		t.Fatal(err)
	}
	if want := `targets: ["` + strings.TrimPrefix(s.EdgeURL, "http://") + `"]`; !strings.Contains(string(pc), want) {
		t.Errorf("prometheus.yml lacks %s:\n%s", want, pc)
	}
	if code := get(t, s.EdgeURL+"/abc"); code != http.StatusServiceUnavailable {
		t.Errorf("unrouted edge answered %d, want 503", code)
	}
	if err := s.Route(s.ServiceURL); err != nil {
		t.Fatal(err)
	}
	if code := get(t, s.EdgeURL+"/abc"); code != http.StatusNotFound {
		t.Errorf("routed edge answered %d, want the service's 404", code)
	}
	closed = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(s.EdgeURL + "/metrics"); err == nil {
		resp.Body.Close()
		t.Error("the edge answers after Close")
	}
}

func get(t *testing.T, u string) int {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// seriesAfter is a Signals whose 1m burn rate appears at the n-th read.
type seriesAfter struct {
	n     int32
	reads atomic.Int32
}

func (s *seriesAfter) BurnRates(context.Context, slo.Objective) (map[time.Duration]float64, error) {
	if s.reads.Add(1) < s.n {
		return map[time.Duration]float64{5 * time.Second: 0}, nil
	}
	return map[time.Duration]float64{5 * time.Second: 0, time.Minute: 0}, nil
}

func (s *seriesAfter) Alerts(context.Context, slo.Objective) ([]chaos.AlertState, error) {
	return nil, nil
}

func TestWarmUp(t *testing.T) {
	o, err := Objective()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("waits for the series, then fills", func(t *testing.T) {
		sig := &seriesAfter{n: 2}
		var last WarmUpStatus
		fill := 500 * time.Millisecond // polls are 1s apart
		if err := WarmUp(context.Background(), sig, o, time.Minute, fill, time.Minute, func(st WarmUpStatus) { last = st }); err != nil {
			t.Fatal(err)
		}
		if got := sig.reads.Load(); got != 3 {
			t.Errorf("%d reads, want 3 (no series, series, filled)", got)
		}
		if last.Filled != fill || last.Fill != fill {
			t.Errorf("last status %+v", last)
		}
	})
	t.Run("gives up without the series", func(t *testing.T) {
		err := WarmUp(context.Background(), &seriesAfter{n: 1 << 30}, o, time.Minute, time.Second, 0, nil)
		want := "warm-up: no 1m burn rate of shortlink-redirect-availability after 0s (no burn-rate series yet); is the edge scraped and are the rules loaded?"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
	})
	t.Run("stops on cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := WarmUp(ctx, &seriesAfter{n: 1 << 30}, o, time.Minute, time.Second, time.Hour, nil); err != context.Canceled {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
