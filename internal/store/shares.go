package store

import (
	"context"
	"fmt"
	"time"
)

// ShareChannels are the ways an advocate shares a link from the widget.
var ShareChannels = []string{"copy", "email", "x", "linkedin", "facebook", "whatsapp", "sms"}

// ValidShareChannel reports whether c is a share channel.
func ValidShareChannel(c string) bool {
	for _, v := range ShareChannels {
		if v == c {
			return true
		}
	}
	return false
}

// shareDebounce: the same advocate sharing on the same channel again within
// this window counts once (double clicks, impatient users).
const shareDebounce = time.Minute

// RecordShare counts a share of participantID's link on a channel (checked
// by the caller). It returns false when the share was folded into an
// identical one just before.
func (t *Tx) RecordShare(ctx context.Context, programID, participantID, channel string) (bool, error) {
	now := t.s.clock.Now()
	res, err := t.tx.ExecContext(ctx, `INSERT INTO shares (id, program_id, participant_id, channel, created_at)
		SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM shares WHERE participant_id = $3 AND channel = $4 AND created_at > $6)`,
		newID("shr"), programID, participantID, channel, ms(now), ms(now.Add(-shareDebounce)))
	if err != nil {
		return false, fmt.Errorf("recording share: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ShareStats are a program's sharing figures since a date.
type ShareStats struct {
	Since time.Time `json:"since"`
	// Participants is the number of participants of the program;
	// Sharing how many of them shared at least once since Since.
	Participants int64 `json:"participants"`
	Sharing      int64 `json:"sharing"`
	// ShareRateBps is Sharing / Participants in basis points (10000 = all).
	ShareRateBps int64            `json:"share_rate_bps"`
	Shares       int64            `json:"shares"`
	ByChannel    map[string]int64 `json:"by_channel"`
	Invites      int64            `json:"invites"`
}

// ShareStats computes a program's share figures since since.
func (s *Store) ShareStats(ctx context.Context, programID string, since time.Time) (ShareStats, error) {
	st := ShareStats{Since: since, ByChannel: map[string]int64{}}
	for _, c := range ShareChannels {
		st.ByChannel[c] = 0
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE program_id = $1`, programID).Scan(&st.Participants); err != nil {
		return st, fmt.Errorf("counting participants: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT participant_id) FROM (
			SELECT participant_id FROM shares WHERE program_id = $1 AND created_at >= $2
			UNION ALL SELECT participant_id FROM invites WHERE program_id = $1 AND created_at >= $2) x`,
		programID, ms(since)).Scan(&st.Sharing); err != nil {
		return st, fmt.Errorf("counting sharing participants: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT channel, COUNT(*) FROM shares WHERE program_id = $1 AND created_at >= $2 GROUP BY channel`, programID, ms(since))
	if err != nil {
		return st, fmt.Errorf("counting shares: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return st, err
		}
		st.ByChannel[c] = n
		st.Shares += n
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE program_id = $1 AND created_at >= $2`, programID, ms(since)).Scan(&st.Invites); err != nil {
		return st, fmt.Errorf("counting invites: %w", err)
	}
	if st.Participants > 0 {
		st.ShareRateBps = st.Sharing * 10000 / st.Participants
	}
	return st, nil
}

// SharesOf returns how many times a participant shared, per channel.
func (s *Store) SharesOf(ctx context.Context, participantID string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT channel, COUNT(*) FROM shares WHERE participant_id = $1 GROUP BY channel`, participantID)
	if err != nil {
		return nil, fmt.Errorf("counting shares: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}
