package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Program terms: each version of a program's rendered terms (rendered and
// versioned by internal/program) and the participants' acceptances.

// Terms is one version of a program's terms.
type Terms struct {
	ProgramID string `json:"program_id"`
	Version   int    `json:"version"`
	// ProgramVersion is the program version current when this text was
	// first rendered.
	ProgramVersion int       `json:"program_version"`
	SHA256         string    `json:"sha256"`
	Markdown       string    `json:"markdown"`
	HTML           string    `json:"html"`
	Current        bool      `json:"current"`
	CreatedAt      time.Time `json:"created_at"`
}

const termsCols = `program_id, version, program_version, sha256, markdown, created_at`

func scanTerms(sc scanner) (Terms, error) {
	var t Terms
	var created int64
	err := sc.Scan(&t.ProgramID, &t.Version, &t.ProgramVersion, &t.SHA256, &t.Markdown, &created)
	t.CreatedAt = fromMS(created)
	return t, err
}

// termsWhere returns the terms version matching where (found false when
// none does). HTML and Current are left for the caller to set.
func termsWhere(ctx context.Context, q querier, where string, args ...any) (Terms, bool, error) {
	t, err := scanTerms(q.QueryRowContext(ctx, `SELECT `+termsCols+` FROM program_terms WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Terms{}, false, nil
	}
	if err != nil {
		return Terms{}, false, fmt.Errorf("loading terms: %w", err)
	}
	return t, true, nil
}

// TermsByDigest returns the version of a program's terms with this text
// digest (parrain.TermsDigest), found false when the text is new.
func (t *Tx) TermsByDigest(ctx context.Context, programID, sha string) (Terms, bool, error) {
	return termsWhere(ctx, t.tx, `program_id = $1 AND sha256 = $2`, programID, sha)
}

// TermsAt returns one version of a program's terms (found false when the
// program has no such version).
func (t *Tx) TermsAt(ctx context.Context, programID string, version int) (Terms, bool, error) {
	return termsWhere(ctx, t.tx, `program_id = $1 AND version = $2`, programID, version)
}

// TermsAt is Tx.TermsAt on the read pool.
func (s *Store) TermsAt(ctx context.Context, programID string, version int) (Terms, bool, error) {
	return termsWhere(ctx, s.r, `program_id = $1 AND version = $2`, programID, version)
}

// LastTermsVersion returns the highest terms version of a program (0 when
// none was recorded).
func (t *Tx) LastTermsVersion(ctx context.Context, programID string) (int, error) {
	var last int
	if err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM program_terms WHERE program_id = $1`, programID).Scan(&last); err != nil {
		return 0, fmt.Errorf("loading terms version: %w", err)
	}
	return last, nil
}

// InsertTerms records a terms version; a version recorded meanwhile by a
// concurrent transaction is kept.
func (t *Tx) InsertTerms(ctx context.Context, tm Terms) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO program_terms (`+termsCols+`)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, tm.ProgramID, tm.Version, tm.ProgramVersion, tm.SHA256, tm.Markdown, ms(tm.CreatedAt)); err != nil {
		return fmt.Errorf("recording terms: %w", err)
	}
	return nil
}

// ConfiguredPayoutSettings returns the payout settings a program stored,
// found false when it stored none (the terms then say nothing of payouts).
func (t *Tx) ConfiguredPayoutSettings(ctx context.Context, programID string) (parrain.PayoutSettings, bool, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payout_settings WHERE program_id = $1`, programID).Scan(&n); err != nil {
		return parrain.PayoutSettings{}, false, fmt.Errorf("loading payout settings: %w", err)
	}
	if n == 0 {
		return parrain.PayoutSettings{}, false, nil
	}
	ps, err := t.s.payoutSettingsTx(ctx, t.tx, programID, "")
	return ps, err == nil, err
}

// TermsAcceptance records that a participant accepted a terms version.
type TermsAcceptance struct {
	ExternalID   string    `json:"external_id"`
	TermsVersion int       `json:"terms_version"`
	AcceptedAt   time.Time `json:"accepted_at"`
	// Current tells whether the accepted version is the current one.
	Current bool `json:"current"`
}

// AcceptTerms records a participant's acceptance of a terms version at at
// and returns when it was first accepted: accepting the same version again
// keeps the first acceptance.
func (t *Tx) AcceptTerms(ctx context.Context, programID, participantID string, version int, at time.Time) (time.Time, error) {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO terms_acceptances (id, program_id, participant_id, terms_version, accepted_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, newID("tac"), programID, participantID, version, ms(at)); err != nil {
		return time.Time{}, fmt.Errorf("recording acceptance: %w", err)
	}
	var first int64
	if err := t.tx.QueryRowContext(ctx, `SELECT accepted_at FROM terms_acceptances WHERE participant_id = $1 AND terms_version = $2`,
		participantID, version).Scan(&first); err != nil {
		return time.Time{}, fmt.Errorf("loading acceptance: %w", err)
	}
	return fromMS(first), nil
}

// TermsAcceptancesOf lists a participant's acceptances, newest version
// first (ExternalID and Current are left for the caller to set).
func (s *Store) TermsAcceptancesOf(ctx context.Context, participantID string) ([]TermsAcceptance, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT terms_version, accepted_at FROM terms_acceptances WHERE participant_id = $1 ORDER BY terms_version DESC`, participantID)
	if err != nil {
		return nil, fmt.Errorf("listing acceptances: %w", err)
	}
	defer rows.Close()
	out := []TermsAcceptance{}
	for rows.Next() {
		var a TermsAcceptance
		var at int64
		if err := rows.Scan(&a.TermsVersion, &at); err != nil {
			return nil, err
		}
		a.AcceptedAt = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
