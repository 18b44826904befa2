package payout

import (
	"context"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The payout state machine's use cases. Which move is allowed is the
// domain's (parrain.MovePayout); each use case locks the payout, asks it,
// and writes the move with its consequences — ledger, webhooks, notices,
// jobs, the batch's completion and, for a person's decision, the audit
// entry — in one transaction.

// revalidate brings a payout not yet sent down to what is still owed on
// each of its rewards now (their approved balance, read with the reward
// locked, so a refund being ingested commits wholly before or after). Its
// items and amount are updated, with the batch's totals; when nothing is
// left the payout is cancelled with parrain.ReasonNothingLeft. p's items
// are loaded when missing; p reflects the result.
func (s *Service) revalidate(ctx context.Context, tx *store.Tx, p *parrain.Payout) error {
	if p.Items == nil {
		full, err := tx.Payout(ctx, "", p.ID)
		if err != nil {
			return err
		}
		p.Items = full.Items
	}
	owed := make(map[string]int64, len(p.Items))
	for _, it := range p.Items {
		o, err := tx.OwedOnReward(ctx, it.RewardID)
		if err != nil {
			return err
		}
		owed[it.RewardID] = o
	}
	r := parrain.RevalidatePayout(*p, owed)
	if !r.Changed {
		return nil
	}
	now := tx.Now()
	for i, it := range r.Items {
		if it != p.Items[i] {
			if err := tx.SetPayoutItem(ctx, p.ID, it); err != nil {
				return err
			}
		}
	}
	p.Items = r.Items
	count := 0
	if r.NothingLeft {
		mv, err := parrain.MovePayout(p.Status, p.Method, parrain.PayoutDrop)
		if err != nil {
			return err
		}
		// The payout keeps the amount last decided (amounts are positive);
		// its items say that nothing is left.
		if err := tx.DropPayout(ctx, p.ID, parrain.ReasonNothingLeft, now); err != nil {
			return err
		}
		p.Status, p.FailureReason = mv.To, parrain.ReasonNothingLeft
	} else {
		if err := tx.SetPayoutAmount(ctx, p.ID, r.Amount, now); err != nil {
			return err
		}
		p.Amount = r.Amount
	}
	p.UpdatedAt = now
	batch, _, err := tx.LockPayoutBatch(ctx, p.BatchID)
	if err != nil {
		return err
	}
	if r.NothingLeft && parrain.CountsCancellations(batch) {
		count = -1
	}
	return tx.AdjustPayoutBatch(ctx, p.BatchID, count, p.Currency, r.TotalDelta, now)
}

// BeginPayoutSend records that a provider call is about to be made for a
// payout, before making it: a queued payout becomes sending, for what is
// still owed on its rewards now. resumed is true when the payout was already
// sending — a previous attempt may have reached the provider, so the caller
// reconciles before (re)sending with the same idempotency key. ok is false
// when there is nothing to send (paid, failed, cancelled, not approved, or
// nothing left once re-validated).
func (s *Service) BeginPayoutSend(ctx context.Context, id string) (p parrain.Payout, resumed, ok bool, err error) {
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		resumed, ok = false, false
		var err error
		if p, err = tx.PayoutForUpdate(ctx, "", id); err != nil {
			return err
		}
		mv, err := parrain.MovePayout(p.Status, p.Method, parrain.PayoutSend)
		if err != nil {
			return nil // nothing to send
		}
		if !mv.Resumed {
			// The amount sent is decided here, in the transaction that
			// moves the payout to sending: what is still owed on each
			// reward now. A refund committed after this is a clawback
			// netted from the next payout. (A resumed send may already
			// have reached the provider with its amount and idempotency
			// key: it is resent unchanged.)
			if err := s.revalidate(ctx, tx, &p); err != nil {
				return err
			}
			if p.Status != parrain.PayoutQueued {
				return completeBatch(ctx, tx, p.BatchID) // nothing left to send
			}
		}
		resumed, ok = mv.Resumed, true
		now := tx.Now()
		p.Status, p.Attempts = mv.To, p.Attempts+1
		if p.SentAt == nil {
			p.SentAt = &now
		}
		return tx.SetPayoutSending(ctx, id, p.Attempts, *p.SentAt, now)
	})
	return p, resumed, ok, err
}

// RecordPayoutError notes a transient provider error on a sending payout
// (it will be retried with the same idempotency key).
func (s *Service) RecordPayoutError(ctx context.Context, id, msg string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.SetPayoutError(ctx, id, parrain.ClipPayoutReason(msg), tx.Now())
	})
}

