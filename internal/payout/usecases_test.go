package payout_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

// These tests, moved here from the store with the use cases they test, run
// the payout use cases against the shared store test environment on SQLite
// and PostgreSQL.

// uc is one test's store test environment and payout use cases.
type uc struct {
	*storetest.Env
	svc *payout.Service
}

// each runs fn once per database engine, in parallel with other tests.
func each(t *testing.T, fn func(t *testing.T, e *uc)) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		fn(t, &uc{Env: e, svc: payout.New(e.St, quiet, payout.Config{})})
	})
}

// earn makes advocate ext earn an approved cash reward of amount: a friend
// signs up with their code and buys. It returns the reward.
func (e *uc) earn(prog parrain.Program, adv parrain.Participant, friend string, amount int64) parrain.Reward {
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
func (e *uc) payoutProgram() parrain.Program {
	return e.Program(func(p *parrain.Program) {
		p.HoldDays = 0
		p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 500}}}
	})
}

func (e *uc) account(prog, ext string, in parrain.PayoutAccountInput) {
	e.T.Helper()
	if _, _, err := e.svc.SetPayoutAccount(ctx, prog, ext, in, store.Idem{}); err != nil {
		e.T.Fatalf("payout account: %v", err)
	}
}

func (e *uc) countJobs(kind string) int {
	e.T.Helper()
	var n int
	if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM jobs WHERE kind = $1`, kind).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

var iban = parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "Carol", IBAN: "DE89370400440532013000"}}

func TestPayoutAccounts(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		e.Advocate(p.ID, "alice", "alice@example.com")
		if _, err := e.St.PayoutAccount(ctx, p.ID, "alice"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("no account yet: %v", err)
		}
		idem := store.Idem{Scope: "k", Key: "acct-1", Hash: "h"}
		a, replayed, err := e.svc.SetPayoutAccount(ctx, p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1A"}, idem)
		if err != nil || replayed || a.Method != parrain.PayoutStripe || a.StripeAccount != "acct_1A" || a.ExternalID != "alice" {
			t.Fatalf("set: %+v %v %v", a, replayed, err)
		}
		if _, replayed, _ := e.svc.SetPayoutAccount(ctx, p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_1A"}, idem); !replayed {
			t.Error("not replayed")
		}
		// Replacing with bank details.
		a, _, err = e.svc.SetPayoutAccount(ctx, p.ID, "alice", iban, store.Idem{})
		if err != nil || a.Method != parrain.PayoutBank || a.StripeAccount != "" || a.Bank == nil || a.Bank.IBAN != "DE89370400440532013000" || a.Bank.Country != "DE" {
			t.Fatalf("replace: %+v %v", a, err)
		}
		got, err := e.St.PayoutAccount(ctx, p.ID, "alice")
		if err != nil || got.Bank.HolderName != "Carol" {
			t.Fatalf("get: %+v %v", got, err)
		}
		if _, _, err := e.svc.SetPayoutAccount(ctx, p.ID, "ghost", iban, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown participant: %v", err)
		}
		if _, _, err := e.svc.SetPayoutAccount(ctx, p.ID, "alice", parrain.PayoutAccountInput{Method: "cash"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("invalid: %v", err)
		}
		// Another program does not see it.
		other := e.payoutProgram()
		if _, err := e.St.PayoutAccount(ctx, other.ID, "alice"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("isolation: %v", err)
		}
		if err := e.svc.DeletePayoutAccount(ctx, p.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeletePayoutAccount(ctx, p.ID, "alice"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("delete twice: %v", err)
		}
	})
}

func TestPayoutRunLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "alice@example.com")
		bob := e.Advocate(p.ID, "bob", "bob@example.com")
		carol := e.Advocate(p.ID, "carol", "carol@example.com")
		dan := e.Advocate(p.ID, "dan", "dan@example.com")
		e.account(p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_A"})
		e.account(p.ID, "bob", parrain.PayoutAccountInput{Method: parrain.PayoutPayPal, PayPalEmail: "bob@paypal.example"})
		e.account(p.ID, "carol", iban)
		a1 := e.earn(p, alice, "f1", 10000) // 1000
		a2 := e.earn(p, alice, "f2", 5000)  // 500
		e.earn(p, bob, "f3", 7000)          // 700
		e.earn(p, carol, "f4", 3000)        // 300
		e.earn(p, dan, "f5", 9000)          // 900, no account
		if _, err := e.svc.SetPayoutSettings(ctx, p.ID, parrain.PayoutSettings{MinimumAmount: 500}); err != nil {
			t.Fatal(err)
		}

		idem := store.Idem{Scope: "k", Key: "run-1", Hash: "h"}
		b, replayed, err := e.svc.CreatePayoutBatch(ctx, p.ID, idem)
		if err != nil || replayed {
			t.Fatalf("run: %v %v", err, replayed)
		}
		if b.Status != parrain.BatchPendingApproval || b.PayoutCount != 2 || b.Totals["EUR"] != 2200 || len(b.Payouts) != 2 {
			t.Fatalf("batch %+v", b)
		}
		skipped := map[string]string{}
		for _, s := range b.Skipped {
			skipped[s.ExternalID] = s.Reason
		}
		if skipped["carol"] != parrain.SkipBelowMinimum || skipped["dan"] != parrain.SkipNoAccount || len(skipped) != 2 {
			t.Errorf("skipped %v", skipped)
		}
		byExt := map[string]parrain.Payout{}
		for _, po := range b.Payouts {
			byExt[po.ExternalID] = po
			if po.Status != parrain.PayoutPending || po.IdempotencyKey != parrain.PayoutKey(b.ID, po.ParticipantID, "EUR") {
				t.Errorf("payout %+v", po)
			}
		}
		if byExt["alice"].Amount != 1500 || byExt["alice"].Destination != "acct_A" || byExt["bob"].Destination != "bob@paypal.example" {
			t.Errorf("payouts %+v", byExt)
		}
		// A replay answers the same batch; a second run finds nothing new
		// (the rewards are held by the open batch).
		again, replayed, err := e.svc.CreatePayoutBatch(ctx, p.ID, idem)
		if err != nil || !replayed || again.ID != b.ID {
			t.Fatalf("replay: %v %v %s", err, replayed, again.ID)
		}
		second, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil || second.PayoutCount != 0 || second.Status != parrain.BatchCompleted {
			t.Fatalf("second run: %+v %v", second, err)
		}
		// Nothing is sent before approval.
		if _, _, ok, _ := e.svc.BeginPayoutSend(ctx, byExt["alice"].ID); ok {
			t.Fatal("sent before approval")
		}
		b, err = e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "manager@example.com")
		if err != nil || b.Status != parrain.BatchApproved || b.ApprovedBy != "manager@example.com" {
			t.Fatalf("approve: %+v %v", b, err)
		}
		if n := e.countJobs(parrain.JobPayoutSend); n != 2 {
			t.Errorf("send jobs %d", n)
		}
		if _, err := e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "again"); err != nil {
			t.Errorf("approve twice: %v", err)
		}
		if n := e.countJobs(parrain.JobPayoutSend); n != 2 {
			t.Errorf("send jobs after second approval %d", n)
		}

		// Alice: Stripe, paid.
		po, resumed, ok, err := e.svc.BeginPayoutSend(ctx, byExt["alice"].ID)
		if err != nil || !ok || resumed || po.Status != parrain.PayoutSending || po.Attempts != 1 || len(po.Items) != 2 {
			t.Fatalf("begin: %+v %v %v %v", po, resumed, ok, err)
		}
		// A crash before recording the answer: the next attempt resumes.
		po, resumed, ok, _ = e.svc.BeginPayoutSend(ctx, po.ID)
		if !ok || !resumed || po.Attempts != 2 {
			t.Fatalf("resume: %+v %v %v", po, resumed, ok)
		}
		if done, err := e.svc.CompletePayout(ctx, po.ID, "tr_123", "paid"); err != nil || !done {
			t.Fatalf("complete: %v %v", done, err)
		}
		if done, err := e.svc.CompletePayout(ctx, po.ID, "tr_123", "paid"); err != nil || done {
			t.Fatalf("complete twice: %v %v", done, err)
		}
		if bal := e.Balance(alice.ID); bal[parrain.BucketApproved] != 0 || bal[parrain.BucketPaid] != 1500 {
			t.Errorf("alice balance %v", bal)
		}
		for _, id := range []string{a1.ID, a2.ID} {
			rw, _ := e.St.Reward(ctx, p.ID, id)
			if rw.Status != parrain.RewardPaid {
				t.Errorf("reward %s is %s", id, rw.Status)
			}
			entries, _ := e.St.LedgerEntries(ctx, id)
			if last := entries[len(entries)-1]; last.Type != parrain.EntryPayout || last.Bucket != parrain.BucketPaid {
				t.Errorf("last entry %+v", last)
			}
		}
		var notices int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM jobs WHERE kind = $1 AND unique_key LIKE 'notify:reward_paid:%'`, parrain.JobNotify).Scan(&notices); err != nil {
			t.Fatalf("query: %v", err)
		}
		if notices != 2 {
			t.Errorf("reward paid notices %d, want 2", notices)
		}
		paid, _ := e.St.Payout(ctx, p.ID, po.ID)
		if paid.Status != parrain.PayoutPaid || paid.ProviderRef != "tr_123" || paid.PaidAt == nil {
			t.Errorf("paid payout %+v", paid)
		}

		// Bob: PayPal, refused: back in the balance.
		po, _, _, _ = e.svc.BeginPayoutSend(ctx, byExt["bob"].ID)
		if err := e.svc.MarkPayoutProcessing(ctx, po.ID, "PB1", "PENDING", e.Clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n := e.countJobs(parrain.JobPayoutPoll); n != 1 {
			t.Errorf("poll jobs %d", n)
		}
		if done, err := e.svc.FailPayout(ctx, po.ID, "RECEIVER_UNREGISTERED: no PayPal account", "FAILED"); err != nil || !done {
			t.Fatalf("fail: %v %v", done, err)
		}
		if bal := e.Balance(bob.ID); bal[parrain.BucketApproved] != 700 || bal[parrain.BucketPaid] != 0 {
			t.Errorf("bob balance %v", bal)
		}
		b, _ = e.St.PayoutBatch(ctx, p.ID, b.ID)
		if b.Status != parrain.BatchCompleted {
			t.Errorf("batch %s", b.Status)
		}
		// The next run after the cooling-off of his new destination gathers
		// bob again, under a new key.
		e.account(p.ID, "bob", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_B"})
		e.Clock.Advance(parrain.DefaultPayoutCoolingOff)
		third, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil || third.PayoutCount != 1 || third.Payouts[0].ExternalID != "bob" || third.Payouts[0].IdempotencyKey == byExt["bob"].IdempotencyKey {
			t.Fatalf("third run %+v %v", third, err)
		}
		// Cancelling the batch releases bob's reward; a cancelled payout
		// cannot be sent.
		third, err = e.svc.CancelPayoutBatch(ctx, p.ID, third.ID)
		if err != nil || third.Status != parrain.BatchCancelled || third.Payouts[0].Status != parrain.PayoutCancelled {
			t.Fatalf("cancel %+v %v", third, err)
		}
		if _, err := e.svc.ApprovePayoutBatch(ctx, p.ID, third.ID, "x"); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("approve cancelled: %v", err)
		}
		fourth, _, _ := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if fourth.PayoutCount != 1 {
			t.Errorf("fourth run %+v", fourth)
		}
		// Isolation: another program sees none of it.
		other := e.payoutProgram()
		if _, err := e.St.PayoutBatch(ctx, other.ID, b.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("batch isolation: %v", err)
		}
		if _, err := e.St.Payout(ctx, other.ID, po.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("payout isolation: %v", err)
		}
		if list, _, _ := e.St.Payouts(ctx, other.ID, store.PayoutFilter{}, store.Page{}); len(list) != 0 {
			t.Errorf("payout list isolation: %d", len(list))
		}
		list, _, err := e.St.Payouts(ctx, p.ID, store.PayoutFilter{Status: "paid"}, store.Page{})
		if err != nil || len(list) != 1 || list[0].ExternalID != "alice" {
			t.Errorf("paid list %+v %v", list, err)
		}
		mine, _, _ := e.St.ParticipantPayouts(ctx, alice.ID, store.Page{})
		if len(mine) != 1 {
			t.Errorf("alice's payouts %d", len(mine))
		}
	})
}

