package referral

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// ingest carries one event's processing state inside its transaction. It
// is the database handler of dispatch: real ingestion and dry runs.
type ingest struct {
	tx     *store.Tx
	prog   *parrain.Program
	ev     *parrain.Event
	res    parrain.EventResult
	friend *parrain.Participant
	// friendNew is true when this event created the friend: their only
	// traits are the event's context, already known.
	friendNew bool
	referral  *parrain.Referral
	// conversion, when set, tells fraud scoring about a refund or
	// cancellation after the reward.
	conversion *fraud.Conversion
	// activityFacts and signedUpAt, when set, describe the friend's product
	// use since signup (the no-activity check before a reward matures).
	activityFacts *fraud.Activity
	// judgingRefund is set when the referral is scored again because this
	// event refunded one of its purchases.
	judgingRefund bool
	signedUpAt    time.Time
}

func newIngest(tx *store.Tx, prog *parrain.Program, ev *parrain.Event) *ingest {
	return &ingest{tx: tx, prog: prog, ev: ev,
		res: parrain.EventResult{EventID: store.NewID("evt"), Type: ev.Type, Rewards: []parrain.Reward{}}}
}

// run applies the event: its type's handler, then what every event causes
// (afterEvent). Real ingestion then records the event; a dry run rolls
// everything back.
func (in *ingest) run(ctx context.Context) error {
	if err := dispatch(ctx, in, in.ev.Type); err != nil {
		return err
	}
	return in.afterEvent(ctx)
}

func (in *ingest) record(ctx context.Context) error {
	payload, err := json.Marshal(in.ev)
	if err != nil {
		return err
	}
	row := store.EventRow{ID: in.res.EventID, ProgramID: in.prog.ID, Type: in.ev.Type, Payload: string(payload), OccurredAt: in.ev.OccurredAt}
	if in.friend != nil {
		row.ParticipantID = in.friend.ID
	}
	if in.referral != nil {
		row.ReferralID = in.referral.ID
	}
	return in.tx.InsertEvent(ctx, row)
}

// upsertFriend creates or refreshes the friend's participant record.
func (in *ingest) upsertFriend(ctx context.Context) error {
	p, created, err := in.tx.UpsertParticipant(ctx, in.prog.ID, parrain.ParticipantInput{
		ExternalID: in.ev.ExternalID, Email: in.ev.Email, Name: in.ev.Name, Locale: in.ev.Locale})
	if err != nil {
		return err
	}
	in.friend, in.friendNew = &p, created
	in.res.Participant = &parrain.ParticipantRef{ExternalID: p.ExternalID, Code: p.Code}
	return in.tx.RecordTraits(ctx, in.prog.ID, p.ID, in.ev.Context, in.ev.OccurredAt)
}

func (in *ingest) signup(ctx context.Context) error {
	if err := in.upsertFriend(ctx); err != nil {
		return err
	}
	created, err := in.attribute(ctx)
	if err != nil || !created {
		return err
	}
	return in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerSignup}, "")
}

