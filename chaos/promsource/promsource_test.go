package promsource

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/internal/testutil"
	"github.com/slokit/slokit/slo"
)

func objective() slo.Objective {
	return slo.Objective{Service: "shortlink", Name: "redirect-availability", Target: 0.999, Period: 30 * 24 * time.Hour}
}

// rules make a real Prometheus hold series and alerts shaped like slokit's generated
// ones, for this SLO and for another that must be filtered out.
const rules = `groups:
- name: fake-slokit
  interval: 1s
  rules:
  - record: slokit:slo_burn:rate
    expr: vector(12.5)
    labels: {slokit_service: shortlink, slokit_slo: redirect-availability, slokit_window: 5m}
  - record: slokit:slo_burn:rate
    expr: vector(2)
    labels: {slokit_service: shortlink, slokit_slo: redirect-availability, slokit_window: 1h}
  - record: slokit:slo_burn:rate
    expr: vector(0.5)
    labels: {slokit_service: shortlink, slokit_slo: redirect-availability, slokit_window: 1d12h}
  - record: slokit:slo_burn:rate
    expr: vector(0) / vector(0)
    labels: {slokit_service: shortlink, slokit_slo: redirect-availability, slokit_window: 3d}
  - record: slokit:slo_burn:rate
    expr: vector(99)
    labels: {slokit_service: shortlink, slokit_slo: create-availability, slokit_window: 5m}
  - record: slokit:slo_error_budget_remaining:ratio
    expr: vector(0.75)
    labels: {slokit_service: shortlink, slokit_slo: redirect-availability}
  - alert: ShortlinkRedirectAvailability
    expr: vector(1)
    labels: {severity: critical, slokit_service: shortlink, slokit_slo: redirect-availability, slokit_window: 1h}
  - alert: ShortlinkRedirectAvailability
    expr: vector(1)
    for: 1h
    labels: {severity: ticket, slokit_service: shortlink, slokit_slo: redirect-availability, slokit_window: 1d}
  - alert: ShortlinkCreateAvailability
    expr: vector(1)
    labels: {severity: page, slokit_service: shortlink, slokit_slo: create-availability, slokit_window: 1h}
`

func TestSourceRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Prometheus")
	}
	srv := testutil.StartPrometheus(t, `global: {evaluation_interval: 1s}
rule_files: [rules.yml]
`, func(dir string) {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	s, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := objective()
	var burn map[time.Duration]float64
	var alerts []chaos.AlertState
	for {
		burn, err = s.BurnRates(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		alerts, err = s.Alerts(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(burn) == 3 && len(alerts) == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("rules not evaluated: burn %v alerts %v", burn, alerts)
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The NaN 3d window (no traffic) and the other SLO's series are left out; a window
	// label like 1d12h is read as the duration it is.
	if want := map[time.Duration]float64{5 * time.Minute: 12.5, time.Hour: 2, 36 * time.Hour: 0.5}; !reflect.DeepEqual(burn, want) {
		t.Errorf("burn rates %v, want %v", burn, want)
	}
	for i := range alerts {
		if alerts[i].ActiveAt.IsZero() || time.Since(alerts[i].ActiveAt) > time.Minute {
			t.Errorf("alert %d activeAt %v", i, alerts[i].ActiveAt)
		}
		alerts[i].ActiveAt, alerts[i].Labels = time.Time{}, nil
	}
	// The page was relabelled severity=critical: its tier (slokit_window=1h) still says page.
	want := []chaos.AlertState{
		{Name: "ShortlinkRedirectAvailability", Severity: slo.Page, Window: time.Hour, State: "firing"},
		{Name: "ShortlinkRedirectAvailability", Severity: slo.Ticket, Window: 24 * time.Hour, State: "pending"},
	}
	if !reflect.DeepEqual(alerts, want) {
		t.Errorf("alerts\n got %+v\nwant %+v", alerts, want)
	}
	left, err := s.BudgetRemaining(ctx, o)
	if err != nil || left != 0.75 {
		t.Errorf("budget remaining %v, %v; want 0.75", left, err)
	}
	series, err := s.Range(ctx, selector(slo.MetricBurnRate, o)+` > 1`, time.Now().Add(-5*time.Second), time.Now(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || len(series[0].Points) == 0 {
		t.Errorf("range: %+v", series)
	}
}

func TestSourceErrorsNameTheServer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	defer ts.Close()
	s, err := New(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.BurnRates(context.Background(), objective())
	if err == nil || !strings.Contains(err.Error(), ts.URL) || !strings.Contains(err.Error(), `slokit:slo_burn:rate{slokit_service="shortlink",slokit_slo="redirect-availability"}`) {
		t.Errorf("error %v should name the query and the server", err)
	}
	_, err = s.Alerts(context.Background(), objective())
	if err == nil || !strings.Contains(err.Error(), ts.URL) {
		t.Errorf("error %v should name the server", err)
	}
}

// TestSplitReadsAlertsFromTheAlertsAPI: with Thanos, series come from Query and alerts
// from the ruler. Each fake answers only its own API; Ping checks both and names the
// one that fails.
func TestSplitReadsAlertsFromTheAlertsAPI(t *testing.T) {
	query := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.Error(w, "query serves no "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[` +
			`{"metric":{"slokit_window":"5m"},"value":[1,"3"]}]}}`))
	}))
	defer query.Close()
	ruler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/alerts" {
			http.Error(w, "ruler serves no "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"alerts":[{"labels":{"alertname":"ShortlinkRedirectAvailability",` +
			`"slokit_service":"shortlink","slokit_slo":"redirect-availability","slokit_window":"1h","severity":"page"},` +
			`"state":"firing","activeAt":"2026-12-05T01:00:00Z","value":"20","partialResponseStrategy":"ABORT"}]}}`))
	}))
	defer ruler.Close()
	ctx := context.Background()
	s, err := NewSplit(query.URL, ruler.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	burn, err := s.BurnRates(ctx, objective())
	if err != nil || burn[5*time.Minute] != 3 {
		t.Errorf("burn rates %v, %v; want 5m: 3 from Query", burn, err)
	}
	alerts, err := s.Alerts(ctx, objective())
	if err != nil || len(alerts) != 1 || alerts[0].State != "firing" || alerts[0].Severity != slo.Page {
		t.Errorf("alerts %+v, %v; want the ruler's firing page", alerts, err)
	}
	if got := s.String(); got != "prometheus "+query.URL+", alerts "+ruler.URL {
		t.Errorf("String() = %q", got)
	}
	// The alerts API pointed at Query: Ping fails and says which setting to check.
	s, _ = NewSplit(query.URL, query.URL+"/")
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "signals.alertsURL") {
		t.Errorf("Ping with alerts from Query: %v; want an error naming signals.alertsURL", err)
	}
}
