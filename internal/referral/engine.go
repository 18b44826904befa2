package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// The reward engine's glue: the logic that turns an event on a referral
// into rewards, shared by real ingestion and dry runs (the event's
// transaction) and by replay (an in-memory world seeded from the
// database), through the parrain.World port. The arithmetic is in parrain
// (EvaluateWith, TrueUp); this file decides what to record.

// firstPurchaseStage is the pseudo-stage that marks a referral's first
// qualifying purchase (stage names cannot contain ':').
const firstPurchaseStage = ":first_purchase"

// occasion returns the base occasion of an event on the referral.
func occasion(rc *parrain.Referred, ev *parrain.Event) parrain.Occasion {
	return parrain.Occasion{At: ev.OccurredAt, FXRate: ev.FXRate, Plan: ev.Plan, PartnerTier: ev.PartnerTier,
		ExistingCustomer: ev.ExistingCustomer || rc.Friend.CreatedAt.Before(rc.Referral.CreatedAt),
		ReferralID:       rc.Referral.ID, Advocate: &rc.Advocate, Friend: &rc.Friend}
}

// engineOutcome collects what an event did.
type engineOutcome struct {
	rewards   []parrain.Reward
	reversals []parrain.ReversalResult
	skipped   []parrain.Skip
	message   string
	duplicate bool
}

// applyAwards evaluates the rules for an occasion and grants the awards.
func applyAwards(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, o parrain.Occasion, src parrain.GrantSource, out *engineOutcome) error {
	awards, skips, err := parrain.EvaluateWith(prog, o, w)
	if err != nil {
		return err
	}
	out.skipped = append(out.skipped, skips...)
	src.Version = prog.Version
	for _, a := range awards {
		rw, err := w.Grant(ctx, rc, a, src)
		if err != nil {
			return err
		}
		out.rewards = append(out.rewards, rw)
	}
	return nil
}

// markSuccess marks the referral successful when the occasion is the
// program's success event and the advocate may earn; o.Success tells the
// rules (milestones) about it.
func markSuccess(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, o *parrain.Occasion) error {
	if rc.Referral.Status == parrain.ReferralRejected || !prog.SuccessMatches(*o) {
		return nil
	}
	if ok, _ := prog.AdvocateEligible(&rc.Advocate); !ok {
		return nil
	}
	first, err := w.Succeed(ctx, rc, o.At)
	o.Success = first
	return err
}

// applySignup rewards a new referral's signup.
func applySignup(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, ev *parrain.Event, src parrain.GrantSource, out *engineOutcome) error {
	o := occasion(rc, ev)
	o.Trigger = parrain.TriggerSignup
	if err := markSuccess(ctx, w, prog, rc, &o); err != nil {
		return err
	}
	return applyAwards(ctx, w, prog, rc, o, src, out)
}

// purchaseFacts are the facts of a referred purchase that do not depend on
// the rules.
type purchaseFacts struct {
	Amount         int64
	Currency       string
	PaymentNumber  int       // the purchase's rank among the referral's purchases
	FirstPaymentAt time.Time // the referral's first purchase
}

// applyPurchase rewards a referred purchase: whether it qualifies, whether
// it is the first that does, success, then the rules.
func applyPurchase(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, ev *parrain.Event, pf purchaseFacts, src parrain.GrantSource, out *engineOutcome) error {
	o := occasion(rc, ev)
	o.Trigger, o.Amount, o.Currency = parrain.TriggerPurchase, pf.Amount, pf.Currency
	o.PaymentNumber, o.FirstPaymentAt = pf.PaymentNumber, pf.FirstPaymentAt
	if ok, _ := prog.PurchaseQualifies(o); ok {
		first, _, err := w.Reach(ctx, rc, firstPurchaseStage, src.EventID, &pf.Amount, pf.Currency, ev.OccurredAt)
		if err != nil {
			return err
		}
		o.FirstPurchase = first
	}
	if err := markSuccess(ctx, w, prog, rc, &o); err != nil {
		return err
	}
	return applyAwards(ctx, w, prog, rc, o, src, out)
}

// applyStage rewards a stage reached for the first time; a stage already
// reached is a duplicate and rewards nothing.
func applyStage(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, ev *parrain.Event, src parrain.GrantSource, out *engineOutcome) error {
	first, at, err := w.Reach(ctx, rc, ev.Stage, src.EventID, ev.Value, ev.Currency, ev.OccurredAt)
	if err != nil {
		return err
	}
	if !first {
		out.duplicate = true
		out.message = fmt.Sprintf("stage %s was already reached on %s: a stage rewards at most once per referral", ev.Stage, at.Format(time.RFC3339))
		return nil
	}
	o := occasion(rc, ev)
	o.Trigger, o.Stage = parrain.TriggerStage, ev.Stage
	if ev.Value != nil {
		o.Amount, o.Currency = *ev.Value, ev.Currency
	}
	if err := markSuccess(ctx, w, prog, rc, &o); err != nil {
		return err
	}
	return applyAwards(ctx, w, prog, rc, o, src, out)
}

