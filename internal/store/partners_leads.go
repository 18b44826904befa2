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

// LeadResult is the answer to a registration: the explained decision and,
// when accepted, the lead. A refusal is an answer, not an error: it is
// recorded in the decisions log and replayed with its idempotency key.
type LeadResult struct {
	DecisionID string            `json:"decision_id"`
	Decision   parrain.Decision  `json:"decision"`
	Lead       *parrain.Lead     `json:"lead,omitempty"`
	Input      parrain.LeadInput `json:"-"`
}

// errClaimLost rolls back a registration that lost the race for an account
// key to a concurrent one; it is retried and then refused.
var errClaimLost = errors.New("account claimed concurrently")

// farFuture keeps the claim of a won account: the customer stays the
// partner's.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// RegisterOptions are a registration's credit and actor. Partners register
// sourced leads; a manager may record an influenced deal, which claims
// nothing (the account belongs to someone else).
type RegisterOptions struct {
	Credit parrain.Credit
	Actor  string // "partner:<id>", "api:<key>", "manager:<user>"
}

// RegisterLead applies the program's rules to a partner's registration:
// qualification, excluded accounts, exclusivity. An accepted sourced lead
// claims the account's keys (domain and company name) for the window, in
// the same transaction as the lead, with an insert that only replaces an
// expired claim: of two partners registering one account at once, exactly
// one is accepted, on SQLite and PostgreSQL alike. Every outcome is
// recorded in the decisions log.
func (s *Store) RegisterLead(ctx context.Context, programID, partnerID string, in parrain.LeadInput, opt RegisterOptions, idem Idem) (LeadResult, bool, error) {
	if err := in.Normalize(); err != nil {
		return LeadResult{}, false, err
	}
	if opt.Credit == "" {
		opt.Credit = parrain.CreditSourced
	}
	if opt.Credit != parrain.CreditSourced && opt.Credit != parrain.CreditInfluenced {
		return LeadResult{}, false, parrain.Invalid("credit", "must be sourced or influenced")
	}
	for attempt := 0; ; attempt++ {
		r, replayed, err := idempotent(ctx, s, idem, func(tx *sql.Tx) (LeadResult, error) {
			return s.registerLeadTx(ctx, tx, programID, partnerID, in, opt)
		})
		if errors.Is(err, errClaimLost) && attempt < 3 {
			continue // the winner has committed: the next attempt sees its claim
		}
		return r, replayed, err
	}
}

