package referral_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// The reward engine on both databases: every model through real events,
// rule versions, explanations, dry runs and replays.

func i64(v int64) *int64 { return &v }

// ruleAmounts maps "rule/role" to the amounts of an event's rewards.
func ruleAmounts(rws []parrain.Reward) map[string]int64 {
	m := map[string]int64{}
	for _, r := range rws {
		m[r.RuleID+"/"+string(r.Role)] += r.Amount
	}
	return m
}

func wantAmounts(t *testing.T, what string, rws []parrain.Reward, want map[string]int64) {
	t.Helper()
	if got := ruleAmounts(rws); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: rewards %v, want %v", what, got, want)
	}
}

// referralLedger sums the ledger entries of a referral's rewards and the
// outstanding amounts of the rewards: they must agree.
func (e *env) referralLedger(refID string) (ledger, outstanding int64) {
	e.T.Helper()
	if err := e.St.DB().QueryRow(`SELECT COALESCE(SUM(l.amount), 0) FROM ledger_entries l JOIN rewards r ON r.id = l.reward_id WHERE r.referral_id = $1`,
		refID).Scan(&ledger); err != nil {
		e.T.Fatal(err)
	}
	if err := e.St.DB().QueryRow(`SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE referral_id = $1`, refID).Scan(&outstanding); err != nil {
		e.T.Fatal(err)
	}
	return ledger, outstanding
}

