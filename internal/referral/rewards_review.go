package referral

import (
	"context"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// A manager's review of pending rewards in the console: approve one now,
// before its hold ends, or reject it with a reason; the same for a
// selection. Each decision moves the ledger and writes its audit entry, in
// one transaction, under the actor the context carries. (ReviewReward is
// the API's decision on a reward the engine queued over a cap.)

// BulkResult counts what a bulk review action did.
type BulkResult struct {
	Done    []string          `json:"done"`    // reward ids changed
	Skipped map[string]string `json:"skipped"` // reward id → why it was left alone
}

// ApproveRewardNow approves a pending reward at once, before its hold ends
// (a manual review decision). It moves the outstanding amount from pending
// to approved with approval entries and records who approved it in the
// audit log, in one transaction. A reward that is not pending answers
// conflict. The maturation job later finds it approved and does nothing.
func (s *Service) ApproveRewardNow(ctx context.Context, programID, rewardID string) (parrain.Reward, error) {
	var rw parrain.Reward
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		rw, err = approveNow(ctx, tx, programID, rewardID)
		return err
	})
	return rw, err
}

// RejectReward rejects a pending reward with a reason: a reversal entry
// takes its outstanding amount out of pending, its status becomes reversed,
// and the reason is kept in the entry's memo and in the audit log. A reward
// that is not pending answers conflict (use a refund for approved rewards).
func (s *Service) RejectReward(ctx context.Context, programID, rewardID, reason string) (parrain.Reward, error) {
	reason, err := rejectionReason(reason)
	if err != nil {
		return parrain.Reward{}, err
	}
	var rw parrain.Reward
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		rw, err = reject(ctx, tx, programID, rewardID, reason)
		return err
	})
	return rw, err
}

// ApproveRewards approves several pending rewards of a program at once, in
// one transaction; rewards that are not pending are skipped with the reason.
func (s *Service) ApproveRewards(ctx context.Context, programID string, ids []string) (BulkResult, error) {
	return s.bulkReview(ctx, ids, func(tx *store.Tx, id string) error {
		_, err := approveNow(ctx, tx, programID, id)
		return err
	})
}

// RejectRewards rejects several pending rewards of a program with one
// reason, in one transaction; rewards that are not pending are skipped.
func (s *Service) RejectRewards(ctx context.Context, programID string, ids []string, reason string) (BulkResult, error) {
	reason, err := rejectionReason(reason)
	if err != nil {
		return BulkResult{}, err
	}
	return s.bulkReview(ctx, ids, func(tx *store.Tx, id string) error {
		_, err := reject(ctx, tx, programID, id, reason)
		return err
	})
}

func (s *Service) bulkReview(ctx context.Context, ids []string, one func(*store.Tx, string) error) (BulkResult, error) {
	if len(ids) == 0 {
		return BulkResult{}, parrain.Invalid("ids", "select at least one reward")
	}
	if len(ids) > store.MaxBulk {
		return BulkResult{}, parrain.Invalid("ids", "at most %d rewards at once", store.MaxBulk)
	}
	var res BulkResult
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		res = BulkResult{Done: []string{}, Skipped: map[string]string{}} // a retried attempt starts afresh
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			err := one(tx, id)
			switch e := parrain.AsError(err); {
			case err == nil:
				res.Done = append(res.Done, id)
			case e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeNotFound):
				res.Skipped[id] = e.Message
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return BulkResult{}, err
	}
	return res, nil
}

func rejectionReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", parrain.Invalid("reason", "say why the reward is rejected")
	}
	if len(reason) > 500 {
		return "", parrain.Invalid("reason", "must be at most 500 characters")
	}
	return reason, nil
}

// pendingReward loads and locks a program's reward for a review decision.
func pendingReward(ctx context.Context, tx *store.Tx, programID, rewardID, verb string) (parrain.Reward, error) {
	rw, _, err := tx.RewardForUpdate(ctx, programID, rewardID)
	if err != nil {
		return rw, err
	}
	if rw.Status != parrain.RewardPending || rw.Outstanding() <= 0 {
		return rw, parrain.Errorf(parrain.CodeConflict, "reward %s is %s: only pending rewards can be %s", rw.ID, rw.Status, verb)
	}
	return rw, nil
}

func approveNow(ctx context.Context, tx *store.Tx, programID, rewardID string) (parrain.Reward, error) {
	rw, err := pendingReward(ctx, tx, programID, rewardID, "approved")
	if err != nil {
		return parrain.Reward{}, err
	}
	moves, st, ok := parrain.Approve(&rw)
	if !ok {
		return parrain.Reward{}, parrain.Errorf(parrain.CodeConflict, "reward %s cannot be approved", rw.ID)
	}
	// A referral waiting for fraud review is decided in the review queue
	// first: approving its reward here would bypass the review.
	if review, err := tx.ReferralReviewStatus(ctx, rw.ReferralID); err != nil {
		return parrain.Reward{}, err
	} else if parrain.UnderReview(review) {
		return parrain.Reward{}, parrain.Errorf(parrain.CodeConflict, "reward %s belongs to a referral under fraud review (%s): decide the review first", rw.ID, review)
	}
	a := store.ContextActor(ctx)
	early := tx.Now().Before(rw.HoldUntil)
	if err := tx.ApplyMoves(ctx, &rw, moves, st, rw.Reversed, "approved by "+a.Email); err != nil {
		return parrain.Reward{}, err
	}
	if err := tx.SettleManualReview(ctx, &rw, "approved"); err != nil {
		return parrain.Reward{}, err
	}
	return rw, tx.Audit(ctx, a, store.AuditRewardApproved, "reward", rw.ID, rw.ProgramID, map[string]any{
		"amount": moves[1].Amount, "currency": rw.Currency, "participant": rw.ExternalID, "before_hold_end": early,
		"hold_until": rw.HoldUntil})
}

func reject(ctx context.Context, tx *store.Tx, programID, rewardID, reason string) (parrain.Reward, error) {
	rw, err := pendingReward(ctx, tx, programID, rewardID, "rejected")
	if err != nil {
		return parrain.Reward{}, err
	}
	a := store.ContextActor(ctx)
	x := rw.Outstanding()
	moves, st := parrain.Reverse(&rw, x)
	if err := tx.ApplyMoves(ctx, &rw, moves, st, rw.Reversed+x, "rejected by "+a.Email+": "+reason); err != nil {
		return parrain.Reward{}, err
	}
	if err := tx.SettleManualReview(ctx, &rw, "rejected"); err != nil {
		return parrain.Reward{}, err
	}
	return rw, tx.Audit(ctx, a, store.AuditRewardRejected, "reward", rw.ID, rw.ProgramID, map[string]any{
		"amount": x, "currency": rw.Currency, "participant": rw.ExternalID, "reason": reason})
}