// attribute finds or creates the friend's referral. created is true when a
// new, rewardable referral was made by this event.
func (in *ingest) attribute(ctx context.Context) (bool, error) {
	ref, found, err := in.tx.ReferralByFriend(ctx, in.prog.ID, in.friend.ID)
	if err != nil {
		return false, err
	}
	if found {
		in.referral = &ref
		in.res.Referral = &ref
		in.res.Credited = &parrain.ParticipantRef{ExternalID: ref.AdvocateExternalID, Code: ref.Code}
		if in.ev.Type == parrain.EventSignup {
			in.res.Duplicate = true
			in.res.Message = "this person was already referred in this program; a person is referred at most once"
		}
		return false, nil
	}
	if in.prog.Status != parrain.ProgramActive {
		in.res.Message = "the program is paused: no referral is credited"
		return false, nil
	}
	cands, err := in.candidates(ctx)
	if err != nil {
		return false, err
	}
	best, ok := parrain.Attribute(in.prog.AttributionModel, in.prog.Window(), in.ev.OccurredAt, cands)
	if !ok {
		if in.ev.ReferralCode != "" || len(in.ev.Touches) > 0 {
			in.res.Message = "no active referral code within the cookie window: nobody is credited"
		}
		return false, nil
	}
	adv, err := in.tx.ParticipantByCode(ctx, best.Code)
	if err != nil {
		return false, fmt.Errorf("loading advocate: %w", err)
	}
	now := in.tx.Now()
	ref = parrain.Referral{ID: store.NewID("ref"), ProgramID: in.prog.ID, AdvocateID: adv.ID, AdvocateExternalID: adv.ExternalID,
		FriendID: in.friend.ID, FriendExternalID: in.friend.ExternalID, Code: adv.Code, Status: parrain.ReferralSignedUp,
		SignedUpAt: in.ev.OccurredAt, CreatedAt: now}
	if best.Typed {
		// The documented signup sends the typed or stored code and the
		// cookie together. When the cookie holds a click on the same code,
		// that click is the referral's: the code keeps the credit and the
		// click is linked (clicked_at, and the click-based fraud signals).
		// When the cookie names another advocate, the typed code wins and
		// that advocate's click is not linked.
		if t, ok := in.cookieClick(best.Code); ok {
			best = parrain.Candidate{Touch: t}
		}
	}
	via := "cookie"
	if best.Typed {
		via = "code"
	} else {
		t := best.At
		ref.ClickedAt = &t
	}
	var risk *riskOutcome
	if parrain.SelfReferral(adv, in.friend.ExternalID, in.ev.Email) || (in.friend.Email != "" && parrain.SelfReferral(adv, in.friend.ExternalID, in.friend.Email)) {
		ref.Status, ref.Reason = parrain.ReferralRejected, parrain.ReasonSelfReferral
		in.res.Message = "self-referral: recorded without reward"
	} else {
		// Fraud scoring, inline: its decision is part of the referral.
		if risk, err = in.assess(ctx, adv, &best); err != nil {
			return false, err
		}
		risk.apply(&ref)
		if ref.Status == parrain.ReferralRejected {
			in.res.Message = "rejected by the fraud policy: recorded without reward"
		}
	}
	if ref.ReviewStatus == "" {
		ref.ReviewStatus, ref.RiskAction = parrain.ReviewNone, "approve"
	}
	signals := "[]"
	if risk != nil {
		signals = risk.signalsJSON()
	}
	inserted, err := in.tx.InsertReferral(ctx, &ref, via, signals)
	if err != nil {
		return false, err
	}
	if !inserted {
		// A concurrent event referred this friend first: theirs stands.
		return in.attribute(ctx)
	}
	in.referral = &ref
	in.res.Referral = &ref
	in.res.Credited = &parrain.ParticipantRef{ExternalID: adv.ExternalID, Code: adv.Code}
	if risk != nil {
		if err := recordRisk(ctx, in.tx, &ref, risk); err != nil {
			return false, err
		}
		if risk.fires(fraud.BehVelocityBurst) {
			if err := in.rescoreBurst(ctx, &ref); err != nil {
				return false, err
			}
		}
	}
	if err := in.tx.Emit(ctx, in.prog.ID, parrain.WebhookReferralCreated, ref); err != nil {
		return false, err
	}
	return ref.Status != parrain.ReferralRejected, nil
}

// cookieClick returns the latest touch of the event's cookie on code within
// the program's cookie window.
func (in *ingest) cookieClick(code string) (parrain.Touch, bool) {
	var best parrain.Touch
	found := false
	at, window := in.ev.OccurredAt, in.prog.Window()
	for _, t := range in.ev.Touches {
		if t.Code != code || t.At.After(at) || at.Sub(t.At) > window {
			continue
		}
		if !found || t.At.After(best.At) {
			best, found = t, true
		}
	}
	return best, found
}

