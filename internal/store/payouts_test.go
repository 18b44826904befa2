package store_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The payout use cases are tested in internal/payout; these tests cover the
// payout repository's SQL on both databases.

// earn makes advocate ext earn an approved cash reward of amount: a friend
// signs up with their code and buys. It returns the reward.
func (e *env) earn(prog parrain.Program, adv parrain.Participant, friend string, amount int64) parrain.Reward {
	e.T.Helper()
	e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: friend, ReferralCode: adv.Code})
	res := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: friend, OrderID: "o-" + friend, Amount: amount, Currency: prog.Currency})
	for _, rw := range res.Rewards {
		if rw.Role == parrain.RoleAdvocate {
			if ok, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil || !ok {
				e.T.Fatalf("approve %s: %v %v", rw.ID, ok, err)
			}
			return rw
		}
	}
	e.T.Fatalf("no advocate reward in %+v", res)
	return parrain.Reward{}
}

// payoutProgram pays advocates 10 % of purchases in cash, friends a coupon,
// with no hold.
func (e *env) payoutProgram() parrain.Program {
	return e.Program(func(p *parrain.Program) {
		p.HoldDays = 0
		p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 500}}}
	})
}

// The repository writes a batch, a payout and its items as given, reads
// them back, and applies the changes the use cases decide.
func TestPayoutRepository(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "alice@example.com")
		rw := e.earn(p, alice, "f1", 10000) // 10.00 € approved
		now := e.Clock.Now().Truncate(time.Millisecond)
		var b parrain.PayoutBatch
		var po parrain.Payout
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			st, err := tx.LockPayoutProgram(ctx, p.ID)
			if err != nil || st.Schedule != parrain.ScheduleManual {
				return errors.Join(err, errors.New("default settings expected"))
			}
			bal, err := tx.PayableRewards(ctx, p.ID)
			if err != nil {
				return err
			}
			if want := []parrain.RewardBalance{{RewardID: rw.ID, ParticipantID: alice.ID, Currency: "EUR", Amount: 1000}}; !reflect.DeepEqual(bal, want) {
				t.Errorf("payable %+v, want %+v", bal, want)
			}
			w, err := tx.Payee(ctx, alice.ID)
			if err != nil {
				return err
			}
			if w.ExternalID != "alice" || w.Email != "alice@example.com" || w.Status != parrain.ParticipantActive || w.Account != nil {
				t.Errorf("payee %+v", w)
			}
			if _, err := tx.SavePayoutAccount(ctx, alice.ID, p.ID, parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1A"}, now); err != nil {
				return err
			}
			if w, err = tx.Payee(ctx, alice.ID); err != nil || w.Account == nil || w.Account.StripeAccount != "acct_1A" {
				return errors.Join(err, errors.New("the payee's account is read"))
			}
			b = parrain.NewPayoutBatch(store.NewID("pbat"), p.ID, "manual", nil,
				[]parrain.PayoutLine{{ParticipantID: alice.ID, Currency: "EUR", Amount: 1000,
					Items: []parrain.PayoutItem{{RewardID: rw.ID, Amount: 1000, Planned: 1000, Status: parrain.PayoutItemDue}}}}, nil, now)
			if err := tx.InsertPayoutBatch(ctx, b); err != nil {
				return err
			}
			po = parrain.Payout{ID: store.NewID("pay"), BatchID: b.ID, ProgramID: p.ID, ParticipantID: alice.ID, ExternalID: "alice",
				Method: parrain.PayoutStripe, Destination: "acct_1A", Amount: 1000, Currency: "EUR", IdempotencyKey: parrain.PayoutKey(b.ID, alice.ID, "EUR"),
				Status: parrain.PayoutPending, CreatedAt: now, UpdatedAt: now,
				Items: []parrain.PayoutItem{{RewardID: rw.ID, Amount: 1000, Planned: 1000, Status: parrain.PayoutItemDue}}}
			if err := tx.InsertPayout(ctx, po); err != nil {
				return err
			}
			// A reward held by an open payout is not payable again.
			if bal, err := tx.PayableRewards(ctx, p.ID); err != nil || len(bal) != 0 {
				return errors.Join(err, errors.New("a held reward is payable"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.St.PayoutBatch(ctx, p.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != parrain.BatchPendingApproval || got.PayoutCount != 1 || got.Totals["EUR"] != 1000 || len(got.Payouts) != 1 || got.Payouts[0].ID != po.ID {
			t.Fatalf("batch %+v", got)
		}

		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			owed, err := tx.OwedOnReward(ctx, rw.ID)
			if err != nil || owed != 1000 {
				return errors.Join(err, errors.New("owed"))
			}
			if err := tx.SetPayoutItem(ctx, po.ID, parrain.PayoutItem{RewardID: rw.ID, Amount: 600, Planned: 1000, Status: parrain.PayoutItemReduced}); err != nil {
				return err
			}
			if err := tx.SetPayoutAmount(ctx, po.ID, 600, now); err != nil {
				return err
			}
			if err := tx.AdjustPayoutBatch(ctx, b.ID, -1, "EUR", -400, now); err != nil {
				return err
			}
			if err := tx.SetPayoutStatus(ctx, po.ID, parrain.PayoutQueued, now); err != nil {
				return err
			}
			st, statuses, err := tx.LockPayoutBatch(ctx, b.ID)
			if err != nil {
				return err
			}
			if st != parrain.BatchPendingApproval || !reflect.DeepEqual(statuses, []parrain.PayoutStatus{parrain.PayoutQueued}) {
				t.Errorf("locked batch %s %v", st, statuses)
			}
			if _, _, err := tx.LockPayoutBatch(ctx, "pbat_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("missing batch: %v", err)
			}
			return tx.ApprovePayoutBatch(ctx, b.ID, "manager", now)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err = e.St.PayoutBatch(ctx, p.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != parrain.BatchApproved || got.ApprovedBy != "manager" || got.PayoutCount != 0 || got.Totals["EUR"] != 600 {
			t.Errorf("adjusted batch %+v", got)
		}
		pay, err := e.St.Payout(ctx, p.ID, po.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pay.Status != parrain.PayoutQueued || pay.Amount != 600 || len(pay.Items) != 1 || pay.Items[0].Amount != 600 || pay.Items[0].Planned != 1000 ||
			pay.Items[0].Status != parrain.PayoutItemReduced {
			t.Errorf("payout %+v", pay)
		}

		later := now.Add(time.Minute)
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetPayoutSending(ctx, po.ID, 1, now, later); err != nil {
				return err
			}
			if err := tx.SetPayoutError(ctx, po.ID, "timeout", later); err != nil {
				return err
			}
			if err := tx.SetPayoutProcessing(ctx, po.ID, "PB1", "PENDING", later); err != nil {
				return err
			}
			return tx.SetPayoutPaid(ctx, po.ID, "PB1/1", "SUCCESS", later)
		})
		if err != nil {
			t.Fatal(err)
		}
		if pay, err = e.St.Payout(ctx, p.ID, po.ID); err != nil {
			t.Fatal(err)
		}
		if pay.Status != parrain.PayoutPaid || pay.Attempts != 1 || !pay.SentAt.Equal(now) || pay.ProviderRef != "PB1/1" || pay.ProviderStatus != "SUCCESS" ||
			pay.LastError != "" || pay.PaidAt == nil || !pay.PaidAt.Equal(later) {
			t.Errorf("paid payout %+v", pay)
		}

		// Failed and dropped payouts keep their reason.
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetPayoutFailed(ctx, po.ID, "refused", "FAILED", later); err != nil {
				return err
			}
			if got, err := tx.Payout(ctx, "", po.ID); err != nil || got.Status != parrain.PayoutFailed || got.FailureReason != "refused" || got.FailedAt == nil {
				return errors.Join(err, errors.New("failed payout"))
			}
			if err := tx.DropPayout(ctx, po.ID, parrain.ReasonNothingLeft, later); err != nil {
				return err
			}
			got, err := tx.PayoutForUpdate(ctx, p.ID, po.ID)
			if err != nil || got.Status != parrain.PayoutCancelled || got.FailureReason != parrain.ReasonNothingLeft || got.Amount != 600 {
				return errors.Join(err, errors.New("dropped payout"))
			}
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatal(err)
		}
	})
}

