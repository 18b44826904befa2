package partner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// PutProgram creates or replaces a program's partner settings and tiers,
// and schedules the periodic tier evaluation. Partners in a tier that no
// longer exists are re-evaluated.
func (s *Service) PutProgram(ctx context.Context, programID string, set parrain.PartnerSettings, tiers []parrain.Tier) (store.PartnerProgram, error) {
	if err := set.Normalize(); err != nil {
		return store.PartnerProgram{}, err
	}
	if err := parrain.NormalizeTiers(tiers); err != nil {
		return store.PartnerProgram{}, err
	}
	set.ProgramID = programID
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Program(ctx, programID); err != nil {
			return err
		}
		other, err := tx.PartnerSlugOwner(ctx, set.Slug, programID)
		if err != nil {
			return err
		}
		if other != "" {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "slug", Message: fmt.Sprintf("the slug %q is used by another program", set.Slug)}
		}
		now := s.now()
		if err := tx.SavePartnerProgram(ctx, set, tiers, now); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditActor(ctx), AuditProgramUpdated, "program", programID, programID,
			map[string]any{"slug": set.Slug, "tiers": len(tiers)}); err != nil {
			return err
		}
		payload, _ := json.Marshal(EvaluateTiersArgs{ProgramID: programID})
		// One pending evaluation per program; re-saving keeps the schedule.
		return tx.Enqueue(ctx, JobEvaluateTiers, JobEvaluateTiers+":"+programID, payload, now.Add(time.Minute))
	})
	if err != nil {
		return store.PartnerProgram{}, err
	}
	return s.st.PartnerProgram(ctx, programID)
}

// Application sources.
const (
	// SourceApplication is the public form: refused when the program does
	// not take applications.
	SourceApplication = "application"
	// SourceInvite is a manager's invitation: the partner is active at
	// once, in the entry tier.
	SourceInvite = "invite"
)

// Apply records an application from the public form (SourceApplication)
// or a manager's invitation (SourceInvite).
func (s *Service) Apply(ctx context.Context, programID string, a parrain.PartnerApplication, source string, idem store.Idem) (parrain.Partner, bool, error) {
	if err := a.Normalize(); err != nil {
		return parrain.Partner{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Partner, error) {
		pp, err := tx.PartnerProgram(ctx, programID)
		if err != nil {
			return parrain.Partner{}, err
		}
		if source == SourceApplication && !pp.ApplicationsOpen {
			return parrain.Partner{}, parrain.Errorf(parrain.CodeForbidden, "this partner program does not take applications; ask for an invitation")
		}
		taken, err := tx.PartnerEmailTaken(ctx, programID, a.Email)
		if err != nil {
			return parrain.Partner{}, err
		}
		if taken {
			return parrain.Partner{}, &parrain.Error{Code: parrain.CodeConflict, Field: "email", Message: "this email already applied to or belongs to a partner of this program"}
		}
		id, err := tx.InsertPartner(ctx, programID, a, source, s.now())
		if err != nil {
			return parrain.Partner{}, err
		}
		if source == SourceInvite {
			if err := s.approve(ctx, tx, pp, id, "invited"); err != nil {
				return parrain.Partner{}, err
			}
			// A visitor's application is not audited: it is the partner
			// record itself, decided (and audited) by a manager.
			if err := tx.Audit(ctx, auditActor(ctx), AuditPartnerInvited, "partner", id, programID,
				map[string]any{"name": a.Name, "email": a.Email}); err != nil {
				return parrain.Partner{}, err
			}
		}
		return tx.Partner(ctx, programID, id)
	})
}

// Decide approves or rejects an application, and audits the decision.
// Approval makes the partner a participant of the program (their referral
// code credits their deals) in the entry tier.
func (s *Service) Decide(ctx context.Context, programID, partnerID string, approve bool, note string, idem store.Idem) (parrain.Partner, bool, error) {
	note = strings.TrimSpace(note)
	if len(note) > 2000 {
		return parrain.Partner{}, false, parrain.Invalid("note", "must be at most 2000 characters")
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Partner, error) {
		pp, err := tx.PartnerProgram(ctx, programID)
		if err != nil {
			return parrain.Partner{}, err
		}
		p, err := tx.Partner(ctx, programID, partnerID)
		if err != nil {
			return p, err
		}
		if p.Status != parrain.PartnerApplied {
			return p, &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: fmt.Sprintf("the application was already decided (status %s)", p.Status)}
		}
		action := AuditPartnerApproved
		if approve {
			err = s.approve(ctx, tx, pp, partnerID, note)
		} else {
			action = AuditPartnerRejected
			err = tx.RejectPartner(ctx, partnerID, note, s.now())
		}
		if err != nil {
			return p, err
		}
		if err := tx.Audit(ctx, auditActor(ctx), action, "partner", p.ID, programID, map[string]any{
			"name": p.Name, "email": p.Email, "note": note}); err != nil {
			return p, err
		}
		return tx.Partner(ctx, programID, partnerID)
	})
}

