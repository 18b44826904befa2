package referral

import (
	"context"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Activity-based success: a program may require that the referred friend
// used the product during the hold (docs/rewards.md). At maturation a
// reward whose friend did not is voided with the reason inactive — a
// reversal entry and the reward.reversed webhook, like any void — and a
// manager may reinstate it (ReinstateReward, audited).

// beforeMaturity runs in the maturation transaction of a due reward: the
// program's activity requirement first (a reward voided as inactive does
// not mature), then the fraud check on product activity.
func beforeMaturity(ctx context.Context, tx *store.Tx, rw *parrain.Reward) (bool, error) {
	voided, err := requireActivity(ctx, tx, rw)
	if err != nil || voided {
		return false, err
	}
	return checkActivity(ctx, tx, rw)
}

// requireActivity voids a due reward whose friend did not show the
// activity its program version requires during the hold. It reports
// whether it voided the reward.
func requireActivity(ctx context.Context, tx *store.Tx, rw *parrain.Reward) (bool, error) {
	if rw.Trigger == parrain.TriggerContest || rw.ReferralID == "" || rw.Status != parrain.RewardPending || rw.Outstanding() <= 0 {
		return false, nil
	}
	// The rules the reward was granted under decide: turning the
	// requirement on later does not void rewards made before.
	prog, err := tx.ProgramAtVersion(ctx, rw.ProgramID, rw.RuleVersion)
	if err != nil {
		if parrain.ErrorCode(err) == parrain.CodeNotFound {
			return false, nil
		}
		return false, err
	}
	req, on := prog.ActivityRule()
	if !on {
		return false, nil
	}
	ref, err := tx.ReferralByID(ctx, rw.ReferralID)
	if err != nil {
		return false, err
	}
	from, to := parrain.ActivityWindow(rw)
	days, err := tx.ActivityDays(ctx, rw.ProgramID, ref.FriendID, req.EventType, from, to)
	if err != nil {
		return false, err
	}
	if ok, why := req.ActivityVerdict(days); !ok {
		return true, tx.VoidReward(ctx, rw, parrain.VoidInactive, why)
	}
	return false, nil
}

// ReinstateDecision is the body of a reinstatement: an optional note.
type ReinstateDecision struct {
	Note string `json:"note,omitempty"`
}

// ReinstateReward reverses a void for inactivity by a manager's decision:
// the reward's amount comes back approved (a reinstatement entry), its
// delivery is scheduled, the reward.approved webhook is sent and the
// decision is audited with the actor and the note, in one transaction. A
// reward that was not voided as inactive answers conflict; reinstating
// twice answers conflict the second time (or replays the first answer
// with the same idempotency key).
func (s *Service) ReinstateReward(ctx context.Context, programID, rewardID string, d ReinstateDecision, idem store.Idem) (parrain.Reward, bool, error) {
	note := strings.TrimSpace(d.Note)
	if len(note) > 500 {
		return parrain.Reward{}, false, parrain.Invalid("note", "must be at most 500 characters")
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Reward, error) {
		rw, _, err := tx.RewardForUpdate(ctx, programID, rewardID)
		if err != nil {
			return rw, err
		}
		a := store.ContextActor(ctx)
		memo := "reinstated by " + a.Email
		if note != "" {
			memo += ": " + note
		}
		x, err := tx.ReinstateReward(ctx, &rw, memo)
		if err != nil {
			return rw, err
		}
		if rw, err = tx.Decorated(ctx, rw); err != nil {
			return rw, err
		}
		return rw, tx.Audit(ctx, a, store.AuditRewardReinstated, "reward", rw.ID, rw.ProgramID, map[string]any{
			"amount": x, "currency": rw.Currency, "participant": rw.ExternalID, "void_reason": parrain.VoidInactive, "note": note})
	})
}
