package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file holds partner leads (which become deals), their stage history
// and the account claims an accepted registration holds. The rules are in
// the domain (partner_rules.go), the use cases in internal/partner.

const leadCols = `l.id, l.program_id, l.partner_id, pa.name, l.company_name, l.domain, l.contact_name, l.contact_email, l.company_size, l.industry, l.notes,
	l.consent, l.credit, l.stage, l.stage_kind, l.value, l.currency, COALESCE(l.referral_id, ''), l.expires_at, l.registered_at, l.closed_at, l.updated_at`

const leadFrom = ` FROM partner_leads l JOIN partners pa ON pa.id = l.partner_id `

func scanLead(sc scanner) (parrain.Lead, error) {
	var l parrain.Lead
	var exp, reg, upd int64
	var closed sql.NullInt64
	err := sc.Scan(&l.ID, &l.ProgramID, &l.PartnerID, &l.PartnerName, &l.CompanyName, &l.Domain, &l.ContactName, &l.ContactEmail, &l.CompanySize,
		&l.Industry, &l.Notes, &l.Consent, &l.Credit, &l.Stage, &l.StageKind, &l.Value, &l.Currency, &l.ReferralID, &exp, &reg, &closed, &upd)
	l.ExpiresAt, l.RegisteredAt, l.ClosedAt, l.UpdatedAt = fromMS(exp), fromMS(reg), fromNullMS(closed), fromMS(upd)
	if l.ClosedAt != nil {
		d := float64((l.ClosedAt.Sub(l.RegisteredAt).Milliseconds()+4_320_000)/8_640_000) / 10 // days, one decimal
		l.DaysToClose = &d
	}
	return l, err
}

func (s *Store) leadQ(ctx context.Context, q querier, programID, id string) (parrain.Lead, error) {
	l, err := scanLead(q.QueryRowContext(ctx, `SELECT `+leadCols+leadFrom+`WHERE l.program_id = $1 AND l.id = $2`, programID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, notFound("lead")
	}
	if err != nil {
		return l, fmt.Errorf("loading lead: %w", err)
	}
	return l, nil
}

// Lead returns a lead of a program.
func (s *Store) Lead(ctx context.Context, programID, id string) (parrain.Lead, error) {
	return s.leadQ(ctx, s.r, programID, id)
}

// LeadFilter narrows a list of leads.
type LeadFilter struct {
	PartnerID string
	Stage     string
}

// Leads lists a program's leads, newest first.
func (s *Store) Leads(ctx context.Context, programID string, f LeadFilter, pg Page) ([]parrain.Lead, string, error) {
	args := []any{programID, pg.limit() + 1}
	q := `SELECT ` + leadCols + leadFrom + `WHERE l.program_id = $1`
	if f.PartnerID != "" {
		args = append(args, f.PartnerID)
		q += fmt.Sprintf(" AND l.partner_id = $%d", len(args))
	}
	if f.Stage != "" {
		args = append(args, f.Stage)
		q += fmt.Sprintf(" AND l.stage = $%d", len(args))
	}
	if pg.Cursor != "" {
		args = append(args, pg.Cursor)
		q += fmt.Sprintf(" AND l.id < $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY l.id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing leads: %w", err)
	}
	defer rows.Close()
	out := []parrain.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, l)
	}
	next := ""
	if len(out) > pg.limit() {
		out = out[:pg.limit()]
		next = out[len(out)-1].ID
	}
	return out, next, rows.Err()
}

