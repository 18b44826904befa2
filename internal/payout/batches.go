package payout

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// CreatePayoutBatch runs a payout run on demand: it gathers the program's
// approved cash rewards not held by an open payout, per participant and
// currency, and makes a batch of the payouts due. The batch is approved at
// once when its total is within the program's auto-approval limit.
func (s *Service) CreatePayoutBatch(ctx context.Context, programID string, idem store.Idem) (parrain.PayoutBatch, bool, error) {
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.PayoutBatch, error) {
		st, err := tx.LockPayoutProgram(ctx, programID)
		if err != nil {
			return parrain.PayoutBatch{}, err
		}
		return s.assembleBatch(ctx, tx, programID, "manual", nil, st)
	})
}

// RunScheduledPayout makes the scheduled payout batch of slot at and
// schedules the next slot. It does nothing for a stale slot (the settings
// changed since it was scheduled) or a slot already run, and returns
// notBefore when the slot is still to come.
func (s *Service) RunScheduledPayout(ctx context.Context, programID string, at time.Time) (batch *parrain.PayoutBatch, notBefore time.Time, err error) {
	now := s.st.Clock().Now()
	if now.Before(at) {
		return nil, at, nil
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		batch = nil // a retried attempt starts afresh
		st, err := tx.LockPayoutProgram(ctx, programID)
		if err != nil {
			return err
		}
		run, next, again := parrain.ScheduledRun(st, at, now)
		if !run {
			return nil // stale: the settings changed
		}
		done, err := tx.ScheduledBatchExists(ctx, programID, at)
		if err != nil {
			return err
		}
		if !done {
			slot := at
			b, err := s.assembleBatch(ctx, tx, programID, "schedule", &slot, st)
			if err != nil {
				return err
			}
			batch = &b
		}
		if !again {
			return nil
		}
		if err := tx.SetNextPayoutRun(ctx, programID, next); err != nil {
			return err
		}
		return schedule(ctx, tx, programID, next)
	})
	return batch, time.Time{}, err
}

// assembleBatch gathers balances and stores a batch, its payouts and their
// items, audited under the context's actor (the schedule's job runs as the
// system). The caller holds the program's lock (tx.LockPayoutProgram) so
// that two runs never gather the same rewards.
func (s *Service) assembleBatch(ctx context.Context, tx *store.Tx, programID, trigger string, slot *time.Time, st parrain.PayoutSettings) (parrain.PayoutBatch, error) {
	balances, err := tx.PayableRewards(ctx, programID)
	if err != nil {
		return parrain.PayoutBatch{}, err
	}
	people := map[string]store.Payee{}
	for _, b := range balances {
		if _, ok := people[b.ParticipantID]; ok {
			continue
		}
		w, err := tx.Payee(ctx, b.ParticipantID)
		if err != nil {
			return parrain.PayoutBatch{}, err
		}
		people[b.ParticipantID] = w
	}
	now := tx.Now()
	lines, skips := parrain.AssemblePayouts(balances, func(id string) string {
		w := people[id]
		if why := parrain.PayeeSkip(w.Status, w.Account != nil); why != "" {
			return why
		}
		// A destination changed within the cooling-off period waits.
		if _, held := parrain.PayoutHeld(w.AccountChangedAt, s.cfg.CoolingOff, now); held {
			return parrain.SkipCoolingOff
		}
		return ""
	}, st.MinimumAmount)
	for i := range skips {
		skips[i].ExternalID = people[skips[i].ParticipantID].ExternalID
	}
	b := parrain.NewPayoutBatch(store.NewID("pbat"), programID, trigger, slot, lines, skips, now)
	if err := tx.InsertPayoutBatch(ctx, b); err != nil {
		return b, err
	}
	for _, l := range lines {
		w := people[l.ParticipantID]
		p := parrain.Payout{ID: store.NewID("pay"), BatchID: b.ID, ProgramID: programID, ParticipantID: l.ParticipantID, ExternalID: w.ExternalID,
			Method: w.Account.Method, Destination: w.Account.Destination(), Bank: w.Account.Bank, Amount: l.Amount, Currency: l.Currency,
			IdempotencyKey: parrain.PayoutKey(b.ID, l.ParticipantID, l.Currency), Status: parrain.PayoutPending,
			CreatedAt: now, UpdatedAt: now, Items: l.Items}
		if err := tx.InsertPayout(ctx, p); err != nil {
			return b, err
		}
		b.Payouts = append(b.Payouts, p)
	}
	if err := audit(ctx, tx, AuditPayoutBatchCreated, "payout_batch", b.ID, programID,
		map[string]any{"trigger": trigger, "payouts": b.PayoutCount, "totals": b.Totals}); err != nil {
		return b, err
	}
	if len(lines) > 0 && parrain.AutoApprove(st.AutoApproveLimit, b.Totals) {
		return s.approveBatch(ctx, tx, b.ID, "auto")
	}
	return b, nil
}

