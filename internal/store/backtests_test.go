package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestBacktests(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.LastBacktest(ctx, "shortlink", "redirect-availability"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	t0 := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	old := Backtest{Service: "shortlink", SLO: "redirect-availability", RanAt: t0, Took: 1500 * time.Millisecond,
		Source: "slokit test", Scenarios: 9, Violations: 1, Silent: 1, Precision: 1, Recall: 0.75,
		Result: json.RawMessage(`{"results":[],"summary":{"runs":9}}`)}
	newer := old
	newer.RanAt, newer.Violations, newer.Silent, newer.Recall, newer.Source = t0.Add(time.Minute), 0, 0, 1, "slokit serve"
	other := old
	other.SLO = "create-latency"
	for _, b := range []Backtest{newer, old, other} { // out of order: the latest run wins, not the latest insert
		if _, err := s.RecordBacktest(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LastBacktest(ctx, "shortlink", "redirect-availability")
	if err != nil {
		t.Fatal(err)
	}
	newer.ID = got.ID
	if !reflect.DeepEqual(*got, newer) {
		t.Errorf("last backtest:\n got %+v\nwant %+v", *got, newer)
	}
	for _, bad := range []Backtest{{SLO: "x", RanAt: t0, Result: json.RawMessage(`{}`)},
		{Service: "s", SLO: "x", RanAt: t0, Result: json.RawMessage(`{`)}} {
		if _, err := s.RecordBacktest(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestBacktestsMigration opens a database left by a slokit that knew two migrations
// (runs only) and records a backtest in it.
func TestBacktestsMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := openRaw(t, path)
	if _, err := db.Exec("DROP TABLE backtests; PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.RecordBacktest(ctx, Backtest{Service: "a", SLO: "b", RanAt: time.Now(), Result: json.RawMessage(`{}`)}); err != nil {
		t.Fatalf("after migrating from version 2: %v", err)
	}
}

func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