func TestPayoutBankManualAndNetting(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		carol := e.Advocate(p.ID, "carol", "carol@example.com")
		e.account(p.ID, "carol", iban)
		r1 := e.earn(p, carol, "f1", 10000) // 1000
		b, _, _ := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		b, err := e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "m")
		if err != nil || b.Payouts[0].Status != parrain.PayoutManual || b.Payouts[0].Destination != "IBAN DE••••••••••••••••3000" {
			t.Fatalf("approve %+v %v", b, err)
		}
		rows, err := e.svc.BatchBankPayouts(ctx, p.ID, b.ID)
		if err != nil || len(rows) != 1 || rows[0].Bank.IBAN != "DE89370400440532013000" || rows[0].Email != "carol@example.com" {
			t.Fatalf("bank rows %+v %v", rows, err)
		}
		id := b.Payouts[0].ID
		if _, err := e.svc.CancelPayout(ctx, p.ID, "pay_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("cancel unknown: %v", err)
		}
		po, err := e.svc.MarkPayoutPaid(ctx, p.ID, id, "SEPA-2026-11-001")
		if err != nil || po.Status != parrain.PayoutPaid || po.ProviderRef != "SEPA-2026-11-001" {
			t.Fatalf("mark paid %+v %v", po, err)
		}
		if _, err := e.svc.MarkPayoutPaid(ctx, p.ID, id, "again"); err != nil {
			t.Errorf("mark paid twice: %v", err)
		}
		if _, err := e.svc.MarkPayoutFailed(ctx, p.ID, id, "bounced"); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("fail a paid payout: %v", err)
		}
		if bal := e.Balance(carol.ID); bal[parrain.BucketPaid] != 1000 || bal[parrain.BucketApproved] != 0 {
			t.Fatalf("balance %v", bal)
		}
		// The friend refunds 40 % after the payout: a clawback of 400 in
		// the approved bucket, netted against carol's next payout.
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f1", Amount: 4000})
		if bal := e.Balance(carol.ID); bal[parrain.BucketApproved] != -400 {
			t.Fatalf("after clawback %v", bal)
		}
		next, _, _ := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if next.PayoutCount != 0 || len(next.Skipped) != 1 || next.Skipped[0].Reason != parrain.SkipNothingDue || next.Skipped[0].Amount != -400 {
			t.Fatalf("nothing due %+v", next)
		}
		e.earn(p, carol, "f2", 15000) // 1500
		next, _, _ = e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if next.PayoutCount != 1 || next.Payouts[0].Amount != 1100 {
			t.Fatalf("netted run %+v", next)
		}
		next, _ = e.svc.ApprovePayoutBatch(ctx, p.ID, next.ID, "m")
		if _, err := e.svc.MarkPayoutPaid(ctx, p.ID, next.Payouts[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		// 1000 − 400 + 1500 paid in all; nothing left approved; the first
		// reward keeps what was not clawed back.
		if bal := e.Balance(carol.ID); bal[parrain.BucketPaid] != 2100 || bal[parrain.BucketApproved] != 0 {
			t.Fatalf("final balance %v", bal)
		}
		var paidOfR1 int64
		if err := e.St.DB().QueryRow(`SELECT SUM(amount) FROM ledger_entries WHERE reward_id = $1 AND bucket = 'paid'`, r1.ID).Scan(&paidOfR1); err != nil {
			t.Fatalf("query: %v", err)
		}
		if paidOfR1 != 600 {
			t.Errorf("r1 paid bucket %d, want 600", paidOfR1)
		}
	})
}