// candidates resolves the event's codes to active advocates of the program.
func (in *ingest) candidates(ctx context.Context) ([]parrain.Candidate, error) {
	var cands []parrain.Candidate
	seen := map[string]bool{}
	active := func(code string) (bool, error) {
		if v, ok := seen[code]; ok {
			return v, nil
		}
		ok, err := in.tx.CodeActive(ctx, in.prog.ID, code)
		seen[code] = ok
		return ok, err
	}
	if c := in.ev.ReferralCode; c != "" {
		ok, err := active(c)
		if err != nil {
			return nil, err
		}
		if ok {
			cands = append(cands, parrain.Candidate{Touch: parrain.Touch{Code: c, At: in.ev.OccurredAt}, Typed: true})
		}
	}
	for _, t := range in.ev.Touches {
		ok, err := active(t.Code)
		if err != nil {
			return nil, err
		}
		if ok {
			cands = append(cands, parrain.Candidate{Touch: t})
		}
	}
	return cands, nil
}

func (in *ingest) purchase(ctx context.Context) error {
	if err := in.upsertFriend(ctx); err != nil {
		return err
	}
	// A purchase may be the first thing reported about a referred person
	// (guest checkout): attribute it as their signup.
	newRef, err := in.attribute(ctx)
	if err != nil {
		return err
	}
	pur := store.Purchase{ID: store.NewID("pur"), ProgramID: in.prog.ID, ParticipantID: in.friend.ID, OrderID: in.ev.OrderID,
		Amount: in.ev.Amount, Currency: in.ev.Currency, EventID: in.res.EventID, OccurredAt: in.ev.OccurredAt}
	if in.referral != nil {
		pur.ReferralID = in.referral.ID
	}
	inserted, err := in.tx.InsertPurchase(ctx, pur)
	if err != nil {
		return err
	}
	if !inserted {
		in.res.Duplicate = true
		in.res.Message = fmt.Sprintf("order %s was already reported: nothing new is credited", in.ev.OrderID)
		return nil
	}
	if newRef {
		if err := in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerSignup}, ""); err != nil {
			return err
		}
	}
	if in.referral == nil || in.referral.Status == parrain.ReferralRejected {
		return nil
	}
	if !newRef {
		// New evidence (a payment fingerprint, a device) may change the
		// fraud decision on an existing referral.
		ok, err := in.reassess(ctx)
		if err != nil || !ok {
			return err
		}
	}
	// The first purchase converts the referral; the conditional update
	// makes "first" exact under concurrency.
	first, err := in.tx.ConvertReferral(ctx, in.referral.ID, in.ev.OccurredAt)
	if err != nil {
		return err
	}
	if first {
		t := in.ev.OccurredAt
		in.referral.Status, in.referral.ConvertedAt = parrain.ReferralConverted, &t
		// Webhook referral.converted and CRM sync, in this transaction.
		if err := in.tx.ReferralConverted(ctx, in.referral, in.ev); err != nil {
			return err
		}
	}
	return in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerPurchase, FirstPurchase: first,
		Amount: in.ev.Amount, Currency: in.ev.Currency}, pur.ID)
}