// The settings and the schedule's bookkeeping.
func TestPayoutSettingsRepository(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.payoutProgram()
		slot := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
		next := slot.AddDate(0, 1, 0)
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SavePayoutSettings(ctx, parrain.PayoutSettings{ProgramID: p.ID, Schedule: parrain.ScheduleMonthly, Day: 1, Hour: 6,
				MinimumAmount: 500, NextRunAt: &slot, UpdatedAt: e.Clock.Now()}); err != nil {
				return err
			}
			if done, err := tx.ScheduledBatchExists(ctx, p.ID, slot); err != nil || done {
				return errors.Join(err, errors.New("no batch yet"))
			}
			if err := tx.InsertPayoutBatch(ctx, parrain.NewPayoutBatch(store.NewID("pbat"), p.ID, "schedule", &slot, nil, nil, e.Clock.Now())); err != nil {
				return err
			}
			if done, err := tx.ScheduledBatchExists(ctx, p.ID, slot); err != nil || !done {
				return errors.Join(err, errors.New("the slot's batch exists"))
			}
			return tx.SetNextPayoutRun(ctx, p.ID, next)
		})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.St.PayoutSettings(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Schedule != parrain.ScheduleMonthly || st.MinimumAmount != 500 || st.NextRunAt == nil || !st.NextRunAt.Equal(next) {
			t.Errorf("settings %+v", st)
		}
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { _, err := tx.LockPayoutProgram(ctx, "prg_nope"); return err }); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing program: %v", err)
		}
	})
}