func TestPayoutAutoApprovalAndManualFail(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "")
		e.account(p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_A"})
		e.earn(p, alice, "f1", 10000)
		if _, err := e.svc.SetPayoutSettings(ctx, p.ID, parrain.PayoutSettings{AutoApproveLimit: 1000}); err != nil {
			t.Fatal(err)
		}
		b, _, _ := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if b.Status != parrain.BatchApproved || b.ApprovedBy != "auto" || b.Payouts[0].Status != parrain.PayoutQueued {
			t.Fatalf("auto-approved %+v", b)
		}
		po, _, _, _ := e.svc.BeginPayoutSend(ctx, b.Payouts[0].ID)
		// Stuck in sending (the provider answered nothing for days): an
		// operator checks the dashboard and records the failure.
		if _, err := e.svc.MarkPayoutFailed(ctx, p.ID, po.ID, ""); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("no reason: %v", err)
		}
		po, err := e.svc.MarkPayoutFailed(ctx, p.ID, po.ID, "transfer not found in the Stripe dashboard")
		if err != nil || po.Status != parrain.PayoutFailed {
			t.Fatalf("mark failed %+v %v", po, err)
		}
		if bal := e.Balance(alice.ID); bal[parrain.BucketApproved] != 1000 {
			t.Errorf("balance %v", bal)
		}
		// Above the limit: a manager approves.
		e.earn(p, alice, "f2", 20000)
		b, _, _ = e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if b.Status != parrain.BatchPendingApproval || b.Totals["EUR"] != 3000 {
			t.Fatalf("over the limit %+v", b)
		}
		// A pending payout can be withdrawn from the batch.
		po, err = e.svc.CancelPayout(ctx, p.ID, b.Payouts[0].ID)
		if err != nil || po.Status != parrain.PayoutCancelled {
			t.Fatalf("cancel payout %+v %v", po, err)
		}
		b, _ = e.St.PayoutBatch(ctx, p.ID, b.ID)
		if b.PayoutCount != 0 {
			t.Errorf("count after cancel %d", b.PayoutCount)
		}
	})
}