// LeadStages returns a deal's stage history, oldest first.
func (s *Store) LeadStages(ctx context.Context, programID, leadID string) ([]parrain.StageChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, from_stage, to_stage, value, source, actor, event_id, created_at FROM partner_deal_stages
		WHERE program_id = $1 AND lead_id = $2 ORDER BY id`, programID, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []parrain.StageChange{}
	for rows.Next() {
		var c parrain.StageChange
		var at int64
		if err := rows.Scan(&c.ID, &c.From, &c.To, &c.Value, &c.Source, &c.Actor, &c.EventID, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

func wonDealsQ(ctx context.Context, q querier, partnerID string) ([]parrain.WonDeal, error) {
	rows, err := q.QueryContext(ctx, `SELECT closed_at, value FROM partner_leads WHERE partner_id = $1 AND stage_kind = 'won'`, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parrain.WonDeal
	for rows.Next() {
		var at, v int64
		if err := rows.Scan(&at, &v); err != nil {
			return nil, err
		}
		out = append(out, parrain.WonDeal{ClosedAt: fromMS(at), Value: v})
	}
	return out, rows.Err()
}

// WonDeals returns a partner's deals closed won (for tier criteria).
func (s *Store) WonDeals(ctx context.Context, partnerID string) ([]parrain.WonDeal, error) {
	return wonDealsQ(ctx, s.r, partnerID)
}

// KPIDeals returns every lead of a program as a KPI deal (Tier unset).
func (s *Store) KPIDeals(ctx context.Context, programID string) ([]parrain.KPIDeal, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT partner_id, credit, registered_at, closed_at, stage_kind, value FROM partner_leads WHERE program_id = $1`, programID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var deals []parrain.KPIDeal
	for rows.Next() {
		var d parrain.KPIDeal
		var reg int64
		var closed sql.NullInt64
		var kind string
		if err := rows.Scan(&d.PartnerID, &d.Credit, &reg, &closed, &kind, &d.Value); err != nil {
			return nil, err
		}
		d.RegisteredAt, d.ClosedAt, d.Won = fromMS(reg), fromNullMS(closed), kind == string(parrain.StageWon)
		deals = append(deals, d)
	}
	return deals, rows.Err()
}

func claimsQ(ctx context.Context, q querier, programID string, keys []string) ([]parrain.Claim, error) {
	var out []parrain.Claim
	for _, k := range keys {
		var c parrain.Claim
		var exp int64
		err := q.QueryRowContext(ctx, `SELECT c.account_key, c.lead_id, c.partner_id, pa.name, COALESCE(l.company_name, ''), c.expires_at
			FROM partner_claims c JOIN partners pa ON pa.id = c.partner_id LEFT JOIN partner_leads l ON l.id = c.lead_id
			WHERE c.program_id = $1 AND c.account_key = $2`, programID, k).Scan(&c.Key, &c.LeadID, &c.PartnerID, &c.PartnerName, &c.CompanyName, &exp)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("loading claim: %w", err)
		}
		c.ExpiresAt = fromMS(exp)
		out = append(out, c)
	}
	return out, nil
}

// AccountState returns the claims and the program's exclusions that bear
// on an account, for instant feedback before a registration.
func (s *Store) AccountState(ctx context.Context, programID, domain, company string) ([]parrain.Claim, []parrain.Exclusion, error) {
	claims, err := claimsQ(ctx, s.r, programID, parrain.AccountKeys(domain, company))
	if err != nil {
		return nil, nil, err
	}
	exs, err := s.exclusionsQ(ctx, s.r, programID)
	return claims, exs, err
}

// Lead returns a lead of a program, read in the transaction.
func (t *Tx) Lead(ctx context.Context, programID, id string) (parrain.Lead, error) {
	return t.s.leadQ(ctx, t.tx, programID, id)
}

// LockLead locks a lead's row until the transaction ends, so concurrent
// moves of one deal run one after the other.
func (t *Tx) LockLead(ctx context.Context, id string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partner_leads SET updated_at = updated_at WHERE id = $1`, id)
	return err
}

// WonDeals returns a partner's deals closed won, read in the transaction.
func (t *Tx) WonDeals(ctx context.Context, partnerID string) ([]parrain.WonDeal, error) {
	return wonDealsQ(ctx, t.tx, partnerID)
}

// InsertLead records an accepted registration: l's ID, ProgramID,
// PartnerID, company and contact fields, Consent, Credit, Stage,
// StageKind, Currency, ExpiresAt and RegisteredAt.
func (t *Tx) InsertLead(ctx context.Context, l parrain.Lead) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO partner_leads (id, program_id, partner_id, company_name, domain, company_key, contact_name, contact_email,
			company_size, industry, notes, consent, credit, stage, stage_kind, currency, expires_at, registered_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)`,
		l.ID, l.ProgramID, l.PartnerID, l.CompanyName, l.Domain, parrain.CompanyKey(l.CompanyName), l.ContactName, l.ContactEmail,
		l.CompanySize, l.Industry, l.Notes, l.Consent, l.Credit, l.Stage, l.StageKind, l.Currency, ms(l.ExpiresAt), ms(l.RegisteredAt)); err != nil {
		return fmt.Errorf("inserting lead: %w", err)
	}
	return nil
}

