package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file holds the partner program's settings, partners and the portal
// sign-in. Leads, claims and deals are in partners_leads.go; tiers, assets,
// surveys, the dashboard and KPIs in partners_extra.go.

// Job kinds of the partner program.
const (
	// JobPartnerTiers re-evaluates every partner's tier of a program; it
	// reschedules itself daily (PartnerTierInterval).
	JobPartnerTiers = "partner.evaluate_tiers"
)

// PartnerTierInterval is how often tiers are re-evaluated on a schedule
// (they are also evaluated on every won or lost deal and completed
// training).
const PartnerTierInterval = 24 * time.Hour

// PartnerTiersArgs is the payload of a JobPartnerTiers job.
type PartnerTiersArgs struct {
	ProgramID string `json:"program_id"`
}

// PartnerProgram is a program's partner settings and tiers.
type PartnerProgram struct {
	parrain.PartnerSettings
	Tiers    []parrain.Tier `json:"tiers"`
	Currency string         `json:"currency"`
	Name     string         `json:"name"`
}

// Tier returns the tier with key k.
func (pp *PartnerProgram) Tier(k string) (parrain.Tier, bool) {
	for _, t := range pp.Tiers {
		if t.Key == k {
			return t, true
		}
	}
	return parrain.Tier{}, false
}

// TierRank returns the rank of tier k (-1 when unknown).
func (pp *PartnerProgram) TierRank(k string) int {
	if t, ok := pp.Tier(k); ok {
		return t.Rank
	}
	return -1
}

// PutPartnerProgram creates or replaces a program's partner settings and
// tiers, and schedules the periodic tier evaluation. Partners in a tier
// that no longer exists are re-evaluated.
func (s *Store) PutPartnerProgram(ctx context.Context, programID string, set parrain.PartnerSettings, tiers []parrain.Tier) (PartnerProgram, error) {
	if err := set.Normalize(); err != nil {
		return PartnerProgram{}, err
	}
	if err := parrain.NormalizeTiers(tiers); err != nil {
		return PartnerProgram{}, err
	}
	set.ProgramID = programID
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.programQ(ctx, tx, programID, ""); err != nil {
			return err
		}
		var other string
		err := tx.QueryRowContext(ctx, `SELECT program_id FROM partner_programs WHERE slug = $1 AND program_id <> $2`, set.Slug, programID).Scan(&other)
		if err == nil {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "slug", Message: fmt.Sprintf("the slug %q is used by another program", set.Slug)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := s.clock.Now()
		set.CreatedAt, set.UpdatedAt = time.Time{}, time.Time{}
		sb, _ := json.Marshal(set)
		tb, _ := json.Marshal(tiers)
		if _, err := tx.ExecContext(ctx, `INSERT INTO partner_programs (program_id, slug, settings, tiers, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (program_id) DO UPDATE SET slug = excluded.slug, settings = excluded.settings, tiers = excluded.tiers, updated_at = excluded.updated_at`,
			programID, set.Slug, string(sb), string(tb), ms(now)); err != nil {
			return fmt.Errorf("saving partner program: %w", err)
		}
		payload, _ := json.Marshal(PartnerTiersArgs{ProgramID: programID})
		// One pending evaluation per program; re-saving keeps the schedule.
		return s.enqueueTx(ctx, tx, JobPartnerTiers, JobPartnerTiers+":"+programID, payload, now.Add(time.Minute))
	})
	if err != nil {
		return PartnerProgram{}, err
	}
	return s.PartnerProgram(ctx, programID)
}

