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
	Valid         bool // false for unknown or disabled codes, and for automated clicks
	// Automated marks a click from a script, a headless browser or a client
	// with no User-Agent: recorded as fraud evidence, never counted (it is
	// stored with Valid false).
	Automated bool
	IPHash    string
	IP        string // raw, kept for fraud checks for the retention period
	Params    string // the link's query string (ad-click ids, utm_*)
	UserAgent string
	Referer   string
	At        time.Time
}

// AutomatedClickAlertAt is how many automated clicks on one code within
// AutomatedClickAlertWindow, with no referred signup in that window, open an
// automated_click_flood alert. It matches the default threshold of the
// net.automated_clicks signal (a referral test keeps them equal).
const (
	AutomatedClickAlertAt     = 5
	AutomatedClickAlertWindow = time.Hour
)

// AlertAutomatedClickFlood is the alert kind raised when scripts click an
// advocate's code and nobody signs up: a click flood the referral-time
// fraud checks never see, because no referral follows it.
const AlertAutomatedClickFlood = "automated_click_flood"

// InsertClicks stores a batch of clicks in one transaction (one disk sync
// for the whole batch), as multi-row INSERTs of up to 100 rows so that
// PostgreSQL pays one round trip per hundred clicks rather than per click.
// A code whose automated clicks reach AutomatedClickAlertAt within the
// alert window, with no referred signup in it, raises an
// automated_click_flood alert in the same transaction.
func (s *Store) InsertClicks(ctx context.Context, cs []Click) error {
	if len(cs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(cs); start += 100 {
			chunk := cs[start:min(start+100, len(cs))]
			var q strings.Builder
			q.WriteString(`INSERT INTO clicks (id, program_id, participant_id, code, valid, ip_hash, user_agent, referer, created_at, ip, params, automated) VALUES `)
			args := make([]any, 0, len(chunk)*12)
			for i, c := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12)
				args = append(args, newID("clk"), sql.NullString{String: c.ProgramID, Valid: c.ProgramID != ""},
					sql.NullString{String: c.ParticipantID, Valid: c.ParticipantID != ""}, c.Code, c.Valid && !c.Automated, c.IPHash,
					c.UserAgent, c.Referer, ms(c.At), c.IP, clickParams(c.Params), c.Automated)
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("inserting clicks: %w", err)
			}
		}
		return s.automatedFloodAlertsTx(ctx, tx, cs)
	})
}

// automatedFloodAlertsTx raises the automated click flood alert for the
// codes of a batch's automated clicks that reached the threshold with no
// referred signup in the window.
func (s *Store) automatedFloodAlertsTx(ctx context.Context, tx *sql.Tx, cs []Click) error {
	type key struct{ program, participant, code string }
	latest := map[key]time.Time{}
	for _, c := range cs {
		if !c.Automated || c.ParticipantID == "" || c.ProgramID == "" {
			continue
		}
		k := key{c.ProgramID, c.ParticipantID, c.Code}
		if c.At.After(latest[k]) {
			latest[k] = c.At
		}
	}
	for k, at := range latest {
		from := at.Add(-AutomatedClickAlertWindow)
		var clicks, signups int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE participant_id = $1 AND automated AND created_at > $2 AND created_at <= $3`,
			k.participant, ms(from), ms(at)).Scan(&clicks); err != nil {
			return fmt.Errorf("counting automated clicks: %w", err)
		}
		if clicks < AutomatedClickAlertAt {
			continue
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND signed_up_at > $2 AND signed_up_at <= $3`,
			k.participant, ms(from), ms(at)).Scan(&signups); err != nil {
			return fmt.Errorf("counting signups after automated clicks: %w", err)
		}
		if signups > 0 {
			continue
		}
		msg := fmt.Sprintf("%d clicks on code %s from scripts, headless browsers or clients with no User-Agent within %s, and no signup: "+
			"a click flood (someone may be stuffing cookies, or attacking the advocate's standing)", clicks, k.code, AutomatedClickAlertWindow)
		if err := s.raiseAlertTx(ctx, tx, k.program, AlertAutomatedClickFlood, k.code, msg); err != nil {
			return err
		}
	}
	return nil
}

// ClickCounts returns the number of valid clicks and of clicks on unknown
// or disabled codes recorded (automated clicks are neither: see
// AutomatedClickCount).
func (s *Store) ClickCounts(ctx context.Context) (valid, invalid int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN valid THEN 1 END), COUNT(CASE WHEN NOT valid AND NOT automated THEN 1 END) FROM clicks`).Scan(&valid, &invalid)
	return valid, invalid, err
}

// AutomatedClickCount returns the number of automated clicks recorded.
func (s *Store) AutomatedClickCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE automated`).Scan(&n)
	return n, err
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
