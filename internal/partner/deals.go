package partner

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// farFuture keeps the claim of a won account: the customer stays the
// partner's.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

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

// MoveDeal moves a deal to a stage (parrain.PlanDealMove says which moves
// are allowed), in one transaction: the stage history, the reward engine's
// stage event for the partner's referral (when the program defines the
// stage: e.g. a fixed reward for a qualified demo, a percentage of the
// contract value on close, at the partner tier's rate), the
// partner.deal_stage_changed webhook, the audit entry and, on close, the
// tier re-evaluation. Closing won keeps the account the partner's; closing
// lost releases it. A move to the deal's current stage changes nothing.
func (s *Service) MoveDeal(ctx context.Context, programID, leadID string, mv DealMove, idem store.Idem) (DealMoveResult, bool, error) {
	stage, err := parrain.CheckDealMove(mv.Stage, mv.Value)
	if err != nil {
		return DealMoveResult{}, false, err
	}
	mv.Stage = stage
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (DealMoveResult, error) {
		return s.moveDeal(ctx, tx, programID, leadID, mv)
	})
}

func (s *Service) moveDeal(ctx context.Context, tx *store.Tx, programID, leadID string, mv DealMove) (DealMoveResult, error) {
	pp, err := tx.PartnerProgram(ctx, programID)
	if err != nil {
		return DealMoveResult{}, err
	}
	if _, ok := pp.Stage(mv.Stage); !ok {
		// Before loading the lead: an unknown stage is the caller's mistake
		// whichever lead it names.
		_, err := parrain.PlanDealMove(pp.PartnerSettings, parrain.Lead{}, mv.Stage, mv.Value)
		return DealMoveResult{}, err
	}
	l, err := tx.Lead(ctx, programID, leadID)
	if err != nil {
		return DealMoveResult{}, err
	}
	if err := tx.LockLead(ctx, leadID); err != nil {
		return DealMoveResult{}, err
	}
	t, err := parrain.PlanDealMove(pp.PartnerSettings, l, mv.Stage, mv.Value)
	if err != nil {
		return DealMoveResult{}, err
	}
	if t.Unchanged {
		return DealMoveResult{Lead: l, Rewards: []parrain.Reward{}, Message: "the deal is already at this stage"}, nil
	}
	p, err := tx.Partner(ctx, programID, l.PartnerID)
	if err != nil {
		return DealMoveResult{}, err
	}
	now := s.now()
	var closed *time.Time
	tierAtClose := ""
	if t.Closes() {
		closed, tierAtClose = &now, p.Tier
	}
	if err := tx.SetLeadStage(ctx, leadID, t.To, t.Value, closed, tierAtClose, now); err != nil {
		return DealMoveResult{}, err
	}
	switch t.To.Kind {
	case parrain.StageWon:
		if err := tx.SetClaimsExpiry(ctx, leadID, farFuture); err != nil {
			return DealMoveResult{}, err
		}
	case parrain.StageLost:
		if err := tx.ReleaseClaims(ctx, leadID, now); err != nil {
			return DealMoveResult{}, err
		}
	}
	out := DealMoveResult{Rewards: []parrain.Reward{}}
	eventID := ""
	prog, err := tx.Program(ctx, programID)
	if err != nil {
		return out, err
	}
	if prog.HasStage(t.To.Name) && p.Code != "" {
		ev := parrain.Event{Type: parrain.EventStage, ExternalID: "lead:" + leadID, Email: l.ContactEmail, Name: l.CompanyName,
			ReferralCode: p.Code, Stage: t.To.Name, PartnerTier: parrain.CommissionTier(p.Tier, l.Credit)}
		if t.Value > 0 {
			v := t.Value
			ev.Value, ev.Currency = &v, l.Currency
		}
		if err := ev.Normalize(now); err != nil {
			return out, err
		}
		res, err := s.events.IngestTx(ctx, tx, &prog, &ev)
		if err != nil {
			return out, err
		}
		eventID = res.EventID
		out.Rewards = append(out.Rewards, res.Rewards...)
		out.Message = res.Message
		if res.Referral != nil && l.ReferralID == "" {
			if err := tx.SetLeadReferral(ctx, leadID, res.Referral.ID); err != nil {
				return out, err
			}
		}
	}
	if err := tx.RecordStageChange(ctx, programID, leadID, parrain.StageChange{From: l.Stage, To: t.To.Name, Value: t.Value, Source: mv.Source,
		Actor: mv.Actor, EventID: eventID, CreatedAt: now}); err != nil {
		return out, err
	}
	if err := tx.Emit(ctx, programID, parrain.WebhookPartnerDealStageChanged, store.DealStageChange{ProgramID: programID, LeadKey: leadID,
		Stage: t.To.Name, PreviousStage: l.Stage, Source: mv.Source}); err != nil {
		return out, err
	}
	if t.Closes() {
		if _, err := s.evaluateTier(ctx, tx, programID, p.ID); err != nil {
			return out, err
		}
	}
	if out.Lead, err = tx.Lead(ctx, programID, leadID); err != nil {
		return out, err
	}
	err = tx.Audit(ctx, auditActor(ctx), AuditDealMoved, "lead", leadID, programID, map[string]any{
		"company": l.CompanyName, "partner": l.PartnerName, "from": l.Stage, "to": out.Lead.Stage,
		"amount": out.Lead.Value, "currency": out.Lead.Currency, "source": mv.Source})
	return out, err
}