func (s *Store) registerLeadTx(ctx context.Context, tx *sql.Tx, programID, partnerID string, in parrain.LeadInput, opt RegisterOptions) (LeadResult, error) {
	pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
	if err != nil {
		return LeadResult{}, err
	}
	p, err := s.partnerQ(ctx, tx, programID, partnerID)
	if err != nil {
		return LeadResult{}, err
	}
	now := s.clock.Now()
	keys := parrain.AccountKeys(in.CompanyDomain, in.CompanyName)
	var dec parrain.Decision
	if p.Status != parrain.PartnerActive {
		dec = parrain.Decision{Outcome: parrain.OutcomeRefused, Reason: parrain.ReasonPartnerInvalid, Field: "partner",
			Explanation: fmt.Sprintf("Only active partners register leads (this partner is %s).", p.Status)}
	} else {
		claims, err := s.claimsTx(ctx, tx, programID, keys)
		if err != nil {
			return LeadResult{}, err
		}
		exs, err := s.exclusionsQ(ctx, tx, programID)
		if err != nil {
			return LeadResult{}, err
		}
		if opt.Credit == parrain.CreditInfluenced {
			claims = nil // an influenced deal rides on someone else's account
		}
		dec = parrain.DecideRegistration(parrain.DecideInput{Now: now, Settings: pp.PartnerSettings, PartnerID: partnerID, Lead: in, Claims: claims, Exclusions: exs})
		if opt.Credit == parrain.CreditInfluenced && dec.Outcome == parrain.OutcomeAccepted {
			dec.Explanation = fmt.Sprintf("Accepted as an influenced deal: %s is credited to this partner as influencer; the account is not reserved.", in.CompanyName)
		}
	}
	res := LeadResult{Decision: dec}
	leadID := ""
	if dec.Outcome == parrain.OutcomeAccepted {
		leadID = newID("lead")
		exp := *dec.ExpiresAt
		if opt.Credit == parrain.CreditInfluenced {
			exp = now
		}
		if opt.Credit == parrain.CreditSourced {
			for _, k := range keys {
				r, err := tx.ExecContext(ctx, `INSERT INTO partner_claims (program_id, account_key, lead_id, partner_id, expires_at) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (program_id, account_key) DO UPDATE SET lead_id = excluded.lead_id, partner_id = excluded.partner_id, expires_at = excluded.expires_at
					WHERE partner_claims.expires_at <= $6`, programID, k, leadID, partnerID, ms(exp), ms(now))
				if err != nil {
					return LeadResult{}, fmt.Errorf("claiming %s: %w", k, err)
				}
				if n, _ := r.RowsAffected(); n == 0 {
					return LeadResult{}, errClaimLost
				}
			}
		}
		first := pp.Stages[0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO partner_leads (id, program_id, partner_id, company_name, domain, company_key, contact_name, contact_email,
				company_size, industry, notes, consent, credit, stage, stage_kind, currency, expires_at, registered_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)`,
			leadID, programID, partnerID, in.CompanyName, in.CompanyDomain, parrain.CompanyKey(in.CompanyName), in.ContactName, in.ContactEmail,
			in.CompanySize, in.Industry, in.Notes, in.Consent, opt.Credit, first.Name, first.Kind, pp.Currency, ms(exp), ms(now)); err != nil {
			return LeadResult{}, fmt.Errorf("inserting lead: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO partner_deal_stages (id, lead_id, program_id, from_stage, to_stage, source, actor, created_at)
			VALUES ($1, $2, $3, '', $4, 'registration', $5, $6)`, newID("pds"), leadID, programID, first.Name, opt.Actor, ms(now)); err != nil {
			return LeadResult{}, err
		}
		l, err := s.leadQ(ctx, tx, programID, leadID)
		if err != nil {
			return LeadResult{}, err
		}
		res.Lead = &l
		if err := s.emitTx(ctx, tx, programID, parrain.WebhookPartnerLeadRegistered, l); err != nil {
			return LeadResult{}, err
		}
		if err := s.crmLeadTx(ctx, tx, CRMLead{ProgramID: programID, Key: leadID, CompanyDomain: l.Domain, CompanyName: l.CompanyName,
			ContactEmail: l.ContactEmail, ContactName: l.ContactName, PartnerExternalID: p.ExternalID, PartnerName: p.Name, PartnerEmail: p.Email,
			DealName: l.CompanyName + " (partner " + p.Name + ")"}); err != nil {
			return LeadResult{}, err
		}
	}
	res.DecisionID, err = s.recordDecisionTx(ctx, tx, programID, "registration", partnerID, leadID, in.CompanyDomain, in.CompanyName, dec, opt.Actor)
	return res, err
}

