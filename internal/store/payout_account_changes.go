package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PayoutAccountHistory reports whether a participant ever had a payout
// account and when its destination last changed (nil: never).
func (t *Tx) PayoutAccountHistory(ctx context.Context, participantID string) (bool, *time.Time, error) {
	var changed sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT changed_at FROM payout_account_changes WHERE participant_id = $1`, participantID).Scan(&changed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("loading payout account history: %w", err)
	}
	return true, fromNullMS(changed), nil
}

// RecordPayoutAccountSet records that a participant's payout account was
// set at now; changed says its destination is new (not the first one).
func (t *Tx) RecordPayoutAccountSet(ctx context.Context, participantID, programID string, now time.Time, changed bool) error {
	var at *time.Time
	if changed {
		at = &now
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO payout_account_changes (participant_id, program_id, first_set_at, changed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (participant_id) DO UPDATE SET changed_at = COALESCE($4, payout_account_changes.changed_at)`,
		participantID, programID, ms(now), nullMS(at))
	if err != nil {
		return fmt.Errorf("recording payout account change: %w", err)
	}
	return nil
}
