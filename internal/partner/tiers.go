package partner

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// evaluateTier re-evaluates one partner's tier; a change is recorded in the
// tier history (shown to the partner on their dashboard) and applied to the
// participant's partner_tier attribute, which chooses commission rates.
func (s *Service) evaluateTier(ctx context.Context, tx *store.Tx, programID, partnerID string) (*parrain.TierChange, error) {
	pp, err := tx.PartnerProgram(ctx, programID)
	if err != nil {
		return nil, err
	}
	p, err := tx.Partner(ctx, programID, partnerID)
	if err != nil || p.Status != parrain.PartnerActive {
		return nil, err
	}
	won, err := tx.WonDeals(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ch := parrain.EvaluateTier(now, pp.Tiers, p.Tier, parrain.PartnerRecord{TrainingDone: p.TrainingAt != nil, Won: won}, pp.Currency)
	if ch.Direction == "" {
		return nil, nil
	}
	if err := tx.SetPartnerTier(ctx, p.ID, ch.To, now); err != nil {
		return nil, err
	}
	if err := tx.RecordTierEvent(ctx, programID, p.ID, store.TierEvent{From: ch.From, To: ch.To, Direction: ch.Direction, Reason: ch.Reason, CreatedAt: now}); err != nil {
		return nil, err
	}
	if p.ParticipantID != "" {
		if err := tx.SetParticipantAttribute(ctx, p.ParticipantID, "partner_tier", ch.To); err != nil {
			return nil, err
		}
	}
	// A tier change is audited under whoever caused it: the daily job, a
	// deal closed through the API, training marked done in the console.
	if err := tx.Audit(ctx, auditActor(ctx), AuditTierChanged, "partner", p.ID, programID, map[string]any{
		"from": ch.From, "to": ch.To, "direction": ch.Direction, "reason": ch.Reason}); err != nil {
		return nil, err
	}
	return &ch, nil
}

// EvaluateTiers re-evaluates every active partner of a program (the
// scheduled job), one transaction each, and returns the changes.
func (s *Service) EvaluateTiers(ctx context.Context, programID string) ([]parrain.TierChange, error) {
	ids, err := s.st.ActivePartnerIDs(ctx, programID)
	if err != nil {
		return nil, err
	}
	var out []parrain.TierChange
	for _, id := range ids {
		var ch *parrain.TierChange
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			ch, err = s.evaluateTier(ctx, tx, programID, id)
			return err
		})
		if err != nil {
			return out, err
		}
		if ch != nil {
			out = append(out, *ch) // once the transaction committed (it may have been retried)
		}
	}
	return out, nil
}

// HandleEvaluateTiers runs a JobEvaluateTiers job. The caller reschedules
// it TierInterval later.
func (s *Service) HandleEvaluateTiers(ctx context.Context, payload []byte) error {
	var a EvaluateTiersArgs
	if err := json.Unmarshal(payload, &a); err != nil {
		return fmt.Errorf("decoding %s payload: %w", JobEvaluateTiers, err)
	}
	_, err := s.EvaluateTiers(ctx, a.ProgramID)
	return err
}