func TestEngineTiersAndMilestone(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Rules = []parrain.RewardRule{
				{ID: "tier", Trigger: parrain.TriggerFirstPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed,
					Amount: 1000, Tiers: []parrain.TierStep{{From: 3, Amount: 2000}}}},
				{ID: "third", Trigger: parrain.TriggerMilestone, Milestone: &parrain.Milestone{Count: 3},
					Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 5000}},
			}
		})
		adv := e.Advocate(prog.ID, "adv", "adv@x.example")
		var got []map[string]int64
		for i := range 4 {
			f := fmt.Sprintf("f%d", i)
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: f, ReferralCode: adv.Code})
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: "o" + f, Amount: 5000, Currency: "EUR"})
			got = append(got, ruleAmounts(r.Rewards))
			// A second purchase is not a first purchase and succeeds nothing.
			r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: "p" + f, Amount: 5000, Currency: "EUR"})
			if len(r.Rewards) != 0 {
				t.Fatalf("second purchase rewarded %+v", r.Rewards)
			}
			e.Clock.Advance(time.Hour)
		}
		want := []map[string]int64{{"tier/advocate": 1000}, {"tier/advocate": 1000}, {"tier/advocate": 2000, "third/advocate": 5000}, {"tier/advocate": 2000}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("rewards %v, want %v", got, want)
		}
		var succeeded int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND succeeded_at IS NOT NULL`, adv.ID).Scan(&succeeded); err != nil {
			t.Fatalf("query: %v", err)
		}
		if succeeded != 4 {
			t.Errorf("%d successful referrals, want 4", succeeded)
		}
	})
}

func b2b(p *parrain.Program) {
	p.Currency = "USD"
	p.Stages = []parrain.Stage{{Name: "demo_booked"}, {Name: "demo_completed"}, {Name: "closed_won", Label: "Closed won"}}
	p.Success = &parrain.Success{Trigger: parrain.TriggerStage, Stage: "closed_won"}
	p.FXRates = map[string]string{"EUR": "1.1"}
	p.Rules = []parrain.RewardRule{
		{ID: "booked", Trigger: parrain.TriggerStage, Stage: "demo_booked", Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2500}},
		{ID: "completed", Trigger: parrain.TriggerStage, Stage: "demo_completed", Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 25000}},
		{ID: "won", Trigger: parrain.TriggerStage, Stage: "closed_won", Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent,
			PercentBps: 1500, PartnerRates: map[string]int64{"active": 2500}, TrueUpMonths: 12}},
		{ID: "first_deal", Trigger: parrain.TriggerMilestone, Milestone: &parrain.Milestone{Count: 1},
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 10000}},
	}
}

func TestEngineStagesOutOfOrderAndDuplicates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(b2b)
		adv := e.Advocate(prog.ID, "partner", "p@x.example")
		// The lead is registered by its first stage event, with the code.
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "acme", Stage: "demo_completed", ReferralCode: adv.Code})
		if r.Referral == nil || r.Credited.ExternalID != "partner" {
			t.Fatalf("stage attribution: %+v", r)
		}
		wantAmounts(t, "demo_completed first", r.Rewards, map[string]int64{"completed/advocate": 25000})
		// closed_won arrives before demo_booked: both reward.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "acme", Stage: "closed_won", Value: i64(4800000), Currency: "USD"})
		wantAmounts(t, "closed_won", r.Rewards, map[string]int64{"won/advocate": 720000, "first_deal/advocate": 10000})
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "acme", Stage: "demo_booked"})
		wantAmounts(t, "demo_booked late", r.Rewards, map[string]int64{"booked/advocate": 2500})
		// Duplicates reward nothing, whatever their value.
		for _, st := range []string{"demo_booked", "closed_won", "demo_completed"} {
			r = e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "acme", Stage: st, Value: i64(9900000), Currency: "USD"})
			if !r.Duplicate || len(r.Rewards) != 0 || !strings.Contains(r.Message, "already reached") {
				t.Fatalf("duplicate %s: %+v", st, r)
			}
		}
		// The same event retried with its key is a replay, not a duplicate.
		idem := store.Idem{Scope: "k", Key: "stage-1", Hash: "h"}
		r1, _, err := e.Ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "beta", Stage: "demo_booked", ReferralCode: adv.Code}, idem)
		r2, replayed, err2 := e.Ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "beta", Stage: "demo_booked", ReferralCode: adv.Code}, idem)
		if err != nil || err2 != nil || !replayed || r1.EventID != r2.EventID || len(r2.Rewards) != 1 {
			t.Fatalf("replay: %v %v %v", err, err2, replayed)
		}
		// A stage the program does not define is refused; a lead nobody
		// referred earns nothing.
		_, _, err = e.Ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "acme", Stage: "lost"}, store.Idem{})
		if pe := parrain.AsError(err); pe == nil || pe.Field != "stage" {
			t.Fatalf("unknown stage: %v", err)
		}
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "walk-in", Stage: "demo_booked"})
		if len(r.Rewards) != 0 || r.Referral != nil || r.Message == "" {
			t.Fatalf("unreferred lead: %+v", r)
		}
		// The ledger of the referral is the sum of its stage rewards.
		led, out := e.referralLedger(r1.Referral.ID)
		if led != out || led != 2500 {
			t.Errorf("beta ledger %d outstanding %d", led, out)
		}
		refID := ""
		if err := e.St.DB().QueryRow(`SELECT r.id FROM referrals r JOIN participants p ON p.id = r.friend_id WHERE p.external_id = 'acme'`).Scan(&refID); err != nil {
			t.Fatalf("query: %v", err)
		}
		led, out = e.referralLedger(refID)
		if led != out || led != 25000+720000+10000+2500 {
			t.Errorf("acme ledger %d outstanding %d", led, out)
		}
	})
}

func TestEngineContractTrueUps(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(b2b)
		adv := e.Advocate(prog.ID, "partner", "")
		closed := e.Clock.Now()
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "acme", Stage: "closed_won", ReferralCode: adv.Code,
			Value: i64(4800000), Currency: "USD"})
		ref := r.Referral.ID
		wantAmounts(t, "close", r.Rewards, map[string]int64{"won/advocate": 720000, "first_deal/advocate": 10000})
		// The rules change: the rate becomes 20%. The deal keeps 15%.
		v2 := prog
		v2.Rules = slices.Clone(prog.Rules)
		won := *v2.Rules[2].Advocate
		won.PercentBps = 2000
		v2.Rules[2].Advocate = &won
		v2.Version = 0
		upd, _, err := e.Prog.Update(ctx, prog.ID, v2, store.Idem{})
		if err != nil || upd.Version != 2 {
			t.Fatalf("update: %v %d", err, upd.Version)
		}
		e.Clock.Advance(30 * 24 * time.Hour)
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "acme", Value: i64(6000000), Currency: "USD"})
		wantAmounts(t, "expansion", r.Rewards, map[string]int64{"won/advocate": 180000})
		if r.Rewards[0].Trigger != parrain.TriggerContract || r.Rewards[0].RuleVersion != 1 || !strings.Contains(r.Rewards[0].Explanation, "[program v1]") {
			t.Errorf("true-up %+v", r.Rewards[0])
		}
		// Contraction in EUR: 40000 EUR × 1.1 = 44000 USD → 6600; 9000 earned.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "acme", Value: i64(4000000), Currency: "EUR"})
		var down int64
		for _, rv := range r.Reversals {
			down += rv.Amount
			if rv.EntryType != parrain.EntryReversal {
				t.Errorf("reversal %+v", rv)
			}
		}
		if down != 240000 || len(r.Reversals) != 2 || r.Reversals[0].Amount != 180000 {
			t.Fatalf("contraction reversals %+v", r.Reversals)
		}
		// Approved rewards are clawed back.
		e.Clock.Advance(31 * 24 * time.Hour)
		all, _, _ := e.St.ProgramRewards(ctx, prog.ID, store.RewardFilter{}, store.Page{})
		for _, rw := range all {
			if _, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil {
				t.Fatal(err)
			}
		}
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "acme", Value: i64(3000000), Currency: "USD"})
		if len(r.Reversals) != 1 || r.Reversals[0].Amount != 210000 || r.Reversals[0].EntryType != parrain.EntryClawback {
			t.Fatalf("clawback %+v", r.Reversals)
		}
		led, out := e.referralLedger(ref)
		if led != out || out != 450000+10000 {
			t.Errorf("ledger %d outstanding %d, want 4500.00 + bonus", led, out)
		}
		// After the first year: no more true-ups.
		e.Clock.Set(closed.AddDate(1, 0, 1))
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "acme", Value: i64(9000000), Currency: "USD"})
		if len(r.Rewards) != 0 || len(r.Skipped) != 1 || !strings.HasPrefix(r.Skipped[0].Reason, "true_up_window_over") {
			t.Fatalf("after the window: %+v", r)
		}
		// A contract change for a customer nobody referred does nothing.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "unknown", Value: i64(1), Currency: "USD"})
		if len(r.Rewards)+len(r.Reversals) != 0 || r.Message == "" {
			t.Fatalf("unknown customer: %+v", r)
		}
	})
}

func TestEngineRecurringFXAndExplain(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.FXRates = map[string]string{"USD": "0.92"}
			p.Rounding = parrain.RoundHalfEven
			p.Rules = []parrain.RewardRule{{ID: "rec", Trigger: parrain.TriggerPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash,
				Type: parrain.AmountPercent, PercentBps: 1000, Months: 2, IntroPayments: 1, IntroPercentBps: 3000}}}
		})
		adv := e.Advocate(prog.ID, "adv", "")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f", ReferralCode: adv.Code})
		buy := func(order string, amount int64, cur, rate string) store.EventResult {
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: order, Amount: amount, Currency: cur, FXRate: rate})
			e.Clock.Advance(30 * 24 * time.Hour)
			return r
		}
		r1 := buy("m1", 2500, "USD", "")      // 23.00 EUR × 30% = 6.90
		r2 := buy("m2", 2500, "USD", "0.905") // 22.625 → 22.62 (half-even); × 10% = 2.262 → 2.26
		r3 := buy("m3", 1000, "EUR", "")
		r4 := buy("m4", 1000, "EUR", "")
		if ruleAmounts(r1.Rewards)["rec/advocate"] != 690 || ruleAmounts(r2.Rewards)["rec/advocate"] != 226 ||
			ruleAmounts(r3.Rewards)["rec/advocate"] != 100 || len(r4.Rewards) != 0 {
			t.Fatalf("recurring: %v %v %v %v", r1.Rewards, r2.Rewards, r3.Rewards, r4.Skipped)
		}
		rw := r2.Rewards[0]
		if rw.FXRate != "0.905" || rw.BaseAmount != 2500 || rw.BaseCurrency != "USD" || rw.RateBps != 1000 {
			t.Errorf("reward snapshot %+v", rw.RewardDetails)
		}
		// A later change of the program's table never touches the snapshot.
		p := prog
		p.FXRates = map[string]string{"USD": "0.5"}
		p.Version = 0
		if _, _, err := e.Prog.Update(ctx, prog.ID, p, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		ex, err := e.St.ExplainReward(ctx, prog.ID, r1.Rewards[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if ex.FXRate != "0.92" || ex.Amount != 690 || ex.Explain.RuleVersion != 1 || ex.Explain.Rule == nil || ex.Explain.Rule.ID != "rec" ||
			ex.Explain.Inputs == nil || ex.Explain.Inputs.FX == nil || ex.Explain.Inputs.FX.Source != "program" || ex.Explain.Inputs.PaymentNumber != 1 ||
			ex.Explain.Event == nil || len(ex.Ledger) != 1 || !strings.Contains(strings.Join(ex.Explain.Steps, "|"), "25.00 USD at 0.92 (program rate) = 23.00 EUR") {
			js, _ := json.MarshalIndent(ex, "", " ")
			t.Fatalf("explanation:\n%s", js)
		}
		var evt parrain.Event
		if err := json.Unmarshal(*ex.Explain.Event, &evt); err != nil || evt.OrderID != "m1" {
			t.Errorf("explained event %+v %v", evt, err)
		}
		// No rate for the currency: skipped, never mixed.
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: "gbp", Amount: 1000, Currency: "GBP"})
		if len(r.Rewards) != 0 || len(r.Skipped) == 0 {
			t.Fatalf("GBP: %+v", r)
		}
	})
}

func TestEngineCapsStopAndReview(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		rules := []parrain.RewardRule{{ID: "pct", Trigger: parrain.TriggerPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash,
			Type: parrain.AmountPercent, PercentBps: 1000}}}
		stop := e.Program(func(p *parrain.Program) {
			p.Rules = rules
			p.Caps = &parrain.Caps{PerParticipant: &parrain.PeriodCap{Amount: 1500, Period: parrain.PeriodMonth}}
		})
		adv := e.Advocate(stop.ID, "adv", "")
		e.Event(stop.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f", ReferralCode: adv.Code})
		var amounts []int64
		for i := range 3 {
			r := e.Event(stop.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: fmt.Sprint("o", i), Amount: 10000, Currency: "EUR"})
			for _, rw := range r.Rewards {
				amounts = append(amounts, rw.Amount)
			}
			if i == 2 && (len(r.Skipped) != 1 || !strings.HasPrefix(r.Skipped[0].Reason, "cap_reached")) {
				t.Fatalf("third purchase: %+v", r.Skipped)
			}
		}
		if !slices.Equal(amounts, []int64{1000, 500}) {
			t.Fatalf("stop: %v", amounts)
		}
		// A refund frees room under the cap.
		e.Event(stop.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o0", Amount: 10000})
		r := e.Event(stop.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: "o9", Amount: 10000, Currency: "EUR"})
		if len(r.Rewards) != 1 || r.Rewards[0].Amount != 1000 {
			t.Fatalf("after refund: %+v", r.Rewards)
		}

		review := e.Program(func(p *parrain.Program) {
			p.Rules = rules
			p.HoldDays = 10
			p.Caps = &parrain.Caps{PerReferral: 1500, OnCap: parrain.CapReview}
		})
		adv = e.Advocate(review.ID, "adv", "")
		e.Event(review.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f", ReferralCode: adv.Code})
		e.Event(review.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: "a", Amount: 10000, Currency: "EUR"})
		r = e.Event(review.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: "b", Amount: 10000, Currency: "EUR"})
		over := r.Rewards[0]
		if over.Amount != 1000 || over.Review != store.ReviewWaiting || !strings.Contains(over.ReviewReason, "per-referral cap") {
			t.Fatalf("review reward %+v", over)
		}
		var jobs int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM jobs WHERE unique_key = $1`, parrain.JobMatureReward+":"+over.ID).Scan(&jobs); err != nil {
			t.Fatalf("query: %v", err)
		}
		if jobs != 0 {
			t.Fatal("a reward waiting for review must not mature by itself")
		}
		q, _, err := e.St.ProgramRewards(ctx, review.ID, store.RewardFilter{Review: store.ReviewWaiting}, store.Page{})
		if err != nil || len(q) != 1 || q[0].ID != over.ID {
			t.Fatalf("review queue %+v %v", q, err)
		}
		if _, _, err := e.Ref.ReviewReward(ctx, review.ID, over.ID, referral.ReviewDecision{Decision: "reject"}, store.Idem{}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "reason" {
			t.Fatalf("reject without reason: %v", err)
		}
		got, _, err := e.Ref.ReviewReward(ctx, review.ID, over.ID, referral.ReviewDecision{Decision: "approve"}, store.Idem{})
		if err != nil || got.Review != store.ReviewApproved || got.Status != parrain.RewardPending {
			t.Fatalf("approve: %+v %v", got, err)
		}
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM jobs WHERE unique_key = $1`, parrain.JobMatureReward+":"+over.ID).Scan(&jobs); err != nil {
			t.Fatalf("query: %v", err)
		}
		if jobs != 1 {
			t.Fatal("approval must schedule maturation")
		}
		if _, _, err := e.Ref.ReviewReward(ctx, review.ID, over.ID, referral.ReviewDecision{Decision: "approve"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("second decision: %v", err)
		}
		r = e.Event(review.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", OrderID: "c", Amount: 10000, Currency: "EUR"})
		got, _, err = e.Ref.ReviewReward(ctx, review.ID, r.Rewards[0].ID, referral.ReviewDecision{Decision: "reject", Reason: "over budget"}, store.Idem{})
		if err != nil || got.Status != parrain.RewardReversed || got.Review != store.ReviewRejected {
			t.Fatalf("reject: %+v %v", got, err)
		}
		if _, _, err := e.Ref.ReviewReward(ctx, stop.ID, over.ID, referral.ReviewDecision{Decision: "approve"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("other program's reward: %v", err)
		}
	})
}

func TestEngineEligibilityAndAttributes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Eligibility = &parrain.Eligibility{
				Advocates: &parrain.AdvocateEligibility{PayingOnly: true, Plans: []string{"pro"}},
				Purchases: &parrain.PurchaseEligibility{MinAmount: 2000, NewCustomersOnly: true},
			}
		})
		attrs := func(a parrain.Attributes) *parrain.Attributes { return &a }
		adv, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "adv",
			Attributes: attrs(parrain.Attributes{"paying": false, "plan": "pro"})}, store.Idem{})
		if err != nil || adv.Attributes["plan"] != "pro" {
			t.Fatalf("attributes: %+v %v", adv, err)
		}
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", ReferralCode: adv.Code})
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f1", OrderID: "1", Amount: 5000, Currency: "EUR"})
		if len(r.Rewards) != 0 || len(r.Skipped) != 2 || !strings.Contains(r.Skipped[0].Reason, "paying") {
			t.Fatalf("not paying: %+v", r)
		}
		// The advocate becomes a paying customer: their next referrals count.
		if _, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "adv",
			Attributes: attrs(parrain.Attributes{"paying": true, "plan": "pro"})}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		got, _ := e.St.Participant(ctx, prog.ID, "adv")
		if got.Attributes["paying"] != true {
			t.Fatalf("stored attributes %+v", got.Attributes)
		}
		// Updating other fields keeps the attributes.
		if _, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "adv", Name: "Ada"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.St.Participant(ctx, prog.ID, "adv"); got.Attributes["paying"] != true || got.Name != "Ada" {
			t.Fatalf("attributes lost %+v", got)
		}
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", ReferralCode: adv.Code})
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f2", OrderID: "2", Amount: 1999, Currency: "EUR"})
		if len(r.Rewards) != 0 || !strings.Contains(r.Skipped[0].Reason, "below the minimum") {
			t.Fatalf("below minimum: %+v", r)
		}
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f2", OrderID: "3", Amount: 2000, Currency: "EUR"})
		wantAmounts(t, "first qualifying purchase", r.Rewards, map[string]int64{"rule_1/advocate": 2000, "rule_1/friend": 1000})
		// An existing customer (known before the referral) does not count.
		e.Advocate(prog.ID, "old-customer", "")
		e.Clock.Advance(time.Hour)
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "old-customer", ReferralCode: adv.Code})
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "old-customer", OrderID: "4", Amount: 5000, Currency: "EUR"})
		if len(r.Rewards) != 0 || !strings.Contains(r.Skipped[0].Reason, "already a customer") {
			t.Fatalf("existing customer: %+v", r)
		}
		// So does a purchase the customer's system flags.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f3", ReferralCode: adv.Code})
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f3", OrderID: "5", Amount: 5000, Currency: "EUR", ExistingCustomer: true})
		if len(r.Rewards) != 0 {
			t.Fatalf("flagged existing customer: %+v", r)
		}
		// Bad attributes are a precise 400.
		_, _, err = e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "adv", Attributes: attrs(parrain.Attributes{"Plan!": "x"})}, store.Idem{})
		if pe := parrain.AsError(err); pe == nil || pe.Field != "attributes" {
			t.Fatalf("bad attribute: %v", err)
		}
	})
}

func TestEngineCancelWithinHold(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.HoldDays = 30
			p.Rules = []parrain.RewardRule{
				{ID: "sub", Trigger: parrain.TriggerFirstPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed,
					Amount: 1000, Tiers: []parrain.TierStep{{From: 2, Amount: 3000}}}},
			}
		})
		adv := e.Advocate(prog.ID, "adv", "")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", ReferralCode: adv.Code})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f1", OrderID: "1", Amount: 5000, Currency: "EUR"})
		e.Clock.Advance(10 * 24 * time.Hour)
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventCancel, ExternalID: "f1"})
		if len(r.Reversals) != 1 || r.Reversals[0].Amount != 1000 || r.Reversals[0].Status != parrain.RewardReversed ||
			!strings.Contains(r.Message, "no longer counts") {
			t.Fatalf("cancel within hold: %+v", r)
		}
		// The voided referral no longer counts toward tiers.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", ReferralCode: adv.Code})
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f2", OrderID: "2", Amount: 5000, Currency: "EUR"})
		wantAmounts(t, "after void", r.Rewards, map[string]int64{"sub/advocate": 1000})
		// A cancel after the hold changes nothing.
		e.Clock.Advance(31 * 24 * time.Hour)
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventCancel, ExternalID: "f2"})
		if len(r.Reversals) != 0 || strings.Contains(r.Message, "no longer counts") {
			t.Fatalf("cancel after hold: %+v", r)
		}
		// Still successful: the third referral is the second that counts.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f3", ReferralCode: adv.Code})
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f3", OrderID: "3", Amount: 5000, Currency: "EUR"})
		wantAmounts(t, "third", r.Rewards, map[string]int64{"sub/advocate": 3000})
		// Cancelling someone who was never referred is harmless.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventCancel, ExternalID: "nobody"})
		if len(r.Reversals) != 0 || r.Message == "" {
			t.Fatalf("unknown: %+v", r)
		}
	})
}

// TestEngineLedgerProperty replays random sequences of stage, contract,
// purchase, refund and cancel events and checks, for every referral, that
// its ledger equals the sum of its rewards minus reversals, and that no
// reward's reversals exceed it.
func TestEngineLedgerProperty(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			b2b(p)
			p.Rules = append(p.Rules, parrain.RewardRule{ID: "buy", Trigger: parrain.TriggerPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 700}})
			p.Caps = &parrain.Caps{PerReferral: 900000}
		})
		adv := e.Advocate(prog.ID, "adv", "")
		stages := []string{"demo_booked", "demo_completed", "closed_won"}
		seed := uint64(1)
		rnd := func(n int) int {
			seed = seed*6364136223846793005 + 1442695040888963407
			return int((seed >> 33) % uint64(n))
		}
		orders := map[string]int64{}
		for i := range 60 {
			lead := fmt.Sprintf("lead%d", rnd(4))
			switch rnd(5) {
			case 0:
				e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: lead, Stage: stages[rnd(3)], ReferralCode: adv.Code,
					Value: i64(int64(100000 + rnd(5000000))), Currency: "USD"})
			case 1:
				e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: lead, Value: i64(int64(rnd(8000000))), Currency: "USD"})
			case 2:
				o := fmt.Sprint("o", i)
				orders[o] = int64(1000 + rnd(50000))
				e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: lead, ReferralCode: adv.Code, OrderID: o, Amount: orders[o], Currency: "USD"})
			case 3:
				for o, left := range orders {
					if left > 0 {
						x := min(left, int64(1+rnd(int(left))))
						orders[o] -= x
						e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: o, Amount: x})
						break
					}
				}
			case 4:
				e.Event(prog.ID, parrain.Event{Type: parrain.EventCancel, ExternalID: lead})
			}
			e.Clock.Advance(time.Duration(rnd(72)) * time.Hour)
		}
		rows, err := e.St.DB().Query(`SELECT id FROM referrals WHERE program_id = $1`, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatalf("query: %v", err)
			}
			refs = append(refs, id)
		}
		rows.Close()
		if len(refs) == 0 {
			t.Fatal("no referrals")
		}
		for _, ref := range refs {
			led, out := e.referralLedger(ref)
			if led != out {
				t.Errorf("referral %s: ledger %d, rewards minus reversals %d", ref, led, out)
			}
			var over int
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM rewards WHERE referral_id = $1 AND (reversed > amount OR reversed < 0)`, ref).Scan(&over); err != nil {
				t.Fatalf("query: %v", err)
			}
			if over > 0 {
				t.Errorf("referral %s: over-reversed rewards", ref)
			}
			if out > 900000 { // the per-referral cap covers every reward of the referral, the bonus included
				t.Errorf("referral %s: %d over the per-referral cap", ref, out)
			}
		}
	})
}
