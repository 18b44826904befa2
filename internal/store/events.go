package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// EventRow is a reported event as stored.
type EventRow struct {
	ID            string
	ProgramID     string
	Type          parrain.EventType
	ParticipantID string // empty when the event concerns nobody known
	ReferralID    string // empty when it concerns no referral
	Payload       string // the normalised event, JSON
	OccurredAt    time.Time
}

// InsertEvent stores an event.
func (t *Tx) InsertEvent(ctx context.Context, e EventRow) error {
	var pid, rid sql.NullString
	if e.ParticipantID != "" {
		pid = sql.NullString{String: e.ParticipantID, Valid: true}
	}
	if e.ReferralID != "" {
		rid = sql.NullString{String: e.ReferralID, Valid: true}
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO events (id, program_id, type, participant_id, referral_id, payload, occurred_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, e.ProgramID, e.Type, pid, rid, e.Payload, ms(e.OccurredAt), ms(t.s.clock.Now()))
	if err != nil {
		return fmt.Errorf("inserting event: %w", err)
	}
	return nil
}

// TracksActivity reports whether a program's integration reports activity
// events (it has recorded at least one).
func (t *Tx) TracksActivity(ctx context.Context, programID string) (bool, error) {
	var tracked int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE program_id = $1 AND type = 'activity' LIMIT 1) x`, programID).Scan(&tracked); err != nil {
		return false, fmt.Errorf("checking activity tracking: %w", err)
	}
	return tracked > 0, nil
}

// ActivityOf counts a participant's activity events in a program and says
// when the last happened (nil if none).
func (t *Tx) ActivityOf(ctx context.Context, programID, participantID string) (int, *time.Time, error) {
	var n int
	var last sql.NullInt64
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*), MAX(occurred_at) FROM events WHERE participant_id = $1 AND type = 'activity' AND program_id = $2`,
		participantID, programID).Scan(&n, &last); err != nil {
		return 0, nil, fmt.Errorf("counting activity: %w", err)
	}
	return n, fromNullMS(last), nil
}

// StoredEvent is an event of a referral as a replay reads it.
type StoredEvent struct {
	ID, Type, ReferralID, Payload string
}

// ReplayEvents lists a program's events on referrals that happened in
// [from, to], in the order they arrived.
func (s *Store) ReplayEvents(ctx context.Context, programID string, from, to time.Time) ([]StoredEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, type, referral_id, payload FROM events WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at <= $3
		AND referral_id IS NOT NULL ORDER BY id`, programID, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("loading events: %w", err)
	}
	defer rows.Close()
	var evs []StoredEvent
	for rows.Next() {
		var e StoredEvent
		if err := rows.Scan(&e.ID, &e.Type, &e.ReferralID, &e.Payload); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// FirstEventOf returns the id of a referral's first event.
func (s *Store) FirstEventOf(ctx context.Context, referralID string) (string, error) {
	var first string
	err := s.r.QueryRowContext(ctx, `SELECT MIN(id) FROM events WHERE referral_id = $1`, referralID).Scan(&first)
	return first, err
}
