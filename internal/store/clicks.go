package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Click is one visit of a referral link.
type Click struct {
	ProgramID     string // empty for unknown codes
	ParticipantID string // empty for unknown codes
	Code          string
	Valid         bool // false for unknown or disabled codes
	IPHash        string
	UserAgent     string
	Referer       string
	At            time.Time
}

// InsertClicks stores a batch of clicks in one transaction (one disk sync
// for the whole batch).
func (s *Store) InsertClicks(ctx context.Context, cs []Click) error {
	if len(cs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO clicks (id, program_id, participant_id, code, valid, ip_hash, user_agent, referer, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
		if err != nil {
			return fmt.Errorf("preparing click insert: %w", err)
		}
		defer st.Close()
		for _, c := range cs {
			if _, err := st.ExecContext(ctx, newID("clk"), sql.NullString{String: c.ProgramID, Valid: c.ProgramID != ""},
				sql.NullString{String: c.ParticipantID, Valid: c.ParticipantID != ""}, c.Code, c.Valid, c.IPHash,
				c.UserAgent, c.Referer, ms(c.At)); err != nil {
				return fmt.Errorf("inserting click: %w", err)
			}
		}
		return nil
	})
}

// ClickCounts returns the number of valid and invalid clicks recorded.
func (s *Store) ClickCounts(ctx context.Context) (valid, invalid int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN valid THEN 1 END), COUNT(CASE WHEN NOT valid THEN 1 END) FROM clicks`).Scan(&valid, &invalid)
	return valid, invalid, err
}
