package referral_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// advocateWith creates an advocate whose own requests were seen with ctx.
func (e *env) advocateWith(prog, ext, email string, c *parrain.EventContext) parrain.Participant {
	e.T.Helper()
	p, _, err := e.Ref.UpsertParticipant(ctx, prog, parrain.ParticipantInput{ExternalID: ext, Email: email, Context: c}, store.Idem{})
	if err != nil {
		e.T.Fatalf("upsert participant: %v", err)
	}
	return p
}

func signupRewards(p *parrain.Program) {
	p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerSignup,
		Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 500}}}
	p.HoldDays = 1
}

func TestFraudDecisions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(signupRewards)
		adv := e.advocateWith(prog.ID, "adv", "anna@company.example", &parrain.EventContext{IP: "203.0.113.10", UserAgent: "UA-Anna", DeviceID: "dev-anna", PaymentFingerprint: "card-anna"})
		url := "https://hooks.example/parrain"
		ep, _, err := outbound.NewService(e.St).CreateEndpoint(ctx, prog.ID, parrain.WebhookEndpointInput{URL: &url, EventTypes: []string{parrain.WebhookFraudFlagged}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		signup := func(ext, email string, c *parrain.EventContext) store.EventResult {
			return e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: ext, Email: email, ReferralCode: adv.Code, Context: c})
		}
		// A household: same IP, another browser, another person: approved.
		r := signup("flatmate", "ben@mail.example", &parrain.EventContext{IP: "203.0.113.10", UserAgent: "UA-Ben"})
		if r.Referral.Status != parrain.ReferralSignedUp || r.Referral.ReviewStatus != parrain.ReviewNone || r.Referral.RiskScore != 25 || len(r.Rewards) != 1 {
			t.Fatalf("household: %+v rewards=%d", r.Referral, len(r.Rewards))
		}
		// A throwaway address: held for review with a deadline.
		r = signup("temp", "someone@mailinator.com", nil)
		held := r.Referral
		if held.ReviewStatus != parrain.ReviewHeld || held.RiskAction != "hold" || held.ReviewDeadline == nil || len(r.Rewards) != 1 {
			t.Fatalf("disposable: %+v", held)
		}
		heldReward := r.Rewards[0].ID
		// The advocate's own device: rejected outright, nothing rewarded.
		r = signup("alt", "other@mail.example", &parrain.EventContext{DeviceID: "dev-anna"})
		if r.Referral.Status != parrain.ReferralRejected || r.Referral.Reason != parrain.ReasonFraud || len(r.Rewards) != 0 {
			t.Fatalf("same device: %+v rewards=%d", r.Referral, len(r.Rewards))
		}
		// After the hold, the held referral's reward waits for review.
		e.Clock.Advance(25 * time.Hour)
		if ok, nb, err := e.St.ApproveReward(ctx, heldReward); err != nil || ok || nb.IsZero() {
			t.Fatalf("approval of a held reward: %v %v %v", ok, nb, err)
		}
		q, _, err := e.Ref.ReviewQueue(ctx, prog.ID, "", store.Page{})
		if err != nil || len(q) != 1 || q[0].Referral.ID != held.ID {
			t.Fatalf("queue: %+v %v", q, err)
		}
		it := q[0]
		if it.Signals[0].Code != fraud.IDDisposableEmail || it.Advocate.Traits["device"][0] != "dev-anna" || it.Friend.Email != "someone@mailinator.com" || it.Advocate.Referrals != 3 {
			t.Errorf("evidence: %+v", it)
		}
		// Clearing lets it mature.
		if _, err := e.Ref.ReviewReferral(ctx, prog.ID, held.ID, store.ReviewDecisionClear, "", "tester"); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := e.St.ApproveReward(ctx, heldReward); err != nil || !ok {
			t.Fatalf("approval after clearing: %v %v", ok, err)
		}
		if _, err := e.Ref.ReviewReferral(ctx, prog.ID, held.ID, store.ReviewDecisionClear, "", "tester"); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("clearing twice: %v", err)
		}
		// Another held one, rejected by a reviewer: its reward is voided.
		r = signup("temp2", "x@yopmail.com", nil)
		if _, err := e.Ref.ReviewReferral(ctx, prog.ID, r.Referral.ID, store.ReviewDecisionReject, "", "tester"); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("reject without reason: %v", err)
		}
		got, err := e.Ref.ReviewReferral(ctx, prog.ID, r.Referral.ID, store.ReviewDecisionReject, "throwaway accounts", "tester")
		if err != nil || got.Status != parrain.ReferralRejected || got.Reason != parrain.ReasonFraudReview {
			t.Fatalf("reject: %+v %v", got, err)
		}
		rw, _ := e.St.Reward(ctx, prog.ID, r.Rewards[0].ID)
		if rw.Status != parrain.RewardReversed {
			t.Errorf("rejected referral's reward: %s", rw.Status)
		}
		if _, err := e.Ref.ReviewReferral(ctx, "prog_other", r.Referral.ID, store.ReviewDecisionReject, "x", "tester"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("review from another program: %v", err)
		}
		// Each non-approve decision was announced as fraud.flagged (held,
		// rejected, held): the household was not.
		ds, _, err := e.St.WebhookDeliveries(ctx, prog.ID, ep.ID, "", store.Page{})
		if err != nil || len(ds) != 3 || ds[0].EventType != parrain.WebhookFraudFlagged {
			t.Errorf("fraud.flagged deliveries: %d %v", len(ds), err)
		}
		stats, err := e.Ref.FraudSignalStats(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		byCode := map[fraud.Code]referral.SignalStat{}
		for _, s := range stats {
			byCode[s.Code] = s
		}
		if s := byCode[fraud.IDDisposableEmail]; s.Fired != 2 || s.Cleared != 1 || s.Rejected != 1 {
			t.Errorf("disposable stats %+v", s)
		}
		if s := byCode[fraud.SelfSameDevice]; s.Fired != 1 {
			t.Errorf("device stats %+v", s)
		}
	})
}

