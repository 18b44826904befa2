package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
)

// Program terms: rendered from the program's configuration (parrain.
// RenderTerms), versioned by content — a new version is recorded whenever
// the rendered text changes, whatever changed it (rules or payout
// settings) — and accepted by participants version by version.

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

// termsInputTx gathers what a program's terms are rendered from.
func (s *Store) termsInputTx(ctx context.Context, q querier, p *parrain.Program) (parrain.TermsInput, error) {
	in := parrain.TermsInput{Program: p}
	var doc string
	if err := q.QueryRowContext(ctx, `SELECT fraud_policy FROM programs WHERE id = $1`, p.ID).Scan(&doc); err != nil {
		return in, fmt.Errorf("loading fraud policy: %w", err)
	}
	eng, err := fraud.Compiled(doc)
	if err != nil {
		return in, err
	}
	in.FraudRules = eng.Policy().Terms()
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM payout_settings WHERE program_id = $1`, p.ID).Scan(&n); err != nil {
		return in, fmt.Errorf("loading payout settings: %w", err)
	}
	if n > 0 {
		ps, err := s.payoutSettingsTx(ctx, q, p.ID, "")
		if err != nil {
			return in, err
		}
		in.Payouts = &ps
	}
	return in, nil
}

// currentTermsTx renders a program's terms and records them as a new
// version when the text is new.
func (s *Store) currentTermsTx(ctx context.Context, q querier, p *parrain.Program) (Terms, error) {
	in, err := s.termsInputTx(ctx, q, p)
	if err != nil {
		return Terms{}, err
	}
	md := parrain.RenderTerms(in)
	sum := sha256.Sum256([]byte(md))
	sha := hex.EncodeToString(sum[:])
	t, err := s.termsWhere(ctx, q, `program_id = $1 AND sha256 = $2`, p.ID, sha)
	if err == nil {
		t.Current = true
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return t, err
	}
	now := s.clock.Now()
	var last int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM program_terms WHERE program_id = $1`, p.ID).Scan(&last); err != nil {
		return t, err
	}
	t = Terms{ProgramID: p.ID, Version: last + 1, ProgramVersion: p.Version, SHA256: sha, Markdown: md, HTML: parrain.MarkdownHTML(md),
		Current: true, CreatedAt: now}
	if _, err := q.ExecContext(ctx, `INSERT INTO program_terms (program_id, version, program_version, sha256, markdown, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, p.ID, t.Version, t.ProgramVersion, sha, md, ms(now)); err != nil {
		return t, fmt.Errorf("recording terms: %w", err)
	}
	return t, nil
}

func (s *Store) termsWhere(ctx context.Context, q querier, where string, args ...any) (Terms, error) {
	var t Terms
	var created int64
	err := q.QueryRowContext(ctx, `SELECT program_id, version, program_version, sha256, markdown, created_at FROM program_terms WHERE `+where, args...).
		Scan(&t.ProgramID, &t.Version, &t.ProgramVersion, &t.SHA256, &t.Markdown, &created)
	t.CreatedAt = fromMS(created)
	t.HTML = parrain.MarkdownHTML(t.Markdown)
	return t, err
}

// CurrentTerms returns the terms of a program as its configuration
// renders them now, recording a new version if the text changed.
func (s *Store) CurrentTerms(ctx context.Context, programID string) (Terms, error) {
	var t Terms
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.programQ(ctx, tx, programID, "")
		if err != nil {
			return err
		}
		t, err = s.currentTermsTx(ctx, tx, &p)
		return err
	})
	return t, err
}

// TermsVersion returns one version of a program's terms.
func (s *Store) TermsVersion(ctx context.Context, programID string, version int) (Terms, error) {
	cur, err := s.CurrentTerms(ctx, programID)
	if err != nil {
		return cur, err
	}
	if version == cur.Version {
		return cur, nil
	}
	t, err := s.termsWhere(ctx, s.r, `program_id = $1 AND version = $2`, programID, version)
	if errors.Is(err, sql.ErrNoRows) {
		return t, &parrain.Error{Code: parrain.CodeNotFound, Field: "version", Message: fmt.Sprintf("no terms version %d", version)}
	}
	return t, err
}

// TermsAcceptance records that a participant accepted a terms version.
type TermsAcceptance struct {
	ExternalID   string    `json:"external_id"`
	TermsVersion int       `json:"terms_version"`
	AcceptedAt   time.Time `json:"accepted_at"`
	// Current tells whether the accepted version is the current one.
	Current bool `json:"current"`
}

// AcceptTerms records a participant's acceptance of a terms version (the
// current one when version is 0). Accepting the same version again keeps
// the first acceptance.
func (s *Store) AcceptTerms(ctx context.Context, programID, externalID string, version int, idem Idem) (TermsAcceptance, bool, error) {
	if version < 0 {
		return TermsAcceptance{}, false, parrain.Invalid("version", "must be a terms version")
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (TermsAcceptance, error) {
		p, err := s.programQ(ctx, tx, programID, "")
		if err != nil {
			return TermsAcceptance{}, err
		}
		cur, err := s.currentTermsTx(ctx, tx, &p)
		if err != nil {
			return TermsAcceptance{}, err
		}
		version := version // a retried attempt starts from the argument
		if version == 0 {
			version = cur.Version
		}
		if _, err := s.termsWhere(ctx, tx, `program_id = $1 AND version = $2`, programID, version); errors.Is(err, sql.ErrNoRows) {
			return TermsAcceptance{}, &parrain.Error{Code: parrain.CodeNotFound, Field: "version", Message: fmt.Sprintf("no terms version %d", version)}
		} else if err != nil {
			return TermsAcceptance{}, err
		}
		var partID string
		err = tx.QueryRowContext(ctx, `SELECT id FROM participants WHERE program_id = $1 AND external_id = $2`, programID, externalID).Scan(&partID)
		if errors.Is(err, sql.ErrNoRows) {
			return TermsAcceptance{}, notFound("participant")
		}
		if err != nil {
			return TermsAcceptance{}, err
		}
		now := s.clock.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO terms_acceptances (id, program_id, participant_id, terms_version, accepted_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, newID("tac"), programID, partID, version, ms(now)); err != nil {
			return TermsAcceptance{}, fmt.Errorf("recording acceptance: %w", err)
		}
		var at int64
		if err := tx.QueryRowContext(ctx, `SELECT accepted_at FROM terms_acceptances WHERE participant_id = $1 AND terms_version = $2`,
			partID, version).Scan(&at); err != nil {
			return TermsAcceptance{}, err
		}
		return TermsAcceptance{ExternalID: externalID, TermsVersion: version, AcceptedAt: fromMS(at), Current: version == cur.Version}, nil
	})
}

// TermsAcceptances lists a participant's acceptances, newest version first.
func (s *Store) TermsAcceptances(ctx context.Context, programID, externalID string) ([]TermsAcceptance, Terms, error) {
	cur, err := s.CurrentTerms(ctx, programID)
	if err != nil {
		return nil, cur, err
	}
	p, err := s.Participant(ctx, programID, externalID)
	if err != nil {
		return nil, cur, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT terms_version, accepted_at FROM terms_acceptances WHERE participant_id = $1 ORDER BY terms_version DESC`, p.ID)
	if err != nil {
		return nil, cur, fmt.Errorf("listing acceptances: %w", err)
	}
	defer rows.Close()
	out := []TermsAcceptance{}
	for rows.Next() {
		a := TermsAcceptance{ExternalID: externalID}
		var at int64
		if err := rows.Scan(&a.TermsVersion, &at); err != nil {
			return nil, cur, err
		}
		a.AcceptedAt, a.Current = fromMS(at), a.TermsVersion == cur.Version
		out = append(out, a)
	}
	return out, cur, rows.Err()
}