func (in *ingest) refund(ctx context.Context) error {
	pur, found, err := in.tx.PurchaseByOrderForUpdate(ctx, in.prog.ID, in.ev.OrderID)
	if err != nil {
		return err
	}
	if !found {
		return &parrain.Error{Code: parrain.CodeNotFound, Field: "order_id", Message: fmt.Sprintf("no purchase with order id %s in this program", in.ev.OrderID)}
	}
	if in.ev.Currency != "" && in.ev.Currency != pur.Currency {
		return parrain.Invalid("currency", "the order was paid in %s", pur.Currency)
	}
	if in.ev.Amount > pur.Amount-pur.Refunded {
		return parrain.Invalid("amount", "exceeds what is left to refund on this order (%d)", pur.Amount-pur.Refunded)
	}
	total := pur.Refunded + in.ev.Amount
	if err := in.tx.RecordRefund(ctx, in.prog.ID, pur.ID, in.ev.Amount, total, in.res.EventID); err != nil {
		return err
	}
	if pur.ReferralID != "" {
		ref, err := in.tx.ReferralByID(ctx, pur.ReferralID)
		if err != nil {
			return err
		}
		in.referral = &ref
		in.res.Referral = &ref
	}
	rewards, err := in.tx.PurchaseRewardsForUpdate(ctx, pur.ID)
	if err != nil {
		return err
	}
	for i := range rewards {
		rw := &rewards[i]
		x, err := parrain.Reversal(rw, pur.Amount, total)
		if err != nil {
			return err
		}
		moves, st := parrain.Reverse(rw, x)
		if len(moves) == 0 {
			continue
		}
		memo := fmt.Sprintf("refund of %s %s on order %s", parrain.FormatMinor(in.ev.Amount, pur.Currency), pur.Currency, in.ev.OrderID)
		if err := in.tx.ApplyMoves(ctx, rw, moves, st, rw.Reversed+x, memo); err != nil {
			return err
		}
		in.res.Reversals = append(in.res.Reversals, parrain.ReversalResult{RewardID: rw.ID, Amount: x, Currency: rw.Currency,
			EntryType: moves[0].Type, Status: st})
	}
	if len(in.res.Reversals) == 0 && len(rewards) > 0 {
		in.res.Message = "partial refund: fixed rewards are reversed only when the order is fully refunded"
	}
	// A refund soon after the reward is evidence: score the referral again.
	if in.referral != nil && len(rewards) > 0 {
		return in.reassessAfterRefund(ctx, pur.OccurredAt, pur.OccurredAt) // rewards are earned when the purchase happens
	}
	return nil
}

// reward evaluates the program's rules for an occasion of the current
// event (a new referral's signup, or a referred purchase) and stores the
// resulting rewards, their ledger entries, maturation and fulfilment jobs.
func (in *ingest) reward(ctx context.Context, o parrain.Occasion, purchaseID string) error {
	src := parrain.GrantSource{EventID: in.res.EventID, PurchaseID: purchaseID, OrderID: in.ev.OrderID}
	return in.engineTx(ctx, func(w parrain.World, rc *parrain.Referred, out *engineOutcome) error {
		if o.Trigger == parrain.TriggerSignup {
			return applySignup(ctx, w, in.prog, rc, in.ev, src, out)
		}
		pf := purchaseFacts{Amount: o.Amount, Currency: o.Currency}
		var err error
		if pf.PaymentNumber, pf.FirstPaymentAt, err = in.tx.PaymentRank(ctx, rc.Referral.ID, purchaseID); err != nil {
			return err
		}
		return applyPurchase(ctx, w, in.prog, rc, in.ev, pf, src, out)
	})
}

