package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/slo"
)

// gameResult is a passing run of shop/checkout-availability: the page after detected
// seconds (predicted 86s).
func gameResult(id string, start time.Time, detected float64) *chaos.Result {
	f := func(v float64) *float64 { return &v }
	at := func(s float64) *time.Time { t := start.Add(time.Duration(s * float64(time.Second))); return &t }
	return &chaos.Result{RunID: id, GameDay: "checkout-outage", Service: "shop", SLO: "checkout-availability",
		Objective: 0.99, PeriodSeconds: 86400, Backend: "http-proxy", ErrorRatio: 1, Outcome: chaos.Pass,
		StartedAt: start, EndedAt: *at(300), FaultBegan: at(10), FaultEnded: at(10 + detected),
		Tiers: []chaos.TierInfo{{Name: "page/10m", BurnRate: 14.4, Long: "10m", Short: "1m"}},
		Expectations: []chaos.ExpectationResult{{Alert: "page", Tiers: []string{"page/10m"}, PredictedSeconds: f(86),
			DetectedSeconds: f(detected), FiredTier: "page/10m", PredictedResetSeconds: f(51), ResetSeconds: f(55), Met: true, WithinSeconds: 116}},
		Recovery: chaos.RecoveryResult{Window: "1m", BurnRateBelow: 1, RecoveredSeconds: f(60), Met: true, WithinSeconds: 90},
		Budget:   chaos.BudgetResult{Spent: 0.1, Max: 0.2},
		Alerts:   []chaos.AlertTrack{{Name: "ShopCheckoutAvailability", Severity: slo.Page, Window: "10m", FiringAt: at(10 + detected), ResolvedAt: at(70 + detected)}},
		Samples: []chaos.Sample{{T: start, Burn: map[string]float64{"1m": 0, "10m": 0}},
			{T: *at(100), Burn: map[string]float64{"1m": 100, "10m": 15}}, {T: *at(200), Burn: map[string]float64{"1m": 0, "10m": 5}}},
	}
}

func TestGameDayPages(t *testing.T) {
	f := newFixture(t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"aaaa0001", "aaaa0002", "aaaa0003"} {
		if err := f.store.Record(context.Background(), gameResult(id, t0.Add(time.Duration(i)*24*time.Hour), float64(80+5*i)), "chaos run"); err != nil {
			t.Fatal(err)
		}
	}
	var g GameDays
	if code := getJSON(t, f.http.URL+"/api/gamedays?slo=shop/checkout-availability", &g); code != 200 || len(g.Runs) != 3 || g.Runs[0].RunID != "aaaa0003" {
		t.Fatalf("status %d, runs %+v", code, g.Runs)
	}
	if len(g.Trend) != 1 || len(g.Trend[0].Points) != 3 || g.Trend[0].Points[0].V != 80 || g.Trend[0].Points[2].V != 90 {
		t.Errorf("trend %+v", g.Trend)
	}
	code, page := get(t, f.http.URL+"/gamedays?outcome=pass")
	for _, want := range []string{`data-run="aaaa0003"`, `page/10m after 1m30s (1m26s)`, `<circle class="dot s0"`, `shop/checkout-availability predicted 86s`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("history (status %d) lacks %q", code, want)
		}
	}
	if _, page := get(t, f.http.URL+"/gamedays?outcome=fail"); strings.Contains(page, "data-run=") {
		t.Error("outcome=fail lists passing runs")
	}
	code, page = get(t, f.http.URL+"/gamedays/aaaa0002")
	for _, want := range []string{`id="verdict">PASS<`, `<rect class="band"`, `page/10m firing`, `chaos run`, `1m25s`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("run page (status %d) lacks %q", code, want)
		}
	}
	var res chaos.Result
	if code := getJSON(t, f.http.URL+"/api/gamedays/aaaa0002", &struct{ Result *chaos.Result }{&res}); code != 200 || res.RunID != "aaaa0002" || len(res.Samples) != 3 {
		t.Errorf("run JSON: %d %+v", code, res)
	}
	if code, page := get(t, f.http.URL+"/gamedays/aaaa0002/report"); code != 200 || !strings.Contains(page, `id="outcome">PASS<`) {
		t.Errorf("report: status %d", code)
	}
	var d Detail
	getJSON(t, f.http.URL+"/api/slo/shop/checkout-availability", &d)
	if len(d.GameDays) != 3 {
		t.Errorf("SLO page lists %d game days, want 3", len(d.GameDays))
	}
}

func TestNoStore(t *testing.T) {
	srv, err := New(Config{Services: loadSpecs(t), Prometheus: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	if code, page := get(t, hs.URL+"/gamedays"); code != 200 || !strings.Contains(page, "has no game-day store") {
		t.Errorf("history without a store: %d", code)
	}
	if code, _ := get(t, hs.URL+"/gamedays/x"); code != 404 {
		t.Errorf("run without a store: %d", code)
	}
}

// panicky is a Prometheus whose client panics.
type panicky struct{}

func (panicky) Query(context.Context, string, time.Time) ([]Sample, error)     { panic("boom") }
func (panicky) QueryRange(context.Context, string, v1.Range) ([]Series, error) { panic("boom") }
func (panicky) Alerts(context.Context) ([]v1.Alert, error)                     { panic("boom") }

func TestPanicIsAPlainPage(t *testing.T) {
	srv, err := New(Config{Services: loadSpecs(t), Prom: panicky{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/slo/shop/browse-availability"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusBadGateway || !strings.Contains(body, "internal error while reading Prometheus: boom") || strings.Contains(body, "goroutine") {
			t.Errorf("%s: status %d\n%s", path, rec.Code, body)
		}
	}
	// A panic in the handler itself: a plain 500 page.
	srv.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "Internal error") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("handler panic: %d\n%s", rec.Code, rec.Body.String())
	}
}
