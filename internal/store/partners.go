package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file holds the partners of a program's partner program. The use
// cases (applications, approval, tiers…) are in internal/partner.

const partnerCols = `pa.id, pa.program_id, COALESCE(pa.participant_id, ''), COALESCE(pt.external_id, ''), COALESCE(pt.code, ''), pa.email, pa.name, pa.company, pa.website,
	pa.message, pa.status, pa.tier, pa.source, pa.agreement_version, pa.agreement_at, pa.kickoff_at, pa.training_at, pa.password_hash, pa.decision_note,
	pa.applied_at, pa.approved_at, pa.created_at, pa.updated_at`

const partnerFrom = ` FROM partners pa LEFT JOIN participants pt ON pt.id = pa.participant_id `

func scanPartner(sc scanner) (parrain.Partner, string, error) {
	var p parrain.Partner
	var agr, kick, train, appr sql.NullInt64
	var applied, created, updated int64
	var hash string
	err := sc.Scan(&p.ID, &p.ProgramID, &p.ParticipantID, &p.ExternalID, &p.Code, &p.Email, &p.Name, &p.Company, &p.Website, &p.Message, &p.Status, &p.Tier,
		&p.Source, &p.AgreementVersion, &agr, &kick, &train, &hash, &p.DecisionNote, &applied, &appr, &created, &updated)
	p.AgreementAt, p.KickoffAt, p.TrainingAt, p.ApprovedAt = fromNullMS(agr), fromNullMS(kick), fromNullMS(train), fromNullMS(appr)
	p.AppliedAt, p.CreatedAt, p.UpdatedAt = fromMS(applied), fromMS(created), fromMS(updated)
	p.HasPassword = hash != ""
	return p, hash, err
}