func (s *Store) recordDecisionTx(ctx context.Context, q querier, programID, kind, partnerID, leadID, domain, company string, d parrain.Decision, actor string) (string, error) {
	id := newID("pdc")
	_, err := q.ExecContext(ctx, `INSERT INTO partner_decisions (id, program_id, kind, partner_id, lead_id, domain, company_name, outcome, reason, explanation, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, id, programID, kind, partnerID, leadID, domain, company, d.Outcome, d.Reason, d.Explanation,
		actor, ms(s.clock.Now()))
	if err != nil {
		return "", fmt.Errorf("recording decision: %w", err)
	}
	return id, nil
}

// claimsTx returns the claims on keys with their partner's name and
// company.
func (s *Store) claimsTx(ctx context.Context, q querier, programID string, keys []string) ([]parrain.Claim, error) {
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

// CheckAccount answers the direct sales team's question "may I contact
// this account?" and records the check in the decisions log.
func (s *Store) CheckAccount(ctx context.Context, programID, domain, company, actor string) (parrain.Decision, error) {
	domain, company = strings.TrimSpace(domain), strings.TrimSpace(company)
	if domain == "" && company == "" {
		return parrain.Decision{}, parrain.Invalid("domain", "a domain or a company name is required")
	}
	if domain != "" && parrain.AccountDomain(domain) == "" {
		return parrain.Decision{}, parrain.Invalid("domain", "is not a domain (such as acme.com)")
	}
	var dec parrain.Decision
	err := s.tx(ctx, func(tx *sql.Tx) error {
		pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
		if err != nil {
			return err
		}
		claims, err := s.claimsTx(ctx, tx, programID, parrain.AccountKeys(domain, company))
		if err != nil {
			return err
		}
		exs, err := s.exclusionsQ(ctx, tx, programID)
		if err != nil {
			return err
		}
		dec = parrain.CheckAccount(s.clock.Now(), pp.PartnerSettings, domain, company, claims, exs)
		_, err = s.recordDecisionTx(ctx, tx, programID, "check", "", "", parrain.AccountDomain(domain), company, dec, actor)
		return err
	})
	return dec, err
}

// PartnerDecision is one entry of the conflict decisions log.
type PartnerDecision struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	PartnerID   string    `json:"partner_id,omitempty"`
	LeadID      string    `json:"lead_id,omitempty"`
	Domain      string    `json:"domain,omitempty"`
	CompanyName string    `json:"company_name,omitempty"`
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason,omitempty"`
	Explanation string    `json:"explanation"`
	Actor       string    `json:"actor,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// PartnerDecisions lists the decisions log, newest first, optionally for
// one partner or one domain.
func (s *Store) PartnerDecisions(ctx context.Context, programID, partnerID, domain string, pg Page) ([]PartnerDecision, string, error) {
	args := []any{programID, pg.limit() + 1}
	q := `SELECT id, kind, partner_id, lead_id, domain, company_name, outcome, reason, explanation, actor, created_at FROM partner_decisions WHERE program_id = $1`
	if partnerID != "" {
		args = append(args, partnerID)
		q += fmt.Sprintf(" AND partner_id = $%d", len(args))
	}
	if domain != "" {
		args = append(args, parrain.AccountDomain(domain))
		q += fmt.Sprintf(" AND domain = $%d", len(args))
	}
	if pg.Cursor != "" {
		args = append(args, pg.Cursor)
		q += fmt.Sprintf(" AND id < $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing decisions: %w", err)
	}
	defer rows.Close()
	out := []PartnerDecision{}
	for rows.Next() {
		var d PartnerDecision
		var at int64
		if err := rows.Scan(&d.ID, &d.Kind, &d.PartnerID, &d.LeadID, &d.Domain, &d.CompanyName, &d.Outcome, &d.Reason, &d.Explanation, &d.Actor, &at); err != nil {
			return nil, "", err
		}
		d.CreatedAt = fromMS(at)
		out = append(out, d)
	}
	next := ""
	if len(out) > pg.limit() {
		out = out[:pg.limit()]
		next = out[len(out)-1].ID
	}
	return out, next, rows.Err()
}

// AddExclusion adds an account partners cannot register.
func (s *Store) AddExclusion(ctx context.Context, programID string, e parrain.Exclusion, idem Idem) (parrain.Exclusion, bool, error) {
	if err := e.Normalize(s.clock.Now()); err != nil {
		return e, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Exclusion, error) {
		if _, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID); err != nil {
			return e, err
		}
		e.ID, e.ProgramID, e.CreatedAt = newID("pex"), programID, s.clock.Now()
		_, err := tx.ExecContext(ctx, `INSERT INTO partner_exclusions (id, program_id, kind, domain, company_name, reason, engaged_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, programID, e.Kind, e.Domain, e.CompanyName, e.Reason, nullMS(e.EngagedAt), ms(e.CreatedAt))
		return e, err
	})
}

// DeleteExclusion removes an exclusion.
func (s *Store) DeleteExclusion(ctx context.Context, programID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM partner_exclusions WHERE program_id = $1 AND id = $2`, programID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("exclusion")
	}
	return nil
}

// Exclusions lists a program's excluded accounts.
func (s *Store) Exclusions(ctx context.Context, programID string) ([]parrain.Exclusion, error) {
	return s.exclusionsQ(ctx, s.r, programID)
}

func (s *Store) exclusionsQ(ctx context.Context, q querier, programID string) ([]parrain.Exclusion, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, program_id, kind, domain, company_name, reason, engaged_at, created_at FROM partner_exclusions WHERE program_id = $1 ORDER BY id`, programID)
	if err != nil {
		return nil, fmt.Errorf("loading exclusions: %w", err)
	}
	defer rows.Close()
	out := []parrain.Exclusion{}
	for rows.Next() {
		var e parrain.Exclusion
		var eng sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &e.ProgramID, &e.Kind, &e.Domain, &e.CompanyName, &e.Reason, &eng, &at); err != nil {
			return nil, err
		}
		e.EngagedAt, e.CreatedAt = fromNullMS(eng), fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

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

