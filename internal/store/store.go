// Package store keeps the history of game-day runs in an embedded SQLite database (the
// pure-Go modernc.org/sqlite driver, no cgo): `slokit chaos run` records each finished
// run, `slokit chaos import` adds existing result.json files, and `slokit serve` reads
// them back.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/slokit/slokit/chaos"
)

// ErrNotFound is returned by Get for an unknown run ID.
var ErrNotFound = errors.New("no such run")

// DefaultPath is $XDG_STATE_HOME/slokit/gamedays.db, or ~/.local/state/slokit/gamedays.db.
func DefaultPath() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("game-day store: no $XDG_STATE_HOME and no home directory: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "slokit", "gamedays.db"), nil
}

// Store is an open game-day database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens (creating when missing) the database at path and migrates it to the
// current schema. A database written by a newer slokit, with migrations this one does
// not know, is refused rather than misread.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("game-day store: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("game-day store %s: %w", path, err)
	}
	// One connection: writes are rare and small, and SQLite serialises them anyway.
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("game-day store %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Run is the summary of one recorded run: what the history table and the trend chart
// show. Times in seconds; nil means not measured.
type Run struct {
	RunID                 string        `json:"runId"`
	GameDay               string        `json:"gameDay"`
	Service               string        `json:"service"`
	SLO                   string        `json:"slo"`
	Backend               string        `json:"backend"`
	ErrorRatio            float64       `json:"expectedErrorRatio,omitempty"`
	Outcome               chaos.Outcome `json:"outcome"`
	StartedAt             time.Time     `json:"startedAt"`
	EndedAt               time.Time     `json:"endedAt"`
	FiredTier             string        `json:"firedTier,omitempty"`
	DetectedSeconds       *float64      `json:"detectedSeconds,omitempty"`
	PredictedSeconds      *float64      `json:"predictedDetectionSeconds,omitempty"`
	ResetSeconds          *float64      `json:"resetSeconds,omitempty"`
	PredictedResetSeconds *float64      `json:"predictedResetSeconds,omitempty"`
	RecoveredSeconds      *float64      `json:"recoveredSeconds,omitempty"`
	BudgetSpent           float64       `json:"budgetSpent"`
	// Source says how the run came in: "chaos run", "demo" or "import <file>".
	Source     string    `json:"source"`
	RecordedAt time.Time `json:"recordedAt"`
}

// Summarize reduces a result to its history row. Detection and reset come from the
// first expectation that fired, else from the first expectation.
func Summarize(res *chaos.Result) Run {
	r := Run{RunID: res.RunID, GameDay: res.GameDay, Service: res.Service, SLO: res.SLO, Backend: res.Backend,
		ErrorRatio: res.ErrorRatio, Outcome: res.Outcome, StartedAt: res.StartedAt.UTC(), EndedAt: res.EndedAt.UTC(),
		RecoveredSeconds: res.Recovery.RecoveredSeconds, BudgetSpent: res.Budget.Spent}
	var pick *chaos.ExpectationResult
	for i := range res.Expectations {
		if x := &res.Expectations[i]; x.DetectedSeconds != nil && pick == nil {
			pick = x
		}
	}
	if pick == nil && len(res.Expectations) > 0 {
		pick = &res.Expectations[0]
	}
	if pick != nil {
		r.FiredTier, r.DetectedSeconds, r.PredictedSeconds = pick.FiredTier, pick.DetectedSeconds, pick.PredictedSeconds
		r.ResetSeconds, r.PredictedResetSeconds = pick.ResetSeconds, pick.PredictedResetSeconds
	}
	return r
}

// Record stores res (replacing a run with the same ID, so importing twice is harmless).
// source says where it came from (see Run.Source).
func (s *Store) Record(ctx context.Context, res *chaos.Result, source string) error {
	if err := checkResult(res); err != nil {
		return err
	}
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("game-day store: encoding run %s: %w", res.RunID, err)
	}
	r := Summarize(res)
	_, err = s.db.ExecContext(ctx, `INSERT INTO runs (run_id, game_day, service, slo, backend, error_ratio, outcome,
		started_at, ended_at, fired_tier, detected_seconds, predicted_seconds, reset_seconds, predicted_reset_seconds,
		recovered_seconds, budget_spent, source, recorded_at, result_json)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(run_id) DO UPDATE SET game_day=excluded.game_day, service=excluded.service, slo=excluded.slo,
		backend=excluded.backend, error_ratio=excluded.error_ratio, outcome=excluded.outcome,
		started_at=excluded.started_at, ended_at=excluded.ended_at, fired_tier=excluded.fired_tier,
		detected_seconds=excluded.detected_seconds, predicted_seconds=excluded.predicted_seconds,
		reset_seconds=excluded.reset_seconds, predicted_reset_seconds=excluded.predicted_reset_seconds,
		recovered_seconds=excluded.recovered_seconds, budget_spent=excluded.budget_spent, source=excluded.source,
		recorded_at=excluded.recorded_at, result_json=excluded.result_json`,
		r.RunID, r.GameDay, r.Service, r.SLO, r.Backend, r.ErrorRatio, string(r.Outcome),
		r.StartedAt.UnixMilli(), r.EndedAt.UnixMilli(), r.FiredTier, r.DetectedSeconds, r.PredictedSeconds,
		r.ResetSeconds, r.PredictedResetSeconds, r.RecoveredSeconds, r.BudgetSpent, source,
		time.Now().UTC().UnixMilli(), string(body))
	if err != nil {
		return fmt.Errorf("game-day store: recording run %s: %w", res.RunID, err)
	}
	return nil
}

