package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Backtest is one SLO's backtest (`slokit test`: incident scenarios replayed through
// its generated rules) as stored. The store keeps the figures the UI lists and the
// result as its producer wrote it, without reading it: Result is the JSON of
// `slokit test -o json` for this SLO ({"results": [...], "summary": {...}}).
type Backtest struct {
	ID      int64     `json:"id"`
	Service string    `json:"service"`
	SLO     string    `json:"slo"`
	RanAt   time.Time `json:"ranAt"`
	// Took is how long the replays took.
	Took time.Duration `json:"tookNs"`
	// Source says who ran it: "slokit test" or "slokit serve".
	Source string `json:"source"`
	// Scenarios is the number of scenarios replayed; Violations the broken expectations,
	// Silent the must-fire alerts that did not fire, Mismatches the tiers whose measured
	// times disagree with the prediction.
	Scenarios  int             `json:"scenarios"`
	Violations int             `json:"violations"`
	Silent     int             `json:"silent"`
	Mismatches int             `json:"mismatches"`
	Precision  float64         `json:"precision"`
	Recall     float64         `json:"recall"`
	Result     json.RawMessage `json:"result"`
}

// RecordBacktest adds b (its ID is ignored) and returns its ID.
func (s *Store) RecordBacktest(ctx context.Context, b Backtest) (int64, error) {
	if b.Service == "" || b.SLO == "" || b.RanAt.IsZero() {
		return 0, errors.New("backtest store: a backtest needs a service, an SLO and a time")
	}
	if !json.Valid(b.Result) {
		return 0, fmt.Errorf("backtest store: the result of %s/%s is not JSON", b.Service, b.SLO)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO backtests (service, slo, ran_at, took_ms, source, scenarios,
		violations, silent, mismatches, precision, recall, result_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		b.Service, b.SLO, b.RanAt.UnixMilli(), b.Took.Milliseconds(), b.Source, b.Scenarios, b.Violations,
		b.Silent, b.Mismatches, b.Precision, b.Recall, string(b.Result))
	if err != nil {
		return 0, fmt.Errorf("backtest store: recording %s/%s: %w", b.Service, b.SLO, err)
	}
	return res.LastInsertId()
}

// LastBacktest returns the latest backtest of one SLO, or ErrNotFound.
func (s *Store) LastBacktest(ctx context.Context, service, slo string) (*Backtest, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, service, slo, ran_at, took_ms, source, scenarios, violations,
		silent, mismatches, precision, recall, result_json FROM backtests WHERE service = ? AND slo = ?
		ORDER BY ran_at DESC, id DESC LIMIT 1`, service, slo)
	var b Backtest
	var ran, took int64
	var body string
	err := row.Scan(&b.ID, &b.Service, &b.SLO, &ran, &took, &b.Source, &b.Scenarios, &b.Violations,
		&b.Silent, &b.Mismatches, &b.Precision, &b.Recall, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("backtest of %s/%s: %w", service, slo, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("backtest store: reading %s/%s: %w", service, slo, err)
	}
	b.RanAt, b.Took, b.Result = time.UnixMilli(ran).UTC(), time.Duration(took)*time.Millisecond, json.RawMessage(body)
	return &b, nil
}