// applyContract trues up the commissions that follow the contract value.
func applyContract(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, ev *parrain.Event, src parrain.GrantSource, out *engineOutcome) error {
	if rc.Referral.Status == parrain.ReferralRejected {
		out.message = "the referral was rejected: nothing to true up"
		return nil
	}
	rws, err := w.RewardsOf(ctx, rc.Referral.ID)
	if err != nil {
		return err
	}
	lines, err := commissionLines(ctx, w, rc, rws)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		out.message = "no commission of this referral follows the contract value (no true_up_months rule has rewarded it yet)"
		return nil
	}
	o := occasion(rc, ev)
	o.Trigger, o.Amount, o.Currency = parrain.TriggerContract, *ev.Value, ev.Currency
	awards, downs, skips, err := parrain.TrueUp(prog, o, lines, w)
	if err != nil {
		return err
	}
	out.skipped = append(out.skipped, skips...)
	for _, a := range awards {
		src.Version = lineVersion(lines, a.RuleID, a.Role)
		rw, err := w.Grant(ctx, rc, a, src)
		if err != nil {
			return err
		}
		out.rewards = append(out.rewards, rw)
	}
	for _, d := range downs {
		left := d.Amount
		// Take the decrease off the line's newest rewards first.
		for i := len(rws) - 1; i >= 0 && left > 0; i-- {
			rw := &rws[i]
			if rw.RuleID != d.Line.Rule.ID || rw.Role != d.Line.Role || rw.Outstanding() <= 0 {
				continue
			}
			x := min(left, rw.Outstanding())
			rv, err := w.Reverse(ctx, rw, x, d.Explanation)
			if err != nil {
				return err
			}
			out.reversals = append(out.reversals, rv)
			left -= x
		}
	}
	return nil
}

func lineVersion(lines []parrain.CommissionLine, ruleID string, role parrain.Role) int {
	for _, l := range lines {
		if l.Rule.ID == ruleID && l.Role == role {
			return l.Version
		}
	}
	return 0
}

// commissionLines groups a referral's rewards by rule and role for the
// rules that follow the contract value, with the rule and rate of the
// original reward.
func commissionLines(ctx context.Context, w parrain.World, rc *parrain.Referred, rws []parrain.Reward) ([]parrain.CommissionLine, error) {
	type key struct {
		rule string
		role parrain.Role
	}
	idx := map[key]int{}
	var lines []parrain.CommissionLine
	for _, rw := range rws {
		k := key{rw.RuleID, rw.Role}
		if i, ok := idx[k]; ok {
			lines[i].Earned += rw.Outstanding()
			continue
		}
		if rw.Trigger != parrain.TriggerStage || rw.AmountType != parrain.AmountPercent {
			continue
		}
		prog, err := w.Program(ctx, rw.RuleVersion)
		if err != nil {
			return nil, err
		}
		r, ok := prog.Rule(rw.RuleID)
		if !ok || r.Trigger != parrain.TriggerStage {
			continue
		}
		spec := r.Advocate
		if rw.Role == parrain.RoleFriend {
			spec = r.Friend
		}
		if spec == nil || spec.TrueUpMonths == 0 {
			continue
		}
		at, ok, err := w.ReachedAt(ctx, rc.Referral.ID, r.Stage)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		idx[k] = len(lines)
		lines = append(lines, parrain.CommissionLine{Rule: r, Role: rw.Role, Owner: rw.ParticipantID, Version: rw.RuleVersion,
			RateBps: rw.RateBps, ReachedAt: at, Earned: rw.Outstanding()})
	}
	return lines, nil
}

// applyCancel voids what a cancellation within the hold voids: the
// referral's rewards still on hold (contest prizes excepted) and its
// success when it succeeded less than a hold ago.
func applyCancel(ctx context.Context, w parrain.World, prog *parrain.Program, rc *parrain.Referred, ev *parrain.Event, out *engineOutcome) error {
	at := ev.OccurredAt
	succ, err := w.SucceededAt(ctx, rc.Referral.ID)
	if err != nil {
		return err
	}
	void := succ != nil && at.Before(succ.Add(prog.Hold()))
	if err := w.Cancel(ctx, rc.Referral.ID, at, void); err != nil {
		return err
	}
	rws, err := w.RewardsOf(ctx, rc.Referral.ID)
	if err != nil {
		return err
	}
	for i := range rws {
		rw := &rws[i]
		if rw.Trigger == parrain.TriggerContest || rw.Status != parrain.RewardPending || rw.Outstanding() <= 0 || !at.Before(rw.HoldUntil) {
			continue
		}
		rv, err := w.Reverse(ctx, rw, rw.Outstanding(), fmt.Sprintf("the customer cancelled on %s, within the hold", at.Format("2006-01-02")))
		if err != nil {
			return err
		}
		out.reversals = append(out.reversals, rv)
	}
	switch {
	case len(out.reversals) > 0:
		out.message = fmt.Sprintf("cancelled within the hold: %d reward(s) voided", len(out.reversals))
	default:
		out.message = "cancelled: no reward was still on hold"
	}
	if void {
		out.message += "; the referral no longer counts as successful"
	}
	return nil
}