// MarkPayoutProcessing records that the provider accepted a payout whose
// final status comes later, and schedules polling for it at pollAt. A
// payout no longer sending or processing is left as it is.
func (s *Service) MarkPayoutProcessing(ctx context.Context, id, ref, providerStatus string, pollAt time.Time) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.PayoutForUpdate(ctx, "", id)
		if err != nil {
			return err
		}
		if _, err := parrain.MovePayout(p.Status, p.Method, parrain.PayoutAccept); err != nil {
			return nil
		}
		if err := tx.SetPayoutProcessing(ctx, id, ref, providerStatus, tx.Now()); err != nil {
			return err
		}
		return enqueuePayoutJob(ctx, tx, parrain.JobPayoutPoll, id, pollAt)
	})
}

// CompletePayout records a payout as paid with the provider's reference
// and, in the same transaction, moves its rewards from approved to paid in
// the ledger, emits reward.paid and payout.paid and queues the participant's
// notification. It returns false when the payout was not awaiting payment
// (already paid, failed or cancelled): the ledger moves at most once.
func (s *Service) CompletePayout(ctx context.Context, id, ref, providerStatus string) (bool, error) {
	return s.settleFromProvider(ctx, id, parrain.PayoutSettle, func(tx *store.Tx, p parrain.Payout) error {
		return s.pay(ctx, tx, p, ref, providerStatus)
	})
}

// settleFromProvider locks a payout and, when the state machine allows the
// provider's outcome (action) from its status, records it with apply. It
// returns false, changing nothing, when the payout was not awaiting that
// outcome: a late or repeated notification.
func (s *Service) settleFromProvider(ctx context.Context, id string, action parrain.PayoutAction, apply func(*store.Tx, parrain.Payout) error) (bool, error) {
	done := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.PayoutForUpdate(ctx, "", id)
		if err != nil {
			return err
		}
		done = false
		if _, err := parrain.MovePayout(p.Status, p.Method, action); err != nil {
			return nil
		}
		done = true
		return apply(tx, p)
	})
	return done, err
}

// pay records a locked payout paid and moves its rewards in the ledger.
func (s *Service) pay(ctx context.Context, tx *store.Tx, p parrain.Payout, ref, providerStatus string) error {
	now := tx.Now()
	if err := tx.SetPayoutPaid(ctx, p.ID, ref, providerStatus, now); err != nil {
		return err
	}
	memo := parrain.PayoutMemo(p, ref)
	for _, it := range p.Items {
		rw, _, err := tx.RewardForUpdate(ctx, p.ProgramID, it.RewardID)
		if err != nil {
			return fmt.Errorf("payout %s: reward %s: %w", p.ID, it.RewardID, err)
		}
		moves, st := parrain.PayOut(&rw, it.Amount)
		// ApplyMoves also emits reward.paid.
		if err := tx.ApplyMoves(ctx, &rw, moves, st, rw.Reversed, memo); err != nil {
			return err
		}
		if it.Amount > 0 {
			// The participant's "reward paid" notice, once per reward (the
			// notification sweep uses the same dedupe key).
			if err := tx.EnqueueNotify(ctx, parrain.NotifyArgs{Kind: parrain.NoticeRewardPaid, ProgramID: p.ProgramID,
				ParticipantID: p.ParticipantID, RewardID: rw.ID}); err != nil {
				return err
			}
		}
	}
	p.Status, p.ProviderRef, p.ProviderStatus, p.LastError, p.PaidAt, p.UpdatedAt = parrain.PayoutPaid, ref, providerStatus, "", &now, now
	if err := tx.Emit(ctx, p.ProgramID, parrain.WebhookPayoutPaid, p); err != nil {
		return err
	}
	return completeBatch(ctx, tx, p.BatchID)
}

// FailPayout records that the provider refused a payout, with its reason.
// Nothing moved in the ledger: the rewards return to the balance and the
// next run gathers them again. It returns false when the payout was not
// awaiting payment.
func (s *Service) FailPayout(ctx context.Context, id, reason, providerStatus string) (bool, error) {
	return s.settleFromProvider(ctx, id, parrain.PayoutRefuse, func(tx *store.Tx, p parrain.Payout) error {
		return s.fail(ctx, tx, p, reason, providerStatus)
	})
}