func (s *Store) partnerProgramQ(ctx context.Context, q querier, where string, arg any) (PartnerProgram, error) {
	var pp PartnerProgram
	var sj, tj string
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT pp.settings, pp.tiers, pp.created_at, pp.updated_at, p.currency, p.name
		FROM partner_programs pp JOIN programs p ON p.id = pp.program_id WHERE `+where, arg).Scan(&sj, &tj, &created, &updated, &pp.Currency, &pp.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return pp, notFound("partner program")
	}
	if err != nil {
		return pp, fmt.Errorf("loading partner program: %w", err)
	}
	if err := json.Unmarshal([]byte(sj), &pp.PartnerSettings); err != nil {
		return pp, fmt.Errorf("decoding partner settings: %w", err)
	}
	if err := json.Unmarshal([]byte(tj), &pp.Tiers); err != nil {
		return pp, fmt.Errorf("decoding partner tiers: %w", err)
	}
	pp.CreatedAt, pp.UpdatedAt = fromMS(created), fromMS(updated)
	return pp, nil
}

// PartnerProgram returns a program's partner settings and tiers.
func (s *Store) PartnerProgram(ctx context.Context, programID string) (PartnerProgram, error) {
	return s.partnerProgramQ(ctx, s.r, "pp.program_id = $1", programID)
}

// PartnerProgramBySlug returns the partner program named by a portal slug.
func (s *Store) PartnerProgramBySlug(ctx context.Context, slug string) (PartnerProgram, error) {
	return s.partnerProgramQ(ctx, s.r, "pp.slug = $1", strings.ToLower(slug))
}

// PartnerPrograms lists every partner program (for the portal's index and
// the scheduled jobs).
func (s *Store) PartnerPrograms(ctx context.Context) ([]PartnerProgram, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT program_id FROM partner_programs ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []PartnerProgram
	for _, id := range ids {
		pp, err := s.PartnerProgram(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, pp)
	}
	return out, nil
}

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

// ApplyPartner records an application from the public form (source
// "application", refused when the program does not take applications) or
// a manager's invitation (source "invite": the partner is active at once,
// in the entry tier).
func (s *Store) ApplyPartner(ctx context.Context, programID string, a parrain.PartnerApplication, source string, idem Idem) (parrain.Partner, bool, error) {
	if err := a.Normalize(); err != nil {
		return parrain.Partner{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Partner, error) {
		pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
		if err != nil {
			return parrain.Partner{}, err
		}
		if source == "application" && !pp.ApplicationsOpen {
			return parrain.Partner{}, parrain.Errorf(parrain.CodeForbidden, "this partner program does not take applications; ask for an invitation")
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM partners WHERE program_id = $1 AND email = $2`, programID, a.Email).Scan(&n); err != nil {
			return parrain.Partner{}, err
		}
		if n > 0 {
			return parrain.Partner{}, &parrain.Error{Code: parrain.CodeConflict, Field: "email", Message: "this email already applied to or belongs to a partner of this program"}
		}
		id := newID("ptn")
		now := ms(s.clock.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO partners (id, program_id, email, name, company, website, message, status, source, applied_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10)`, id, programID, a.Email, a.Name, a.Company, a.Website, a.Message,
			parrain.PartnerApplied, source, now); err != nil {
			return parrain.Partner{}, fmt.Errorf("inserting partner: %w", err)
		}
		if source == "invite" {
			if err := s.approvePartnerTx(ctx, tx, pp, id, "invited"); err != nil {
				return parrain.Partner{}, err
			}
		}
		return s.partnerQ(ctx, tx, programID, id)
	})
}

// DecidePartner approves or rejects an application. Approval makes the
// partner a participant of the program (their referral code credits their
// deals) in the entry tier.
func (s *Store) DecidePartner(ctx context.Context, programID, partnerID string, approve bool, note string, idem Idem) (parrain.Partner, bool, error) {
	note = strings.TrimSpace(note)
	if len(note) > 2000 {
		return parrain.Partner{}, false, parrain.Invalid("note", "must be at most 2000 characters")
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Partner, error) {
		pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
		if err != nil {
			return parrain.Partner{}, err
		}
		p, err := s.partnerQ(ctx, tx, programID, partnerID)
		if err != nil {
			return p, err
		}
		if p.Status != parrain.PartnerApplied {
			return p, &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: fmt.Sprintf("the application was already decided (status %s)", p.Status)}
		}
		if approve {
			if err := s.approvePartnerTx(ctx, tx, pp, partnerID, note); err != nil {
				return p, err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE partners SET status = $1, decision_note = $2, updated_at = $3 WHERE id = $4`,
			parrain.PartnerRejected, note, ms(s.clock.Now()), partnerID); err != nil {
			return p, err
		}
		return s.partnerQ(ctx, tx, programID, partnerID)
	})
}

