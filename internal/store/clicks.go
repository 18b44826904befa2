package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Click is one visit of a referral link.
type Click struct {
	ProgramID     string // empty for unknown codes
	ParticipantID string // empty for unknown codes
	Code          string
	Valid         bool // false for unknown or disabled codes
	IPHash        string
	IP            string // raw, kept for fraud checks for the retention period
	Params        string // the link's query string (ad-click ids, utm_*)
	UserAgent     string
	Referer       string
	At            time.Time
}

// InsertClicks stores a batch of clicks in one transaction (one disk sync
// for the whole batch), as multi-row INSERTs of up to 100 rows so that
// PostgreSQL pays one round trip per hundred clicks rather than per click.
func (s *Store) InsertClicks(ctx context.Context, cs []Click) error {
	if len(cs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(cs); start += 100 {
			chunk := cs[start:min(start+100, len(cs))]
			var q strings.Builder
			q.WriteString(`INSERT INTO clicks (id, program_id, participant_id, code, valid, ip_hash, user_agent, referer, created_at, ip, params) VALUES `)
			args := make([]any, 0, len(chunk)*11)
			for i, c := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11)
				args = append(args, newID("clk"), sql.NullString{String: c.ProgramID, Valid: c.ProgramID != ""},
					sql.NullString{String: c.ParticipantID, Valid: c.ParticipantID != ""}, c.Code, c.Valid, c.IPHash,
					c.UserAgent, c.Referer, ms(c.At), c.IP, clickParams(c.Params))
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("inserting clicks: %w", err)
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

// ClickRow is a click on a participant's code as fraud scoring reads it.
type ClickRow struct {
	At                             time.Time
	IP, UserAgent, Referer, Params string
}

// ClicksOf lists the clicks on a participant's code in [from, to], newest
// first, at most limit.
func (t *Tx) ClicksOf(ctx context.Context, participantID string, from, to time.Time, limit int) ([]ClickRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT created_at, ip, user_agent, referer, params FROM clicks
		WHERE participant_id = $1 AND created_at >= $2 AND created_at <= $3 ORDER BY created_at DESC LIMIT $4`, participantID, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("loading clicks: %w", err)
	}
	defer rows.Close()
	var out []ClickRow
	for rows.Next() {
		var c ClickRow
		var at int64
		if err := rows.Scan(&at, &c.IP, &c.UserAgent, &c.Referer, &c.Params); err != nil {
			return nil, err
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
