package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// nameKeyOverlap re-reads participants updated this long before the index's
// high-water mark, so that a transaction committing late is not missed.
const nameKeyOverlap = 5 * time.Minute

// LookupAdvocate finds the active advocate of a program that a friend named
// by email or full name. It returns ok=false unless exactly one participant
// matches: an ambiguous name credits nobody and reveals nothing.
func (s *Store) LookupAdvocate(ctx context.Context, programID string, q parrain.LookupQuery) (parrain.Participant, bool, error) {
	var rows *sql.Rows
	var err error
	switch {
	case q.Email != "":
		rows, err = s.r.QueryContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND email_canonical = $2 LIMIT 2`,
			programID, q.Email)
	case q.NameKey != "":
		if err := s.catchUpNameKeys(ctx); err != nil {
			return parrain.Participant{}, false, err
		}
		rows, err = s.r.QueryContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id IN
			(SELECT participant_id FROM participant_name_keys WHERE program_id = $1 AND name_key = $2) LIMIT 2`, programID, q.NameKey)
	default:
		return parrain.Participant{}, false, nil
	}
	if err != nil {
		return parrain.Participant{}, false, fmt.Errorf("looking up advocate: %w", err)
	}
	defer rows.Close()
	var found []parrain.Participant
	for rows.Next() {
		p, err := scanParticipant(rows)
		if err != nil {
			return p, false, err
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return parrain.Participant{}, false, err
	}
	if len(found) != 1 || found[0].Status != parrain.ParticipantActive {
		return parrain.Participant{}, false, nil
	}
	return found[0], true, nil
}

// catchUpNameKeys brings the refer-by-name index up to date with the
// participants created or renamed since its high-water mark (kept in
// settings). Lookups are rare and rate-limited; the catch-up reads only
// what changed, through the participants_updated index.
func (s *Store) catchUpNameKeys(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var mark int64
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'name_keys_mark'`).Scan(&v)
		if err == nil {
			_, _ = fmt.Sscan(v, &mark)
		} else if err != sql.ErrNoRows {
			return fmt.Errorf("reading name index mark: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT p.id, p.program_id, p.name, p.updated_at, COALESCE(k.name_src, ''),
			CASE WHEN k.participant_id IS NULL THEN 0 ELSE 1 END FROM participants p
			LEFT JOIN participant_name_keys k ON k.participant_id = p.id
			WHERE p.updated_at >= $1 ORDER BY p.updated_at LIMIT 20000`, mark-nameKeyOverlap.Milliseconds())
		if err != nil {
			return fmt.Errorf("reading renamed participants: %w", err)
		}
		type change struct{ id, prog, name string }
		var changes []change
		high := mark
		for rows.Next() {
			var c change
			var upd int64
			var src string
			var indexed int
			if err := rows.Scan(&c.id, &c.prog, &c.name, &upd, &src, &indexed); err != nil {
				rows.Close()
				return err
			}
			high = max(high, upd)
			if indexed == 0 || src != c.name {
				changes = append(changes, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range changes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO participant_name_keys (participant_id, program_id, name_key, name_src) VALUES ($1, $2, $3, $4)
				ON CONFLICT (participant_id) DO UPDATE SET name_key = excluded.name_key, name_src = excluded.name_src`,
				c.id, c.prog, parrain.NameKey(c.name), c.name); err != nil {
				return fmt.Errorf("indexing name: %w", err)
			}
		}
		if high != mark {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('name_keys_mark', $1)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint(high)); err != nil {
				return fmt.Errorf("storing name index mark: %w", err)
			}
		}
		return nil
	})
}

// resolveCodeSQL is what a referral code resolves to: one indexed join.
const resolveCodeSQL = `SELECT pa.id, pa.program_id, pa.code, pr.landing_url, pr.cookie_window_days, pa.status, pr.status,
		COALESCE(x.settings, '')
	FROM participants pa JOIN programs pr ON pr.id = pa.program_id
	LEFT JOIN program_experience x ON x.program_id = pa.program_id
	WHERE pa.code = $1`

// resolveCodeStmt returns ResolveCode's statement, prepared on the read
// pool the first time (database/sql prepares it again on each connection
// that runs it, once): preparing it on every redirect cost a quarter of
// the redirect's CPU.
func (s *Store) resolveCodeStmt(ctx context.Context) (*sql.Stmt, error) {
	if st := s.resolveCode.Load(); st != nil {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, resolveCodeSQL)
	if err != nil {
		return nil, fmt.Errorf("preparing the code lookup: %w", err)
	}
	if !s.resolveCode.CompareAndSwap(nil, st) {
		st.Close()
		return s.resolveCode.Load(), nil
	}
	return st, nil
}