func (s *Store) approvePartnerTx(ctx context.Context, tx *sql.Tx, pp PartnerProgram, id, note string) error {
	var email, name string
	if err := tx.QueryRowContext(ctx, `SELECT email, name FROM partners WHERE id = $1`, id).Scan(&email, &name); err != nil {
		return err
	}
	entry := pp.Tiers[0].Key
	part, _, err := s.upsertParticipantTx(ctx, tx, pp.ProgramID, parrain.ParticipantInput{ExternalID: "partner:" + id, Email: email, Name: name,
		Attributes: &parrain.Attributes{"partner_tier": entry, "partner": true}})
	if err != nil {
		return err
	}
	now := ms(s.clock.Now())
	_, err = tx.ExecContext(ctx, `UPDATE partners SET status = $1, participant_id = $2, tier = $3, approved_at = $4, decision_note = $5, updated_at = $4 WHERE id = $6`,
		parrain.PartnerActive, part.ID, entry, now, note, id)
	if err != nil {
		return fmt.Errorf("approving partner: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO partner_tier_history (id, partner_id, program_id, from_tier, to_tier, direction, reason, created_at)
		VALUES ($1, $2, $3, '', $4, 'joined', $5, $6)`, newID("pth"), id, pp.ProgramID, entry, "welcome to the program in "+pp.Tiers[0].Name, now)
	return err
}

// SetPartnerStatus suspends or reactivates an approved partner.
func (s *Store) SetPartnerStatus(ctx context.Context, programID, partnerID string, st parrain.PartnerStatus) (parrain.Partner, error) {
	if st != parrain.PartnerActive && st != parrain.PartnerSuspended {
		return parrain.Partner{}, parrain.Invalid("status", "must be active or suspended")
	}
	var out parrain.Partner
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.partnerQ(ctx, tx, programID, partnerID)
		if err != nil {
			return err
		}
		if p.ApprovedAt == nil {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: "only an approved partner can be suspended or reactivated"}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE partners SET status = $1, updated_at = $2 WHERE id = $3`, st, ms(s.clock.Now()), partnerID); err != nil {
			return err
		}
		pst := parrain.ParticipantActive
		if st == parrain.PartnerSuspended {
			pst = parrain.ParticipantDisabled
		}
		if _, err := tx.ExecContext(ctx, `UPDATE participants SET status = $1 WHERE id = $2`, pst, p.ParticipantID); err != nil {
			return err
		}
		out, err = s.partnerQ(ctx, tx, programID, partnerID)
		return err
	})
	return out, err
}

// AcceptAgreement records that the partner accepted the program's current
// agreement version.
func (s *Store) AcceptAgreement(ctx context.Context, partnerID, version string) error {
	p, err := s.PartnerByID(ctx, partnerID)
	if err != nil {
		return err
	}
	pp, err := s.PartnerProgram(ctx, p.ProgramID)
	if err != nil {
		return err
	}
	if version != pp.TermsVersion {
		return parrain.Invalid("version", "the current agreement is version %s", pp.TermsVersion)
	}
	_, err = s.w.ExecContext(ctx, `UPDATE partners SET agreement_version = $1, agreement_at = $2, updated_at = $2 WHERE id = $3`, version, ms(s.clock.Now()), partnerID)
	return err
}