// checkResult rejects results that cannot be told apart or placed in the history.
func checkResult(res *chaos.Result) error {
	if res == nil {
		return errors.New("game-day store: no result")
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"runId", res.RunID}, {"gameDay", res.GameDay},
		{"service", res.Service}, {"slo", res.SLO}, {"outcome", string(res.Outcome)}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if res.StartedAt.IsZero() {
		missing = append(missing, "startedAt")
	}
	if len(missing) > 0 {
		return fmt.Errorf("game-day store: the result has no %s", strings.Join(missing, ", "))
	}
	return nil
}

// Filter selects runs for List; zero fields match everything.
type Filter struct {
	Service, SLO string
	Outcome      chaos.Outcome
	// Limit caps the rows returned, newest first; 0 means 500.
	Limit int
}

const summaryColumns = `run_id, game_day, service, slo, backend, error_ratio, outcome, started_at, ended_at,
	fired_tier, detected_seconds, predicted_seconds, reset_seconds, predicted_reset_seconds, recovered_seconds,
	budget_spent, source, recorded_at`

// List returns the runs matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Run, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"service", f.Service}, {"slo", f.SLO}, {"outcome", string(f.Outcome)}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	q := "SELECT " + summaryColumns + " FROM runs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, run_id LIMIT ?"
	rows, err := s.db.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("game-day store: listing runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("game-day store: listing runs: %w", err)
	}
	return out, nil
}

// scanRun reads the summaryColumns of a row, then any extra columns into extra.
func scanRun(rows *sql.Rows, extra ...any) (Run, error) {
	var r Run
	var outcome string
	var started, ended, recorded int64
	err := rows.Scan(append([]any{&r.RunID, &r.GameDay, &r.Service, &r.SLO, &r.Backend, &r.ErrorRatio, &outcome, &started, &ended,
		&r.FiredTier, &r.DetectedSeconds, &r.PredictedSeconds, &r.ResetSeconds, &r.PredictedResetSeconds,
		&r.RecoveredSeconds, &r.BudgetSpent, &r.Source, &recorded}, extra...)...)
	if err != nil {
		return Run{}, fmt.Errorf("game-day store: reading a run: %w", err)
	}
	r.Outcome = chaos.Outcome(outcome)
	r.StartedAt, r.EndedAt, r.RecordedAt = time.UnixMilli(started).UTC(), time.UnixMilli(ended).UTC(), time.UnixMilli(recorded).UTC()
	return r, nil
}

// Get returns the full result of one run, or ErrNotFound.
func (s *Store) Get(ctx context.Context, runID string) (*chaos.Result, error) {
	_, res, err := s.GetRun(ctx, runID)
	return res, err
}

// GetRun returns one run's history row and full result, or ErrNotFound.
func (s *Store) GetRun(ctx context.Context, runID string) (Run, *chaos.Result, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+summaryColumns+", result_json FROM runs WHERE run_id = ?", runID)
	if err != nil {
		return Run{}, nil, fmt.Errorf("game-day store: reading run %s: %w", runID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Run{}, nil, fmt.Errorf("game-day store: reading run %s: %w", runID, err)
		}
		return Run{}, nil, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	var body string
	r, err := scanRun(rows, &body)
	if err != nil {
		return Run{}, nil, err
	}
	res := &chaos.Result{}
	if err := json.Unmarshal([]byte(body), res); err != nil {
		return Run{}, nil, fmt.Errorf("game-day store: run %s holds unreadable JSON: %w", runID, err)
	}
	return r, res, nil
}