// approve makes partner id active in the entry tier: a participant of the
// program tagged with the tier (which chooses commission rates), and the
// first entry of their tier history.
func (s *Service) approve(ctx context.Context, tx *store.Tx, pp store.PartnerProgram, id, note string) error {
	p, err := tx.Partner(ctx, pp.ProgramID, id)
	if err != nil {
		return err
	}
	entry := pp.Tiers[0]
	part, _, err := tx.UpsertParticipant(ctx, pp.ProgramID, parrain.ParticipantInput{ExternalID: "partner:" + id, Email: p.Email, Name: p.Name,
		Attributes: &parrain.Attributes{"partner_tier": entry.Key, "partner": true}})
	if err != nil {
		return err
	}
	now := s.now()
	if err := tx.ApprovePartner(ctx, id, part.ID, entry.Key, note, now); err != nil {
		return err
	}
	return tx.RecordTierEvent(ctx, pp.ProgramID, id, store.TierEvent{To: entry.Key, Direction: "joined",
		Reason: "welcome to the program in " + entry.Name, CreatedAt: now})
}

// SetStatus suspends or reactivates an approved partner; their participant
// follows (a suspended partner's code earns nothing).
func (s *Service) SetStatus(ctx context.Context, programID, partnerID string, st parrain.PartnerStatus) (parrain.Partner, error) {
	if st != parrain.PartnerActive && st != parrain.PartnerSuspended {
		return parrain.Partner{}, parrain.Invalid("status", "must be active or suspended")
	}
	var out parrain.Partner
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.Partner(ctx, programID, partnerID)
		if err != nil {
			return err
		}
		if p.ApprovedAt == nil {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: "only an approved partner can be suspended or reactivated"}
		}
		if err := tx.SetPartnerStatus(ctx, partnerID, st, s.now()); err != nil {
			return err
		}
		pst := parrain.ParticipantActive
		if st == parrain.PartnerSuspended {
			pst = parrain.ParticipantDisabled
		}
		if err := tx.SetParticipantStatus(ctx, p.ParticipantID, pst); err != nil {
			return err
		}
		action := AuditPartnerReactivated
		if st == parrain.PartnerSuspended {
			action = AuditPartnerSuspended
		}
		if err := tx.Audit(ctx, auditActor(ctx), action, "partner", p.ID, programID, map[string]any{"name": p.Name, "email": p.Email}); err != nil {
			return err
		}
		out, err = tx.Partner(ctx, programID, partnerID)
		return err
	})
	return out, err
}

// AcceptAgreement records that the partner accepted the program's current
// agreement version.
func (s *Service) AcceptAgreement(ctx context.Context, partnerID, version string) error {
	p, err := s.st.PartnerByID(ctx, partnerID)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		pp, err := tx.PartnerProgram(ctx, p.ProgramID)
		if err != nil {
			return err
		}
		if version != pp.TermsVersion {
			return parrain.Invalid("version", "the current agreement is version %s", pp.TermsVersion)
		}
		return tx.SetPartnerAgreement(ctx, partnerID, version, s.now())
	})
}

// Onboarding steps a manager (or the partner) ticks.
const (
	StepKickoff  = store.PartnerStepKickoff
	StepTraining = store.PartnerStepTraining
)

// SetOnboardingStep marks an onboarding step done (or not). Completing the
// training re-evaluates the partner's tier.
func (s *Service) SetOnboardingStep(ctx context.Context, programID, partnerID, step string, done bool) (parrain.Partner, error) {
	if step != StepKickoff && step != StepTraining {
		return parrain.Partner{}, parrain.Invalid("step", "must be kickoff or training")
	}
	var out parrain.Partner
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.Partner(ctx, programID, partnerID)
		if err != nil {
			return err
		}
		now := s.now()
		var at *time.Time
		if done {
			at = &now
		}
		if err := tx.SetPartnerStep(ctx, p.ID, step, at, now); err != nil {
			return err
		}
		if err := tx.Audit(ctx, auditActor(ctx), AuditOnboardingStep, "partner", p.ID, programID,
			map[string]any{"name": p.Name, "step": step, "done": done}); err != nil {
			return err
		}
		if step == StepTraining && p.Status == parrain.PartnerActive {
			if _, err := s.evaluateTier(ctx, tx, programID, p.ID); err != nil {
				return err
			}
		}
		out, err = tx.Partner(ctx, programID, partnerID)
		return err
	})
	return out, err
}