func TestFraudNewEvidenceAndSuspension(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil) // double-sided first purchase
		adv := e.advocateWith(prog.ID, "adv", "anna@company.example", &parrain.EventContext{PaymentFingerprint: "card-anna", DeviceID: "dev-anna"})
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", Email: "f1@mail.example", ReferralCode: adv.Code})
		if r.Referral.ReviewStatus != parrain.ReviewNone {
			t.Fatalf("clean signup: %+v", r.Referral)
		}
		// The friend pays with the advocate's card: rejected, no rewards.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f1", OrderID: "o1", Amount: 5000, Currency: "EUR",
			Context: &parrain.EventContext{PaymentFingerprint: "card-anna"}})
		if len(r.Rewards) != 0 || r.Referral.Status != parrain.ReferralRejected {
			t.Fatalf("same card purchase: %+v rewards=%d", r.Referral, len(r.Rewards))
		}
		// Make the operator's policy suspend advocates caught on their own
		// device; earlier pending rewards are voided.
		p, err := e.Ref.FraudPolicy(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.HoldAt != 45 {
			t.Fatalf("default policy %+v", p)
		}
		p.Rules[fraud.SelfSameDevice] = fraud.Rule{Action: fraud.RuleSuspendAdvocate}
		if _, err := e.Ref.SetFraudPolicy(ctx, prog.ID, p); err != nil {
			t.Fatal(err)
		}
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f2", Email: "f2@mail.example", ReferralCode: adv.Code, OrderID: "o2", Amount: 5000, Currency: "EUR"})
		if b := e.Balance(adv.ID); b[parrain.BucketPending] != 2000 {
			t.Fatalf("pending before suspension: %v", b)
		}
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f3", Email: "f3@mail.example", ReferralCode: adv.Code,
			Context: &parrain.EventContext{DeviceID: "dev-anna"}})
		if r.Referral.RiskAction != "suspend" || r.Referral.Status != parrain.ReferralRejected {
			t.Fatalf("suspension: %+v", r.Referral)
		}
		got, _ := e.St.Participant(ctx, prog.ID, "adv")
		if got.Status != parrain.ParticipantSuspended {
			t.Errorf("advocate status %s", got.Status)
		}
		if b := e.Balance(adv.ID); b[parrain.BucketPending] != 0 {
			t.Errorf("suspended advocate keeps pending %v", b)
		}
		// A suspended advocate's code earns nothing more.
		r = e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f4", ReferralCode: adv.Code})
		if r.Credited != nil {
			t.Errorf("suspended advocate credited")
		}
		// Invalid policies are refused with the field.
		p.HoldAt = 0
		if _, err := e.Ref.SetFraudPolicy(ctx, prog.ID, p); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("invalid policy: %v", err)
		}
	})
}

func TestFraudAdClickLeak(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(signupRewards)
		adv := e.Advocate(prog.ID, "adv", "anna@company.example")
		at := e.Clock.Now().Add(-10 * time.Minute).Truncate(time.Second)
		if err := e.St.InsertClicks(ctx, []store.Click{{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true,
			IP: "198.51.100.7", UserAgent: "Mozilla/5.0", Params: "gclid=Cj0KCQ&utm_source=google&secret=dropme", At: at}}); err != nil {
			t.Fatal(err)
		}
		var params string
		if err := e.St.DB().QueryRow(`SELECT params FROM clicks`).Scan(&params); err != nil {
			t.Fatalf("query: %v", err)
		}
		if params != "gclid=Cj0KCQ&utm_source=google" {
			t.Errorf("stored params %q", params)
		}
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f", Email: "f@mail.example",
			Touches: []parrain.Touch{{Code: adv.Code, At: at}}, Context: &parrain.EventContext{IP: "198.51.100.7"}})
		if r.Referral.ReviewStatus != parrain.ReviewHeld {
			t.Fatalf("paid-ad click: %+v", r.Referral)
		}
		q, _, _ := e.Ref.ReviewQueue(ctx, prog.ID, parrain.ReviewHeld, store.Page{})
		if len(q) != 1 || q[0].Signals[0].Code != fraud.LeakAdClick {
			t.Fatalf("queue %+v", q)
		}
		if n, err := e.St.PurgeClickIPs(ctx, time.Minute); err != nil || n != 1 {
			t.Errorf("purge: %d %v", n, err)
		}
	})
}