func (s *Store) partnerQ(ctx context.Context, q querier, programID, id string) (parrain.Partner, error) {
	p, _, err := scanPartner(q.QueryRowContext(ctx, `SELECT `+partnerCols+partnerFrom+`WHERE pa.program_id = $1 AND pa.id = $2`, programID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("partner")
	}
	if err != nil {
		return p, fmt.Errorf("loading partner: %w", err)
	}
	return p, nil
}

// Partner returns a partner of a program.
func (s *Store) Partner(ctx context.Context, programID, id string) (parrain.Partner, error) {
	return s.partnerQ(ctx, s.r, programID, id)
}

// PartnerByID returns a partner by id alone (the portal's session knows
// only the id).
func (s *Store) PartnerByID(ctx context.Context, id string) (parrain.Partner, error) {
	p, _, err := scanPartner(s.r.QueryRowContext(ctx, `SELECT `+partnerCols+partnerFrom+`WHERE pa.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("partner")
	}
	return p, err
}

// PartnerByEmail returns a program's partner by email with their password
// hash (for sign-in).
func (s *Store) PartnerByEmail(ctx context.Context, programID, email string) (parrain.Partner, string, error) {
	p, hash, err := scanPartner(s.r.QueryRowContext(ctx, `SELECT `+partnerCols+partnerFrom+`WHERE pa.program_id = $1 AND pa.email = $2`,
		programID, strings.ToLower(strings.TrimSpace(email))))
	if errors.Is(err, sql.ErrNoRows) {
		return p, "", notFound("partner")
	}
	return p, hash, err
}

// Partners lists a program's partners, newest first, optionally by status.
func (s *Store) Partners(ctx context.Context, programID string, status parrain.PartnerStatus, pg Page) ([]parrain.Partner, string, error) {
	args := []any{programID, pg.limit() + 1}
	q := `SELECT ` + partnerCols + partnerFrom + `WHERE pa.program_id = $1`
	if status != "" {
		args = append(args, status)
		q += fmt.Sprintf(" AND pa.status = $%d", len(args))
	}
	if pg.Cursor != "" {
		args = append(args, pg.Cursor)
		q += fmt.Sprintf(" AND pa.id < $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY pa.id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing partners: %w", err)
	}
	defer rows.Close()
	out := []parrain.Partner{}
	for rows.Next() {
		p, _, err := scanPartner(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	next := ""
	if len(out) > pg.limit() {
		out = out[:pg.limit()]
		next = out[len(out)-1].ID
	}
	return out, next, rows.Err()
}

// ActivePartnerIDs lists the ids of a program's active partners.
func (s *Store) ActivePartnerIDs(ctx context.Context, programID string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM partners WHERE program_id = $1 AND status = 'active' ORDER BY id`, programID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// KPIPartners returns the approved partners of a program for the KPIs,
// by name, with their names by id.
func (s *Store) KPIPartners(ctx context.Context, programID string) ([]parrain.KPIPartner, map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, tier, approved_at FROM partners WHERE program_id = $1 AND approved_at IS NOT NULL ORDER BY name`, programID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var partners []parrain.KPIPartner
	names := map[string]string{}
	for rows.Next() {
		var p parrain.KPIPartner
		var appr sql.NullInt64
		var name string
		if err := rows.Scan(&p.ID, &name, &p.Tier, &appr); err != nil {
			return nil, nil, err
		}
		p.ApprovedAt = fromNullMS(appr)
		names[p.ID] = name
		partners = append(partners, p)
	}
	return partners, names, rows.Err()
}

// Partner returns a partner of a program, read in the transaction.
func (t *Tx) Partner(ctx context.Context, programID, id string) (parrain.Partner, error) {
	return t.s.partnerQ(ctx, t.tx, programID, id)
}

// PartnerEmailTaken reports whether email already applied to or belongs
// to a partner of the program.
func (t *Tx) PartnerEmailTaken(ctx context.Context, programID, email string) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM partners WHERE program_id = $1 AND email = $2`, programID, email).Scan(&n)
	return n > 0, err
}

// InsertPartner records an application (status applied) and returns the
// new partner's id.
func (t *Tx) InsertPartner(ctx context.Context, programID string, a parrain.PartnerApplication, source string, now time.Time) (string, error) {
	id := newID("ptn")
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO partners (id, program_id, email, name, company, website, message, status, source, applied_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10)`, id, programID, a.Email, a.Name, a.Company, a.Website, a.Message,
		parrain.PartnerApplied, source, ms(now)); err != nil {
		if uniqueViolation(err) { // a concurrent application with the same email
			return "", &parrain.Error{Code: parrain.CodeConflict, Field: "email", Message: "this email already applied to or belongs to a partner of this program"}
		}
		return "", fmt.Errorf("inserting partner: %w", err)
	}
	return id, nil
}

// ApprovePartner makes a partner active, linked to their participant, in
// tier.
func (t *Tx) ApprovePartner(ctx context.Context, id, participantID, tier, note string, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partners SET status = $1, participant_id = $2, tier = $3, approved_at = $4, decision_note = $5, updated_at = $4 WHERE id = $6`,
		parrain.PartnerActive, participantID, tier, ms(now), note, id)
	if err != nil {
		return fmt.Errorf("approving partner: %w", err)
	}
	return nil
}

// RejectPartner records a refused application.
func (t *Tx) RejectPartner(ctx context.Context, id, note string, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partners SET status = $1, decision_note = $2, updated_at = $3 WHERE id = $4`,
		parrain.PartnerRejected, note, ms(now), id)
	return err
}

// SetPartnerStatus sets a partner's status.
func (t *Tx) SetPartnerStatus(ctx context.Context, id string, st parrain.PartnerStatus, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partners SET status = $1, updated_at = $2 WHERE id = $3`, st, ms(now), id)
	return err
}

// SetPartnerAgreement records the agreement version a partner accepted.
func (t *Tx) SetPartnerAgreement(ctx context.Context, id, version string, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partners SET agreement_version = $1, agreement_at = $2, updated_at = $2 WHERE id = $3`, version, ms(now), id)
	return err
}

// Onboarding steps stored on a partner.
const (
	PartnerStepKickoff  = "kickoff"
	PartnerStepTraining = "training"
)

// SetPartnerStep records when a partner completed an onboarding step
// (PartnerStepKickoff or PartnerStepTraining; nil when not done).
func (t *Tx) SetPartnerStep(ctx context.Context, id, step string, done *time.Time, now time.Time) error {
	col := map[string]string{PartnerStepKickoff: "kickoff_at", PartnerStepTraining: "training_at"}[step]
	if col == "" {
		return fmt.Errorf("unknown onboarding step %q", step)
	}
	_, err := t.tx.ExecContext(ctx, `UPDATE partners SET `+col+` = $1, updated_at = $2 WHERE id = $3`, nullMS(done), ms(now), id)
	return err
}

// SetPartnerTier moves a partner to tier.
func (t *Tx) SetPartnerTier(ctx context.Context, id, tier string, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partners SET tier = $1, updated_at = $2 WHERE id = $3`, tier, ms(now), id)
	return err
}