// DealMove moves a deal to a stage. Value is the deal's value (first-year
// contract value) in the program currency, required to close won.
type DealMove struct {
	Stage  string `json:"stage"`
	Value  *int64 `json:"value,omitempty"`
	Source string `json:"-"` // manager, api, crm
	Actor  string `json:"-"`
}

// DealMoveResult is a deal after a move, with the rewards it earned.
type DealMoveResult struct {
	Lead    parrain.Lead     `json:"lead"`
	Rewards []parrain.Reward `json:"rewards"`
	Message string           `json:"message,omitempty"`
}

// MoveDeal moves a deal to a stage, in one transaction: the stage history,
// the reward engine's stage event for the partner's referral (when the
// program defines the stage: e.g. a fixed reward for a qualified demo, a
// percentage of the contract value on close, at the partner tier's rate),
// the partner.deal_stage_changed webhook and, on close, the tier
// re-evaluation. Closing won keeps the account the partner's; closing
// lost releases it.
func (s *Store) MoveDeal(ctx context.Context, programID, leadID string, mv DealMove, idem Idem) (DealMoveResult, bool, error) {
	mv.Stage = strings.TrimSpace(mv.Stage)
	if mv.Stage == "" {
		return DealMoveResult{}, false, parrain.Invalid("stage", "is required")
	}
	if mv.Value != nil && (*mv.Value < 0 || *mv.Value > parrain.MaxAmount) {
		return DealMoveResult{}, false, parrain.Invalid("value", "must be a non-negative integer in the currency's minor unit")
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (DealMoveResult, error) {
		return s.moveDealTx(ctx, tx, programID, leadID, mv)
	})
}