// NewLeadID returns the id of a lead about to be inserted (its claims are
// taken first).
func (t *Tx) NewLeadID() string { return newID("lead") }

// SetLeadStage moves a lead to stage with its value; closedAt and
// tierAtClose are set when the stage closes the deal.
func (t *Tx) SetLeadStage(ctx context.Context, id string, st parrain.DealStage, value int64, closedAt *time.Time, tierAtClose string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE partner_leads SET stage = $1, stage_kind = $2, value = $3, closed_at = $4, tier_at_close = $5, updated_at = $6 WHERE id = $7`,
		st.Name, st.Kind, value, nullMS(closedAt), tierAtClose, ms(now), id); err != nil {
		return fmt.Errorf("moving deal: %w", err)
	}
	return nil
}

// SetLeadReferral links a lead to the referral its partner's stage events
// created.
func (t *Tx) SetLeadReferral(ctx context.Context, id, referralID string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partner_leads SET referral_id = $1 WHERE id = $2`, referralID, id)
	return err
}

// SetLeadExpiry moves the end of a lead's exclusivity window.
func (t *Tx) SetLeadExpiry(ctx context.Context, id string, expires, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partner_leads SET expires_at = $1, updated_at = $2 WHERE id = $3`, ms(expires), ms(now), id)
	return err
}

// RecordStageChange appends c (From, To, Value, Source, Actor, EventID,
// CreatedAt) to a lead's stage history.
func (t *Tx) RecordStageChange(ctx context.Context, programID, leadID string, c parrain.StageChange) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_deal_stages (id, lead_id, program_id, from_stage, to_stage, value, source, actor, event_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, newID("pds"), leadID, programID, c.From, c.To, c.Value, c.Source, c.Actor, c.EventID, ms(c.CreatedAt))
	return err
}

// Claims returns the claims on keys with their partner's name and
// company, read in the transaction.
func (t *Tx) Claims(ctx context.Context, programID string, keys []string) ([]parrain.Claim, error) {
	return claimsQ(ctx, t.tx, programID, keys)
}

// ClaimAccount claims an account key for a lead until expires, replacing
// only a claim that expired by now. It reports false when another claim
// holds the key (a concurrent registration won).
func (t *Tx) ClaimAccount(ctx context.Context, programID, key, leadID, partnerID string, expires, now time.Time) (bool, error) {
	r, err := t.tx.ExecContext(ctx, `INSERT INTO partner_claims (program_id, account_key, lead_id, partner_id, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (program_id, account_key) DO UPDATE SET lead_id = excluded.lead_id, partner_id = excluded.partner_id, expires_at = excluded.expires_at
		WHERE partner_claims.expires_at <= $6`, programID, key, leadID, partnerID, ms(expires), ms(now))
	if err != nil {
		return false, fmt.Errorf("claiming %s: %w", key, err)
	}
	n, _ := r.RowsAffected()
	return n > 0, nil
}

// ReclaimAccount extends a lead's claim on an account key until expires:
// only while the key is still the lead's or has lapsed by now. It reports
// false when another lead holds the key.
func (t *Tx) ReclaimAccount(ctx context.Context, programID, key, leadID, partnerID string, expires, now time.Time) (bool, error) {
	r, err := t.tx.ExecContext(ctx, `INSERT INTO partner_claims (program_id, account_key, lead_id, partner_id, expires_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (program_id, account_key) DO UPDATE SET lead_id = excluded.lead_id, partner_id = excluded.partner_id, expires_at = excluded.expires_at
		WHERE partner_claims.lead_id = $3 OR partner_claims.expires_at <= $6`, programID, key, leadID, partnerID, ms(expires), ms(now))
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n > 0, nil
}

// SetClaimsExpiry sets when a lead's claims end.
func (t *Tx) SetClaimsExpiry(ctx context.Context, leadID string, until time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partner_claims SET expires_at = $1 WHERE lead_id = $2`, ms(until), leadID)
	return err
}

// ReleaseClaims ends a lead's claims now (those still running).
func (t *Tx) ReleaseClaims(ctx context.Context, leadID string, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partner_claims SET expires_at = $1 WHERE lead_id = $2 AND expires_at > $1`, ms(now), leadID)
	return err
}
