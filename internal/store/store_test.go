package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slokit/slokit/chaos"
	"github.com/slokit/slokit/slo"
)

// result is a passing run of redirect-availability starting at start: the page fired
// after detected seconds (predicted 35s).
func result(id string, start time.Time, detected float64) *chaos.Result {
	f := func(v float64) *float64 { return &v }
	at := func(s float64) *time.Time { t := start.Add(time.Duration(s * float64(time.Second))); return &t }
	return &chaos.Result{
		RunID: id, GameDay: "demo-redirect-errors", Service: "shortlink", SLO: "redirect-availability",
		Objective: 0.98, PeriodSeconds: 12 * 3600, Backend: "http-proxy", ErrorRatio: 0.5, Outcome: chaos.Pass,
		StartedAt: start, EndedAt: *at(60), FaultBegan: at(5), FaultEnded: at(5 + detected),
		Tiers: []chaos.TierInfo{{Name: "page/1m", BurnRate: 14.4, Long: "1m", Short: "5s"}},
		Expectations: []chaos.ExpectationResult{
			{Alert: "ticket", Tiers: []string{"ticket/1h"}},
			{Alert: "page", Tiers: []string{"page/1m"}, PredictedSeconds: f(35), DetectedSeconds: f(detected),
				FiredTier: "page/1m", PredictedResetSeconds: f(2), ResetSeconds: f(3), Met: true}},
		Recovery: chaos.RecoveryResult{Window: "5s", BurnRateBelow: 1, RecoveredSeconds: f(4), Met: true},
		Budget:   chaos.BudgetResult{Spent: 0.02, Max: 0.1},
		Alerts:   []chaos.AlertTrack{{Name: "ShortlinkRedirectAvailability", Severity: slo.Page, Window: "1m", FiringAt: at(40)}},
		Samples:  []chaos.Sample{{T: start, Phase: chaos.PhasePreflight, Burn: map[string]float64{"5s": 0, "1m": 0}}},
	}
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "gamedays.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRecordListGet(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"run1", "run2", "run3"} {
		if err := s.Record(ctx, result(id, t0.Add(time.Duration(i)*time.Hour), float64(33+i)), "chaos run"); err != nil {
			t.Fatal(err)
		}
	}
	other := result("other", t0.Add(30*time.Minute), 50)
	other.SLO, other.Outcome = "redirect-latency", chaos.Fail
	if err := s.Record(ctx, other, "import x.json"); err != nil {
		t.Fatal(err)
	}
	all, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range all {
		ids = append(ids, r.RunID)
	}
	if got := strings.Join(ids, ","); got != "run3,run2,other,run1" {
		t.Errorf("newest first: got %s", got)
	}
	r := all[0]
	if r.FiredTier != "page/1m" || *r.DetectedSeconds != 35 || *r.PredictedSeconds != 35 || *r.ResetSeconds != 3 ||
		*r.PredictedResetSeconds != 2 || *r.RecoveredSeconds != 4 || r.BudgetSpent != 0.02 || r.Source != "chaos run" ||
		!r.StartedAt.Equal(t0.Add(2*time.Hour)) || r.Outcome != chaos.Pass || r.ErrorRatio != 0.5 || r.RecordedAt.IsZero() {
		t.Errorf("summary of run3 = %+v", r)
	}
	fails, _ := s.List(ctx, Filter{Outcome: chaos.Fail})
	if len(fails) != 1 || fails[0].RunID != "other" {
		t.Errorf("outcome filter: %+v", fails)
	}
	bySLO, _ := s.List(ctx, Filter{Service: "shortlink", SLO: "redirect-availability", Limit: 2})
	if len(bySLO) != 2 || bySLO[0].RunID != "run3" {
		t.Errorf("SLO filter with limit: %+v", bySLO)
	}
	got, err := s.Get(ctx, "run2")
	if err != nil {
		t.Fatal(err)
	}
	want := result("run2", t0.Add(time.Hour), 34)
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Errorf("Get returned a different result:\n got %s\nwant %s", gb, wb)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown run: %v", err)
	}
}