// ApprovePayoutBatch approves a batch awaiting approval: its Stripe and
// PayPal payouts are queued for sending, its bank payouts await the manual
// transfer. by is who approved, as the batch shows it. Approving an
// approved batch again changes nothing.
func (s *Service) ApprovePayoutBatch(ctx context.Context, programID, id, by string) (parrain.PayoutBatch, error) {
	var out parrain.PayoutBatch
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.PayoutBatchForUpdate(ctx, programID, id)
		if err != nil {
			return err
		}
		noop, err := parrain.CheckApproveBatch(b)
		if err != nil {
			return err
		}
		if noop {
			out = b
			return nil
		}
		if out, err = s.approveBatch(ctx, tx, id, by); err != nil {
			return err
		}
		return audit(ctx, tx, AuditPayoutBatchApproved, "payout_batch", id, out.ProgramID,
			map[string]any{"payouts": out.PayoutCount, "totals": out.Totals})
	})
	return out, err
}

// approveBatch approves a batch whose row the caller locked or created.
func (s *Service) approveBatch(ctx context.Context, tx *store.Tx, id, by string) (parrain.PayoutBatch, error) {
	now := tx.Now()
	b, err := tx.PayoutBatch(ctx, "", id)
	if err != nil {
		return b, err
	}
	// What is approved is what is still owed now, not what was owed when
	// the batch was made: a reward clawed back meanwhile is dropped.
	var pending []parrain.Payout
	for _, p := range b.Payouts {
		if p.Status != parrain.PayoutPending {
			continue
		}
		if err := s.revalidate(ctx, tx, &p); err != nil {
			return b, err
		}
		pending = append(pending, p)
	}
	if err := tx.ApprovePayoutBatch(ctx, id, by, now); err != nil {
		return b, err
	}
	for _, p := range pending {
		mv, err := parrain.MovePayout(p.Status, p.Method, parrain.PayoutApprove)
		if err != nil {
			continue // nothing left: cancelled by the re-validation
		}
		if err := tx.SetPayoutStatus(ctx, p.ID, mv.To, now); err != nil {
			return b, err
		}
		if mv.To == parrain.PayoutQueued {
			if err := enqueuePayoutJob(ctx, tx, parrain.JobPayoutSend, p.ID, now); err != nil {
				return b, err
			}
		}
	}
	if err := completeBatch(ctx, tx, id); err != nil {
		return b, err
	}
	return tx.PayoutBatch(ctx, "", id)
}

// enqueuePayoutJob enqueues a send or poll job of a payout, once per
// payout and kind.
func enqueuePayoutJob(ctx context.Context, tx *store.Tx, kind, payoutID string, at time.Time) error {
	payload, err := json.Marshal(parrain.PayoutJobArgs{PayoutID: payoutID})
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, kind, kind+":"+payoutID, payload, at)
}