func TestPayoutSchedule(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "")
		e.account(p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_A"})
		e.earn(p, alice, "f1", 10000)
		// t0 is 2026-11-01 12:00: the next monthly run on the 1st at 06:00 is
		// December 1st.
		st, err := e.svc.SetPayoutSettings(ctx, p.ID, parrain.PayoutSettings{Schedule: parrain.ScheduleMonthly, Day: 1, Hour: 6})
		slot := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
		if err != nil || st.NextRunAt == nil || !st.NextRunAt.Equal(slot) {
			t.Fatalf("settings %+v %v", st, err)
		}
		var runAt int64
		if err := e.St.DB().QueryRow(`SELECT run_at FROM jobs WHERE kind = $1`, parrain.JobPayoutSchedule).Scan(&runAt); err != nil || runAt != slot.UnixMilli() {
			t.Fatalf("schedule job at %d: %v", runAt, err)
		}
		b, notBefore, err := e.svc.RunScheduledPayout(ctx, p.ID, slot)
		if err != nil || b != nil || !notBefore.Equal(slot) {
			t.Fatalf("early: %v %v %v", b, notBefore, err)
		}
		e.Clock.Set(slot.Add(time.Minute))
		b, _, err = e.svc.RunScheduledPayout(ctx, p.ID, slot)
		if err != nil || b == nil || b.Trigger != "schedule" || b.PayoutCount != 1 || !b.ScheduledFor.Equal(slot) {
			t.Fatalf("run: %+v %v", b, err)
		}
		// A replayed job makes no second batch; the next slot is scheduled.
		again, _, err := e.svc.RunScheduledPayout(ctx, p.ID, slot)
		if err != nil || again != nil {
			t.Fatalf("replay: %+v %v", again, err)
		}
		st, _ = e.St.PayoutSettings(ctx, p.ID)
		if want := time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC); !st.NextRunAt.Equal(want) {
			t.Errorf("next run %v", st.NextRunAt)
		}
		if n := e.countJobs(parrain.JobPayoutSchedule); n != 2 {
			t.Errorf("schedule jobs %d", n)
		}
		// Changing the settings makes the scheduled January slot stale.
		if _, err := e.svc.SetPayoutSettings(ctx, p.ID, parrain.PayoutSettings{Schedule: parrain.ScheduleMonthly, Day: 15}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Set(time.Date(2027, 1, 1, 7, 0, 0, 0, time.UTC))
		if b, _, err := e.svc.RunScheduledPayout(ctx, p.ID, time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC)); err != nil || b != nil {
			t.Errorf("stale slot ran: %+v %v", b, err)
		}
		// The settings changed on December 1st: the next slot is December
		// 15th. A server down from then until May runs that slot once and
		// schedules the next one after now, not one per missed month.
		st, _ = e.St.PayoutSettings(ctx, p.ID)
		dec15 := time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)
		if !st.NextRunAt.Equal(dec15) {
			t.Fatalf("next %v", st.NextRunAt)
		}
		e.Clock.Set(time.Date(2027, 5, 20, 0, 0, 0, 0, time.UTC))
		if b, _, err = e.svc.RunScheduledPayout(ctx, p.ID, dec15); err != nil || b == nil || b.PayoutCount != 0 {
			t.Fatalf("late run: %+v %v", b, err)
		}
		st, _ = e.St.PayoutSettings(ctx, p.ID)
		if !st.NextRunAt.Equal(time.Date(2027, 6, 15, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("after a late run the next is %v", st.NextRunAt)
		}
		// Back to manual: no next run.
		st, _ = e.svc.SetPayoutSettings(ctx, p.ID, parrain.PayoutSettings{Schedule: parrain.ScheduleManual})
		if st.NextRunAt != nil {
			t.Errorf("manual next run %v", st.NextRunAt)
		}
	})
}

