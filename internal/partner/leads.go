package partner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
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
func (s *Service) RegisterLead(ctx context.Context, programID, partnerID string, in parrain.LeadInput, opt RegisterOptions, idem store.Idem) (LeadResult, bool, error) {
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
		r, replayed, err := store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (LeadResult, error) {
			return s.registerLead(ctx, tx, programID, partnerID, in, opt)
		})
		if errors.Is(err, errClaimLost) && attempt < 3 {
			continue // the winner has committed: the next attempt sees its claim
		}
		return r, replayed, err
	}
}

func (s *Service) registerLead(ctx context.Context, tx *store.Tx, programID, partnerID string, in parrain.LeadInput, opt RegisterOptions) (LeadResult, error) {
	pp, err := tx.PartnerProgram(ctx, programID)
	if err != nil {
		return LeadResult{}, err
	}
	p, err := tx.Partner(ctx, programID, partnerID)
	if err != nil {
		return LeadResult{}, err
	}
	now := s.now()
	keys := parrain.AccountKeys(in.CompanyDomain, in.CompanyName)
	var dec parrain.Decision
	if p.Status != parrain.PartnerActive {
		dec = parrain.Decision{Outcome: parrain.OutcomeRefused, Reason: parrain.ReasonPartnerInvalid, Field: "partner",
			Explanation: fmt.Sprintf("Only active partners register leads (this partner is %s).", p.Status)}
	} else {
		claims, err := tx.Claims(ctx, programID, keys)
		if err != nil {
			return LeadResult{}, err
		}
		exs, err := tx.Exclusions(ctx, programID)
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
		leadID = tx.NewLeadID()
		exp := *dec.ExpiresAt
		if opt.Credit == parrain.CreditInfluenced {
			exp = now
		}
		if opt.Credit == parrain.CreditSourced {
			for _, k := range keys {
				ok, err := tx.ClaimAccount(ctx, programID, k, leadID, partnerID, exp, now)
				if err != nil {
					return LeadResult{}, err
				}
				if !ok {
					return LeadResult{}, errClaimLost
				}
			}
		}
		first := pp.Stages[0]
		if err := tx.InsertLead(ctx, parrain.Lead{ID: leadID, ProgramID: programID, PartnerID: partnerID, CompanyName: in.CompanyName, Domain: in.CompanyDomain,
			ContactName: in.ContactName, ContactEmail: in.ContactEmail, CompanySize: in.CompanySize, Industry: in.Industry, Notes: in.Notes, Consent: in.Consent,
			Credit: opt.Credit, Stage: first.Name, StageKind: first.Kind, Currency: pp.Currency, ExpiresAt: exp, RegisteredAt: now}); err != nil {
			return LeadResult{}, err
		}
		if err := tx.RecordStageChange(ctx, programID, leadID, parrain.StageChange{To: first.Name, Source: "registration", Actor: opt.Actor, CreatedAt: now}); err != nil {
			return LeadResult{}, err
		}
		l, err := tx.Lead(ctx, programID, leadID)
		if err != nil {
			return LeadResult{}, err
		}
		res.Lead = &l
		if err := tx.Emit(ctx, programID, parrain.WebhookPartnerLeadRegistered, l); err != nil {
			return LeadResult{}, err
		}
		if err := tx.SyncCRMLead(ctx, store.CRMLead{ProgramID: programID, Key: leadID, CompanyDomain: l.Domain, CompanyName: l.CompanyName,
			ContactEmail: l.ContactEmail, ContactName: l.ContactName, PartnerExternalID: p.ExternalID, PartnerName: p.Name, PartnerEmail: p.Email,
			DealName: l.CompanyName + " (partner " + p.Name + ")"}); err != nil {
			return LeadResult{}, err
		}
	}
	res.DecisionID, err = s.recordDecision(ctx, tx, programID, "registration", partnerID, leadID, in.CompanyDomain, in.CompanyName, dec, opt.Actor)
	return res, err
}

// recordDecision appends an outcome to the decisions log.
func (s *Service) recordDecision(ctx context.Context, tx *store.Tx, programID, kind, partnerID, leadID, domain, company string, d parrain.Decision, actor string) (string, error) {
	return tx.RecordPartnerDecision(ctx, programID, store.PartnerDecision{Kind: kind, PartnerID: partnerID, LeadID: leadID, Domain: domain, CompanyName: company,
		Outcome: d.Outcome, Reason: d.Reason, Explanation: d.Explanation, Actor: actor, CreatedAt: s.now()})
}

// CheckAccount answers the direct sales team's question "may I contact
// this account?" and records the check in the decisions log.
func (s *Service) CheckAccount(ctx context.Context, programID, domain, company, actor string) (parrain.Decision, error) {
	domain, company = strings.TrimSpace(domain), strings.TrimSpace(company)
	if domain == "" && company == "" {
		return parrain.Decision{}, parrain.Invalid("domain", "a domain or a company name is required")
	}
	if domain != "" && parrain.AccountDomain(domain) == "" {
		return parrain.Decision{}, parrain.Invalid("domain", "is not a domain (such as acme.com)")
	}
	var dec parrain.Decision
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		pp, err := tx.PartnerProgram(ctx, programID)
		if err != nil {
			return err
		}
		claims, err := tx.Claims(ctx, programID, parrain.AccountKeys(domain, company))
		if err != nil {
			return err
		}
		exs, err := tx.Exclusions(ctx, programID)
		if err != nil {
			return err
		}
		dec = parrain.CheckAccount(s.now(), pp.PartnerSettings, domain, company, claims, exs)
		_, err = s.recordDecision(ctx, tx, programID, "check", "", "", parrain.AccountDomain(domain), company, dec, actor)
		return err
	})
	return dec, err
}

// AddExclusion adds an account partners cannot register.
func (s *Service) AddExclusion(ctx context.Context, programID string, e parrain.Exclusion, idem store.Idem) (parrain.Exclusion, bool, error) {
	if err := e.Normalize(s.now()); err != nil {
		return e, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Exclusion, error) {
		if _, err := tx.PartnerProgram(ctx, programID); err != nil {
			return e, err
		}
		e.ProgramID, e.CreatedAt = programID, s.now()
		out, err := tx.InsertExclusion(ctx, e)
		if err != nil {
			return out, err
		}
		return out, tx.Audit(ctx, auditActor(ctx), AuditExclusionAdded, "partner_exclusion", out.ID, programID,
			map[string]any{"kind": out.Kind, "domain": out.Domain, "company": out.CompanyName})
	})
}

// DeleteExclusion removes an exclusion.
func (s *Service) DeleteExclusion(ctx context.Context, programID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteExclusion(ctx, programID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, auditActor(ctx), AuditExclusionDeleted, "partner_exclusion", id, programID, nil)
	})
}