func TestRecordReplacesSameRun(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	_ = s.Record(ctx, result("run1", t0, 30), "chaos run")
	if err := s.Record(ctx, result("run1", t0, 40), "import result.json"); err != nil {
		t.Fatal(err)
	}
	all, _ := s.List(ctx, Filter{})
	if len(all) != 1 || *all[0].DetectedSeconds != 40 || all[0].Source != "import result.json" {
		t.Errorf("after re-recording: %+v", all)
	}
}

func TestRecordRejectsIncomplete(t *testing.T) {
	s := open(t)
	err := s.Record(context.Background(), &chaos.Result{Service: "x"}, "test")
	if err == nil || err.Error() != "game-day store: the result has no runId, gameDay, slo, outcome, startedAt" {
		t.Errorf("got %v", err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	// A database left by a slokit that knew only the first migration, with a run in it.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, migrations[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO runs (run_id, game_day, service, slo, backend, outcome, started_at, ended_at, result_json)
		VALUES ('old1', 'g', 'shortlink', 'redirect-availability', 'http-proxy', 'pass', 1000, 2000, '{}')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	_ = s.db.QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion() {
		t.Errorf("user_version %d after Open, want %d", v, SchemaVersion())
	}
	runs, err := s.List(ctx, Filter{})
	if err != nil || len(runs) != 1 || runs[0].RunID != "old1" || runs[0].Source != "" || runs[0].RecoveredSeconds != nil {
		t.Errorf("the old run after migrating: %+v, %v", runs, err)
	}
	// Opening again applies nothing.
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// A newer schema is refused.
	_, _ = s.db.Exec("PRAGMA user_version = 99")
	s.Close()
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "schema version 99 is newer than this slokit knows ("+strconv.Itoa(SchemaVersion())+"); upgrade slokit") {
		t.Errorf("newer schema: %v", err)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	steps := []string{"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT); CREATE TABLE a (z INT)"}
	if err := migrate(ctx, db, steps); err == nil || !strings.HasPrefix(err.Error(), "migration 2: ") {
		t.Fatalf("want migration 2 to fail, got %v", err)
	}
	var v, n int
	_ = db.QueryRow("PRAGMA user_version").Scan(&v)
	_ = db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'b'").Scan(&n)
	if v != 1 || n != 0 {
		t.Errorf("after a failed step: version %d (want 1), table b exists %d (want 0)", v, n)
	}
}

func TestImportFile(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "result.json")
	b, _ := json.MarshalIndent(result("imp1", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 36), "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportFile(ctx, path)
	if err != nil || len(res) != 1 || res[0].RunID != "imp1" {
		t.Fatalf("import: %v", err)
	}
	runs, _ := s.List(ctx, Filter{})
	if len(runs) != 1 || runs[0].Source != "import "+path {
		t.Errorf("after import: %+v", runs)
	}
}

func TestParseResultErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "r.json:1:1: empty file; want a JSON object"},
		{"syntax", "{\n  \"runId\": \"x\",\n  oops\n}", "r.json:3:3: invalid character 'o' looking for beginning of object key string"},
		{"type", "{\n  \"runId\": 12\n}", "r.json:2:12: runId: want string, got JSON number"},
		{"truncated", "{\"runId\": \"x\"", "r.json:1:14: the JSON ends early"},
		{"not a result", `{"hello": "world"}`, "r.json: not a slokit game-day result: the result has no runId, gameDay, service, slo, outcome, startedAt"},
		{"two values", `{"runId":"a","gameDay":"g","service":"s","slo":"o","outcome":"pass","startedAt":"2026-12-01T00:00:00Z"} {}`,
			"r.json:1:105: more than one JSON value; a result file holds one object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseResult("r.json", []byte(tc.in))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func FuzzParseResult(f *testing.F) {
	b, _ := json.Marshal(result("seed", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 35))
	f.Add(b)
	f.Add([]byte(`{"runId": 1}`))
	f.Add([]byte("{\n\"runId\":\"x\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseResult("f.json", data)
		if err == nil && (res.RunID == "" || res.StartedAt.IsZero()) {
			t.Errorf("accepted a result without runId or startedAt: %+v", res)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "f.json") {
			t.Errorf("error without the file name: %v", err)
		}
	})
}