// Two processes running payouts at the same time never put one reward in
// two open payouts.
func TestPayoutConcurrentRuns(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		for i := range 5 {
			ext := fmt.Sprintf("adv%d", i)
			adv := e.Advocate(p.ID, ext, "")
			e.account(p.ID, ext, parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_" + ext})
			e.earn(p, adv, "f"+ext, 10000)
		}
		other := payout.New(storetest.Open(t, e.URL).St, quiet, payout.Config{}) // a second process
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := e.svc
				if i%2 == 1 {
					svc = other
				}
				if _, _, err := svc.CreatePayoutBatch(ctx, p.ID, store.Idem{}); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var dup, total int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM (SELECT reward_id FROM payout_items GROUP BY reward_id HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil {
			t.Fatalf("query: %v", err)
		}
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM payout_items`).Scan(&total); err != nil {
			t.Fatalf("query: %v", err)
		}
		if dup != 0 || total != 5 {
			t.Errorf("rewards in two payouts: %d, items %d", dup, total)
		}
	})
}

// items returns a payout's items by reward id.
func (e *uc) items(programID, payoutID string) (parrain.Payout, map[string]parrain.PayoutItem) {
	e.T.Helper()
	po, err := e.St.Payout(ctx, programID, payoutID)
	if err != nil {
		e.T.Fatalf("payout %s: %v", payoutID, err)
	}
	out := map[string]parrain.PayoutItem{}
	for _, it := range po.Items {
		out[it.RewardID] = it
	}
	return po, out
}

// Issue 12: a reward clawed back after its batch was made is never sent.
// Approval re-validates every item; sending re-validates in the transaction
// that moves the payout to sending; with nothing left nothing is sent.
func TestPayoutRevalidatesClawbacks(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "")
		bob := e.Advocate(p.ID, "bob", "")
		e.account(p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_A"})
		e.account(p.ID, "bob", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_B"})
		r1 := e.earn(p, alice, "f1", 55000) // 5500
		r2 := e.earn(p, alice, "f2", 20000) // 2000
		e.earn(p, bob, "f3", 30000)         // 3000
		b, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil || b.Status != parrain.BatchPendingApproval || b.PayoutCount != 2 || b.Totals["EUR"] != 10500 {
			t.Fatalf("batch %+v %v", b, err)
		}
		var aliceID, bobID string
		for _, po := range b.Payouts {
			if po.ExternalID == "alice" {
				aliceID = po.ID
			} else {
				bobID = po.ID
			}
		}
		// While the batch waits: f1 refunded in full (r1 clawed back), f2
		// in half, f3 in full (bob is owed nothing any more).
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f1", Amount: 55000})
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f2", Amount: 10000})
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f3", Amount: 30000})
		if bal := e.Balance(alice.ID); bal[parrain.BucketApproved] != 1000 {
			t.Fatalf("alice after refunds %v", bal)
		}
		b, err = e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "m")
		if err != nil || b.Status != parrain.BatchApproved || b.PayoutCount != 1 || b.Totals["EUR"] != 1000 {
			t.Fatalf("approved %+v %v", b, err)
		}
		po, items := e.items(p.ID, aliceID)
		if po.Status != parrain.PayoutQueued || po.Amount != 1000 {
			t.Fatalf("alice's payout %+v", po)
		}
		if it := items[r1.ID]; it.Amount != 0 || it.Planned != 5500 || it.Status != parrain.PayoutItemDropped {
			t.Errorf("r1 item %+v", it)
		}
		if it := items[r2.ID]; it.Amount != 1000 || it.Planned != 2000 || it.Status != parrain.PayoutItemReduced {
			t.Errorf("r2 item %+v", it)
		}
		if po, _ := e.items(p.ID, bobID); po.Status != parrain.PayoutCancelled || po.FailureReason != parrain.ReasonNothingLeft {
			t.Errorf("bob's payout %+v", po)
		}
		if n := e.countJobs(parrain.JobPayoutSend); n != 1 {
			t.Errorf("send jobs %d, want 1 (alice only)", n)
		}
		// The rest of f2 is refunded before the send job runs: nothing is
		// left, nothing is sent, the ledger never moves to paid.
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f2", Amount: 10000})
		po, _, ok, err := e.svc.BeginPayoutSend(ctx, aliceID)
		if err != nil || ok || po.Status != parrain.PayoutCancelled || po.FailureReason != parrain.ReasonNothingLeft {
			t.Fatalf("send with nothing left: %+v ok=%v %v", po, ok, err)
		}
		if done, err := e.svc.CompletePayout(ctx, aliceID, "tr_late", "paid"); err != nil || done {
			t.Errorf("a cancelled payout completed: %v %v", done, err)
		}
		b, err = e.St.PayoutBatch(ctx, p.ID, b.ID)
		if err != nil || b.Status != parrain.BatchCompleted || b.Totals["EUR"] != 0 {
			t.Errorf("batch after %+v %v", b, err)
		}
		for _, who := range []parrain.Participant{alice, bob} {
			if bal := e.Balance(who.ID); bal[parrain.BucketApproved] != 0 || bal[parrain.BucketPaid] != 0 {
				t.Errorf("%s balance %v", who.ExternalID, bal)
			}
		}
	})
}

// A refund that arrives while the provider call is in flight (the payout
// is sending) cannot stop the money: it is a clawback netted from the
// participant's next payout, never a silent loss.
func TestPayoutRefundWhileSendingIsNetted(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		alice := e.Advocate(p.ID, "alice", "")
		e.account(p.ID, "alice", parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_A"})
		r1 := e.earn(p, alice, "f1", 55000) // 5500
		b, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if b, err = e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "m"); err != nil {
			t.Fatal(err)
		}
		po, _, ok, err := e.svc.BeginPayoutSend(ctx, b.Payouts[0].ID)
		if err != nil || !ok || po.Status != parrain.PayoutSending || po.Amount != 5500 {
			t.Fatalf("sending %+v %v %v", po, ok, err)
		}
		// The refund lands while Stripe is being called.
		res := e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f1", Amount: 55000})
		clawed := false
		for _, rv := range res.Reversals {
			clawed = clawed || (rv.RewardID == r1.ID && rv.EntryType == parrain.EntryClawback && rv.Amount == 5500)
		}
		if !clawed {
			t.Fatalf("refund %+v", res)
		}
		// A resumed send (crash after the call) sends the same amount.
		if again, resumed, ok, err := e.svc.BeginPayoutSend(ctx, po.ID); err != nil || !ok || !resumed || again.Amount != 5500 {
			t.Fatalf("resumed %+v %v %v %v", again, resumed, ok, err)
		}
		if done, err := e.svc.CompletePayout(ctx, po.ID, "tr_1", "paid"); err != nil || !done {
			t.Fatalf("complete %v %v", done, err)
		}
		if bal := e.Balance(alice.ID); bal[parrain.BucketApproved] != -5500 || bal[parrain.BucketPaid] != 5500 {
			t.Fatalf("after the in-flight refund %v", bal)
		}
		// The next payout nets it.
		r2 := e.earn(p, alice, "f2", 100000) // 10000
		next, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil || next.PayoutCount != 1 || next.Payouts[0].Amount != 4500 {
			t.Fatalf("netted run %+v %v", next, err)
		}
		_, items := e.items(p.ID, next.Payouts[0].ID)
		if items[r1.ID].Amount != -5500 || items[r2.ID].Amount != 10000 {
			t.Errorf("netted items %+v", items)
		}
	})
}

// The bank CSV exports what is still owed: a clawback since the approval
// lowers the transfer; with nothing left the payout is cancelled and not
// exported.
func TestPayoutCSVRevalidates(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		carol := e.Advocate(p.ID, "carol", "carol@example.com")
		e.account(p.ID, "carol", iban)
		r1 := e.earn(p, carol, "f1", 55000) // 5500
		e.earn(p, carol, "f2", 20000)       // 2000
		b, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if b, err = e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "m"); err != nil || b.Payouts[0].Status != parrain.PayoutManual {
			t.Fatalf("approve %+v %v", b, err)
		}
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f1", Amount: 55000})
		rows, err := e.svc.BatchBankPayouts(ctx, p.ID, b.ID)
		if err != nil || len(rows) != 1 || rows[0].Amount != 2000 {
			t.Fatalf("csv rows %+v %v", rows, err)
		}
		if _, items := e.items(p.ID, rows[0].ID); items[r1.ID].Status != parrain.PayoutItemDropped {
			t.Errorf("items %+v", items)
		}
		e.Event(p.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o-f2", Amount: 20000})
		rows, err = e.svc.BatchBankPayouts(ctx, p.ID, b.ID)
		if err != nil || len(rows) != 0 {
			t.Fatalf("csv rows with nothing left %+v %v", rows, err)
		}
		b, err = e.St.PayoutBatch(ctx, p.ID, b.ID)
		if err != nil || b.Status != parrain.BatchCompleted || b.Payouts[0].Status != parrain.PayoutCancelled {
			t.Errorf("batch %+v %v", b, err)
		}
		if bal := e.Balance(carol.ID); bal[parrain.BucketApproved] != 0 || bal[parrain.BucketPaid] != 0 {
			t.Errorf("balance %v", bal)
		}
		// The export's cancellation is audited, once.
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: payout.AuditPayoutCancelled, TargetID: b.Payouts[0].ID}, store.Page{})
		if err != nil || len(log) != 1 || log[0].Details["by"] != "csv_export" {
			t.Errorf("audit of the cancellation %+v %v", log, err)
		}
	})
}

// Every change a person makes to a payout is audited once, under the actor
// the context carries, in the change's transaction; a repeated action that
// changes nothing, and a refused one, leave no entry.
func TestPayoutActionsAudited(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		for _, ext := range []string{"ana", "ben"} {
			adv := e.Advocate(p.ID, ext, ext+"@example.com")
			e.account(p.ID, ext, iban)
			e.earn(p, adv, "f-"+ext, 10000)
		}
		mgr := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorUser, ID: "usr_1", Label: "manager@example.com", IP: "192.0.2.1"})
		b, _, err := e.svc.CreatePayoutBatch(mgr, p.ID, store.Idem{})
		if err != nil || len(b.Payouts) != 2 {
			t.Fatalf("batch %+v %v", b, err)
		}
		for range 2 {
			if b, err = e.svc.ApprovePayoutBatch(mgr, p.ID, b.ID, "manager@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		paid, cancelled := b.Payouts[0].ID, b.Payouts[1].ID
		for range 2 {
			if _, err := e.svc.MarkPayoutPaid(mgr, p.ID, paid, "SEPA-9"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.CancelPayout(mgr, p.ID, cancelled); err != nil {
				t.Fatal(err)
			}
		}
		// Refused: a paid payout cannot fail, a cancelled one cannot be paid.
		if _, err := e.svc.MarkPayoutFailed(mgr, p.ID, paid, "bounced"); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("fail a paid payout: %v", err)
		}
		if _, err := e.svc.MarkPayoutPaid(mgr, p.ID, cancelled, ""); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("pay a cancelled payout: %v", err)
		}
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{ProgramID: p.ID, Action: "payout."}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, a := range log {
			if a.ActorType != string(parrain.ActorUser) || a.UserID != "usr_1" || a.UserEmail != "manager@example.com" || a.IP != "192.0.2.1" {
				t.Errorf("entry %s under %+v", a.Action, a)
			}
			got[a.Action+" "+a.TargetID]++
		}
		want := map[string]int{
			payout.AuditPayoutBatchCreated + " " + b.ID:   1,
			payout.AuditPayoutBatchApproved + " " + b.ID:  1,
			payout.AuditPayoutMarkedPaid + " " + paid:     1,
			payout.AuditPayoutCancelled + " " + cancelled: 1,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("audit log %v, want %v", got, want)
		}
		// The batch completed with its last open payout.
		if b, err := e.St.PayoutBatch(ctx, p.ID, b.ID); err != nil || b.Status != parrain.BatchCompleted {
			t.Errorf("batch %s %v", b.Status, err)
		}
	})
}

// Payouts of one batch settled at the same time by two processes complete
// the batch: whoever settles the last open payout sees the others settled
// (the batch is locked before its payouts are read).
func TestPayoutConcurrentSettlementsCompleteTheBatch(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		p := e.payoutProgram()
		const n = 6
		for i := range n {
			ext := fmt.Sprintf("adv%d", i)
			adv := e.Advocate(p.ID, ext, "")
			e.account(p.ID, ext, parrain.PayoutAccountInput{Method: parrain.PayoutStripe, StripeAccount: "acct_" + ext})
			e.earn(p, adv, "f"+ext, 10000)
		}
		b, _, err := e.svc.CreatePayoutBatch(ctx, p.ID, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if b, err = e.svc.ApprovePayoutBatch(ctx, p.ID, b.ID, "m"); err != nil || len(b.Payouts) != n {
			t.Fatalf("approve: %d payouts, %v", len(b.Payouts), err)
		}
		for _, po := range b.Payouts {
			if _, _, ok, err := e.svc.BeginPayoutSend(ctx, po.ID); err != nil || !ok {
				t.Fatalf("send %s: %v %v", po.ID, ok, err)
			}
		}
		other := payout.New(storetest.Open(t, e.URL).St, quiet, payout.Config{}) // a second process
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i, po := range b.Payouts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := e.svc
				if i%2 == 1 {
					svc = other
				}
				var done bool
				var err error
				if i%3 == 2 {
					done, err = svc.FailPayout(ctx, po.ID, "refused", "FAILED")
				} else {
					done, err = svc.CompletePayout(ctx, po.ID, "tr_"+po.ID, "paid")
				}
				if err == nil && !done {
					err = fmt.Errorf("payout %s not settled", po.ID)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, err := e.St.PayoutBatch(ctx, p.ID, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != parrain.BatchCompleted {
			t.Errorf("batch %s after every payout settled", got.Status)
		}
	})
}
