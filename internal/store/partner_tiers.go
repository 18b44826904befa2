package store

import (
	"context"
	"time"
)

// TierEvent is one entry of a partner's tier history: joined, promotion or
// demotion, with its reason.
type TierEvent struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Direction string    `json:"direction"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// TierHistory returns a partner's tier history, newest first.
func (s *Store) TierHistory(ctx context.Context, partnerID string) ([]TierEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, from_tier, to_tier, direction, reason, created_at FROM partner_tier_history WHERE partner_id = $1 ORDER BY id DESC LIMIT 100`, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TierEvent{}
	for rows.Next() {
		var e TierEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.From, &e.To, &e.Direction, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordTierEvent appends e (its From, To, Direction, Reason and
// CreatedAt) to a partner's tier history.
func (t *Tx) RecordTierEvent(ctx context.Context, programID, partnerID string, e TierEvent) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_tier_history (id, partner_id, program_id, from_tier, to_tier, direction, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID("pth"), partnerID, programID, e.From, e.To, e.Direction, e.Reason, ms(e.CreatedAt))
	return err
}