func TestFraudQuickRefund(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Rules = append(p.Rules, parrain.RewardRule{Trigger: parrain.TriggerSignup,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 300}})
		})
		adv := e.Advocate(prog.ID, "adv", "anna@company.example")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f", Email: "f@mail.example", ReferralCode: adv.Code,
			OrderID: "o1", Amount: 5000, Currency: "EUR"})
		e.Clock.Advance(48 * time.Hour)
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o1", Amount: 5000})
		if r.Referral == nil || r.Referral.ReviewStatus != parrain.ReviewHeld || r.Referral.RiskAction != "hold" {
			t.Fatalf("refund two days after the reward: %+v", r.Referral)
		}
		// The signup reward is not tied to the order: it now waits for review.
		rws, _, _ := e.St.ParticipantRewards(ctx, adv.ID, "pending", store.Page{})
		if len(rws) != 1 || rws[0].Amount != 300 {
			t.Fatalf("pending %+v", rws)
		}
		e.Clock.Advance(31 * 24 * time.Hour)
		if ok, _, err := e.St.ApproveReward(ctx, rws[0].ID); err != nil || ok {
			t.Errorf("reward of a held referral approved: %v %v", ok, err)
		}
	})
}

func TestFraudNoActivity(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) { signupRewards(p); p.HoldDays = 10 })
		adv := e.Advocate(prog.ID, "adv", "anna@company.example")
		if _, _, err := e.Ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventActivity, ExternalID: "nobody"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("activity of an unknown participant: %v", err)
		}
		// Two friends with machine-looking addresses (weak alone): approved.
		quiet := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "quiet", Email: "x7qk2mz9wpl@mail.example", ReferralCode: adv.Code})
		busy := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "busy", Email: "q9zk3vx8tnm@mail.example", ReferralCode: adv.Code})
		if quiet.Referral.ReviewStatus != parrain.ReviewNone || busy.Referral.ReviewStatus != parrain.ReviewNone {
			t.Fatalf("signups: %+v %+v", quiet.Referral, busy.Referral)
		}
		// The integration reports activity for one of them only.
		e.Clock.Advance(24 * time.Hour)
		r := e.Event(prog.ID, parrain.Event{Type: parrain.EventActivity, ExternalID: "busy"})
		if r.Participant == nil || r.Participant.ExternalID != "busy" {
			t.Fatalf("activity: %+v", r)
		}
		e.Clock.Advance(10 * 24 * time.Hour)
		// Before maturing, the quiet one's referral is scored again: no
		// activity plus the random address (40) flags it. A flag is
		// observe-and-pay: the reward matures, and the referral waits in
		// the review queue for an optional look.
		ok, _, err := e.St.ApproveReward(ctx, quiet.Rewards[0].ID)
		if err != nil || !ok {
			t.Fatalf("flagged friend's reward: %v %v", ok, err)
		}
		q, _, err := e.Ref.ReviewQueue(ctx, prog.ID, "", store.Page{})
		if err != nil || len(q) != 1 || q[0].Referral.FriendExternalID != "quiet" || q[0].Referral.ReviewStatus != parrain.ReviewFlagged {
			t.Fatalf("queue %+v %v", q, err)
		}
		codes := map[fraud.Code]bool{}
		for _, s := range q[0].Signals {
			codes[s.Code] = true
		}
		if !codes[fraud.BehNoActivity] || !codes[fraud.IDRandomEmail] {
			t.Errorf("signals %+v", q[0].Signals)
		}
		// The look is optional: a reviewer may still clear the flag.
		if got, err := e.Ref.ReviewReferral(ctx, prog.ID, q[0].Referral.ID, store.ReviewDecisionClear, "", "tester"); err != nil || got.ReviewStatus != parrain.ReviewCleared {
			t.Errorf("clearing a flag: %+v %v", got, err)
		}
		if ok, _, err := e.St.ApproveReward(ctx, busy.Rewards[0].ID); err != nil || !ok {
			t.Errorf("active friend's reward: %v %v", ok, err)
		}
	})
}