// fail records a locked payout failed.
func (s *Service) fail(ctx context.Context, tx *store.Tx, p parrain.Payout, reason, providerStatus string) error {
	reason = parrain.ClipPayoutReason(reason)
	now := tx.Now()
	if err := tx.SetPayoutFailed(ctx, p.ID, reason, providerStatus, now); err != nil {
		return err
	}
	p.Status, p.FailureReason, p.ProviderStatus, p.FailedAt, p.UpdatedAt = parrain.PayoutFailed, reason, providerStatus, &now, now
	if err := tx.Emit(ctx, p.ProgramID, parrain.WebhookPayoutFailed, p); err != nil {
		return err
	}
	return completeBatch(ctx, tx, p.BatchID)
}

// MarkPayoutPaid records by hand that a payout was paid: a bank transfer
// made from the CSV export, or a provider payout checked in the provider's
// dashboard. reference is the bank or provider reference (the provider's
// when empty). Marking a paid payout again returns it unchanged.
func (s *Service) MarkPayoutPaid(ctx context.Context, programID, id, reference string) (parrain.Payout, error) {
	reference, err := parrain.NormalizePayoutReference(reference)
	if err != nil {
		return parrain.Payout{}, err
	}
	return s.byHand(ctx, programID, id, parrain.PayoutMarkPaid, func(tx *store.Tx, p parrain.Payout) error {
		ref := reference
		if ref == "" {
			ref = p.ProviderRef
		}
		if err := s.pay(ctx, tx, p, ref, "marked paid by hand"); err != nil {
			return err
		}
		return audit(ctx, tx, AuditPayoutMarkedPaid, "payout", id, programID, map[string]any{"reference": ref,
			"amount": p.Amount, "currency": p.Currency, "participant": p.ExternalID})
	})
}

// MarkPayoutFailed records by hand that a payout failed (a bank transfer
// bounced, a provider payout checked in its dashboard): its rewards return
// to the balance. Marking a failed payout again returns it unchanged.
func (s *Service) MarkPayoutFailed(ctx context.Context, programID, id, reason string) (parrain.Payout, error) {
	reason, err := parrain.NormalizeFailureReason(reason)
	if err != nil {
		return parrain.Payout{}, err
	}
	return s.byHand(ctx, programID, id, parrain.PayoutMarkFailed, func(tx *store.Tx, p parrain.Payout) error {
		if err := s.fail(ctx, tx, p, reason, "marked failed by hand"); err != nil {
			return err
		}
		return audit(ctx, tx, AuditPayoutMarkedFailed, "payout", id, programID, map[string]any{"reason": reason,
			"amount": p.Amount, "currency": p.Currency, "participant": p.ExternalID})
	})
}

// byHand locks a program's payout and applies settle when act is allowed
// from its status; a payout already where act leads is returned unchanged.
// It returns the payout as it is afterwards.
func (s *Service) byHand(ctx context.Context, programID, id string, act parrain.PayoutAction, settle func(*store.Tx, parrain.Payout) error) (parrain.Payout, error) {
	var out parrain.Payout
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.PayoutForUpdate(ctx, programID, id)
		if err != nil {
			return err
		}
		mv, err := parrain.MovePayout(p.Status, p.Method, act)
		if err != nil {
			return err
		}
		if mv.Unchanged {
			out = p
			return nil
		}
		if err := settle(tx, p); err != nil {
			return err
		}
		out, err = tx.Payout(ctx, programID, id)
		return err
	})
	return out, err
}

// CancelPayout withdraws a payout not yet sent (pending, queued or awaiting
// a manual transfer); its rewards return to the balance.
func (s *Service) CancelPayout(ctx context.Context, programID, id string) (parrain.Payout, error) {
	return s.byHand(ctx, programID, id, parrain.PayoutCancel, func(tx *store.Tx, p parrain.Payout) error {
		now := tx.Now()
		if err := tx.SetPayoutStatus(ctx, id, parrain.PayoutCancelled, now); err != nil {
			return err
		}
		batch, _, err := tx.LockPayoutBatch(ctx, p.BatchID)
		if err != nil {
			return err
		}
		if parrain.CountsCancellations(batch) {
			if err := tx.AdjustPayoutBatch(ctx, p.BatchID, -1, p.Currency, 0, now); err != nil {
				return err
			}
		}
		if err := completeBatch(ctx, tx, p.BatchID); err != nil {
			return err
		}
		return audit(ctx, tx, AuditPayoutCancelled, "payout", id, programID, map[string]any{
			"amount": p.Amount, "currency": p.Currency, "participant": p.ExternalID})
	})
}