func (s *Store) moveDealTx(ctx context.Context, tx *sql.Tx, programID, leadID string, mv DealMove) (DealMoveResult, error) {
	pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
	if err != nil {
		return DealMoveResult{}, err
	}
	st, ok := pp.Stage(mv.Stage)
	if !ok {
		return DealMoveResult{}, parrain.Invalid("stage", "%q is not a deal stage of this program (%s)", mv.Stage, pp.StageNames())
	}
	l, err := s.leadQ(ctx, tx, programID, leadID)
	if err != nil {
		return DealMoveResult{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE partner_leads SET updated_at = updated_at WHERE id = $1`, leadID); err != nil { // lock the row
		return DealMoveResult{}, err
	}
	if l.StageKind != parrain.StageOpen {
		return DealMoveResult{}, &parrain.Error{Code: parrain.CodeConflict, Field: "stage", Message: fmt.Sprintf("the deal is already closed (%s)", l.Stage)}
	}
	if l.Stage == st.Name {
		return DealMoveResult{Lead: l, Rewards: []parrain.Reward{}, Message: "the deal is already at this stage"}, nil
	}
	value := l.Value
	if mv.Value != nil {
		value = *mv.Value
	}
	if st.Kind == parrain.StageWon && value <= 0 {
		return DealMoveResult{}, parrain.Invalid("value", "is required to close a deal won: the contract's first-year value in minor units")
	}
	p, err := s.partnerQ(ctx, tx, programID, l.PartnerID)
	if err != nil {
		return DealMoveResult{}, err
	}
	now := s.clock.Now()
	var closed sql.NullInt64
	tierAtClose := ""
	if st.Kind != parrain.StageOpen {
		closed = sql.NullInt64{Int64: ms(now), Valid: true}
		tierAtClose = p.Tier
	}
	if _, err := tx.ExecContext(ctx, `UPDATE partner_leads SET stage = $1, stage_kind = $2, value = $3, closed_at = $4, tier_at_close = $5, updated_at = $6 WHERE id = $7`,
		st.Name, st.Kind, value, closed, tierAtClose, ms(now), leadID); err != nil {
		return DealMoveResult{}, fmt.Errorf("moving deal: %w", err)
	}
	switch st.Kind {
	case parrain.StageWon:
		if _, err := tx.ExecContext(ctx, `UPDATE partner_claims SET expires_at = $1 WHERE lead_id = $2`, ms(farFuture), leadID); err != nil {
			return DealMoveResult{}, err
		}
	case parrain.StageLost:
		if _, err := tx.ExecContext(ctx, `UPDATE partner_claims SET expires_at = $1 WHERE lead_id = $2 AND expires_at > $1`, ms(now), leadID); err != nil {
			return DealMoveResult{}, err
		}
	}
	out := DealMoveResult{Rewards: []parrain.Reward{}}
	eventID := ""
	prog, err := s.programQ(ctx, tx, programID, "")
	if err != nil {
		return out, err
	}
	if prog.HasStage(st.Name) && p.Code != "" {
		ev := parrain.Event{Type: parrain.EventStage, ExternalID: "lead:" + leadID, Email: l.ContactEmail, Name: l.CompanyName,
			ReferralCode: p.Code, Stage: st.Name, PartnerTier: parrain.CommissionTier(p.Tier, l.Credit)}
		if value > 0 {
			v := value
			ev.Value, ev.Currency = &v, l.Currency
		}
		if err := ev.Normalize(now); err != nil {
			return out, err
		}
		res, err := s.ingestTx(ctx, tx, &prog, &ev)
		if err != nil {
			return out, err
		}
		eventID = res.EventID
		out.Rewards = append(out.Rewards, res.Rewards...)
		out.Message = res.Message
		if res.Referral != nil && l.ReferralID == "" {
			if _, err := tx.ExecContext(ctx, `UPDATE partner_leads SET referral_id = $1 WHERE id = $2`, res.Referral.ID, leadID); err != nil {
				return out, err
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO partner_deal_stages (id, lead_id, program_id, from_stage, to_stage, value, source, actor, event_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, newID("pds"), leadID, programID, l.Stage, st.Name, value, mv.Source, mv.Actor, eventID, ms(now)); err != nil {
		return out, err
	}
	if err := s.emitTx(ctx, tx, programID, parrain.WebhookPartnerDealStageChanged, DealStageChange{ProgramID: programID, LeadKey: leadID,
		Stage: st.Name, PreviousStage: l.Stage, Source: mv.Source}); err != nil {
		return out, err
	}
	if st.Kind != parrain.StageOpen {
		if _, err := s.evaluateTierTx(ctx, tx, programID, p.ID); err != nil {
			return out, err
		}
	}
	out.Lead, err = s.leadQ(ctx, tx, programID, leadID)
	return out, err
}

// ingestTx processes an event inside the caller's transaction, exactly as
// IngestEvent does in its own.
func (s *Store) ingestTx(ctx context.Context, tx *sql.Tx, prog *parrain.Program, ev *parrain.Event) (EventResult, error) {
	in := ingest{s: s, tx: tx, prog: prog, ev: ev, res: EventResult{EventID: newID("evt"), Type: ev.Type, Rewards: []parrain.Reward{}}}
	if err := in.stage(ctx); err != nil {
		return EventResult{}, err
	}
	if err := in.afterEvent(ctx); err != nil {
		return EventResult{}, err
	}
	return in.res, in.record(ctx)
}

// Extension is a partner's request to extend a registration's exclusivity.
type Extension struct {
	ID        string     `json:"id"`
	LeadID    string     `json:"lead_id"`
	PartnerID string     `json:"partner_id"`
	Company   string     `json:"company_name,omitempty"`
	Days      int        `json:"days"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"` // pending, granted, refused
	DecidedBy string     `json:"decided_by,omitempty"`
	Decision  string     `json:"decision,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// RequestExtension records a partner's request for more exclusivity on an
// open, sourced lead they own.
func (s *Store) RequestExtension(ctx context.Context, programID, partnerID, leadID string, in parrain.ExtensionInput, idem Idem) (Extension, bool, error) {
	if err := in.Normalize(); err != nil {
		return Extension{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (Extension, error) {
		l, err := s.leadQ(ctx, tx, programID, leadID)
		if err != nil || l.PartnerID != partnerID {
			return Extension{}, notFound("lead")
		}
		if l.StageKind != parrain.StageOpen || l.Credit != parrain.CreditSourced {
			return Extension{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead", Message: "only an open, sourced registration can be extended"}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM partner_extensions WHERE lead_id = $1 AND status = 'pending'`, leadID).Scan(&n); err != nil {
			return Extension{}, err
		}
		if n > 0 {
			return Extension{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead", Message: "an extension request for this lead is already pending"}
		}
		e := Extension{ID: newID("pext"), LeadID: leadID, PartnerID: partnerID, Company: l.CompanyName, Days: in.Days, Reason: in.Reason, Status: "pending", CreatedAt: s.clock.Now()}
		_, err = tx.ExecContext(ctx, `INSERT INTO partner_extensions (id, program_id, lead_id, partner_id, days, reason, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)`,
			e.ID, programID, leadID, partnerID, e.Days, e.Reason, ms(e.CreatedAt))
		return e, err
	})
}

