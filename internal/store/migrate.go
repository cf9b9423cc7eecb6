package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema's steps, applied in order; PRAGMA user_version holds how
// many have been applied. Never edit a released step: append a new one.
var migrations = []string{
	// 1: the run history. Times are Unix milliseconds; result_json is the whole
	// chaos.Result, the summary columns are derived from it by Summarize.
	`CREATE TABLE runs (
		run_id                  TEXT PRIMARY KEY,
		game_day                TEXT NOT NULL,
		service                 TEXT NOT NULL,
		slo                     TEXT NOT NULL,
		backend                 TEXT NOT NULL,
		error_ratio             REAL NOT NULL DEFAULT 0,
		outcome                 TEXT NOT NULL,
		started_at              INTEGER NOT NULL,
		ended_at                INTEGER NOT NULL,
		fired_tier              TEXT NOT NULL DEFAULT '',
		detected_seconds        REAL,
		predicted_seconds       REAL,
		reset_seconds           REAL,
		predicted_reset_seconds REAL,
		budget_spent            REAL NOT NULL DEFAULT 0,
		result_json             TEXT NOT NULL
	);
	CREATE INDEX runs_by_slo ON runs (service, slo, started_at);
	CREATE INDEX runs_by_start ON runs (started_at);`,
	// 2: where a run came from, when it was recorded, and the recovery time the
	// history table shows.
	`ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT '';
	ALTER TABLE runs ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE runs ADD COLUMN recovered_seconds REAL;`,
	// 3: backtests (`slokit test --store`, the UI's backtest page), one row per SLO and
	// run of the scenarios; result_json is what `slokit test -o json` writes for that SLO.
	`CREATE TABLE backtests (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		service     TEXT NOT NULL,
		slo         TEXT NOT NULL,
		ran_at      INTEGER NOT NULL,
		took_ms     INTEGER NOT NULL DEFAULT 0,
		source      TEXT NOT NULL DEFAULT '',
		scenarios   INTEGER NOT NULL DEFAULT 0,
		violations  INTEGER NOT NULL DEFAULT 0,
		silent      INTEGER NOT NULL DEFAULT 0,
		mismatches  INTEGER NOT NULL DEFAULT 0,
		precision   REAL NOT NULL DEFAULT 1,
		recall      REAL NOT NULL DEFAULT 1,
		result_json TEXT NOT NULL
	);
	CREATE INDEX backtests_by_slo ON backtests (service, slo, ran_at);`,
}

// SchemaVersion is the number of migrations this slokit knows.
func SchemaVersion() int { return len(migrations) }

// migrate applies the steps of steps that db lacks, each in its own transaction with
// the version bump, so a crash leaves a consistent version.
func migrate(ctx context.Context, db *sql.DB, steps []string) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("schema version %d is newer than this slokit knows (%d); upgrade slokit", have, len(steps))
	}
	for v := have; v < len(steps); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		// PRAGMA takes no bound parameters; v+1 is an int.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}