// Onboarding steps a manager (or the partner) ticks.
const (
	StepKickoff  = "kickoff"
	StepTraining = "training"
)

// SetOnboardingStep marks an onboarding step done (or not). Completing the
// training re-evaluates the partner's tier.
func (s *Store) SetOnboardingStep(ctx context.Context, programID, partnerID, step string, done bool) (parrain.Partner, error) {
	col := map[string]string{StepKickoff: "kickoff_at", StepTraining: "training_at"}[step]
	if col == "" {
		return parrain.Partner{}, parrain.Invalid("step", "must be kickoff or training")
	}
	var out parrain.Partner
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.partnerQ(ctx, tx, programID, partnerID)
		if err != nil {
			return err
		}
		var v sql.NullInt64
		if done {
			v = sql.NullInt64{Int64: ms(s.clock.Now()), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE partners SET `+col+` = $1, updated_at = $2 WHERE id = $3`, v, ms(s.clock.Now()), p.ID); err != nil {
			return err
		}
		if step == StepTraining && p.Status == parrain.PartnerActive {
			if _, err := s.evaluateTierTx(ctx, tx, programID, p.ID); err != nil {
				return err
			}
		}
		out, err = s.partnerQ(ctx, tx, programID, partnerID)
		return err
	})
	return out, err
}

// SetPartnerPassword stores a partner's password hash (argon2id, computed
// by the portal).
func (s *Store) SetPartnerPassword(ctx context.Context, partnerID, hash string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE partners SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ms(s.clock.Now()), partnerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("partner")
	}
	return nil
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreatePartnerMagicLink returns a one-time sign-in token valid for ttl.
// Only its hash is stored.
func (s *Store) CreatePartnerMagicLink(ctx context.Context, partnerID string, ttl time.Duration) (string, error) {
	tok := newToken()
	now := s.clock.Now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO partner_magic_links (token_hash, partner_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		tokenHash(tok), partnerID, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return "", fmt.Errorf("creating magic link: %w", err)
	}
	return tok, nil
}

// ConsumePartnerMagicLink uses a magic-link token once and returns its
// partner's id.
func (s *Store) ConsumePartnerMagicLink(ctx context.Context, tok string) (string, error) {
	var id string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := ms(s.clock.Now())
		err := tx.QueryRowContext(ctx, `UPDATE partner_magic_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING partner_id`,
			now, tokenHash(tok)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return parrain.Errorf(parrain.CodeUnauthenticated, "this sign-in link is invalid, used or expired")
		}
		return err
	})
	return id, err
}

// PartnerSessionTTL is how long a portal session lasts.
const PartnerSessionTTL = 14 * 24 * time.Hour

// CreatePartnerSession opens a portal session and returns its token and
// CSRF token. Only the token's hash is stored.
func (s *Store) CreatePartnerSession(ctx context.Context, partnerID string) (string, string, error) {
	tok, csrf := newToken(), newToken()
	now := s.clock.Now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO partner_sessions (token_hash, partner_id, csrf, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash(tok), partnerID, csrf, ms(now.Add(PartnerSessionTTL)), ms(now))
	if err != nil {
		return "", "", fmt.Errorf("creating partner session: %w", err)
	}
	return tok, csrf, nil
}

// PartnerSession resolves a session token to its partner id and CSRF
// token.
func (s *Store) PartnerSession(ctx context.Context, tok string) (string, string, error) {
	var id, csrf string
	err := s.r.QueryRowContext(ctx, `SELECT partner_id, csrf FROM partner_sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash(tok), ms(s.clock.Now())).Scan(&id, &csrf)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", parrain.Errorf(parrain.CodeUnauthenticated, "not signed in")
	}
	return id, csrf, err
}

// DeletePartnerSession signs a session out.
func (s *Store) DeletePartnerSession(ctx context.Context, tok string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM partner_sessions WHERE token_hash = $1`, tokenHash(tok))
	return err
}