// Extensions lists a program's extension requests (status "" for all),
// newest first, optionally for one partner.
func (s *Store) Extensions(ctx context.Context, programID, partnerID, status string) ([]Extension, error) {
	args := []any{programID}
	q := `SELECT e.id, e.lead_id, e.partner_id, l.company_name, e.days, e.reason, e.status, e.decided_by, e.decision, e.created_at, e.decided_at
		FROM partner_extensions e JOIN partner_leads l ON l.id = e.lead_id WHERE e.program_id = $1`
	if partnerID != "" {
		args = append(args, partnerID)
		q += fmt.Sprintf(" AND e.partner_id = $%d", len(args))
	}
	if status != "" {
		args = append(args, status)
		q += fmt.Sprintf(" AND e.status = $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY e.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Extension{}
	for rows.Next() {
		var e Extension
		var at int64
		var dec sql.NullInt64
		if err := rows.Scan(&e.ID, &e.LeadID, &e.PartnerID, &e.Company, &e.Days, &e.Reason, &e.Status, &e.DecidedBy, &e.Decision, &at, &dec); err != nil {
			return nil, err
		}
		e.CreatedAt, e.DecidedAt = fromMS(at), fromNullMS(dec)
		out = append(out, e)
	}
	return out, rows.Err()
}

// DecideExtension grants or refuses a pending extension request. A grant
// extends the registration from its current end (or from now if it has
// lapsed and nobody else claimed the account since); it is refused when
// another partner holds the account by then. Both outcomes are logged.
func (s *Store) DecideExtension(ctx context.Context, programID, extID string, grant bool, note, actor string, idem Idem) (Extension, bool, error) {
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return Extension{}, false, parrain.Invalid("note", "must be at most 1000 characters")
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (Extension, error) {
		var leadID, partnerID, status string
		var days int
		err := tx.QueryRowContext(ctx, `SELECT lead_id, partner_id, status, days FROM partner_extensions WHERE program_id = $1 AND id = $2`+s.d.forUpdate,
			programID, extID).Scan(&leadID, &partnerID, &status, &days)
		if errors.Is(err, sql.ErrNoRows) {
			return Extension{}, notFound("extension request")
		}
		if err != nil {
			return Extension{}, err
		}
		if status != "pending" {
			return Extension{}, &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: "this request was already decided (" + status + ")"}
		}
		outcome := "refused"
		dec := parrain.Decision{Outcome: parrain.OutcomeRefused, Reason: "extension_refused", Explanation: "Extension refused by the manager."}
		if note != "" {
			dec.Explanation = "Extension refused by the manager: " + note
		}
		if grant {
			d, err := s.extendLeadTx(ctx, tx, programID, leadID, days)
			if err != nil {
				return Extension{}, err
			}
			dec = d
			if d.Outcome == parrain.OutcomeGranted {
				outcome = "granted"
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE partner_extensions SET status = $1, decided_by = $2, decision = $3, decided_at = $4 WHERE id = $5`,
			outcome, actor, dec.Explanation, ms(s.clock.Now()), extID); err != nil {
			return Extension{}, err
		}
		l, _ := s.leadQ(ctx, tx, programID, leadID)
		if _, err := s.recordDecisionTx(ctx, tx, programID, "extension", partnerID, leadID, l.Domain, l.CompanyName, dec, actor); err != nil {
			return Extension{}, err
		}
		es, err := s.extensionTx(ctx, tx, extID)
		return es, err
	})
}

func (s *Store) extensionTx(ctx context.Context, q querier, id string) (Extension, error) {
	var e Extension
	var at int64
	var dec sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT e.id, e.lead_id, e.partner_id, l.company_name, e.days, e.reason, e.status, e.decided_by, e.decision, e.created_at, e.decided_at
		FROM partner_extensions e JOIN partner_leads l ON l.id = e.lead_id WHERE e.id = $1`, id).
		Scan(&e.ID, &e.LeadID, &e.PartnerID, &e.Company, &e.Days, &e.Reason, &e.Status, &e.DecidedBy, &e.Decision, &at, &dec)
	e.CreatedAt, e.DecidedAt = fromMS(at), fromNullMS(dec)
	return e, err
}

// ExtendLead extends a registration's exclusivity by days on the
// manager's own initiative, and logs the decision.
func (s *Store) ExtendLead(ctx context.Context, programID, leadID string, days int, actor string, idem Idem) (parrain.Decision, bool, error) {
	if days < 1 || days > parrain.MaxWindowDays {
		return parrain.Decision{}, false, parrain.Invalid("days", "must be between 1 and %d", parrain.MaxWindowDays)
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Decision, error) {
		d, err := s.extendLeadTx(ctx, tx, programID, leadID, days)
		if err != nil {
			return d, err
		}
		l, _ := s.leadQ(ctx, tx, programID, leadID)
		_, err = s.recordDecisionTx(ctx, tx, programID, "extension", l.PartnerID, leadID, l.Domain, l.CompanyName, d, actor)
		return d, err
	})
}

func (s *Store) extendLeadTx(ctx context.Context, tx *sql.Tx, programID, leadID string, days int) (parrain.Decision, error) {
	l, err := s.leadQ(ctx, tx, programID, leadID)
	if err != nil {
		return parrain.Decision{}, err
	}
	if l.StageKind != parrain.StageOpen || l.Credit != parrain.CreditSourced {
		return parrain.Decision{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead", Message: "only an open, sourced registration can be extended"}
	}
	now := s.clock.Now()
	from := l.ExpiresAt
	if from.Before(now) {
		from = now
	}
	exp := from.Add(time.Duration(days) * 24 * time.Hour)
	keys := parrain.AccountKeys(l.Domain, l.CompanyName)
	for _, k := range keys {
		// Take the key back only if it is still this lead's or has lapsed.
		r, err := tx.ExecContext(ctx, `INSERT INTO partner_claims (program_id, account_key, lead_id, partner_id, expires_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (program_id, account_key) DO UPDATE SET lead_id = excluded.lead_id, partner_id = excluded.partner_id, expires_at = excluded.expires_at
			WHERE partner_claims.lead_id = $3 OR partner_claims.expires_at <= $6`, programID, k, leadID, l.PartnerID, ms(exp), ms(now))
		if err != nil {
			return parrain.Decision{}, err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return parrain.Decision{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead",
				Message: "the registration lapsed and another partner registered the account since: it cannot be extended"}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE partner_leads SET expires_at = $1, updated_at = $2 WHERE id = $3`, ms(exp), ms(now), leadID); err != nil {
		return parrain.Decision{}, err
	}
	return parrain.Decision{Outcome: parrain.OutcomeGranted, ExpiresAt: &exp,
		Explanation: fmt.Sprintf("Exclusivity on %s extended by %d days, until %s.", l.CompanyName, days, parrain.Day(exp))}, nil
}

// AccountState returns the claims and the program's exclusions that bear
// on an account, for instant feedback before a registration.
func (s *Store) AccountState(ctx context.Context, programID, domain, company string) ([]parrain.Claim, []parrain.Exclusion, error) {
	claims, err := s.claimsTx(ctx, s.r, programID, parrain.AccountKeys(domain, company))
	if err != nil {
		return nil, nil, err
	}
	exs, err := s.exclusionsQ(ctx, s.r, programID)
	return claims, exs, err
}