// CancelPayoutBatch rejects a batch awaiting approval; its rewards return
// to the balance for the next run.
func (s *Service) CancelPayoutBatch(ctx context.Context, programID, id string) (parrain.PayoutBatch, error) {
	var out parrain.PayoutBatch
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.PayoutBatchForUpdate(ctx, programID, id)
		if err != nil {
			return err
		}
		noop, err := parrain.CheckCancelBatch(b)
		if err != nil {
			return err
		}
		if noop {
			out = b
			return nil
		}
		now := tx.Now()
		for _, p := range b.Payouts {
			if p.Status != parrain.PayoutPending {
				continue
			}
			if err := tx.SetPayoutStatus(ctx, p.ID, parrain.PayoutCancelled, now); err != nil {
				return err
			}
		}
		if err := tx.SetPayoutBatchStatus(ctx, id, parrain.BatchCancelled, now); err != nil {
			return err
		}
		if out, err = tx.PayoutBatch(ctx, "", id); err != nil {
			return err
		}
		return audit(ctx, tx, AuditPayoutBatchCancelled, "payout_batch", id, out.ProgramID,
			map[string]any{"payouts": out.PayoutCount, "totals": out.Totals})
	})
	return out, err
}

// completeBatch marks an approved batch completed once none of its
// payouts is open (parrain.BatchDone). It locks the batch, so that of two
// payouts of a batch settled at once, the later sees the earlier.
func completeBatch(ctx context.Context, tx *store.Tx, batchID string) error {
	st, payouts, err := tx.LockPayoutBatch(ctx, batchID)
	if err != nil {
		return err
	}
	if !parrain.BatchDone(st, payouts) {
		return nil
	}
	return tx.SetPayoutBatchStatus(ctx, batchID, parrain.BatchCompleted, tx.Now())
}

// BankPayout is a payout row of the CSV export, with the participant's
// contact details.
type BankPayout struct {
	parrain.Payout
	Name  string
	Email string
}

// BatchBankPayouts returns a batch's bank payouts awaiting a manual
// transfer (and those already paid), with full bank details, for the CSV
// export. The transfers still to make are first checked again against what
// is owed now, as when a provider payout is sent: a reward clawed back
// since the batch was made lowers its payout, and a payout with nothing
// left is cancelled — audited under whoever asked for the export — and not
// exported. The amount exported is the amount marking the payout paid
// records; a refund that arrives after the export is a clawback netted
// from the next payout.
func (s *Service) BatchBankPayouts(ctx context.Context, programID, batchID string) ([]BankPayout, error) {
	var out []BankPayout
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		out = nil
		b, err := tx.PayoutBatchForUpdate(ctx, programID, batchID)
		if err != nil {
			return err
		}
		out = make([]BankPayout, 0, len(b.Payouts))
		for _, p := range b.Payouts {
			if p.Method != parrain.PayoutBank || (p.Status != parrain.PayoutManual && p.Status != parrain.PayoutPaid) {
				continue
			}
			if p.Status == parrain.PayoutManual {
				if p, err = tx.PayoutForUpdate(ctx, "", p.ID); err != nil {
					return err
				}
				if err := s.revalidate(ctx, tx, &p); err != nil {
					return err
				}
				if p.Status != parrain.PayoutManual {
					// Nothing left to transfer: the export cancelled it,
					// under whoever asked for the export.
					if err := audit(ctx, tx, AuditPayoutCancelled, "payout", p.ID, programID, map[string]any{
						"reason": p.FailureReason, "by": "csv_export"}); err != nil {
						return err
					}
					if err := completeBatch(ctx, tx, batchID); err != nil {
						return err
					}
					continue
				}
			}
			w, err := tx.Payee(ctx, p.ParticipantID)
			if err != nil {
				return err
			}
			out = append(out, BankPayout{Payout: p, Name: w.Name, Email: w.Email})
		}
		return nil
	})
	return out, err
}