// engineTx runs fn with the referral's world inside the event's
// transaction and copies the outcome into the event's answer.
func (in *ingest) engineTx(ctx context.Context, fn func(w parrain.World, rc *parrain.Referred, out *engineOutcome) error) error {
	rc, err := in.tx.Referred(ctx, *in.referral)
	if err != nil {
		return err
	}
	// Serialise, on PostgreSQL, the events that could race on a cap, a
	// tier count or a budget.
	if countsMatter(in.prog) {
		budget := in.prog.Caps != nil && in.prog.Caps.Budget != nil
		if err := in.tx.LockForCounts(ctx, in.prog.ID, budget, rc.Referral.AdvocateID, rc.Referral.FriendID); err != nil {
			return err
		}
	}
	var out engineOutcome
	// An advocate assigned to an experiment arm is priced by the arm's
	// rules; each reward records the arm and its explanation says so.
	exp, arm, err := experimentArmTx(ctx, in.tx, in.prog.ID, rc.Referral.AdvocateID)
	if err != nil {
		return err
	}
	prog := in.prog
	if arm != nil {
		priced := *in.prog
		priced, _ = arm.Apply(priced, parrain.Experience{})
		in.prog = &priced
	}
	err = fn(&dbWorld{ctx: ctx, tx: in.tx, prog: in.prog}, rc, &out)
	in.prog = prog
	if err != nil {
		return err
	}
	if arm != nil {
		note := armNote(exp, arm)
		for i := range out.rewards {
			if err := in.tx.RecordRewardArm(ctx, out.rewards[i].ID, exp.ID, arm.Key, note, out.rewards[i].CreatedAt); err != nil {
				return err
			}
			out.rewards[i].Explanation += note
		}
	}
	in.res.Rewards = append(in.res.Rewards, out.rewards...)
	in.res.Reversals = append(in.res.Reversals, out.reversals...)
	in.res.Skipped = append(in.res.Skipped, out.skipped...)
	if out.message != "" {
		in.res.Message = out.message
	}
	if out.duplicate {
		in.res.Duplicate = true
	}
	return nil
}

// engineReferral finds the referral an engine event (stage, contract,
// cancel) is about: the friend's, attributing a stage event like a signup
// when it is the first thing reported. It answers false, with a message,
// when the person was not referred.
func (in *ingest) engineReferral(ctx context.Context) (bool, error) {
	if in.ev.Type == parrain.EventStage {
		if err := in.upsertFriend(ctx); err != nil {
			return false, err
		}
		created, err := in.attribute(ctx)
		if err != nil {
			return false, err
		}
		if created {
			if err := in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerSignup}, ""); err != nil {
				return false, err
			}
		}
	} else {
		p, found, err := in.tx.ParticipantByExternalID(ctx, in.prog.ID, in.ev.ExternalID)
		if err != nil {
			return false, err
		}
		if !found {
			in.res.Message = fmt.Sprintf("%s is not a participant of this program: nothing to do", in.ev.ExternalID)
			return false, nil
		}
		in.friend = &p
		in.res.Participant = &parrain.ParticipantRef{ExternalID: p.ExternalID, Code: p.Code}
		ref, found, err := in.tx.ReferralByFriend(ctx, in.prog.ID, p.ID)
		if err != nil {
			return false, err
		}
		if !found {
			in.res.Message = fmt.Sprintf("%s was not referred in this program: nothing to do", in.ev.ExternalID)
			return false, nil
		}
		in.referral, in.res.Referral = &ref, &ref
		in.res.Credited = &parrain.ParticipantRef{ExternalID: ref.AdvocateExternalID, Code: ref.Code}
	}
	if in.referral == nil {
		if in.res.Message == "" {
			in.res.Message = fmt.Sprintf("%s was not referred in this program: nothing to do", in.ev.ExternalID)
		}
		return false, nil
	}
	if in.referral.Status == parrain.ReferralRejected {
		in.res.Message = "the referral was rejected (" + in.referral.Reason + "): it earns nothing"
		return false, nil
	}
	return true, nil
}

// stage handles a stage event: the lead reached a stage of the program.
func (in *ingest) stage(ctx context.Context) error {
	if !in.prog.HasStage(in.ev.Stage) {
		return parrain.Invalid("stage", "%q is not a stage of this program (%s)", in.ev.Stage, stageNames(in.prog))
	}
	ok, err := in.engineReferral(ctx)
	if err != nil || !ok {
		return err
	}
	src := parrain.GrantSource{EventID: in.res.EventID}
	return in.engineTx(ctx, func(w parrain.World, rc *parrain.Referred, out *engineOutcome) error {
		return applyStage(ctx, w, in.prog, rc, in.ev, src, out)
	})
}

