package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Rewards granted by the engine (or a contest): the reward row with its
// details, review state and fulfilment.

// rewardDetails is the JSON kept in rewards.details: the engine's inputs,
// its arithmetic and the reward spec (for fulfilment).
type rewardDetails struct {
	Inputs parrain.Inputs     `json:"inputs"`
	Steps  []string           `json:"steps"`
	Spec   parrain.RewardSpec `json:"spec"`
}

// grantTx stores an award: the reward with its accrual entry and
// maturation job (insertReward), its details, and its fulfilment.
func (s *Store) grantTx(ctx context.Context, tx *sql.Tx, prog *parrain.Program, ref *parrain.Referral, a parrain.Award, src parrain.GrantSource) (parrain.Reward, error) {
	now := s.clock.Now()
	at := a.At
	owner, ownerExt := ref.AdvocateID, ref.AdvocateExternalID
	if a.Role == parrain.RoleFriend {
		owner, ownerExt = ref.FriendID, ref.FriendExternalID
	}
	hold := at.Add(prog.Hold())
	if a.Immediate {
		hold = at
	}
	version := src.Version
	if version == 0 {
		version = prog.Version
	}
	rw := parrain.Reward{ID: newID("rwd"), ProgramID: prog.ID, ParticipantID: owner, ExternalID: ownerExt,
		ReferralID: ref.ID, PurchaseID: src.PurchaseID, OrderID: src.OrderID, EventID: src.EventID,
		RuleID: a.RuleID, RuleVersion: version, Role: a.Role, Trigger: a.Trigger, Kind: a.Kind, AmountType: a.AmountType,
		Amount: a.Amount, Currency: a.Currency, Status: parrain.RewardPending, Description: a.Description,
		Explanation: fmt.Sprintf("%s [program v%d]", a.Explanation, version), HoldUntil: hold, CreatedAt: now}
	rw.RewardDetails = DetailsOf(a, at)
	if err := s.insertReward(ctx, tx, &rw); err != nil {
		return rw, err
	}
	if err := s.saveDetailsTx(ctx, tx, &rw, a); err != nil {
		return rw, err
	}
	return rw, nil
}

// DetailsOf returns the reward details of an award granted at at.
func DetailsOf(a parrain.Award, at time.Time) parrain.RewardDetails {
	d := parrain.RewardDetails{OccurredAt: &at, Stage: a.Stage, RateBps: a.Inputs.RateBps}
	if a.AmountType == parrain.AmountPercent {
		d.BaseAmount, d.BaseCurrency = a.Inputs.Amount, a.Inputs.Currency
	}
	if a.Inputs.FX != nil {
		d.FXRate = a.Inputs.FX.Rate
	}
	if a.Review != "" {
		d.Review, d.ReviewReason = ReviewWaiting, a.Review
	}
	return d
}

// Review states of a reward queued for manual approval.
const (
	ReviewWaiting  = "waiting"
	ReviewApproved = "approved"
	ReviewRejected = "rejected"
)

// saveDetailsTx stores a new reward's engine details, holds it for
// review when it exceeds a cap, and schedules its fulfilment.
func (s *Store) saveDetailsTx(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, a parrain.Award) error {
	det, err := json.Marshal(rewardDetails{Inputs: a.Inputs, Steps: a.Steps, Spec: a.Spec})
	if err != nil {
		return err
	}
	d := rw.RewardDetails
	if _, err := tx.ExecContext(ctx, `UPDATE rewards SET occurred_at = $1, stage = $2, rate_bps = $3, base_amount = $4, base_currency = $5,
		fx_rate = $6, review = $7, review_reason = $8, details = $9 WHERE id = $10`,
		nullMS(d.OccurredAt), d.Stage, d.RateBps, d.BaseAmount, d.BaseCurrency, d.FXRate, d.Review, d.ReviewReason, string(det), rw.ID); err != nil {
		return fmt.Errorf("storing reward details: %w", err)
	}
	if d.Review == ReviewWaiting {
		// No automatic approval: a manager decides (ReviewReward).
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE unique_key = $1 AND state = 'available'`, parrain.JobMatureReward+":"+rw.ID); err != nil {
			return fmt.Errorf("holding reward for review: %w", err)
		}
	}
	if parrain.NeedsFulfilment(rw.Kind) {
		return s.scheduleFulfilmentTx(ctx, tx, rw, a.Spec)
	}
	return nil
}

// loadRefCtx loads the referral's participants.
func (s *Store) loadRefCtx(ctx context.Context, q querier, ref parrain.Referral) (*parrain.Referred, error) {
	rc := &parrain.Referred{Referral: ref}
	var err error
	if rc.Advocate, err = scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.AdvocateID)); err != nil {
		return nil, fmt.Errorf("loading advocate: %w", err)
	}
	if rc.Friend, err = scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.FriendID)); err != nil {
		return nil, fmt.Errorf("loading friend: %w", err)
	}
	return rc, nil
}

// decodeAttributes reads a participant's attributes column.
func decodeAttributes(s string) (parrain.Attributes, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var a parrain.Attributes
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("decoding participant attributes: %w", err)
	}
	return a, nil
}

// encodeAttributes returns the attributes column value (canonical JSON,
// keys sorted).
func encodeAttributes(a *parrain.Attributes) string {
	if a == nil || len(*a) == 0 {
		return "{}"
	}
	b, err := json.Marshal(*a)
	if err != nil {
		return "{}"
	}
	return string(b)
}
