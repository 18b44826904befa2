package partner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// RequestExtension records a partner's request for more exclusivity on an
// open, sourced lead they own.
func (s *Service) RequestExtension(ctx context.Context, programID, partnerID, leadID string, in parrain.ExtensionInput, idem store.Idem) (store.Extension, bool, error) {
	if err := in.Normalize(); err != nil {
		return store.Extension{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.Extension, error) {
		l, err := tx.Lead(ctx, programID, leadID)
		if err != nil || l.PartnerID != partnerID {
			return store.Extension{}, parrain.Errorf(parrain.CodeNotFound, "lead not found")
		}
		if l.StageKind != parrain.StageOpen || l.Credit != parrain.CreditSourced {
			return store.Extension{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead", Message: "only an open, sourced registration can be extended"}
		}
		if err := stillHeld(ctx, tx, programID, l, s.now()); err != nil {
			return store.Extension{}, err
		}
		n, err := tx.PendingExtensions(ctx, leadID)
		if err != nil {
			return store.Extension{}, err
		}
		if n > 0 {
			return store.Extension{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead", Message: "an extension request for this lead is already pending"}
		}
		e := store.Extension{LeadID: leadID, PartnerID: partnerID, Company: l.CompanyName, Days: in.Days, Reason: in.Reason, Status: "pending", CreatedAt: s.now()}
		if err := tx.InsertExtension(ctx, programID, &e); err != nil {
			return e, err
		}
		return e, tx.Audit(ctx, auditActor(ctx), AuditExtensionRequested, "partner_extension", e.ID, programID,
			map[string]any{"lead": leadID, "company": l.CompanyName, "days": in.Days})
	})
}

// DecideExtension grants or refuses a pending extension request. A grant
// extends the registration from its current end (or from now if it has
// lapsed and nobody else claimed the account since); it is refused when
// another partner holds the account by then. Both outcomes are logged.
func (s *Service) DecideExtension(ctx context.Context, programID, extID string, grant bool, note, actor string, idem store.Idem) (store.Extension, bool, error) {
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return store.Extension{}, false, parrain.Invalid("note", "must be at most 1000 characters")
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.Extension, error) {
		x, err := tx.LockExtension(ctx, programID, extID)
		if err != nil {
			return store.Extension{}, err
		}
		if x.Status != "pending" {
			return store.Extension{}, &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: "this request was already decided (" + x.Status + ")"}
		}
		outcome := "refused"
		dec := parrain.Decision{Outcome: parrain.OutcomeRefused, Reason: "extension_refused", Explanation: "Extension refused by the manager."}
		if note != "" {
			dec.Explanation = "Extension refused by the manager: " + note
		}
		if grant {
			d, err := s.extendLead(ctx, tx, programID, x.LeadID, x.Days)
			switch e := parrain.AsError(err); {
			case err == nil:
				dec = d
				if d.Outcome == parrain.OutcomeGranted {
					outcome = "granted"
				}
			case e != nil && e.Code == parrain.CodeConflict && e.Field == "lead":
				// The lead closed or lapsed into another partner's hands
				// since the request: it cannot be granted, so it is
				// refused (not left pending) with the reason.
				dec = parrain.Decision{Outcome: parrain.OutcomeRefused, Reason: "extension_refused", Explanation: "Extension refused: " + e.Message + "."}
			default:
				return store.Extension{}, err
			}
		}
		if err := tx.DecideExtension(ctx, extID, outcome, actor, dec.Explanation, s.now()); err != nil {
			return store.Extension{}, err
		}
		l, _ := tx.Lead(ctx, programID, x.LeadID)
		if _, err := s.recordDecision(ctx, tx, programID, "extension", x.PartnerID, x.LeadID, l.Domain, l.CompanyName, dec, actor); err != nil {
			return store.Extension{}, err
		}
		if err := tx.Audit(ctx, auditActor(ctx), AuditExtensionDecided, "partner_extension", extID, programID,
			map[string]any{"lead": x.LeadID, "company": l.CompanyName, "days": x.Days, "outcome": outcome, "note": note}); err != nil {
			return store.Extension{}, err
		}
		return tx.Extension(ctx, extID)
	})
}

// ExtendLead extends a registration's exclusivity by days on the
// manager's own initiative, and logs the decision.
func (s *Service) ExtendLead(ctx context.Context, programID, leadID string, days int, actor string, idem store.Idem) (parrain.Decision, bool, error) {
	if days < 1 || days > parrain.MaxWindowDays {
		return parrain.Decision{}, false, parrain.Invalid("days", "must be between 1 and %d", parrain.MaxWindowDays)
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Decision, error) {
		d, err := s.extendLead(ctx, tx, programID, leadID, days)
		if err != nil {
			return d, err
		}
		l, _ := tx.Lead(ctx, programID, leadID)
		if _, err := s.recordDecision(ctx, tx, programID, "extension", l.PartnerID, leadID, l.Domain, l.CompanyName, d, actor); err != nil {
			return d, err
		}
		return d, tx.Audit(ctx, auditActor(ctx), AuditLeadExtended, "lead", leadID, programID,
			map[string]any{"company": l.CompanyName, "days": days})
	})
}

func (s *Service) extendLead(ctx context.Context, tx *store.Tx, programID, leadID string, days int) (parrain.Decision, error) {
	l, err := tx.Lead(ctx, programID, leadID)
	if err != nil {
		return parrain.Decision{}, err
	}
	if l.StageKind != parrain.StageOpen || l.Credit != parrain.CreditSourced {
		return parrain.Decision{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead", Message: "only an open, sourced registration can be extended"}
	}
	now := s.now()
	if err := stillHeld(ctx, tx, programID, l, now); err != nil {
		return parrain.Decision{}, err
	}
	from := l.ExpiresAt
	if from.Before(now) {
		from = now
	}
	exp := from.Add(time.Duration(days) * 24 * time.Hour)
	for _, k := range parrain.AccountKeys(l.Domain, l.CompanyName) {
		// Take the key back only if it is still this lead's or has lapsed.
		ok, err := tx.ReclaimAccount(ctx, programID, k, leadID, l.PartnerID, exp, now)
		if err != nil {
			return parrain.Decision{}, err
		}
		if !ok {
			return parrain.Decision{}, &parrain.Error{Code: parrain.CodeConflict, Field: "lead",
				Message: "the registration lapsed and another partner registered the account since: it cannot be extended"}
		}
	}
	if err := tx.SetLeadExpiry(ctx, leadID, exp, now); err != nil {
		return parrain.Decision{}, err
	}
	return parrain.Decision{Outcome: parrain.OutcomeGranted, ExpiresAt: &exp,
		Explanation: fmt.Sprintf("Exclusivity on %s extended by %d days, until %s.", l.CompanyName, days, parrain.Day(exp))}, nil
}

// stillHeld refuses to extend a registration that lapsed while another
// partner registered the account.
func stillHeld(ctx context.Context, tx *store.Tx, programID string, l parrain.Lead, now time.Time) error {
	if l.ExpiresAt.After(now) {
		return nil
	}
	claims, err := tx.Claims(ctx, programID, parrain.AccountKeys(l.Domain, l.CompanyName))
	if err != nil {
		return err
	}
	if c, taken := parrain.TakenBy(now, l.ID, claims); taken {
		return &parrain.Error{Code: parrain.CodeConflict, Field: "lead",
			Message: fmt.Sprintf("the registration lapsed on %s and another partner registered %s since: it cannot be extended", parrain.Day(l.ExpiresAt), c.CompanyName)}
	}
	return nil
}