// contract handles a contract event: the first-year contract value changed.
func (in *ingest) contract(ctx context.Context) error {
	ok, err := in.engineReferral(ctx)
	if err != nil || !ok {
		return err
	}
	src := parrain.GrantSource{EventID: in.res.EventID}
	return in.engineTx(ctx, func(w parrain.World, rc *parrain.Referred, out *engineOutcome) error {
		return applyContract(ctx, w, in.prog, rc, in.ev, src, out)
	})
}

// cancel handles a cancel event: the referred customer cancelled.
func (in *ingest) cancel(ctx context.Context) error {
	ok, err := in.engineReferral(ctx)
	if err != nil || !ok {
		return err
	}
	return in.engineTx(ctx, func(w parrain.World, rc *parrain.Referred, out *engineOutcome) error {
		return applyCancel(ctx, w, in.prog, rc, in.ev, out)
	})
}

// activity records that a referred customer used the product: the event
// row itself is the record (counted by the maturation check).
func (in *ingest) activity(ctx context.Context) error {
	p, found, err := in.tx.ParticipantByExternalID(ctx, in.prog.ID, in.ev.ExternalID)
	if err != nil {
		return err
	}
	if !found {
		return &parrain.Error{Code: parrain.CodeNotFound, Field: "external_id", Message: "no participant " + in.ev.ExternalID + " in this program"}
	}
	in.friend = &p
	in.res.Participant = &parrain.ParticipantRef{ExternalID: p.ExternalID, Code: p.Code}
	ref, found, err := in.tx.ReferralByFriend(ctx, in.prog.ID, p.ID)
	if err != nil {
		return err
	}
	if found {
		in.referral = &ref
	}
	in.res.Message = "activity recorded"
	return in.tx.RecordTraits(ctx, in.prog.ID, p.ID, in.ev.Context, in.ev.OccurredAt)
}

// moment handles the moment events (nps, rating, plan_upgrade, milestone,
// custom): the participant is created or refreshed like a signup's friend;
// the triggers run in afterEvent.
func (in *ingest) moment(ctx context.Context) error {
	return in.upsertFriend(ctx)
}

// afterEvent runs in the event's transaction once its main effects are
// applied: it links the friend's landing-page consent, enqueues the
// notices the event causes (friend signed up, rewards earned) and fires
// the moment triggers. Notices are enqueued with unique keys, so an event
// that meets an existing referral enqueues nothing new.
func (in *ingest) afterEvent(ctx context.Context) error {
	if in.friend != nil && in.ev.ConsentID != "" {
		if err := in.tx.LinkConsent(ctx, in.prog.ID, in.ev.ConsentID, in.friend.ID); err != nil {
			return err
		}
	}
	// A referral made by this event (or by one a moment ago, which already
	// enqueued the same, unique notice).
	if r := in.referral; r != nil && r.Status != parrain.ReferralRejected && r.CreatedAt.After(in.tx.Now().Add(-time.Minute)) {
		if err := in.tx.EnqueueNotify(ctx, parrain.NotifyArgs{Kind: parrain.NoticeFriendSignedUp, ProgramID: in.prog.ID,
			ParticipantID: r.AdvocateID, ReferralID: r.ID}); err != nil {
			return err
		}
	}
	for _, rw := range in.res.Rewards {
		if err := in.tx.EnqueueNotify(ctx, parrain.NotifyArgs{Kind: parrain.NoticeRewardEarned, ProgramID: in.prog.ID,
			ParticipantID: rw.ParticipantID, RewardID: rw.ID}); err != nil {
			return err
		}
	}
	return in.fireMoments(ctx)
}

func stageNames(p *parrain.Program) string {
	if len(p.Stages) == 0 {
		return "the program defines no stages"
	}
	s := ""
	for i, st := range p.Stages {
		if i > 0 {
			s += ", "
		}
		s += st.Name
	}
	return s
}
