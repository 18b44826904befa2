package referral

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Fraud decisions during ingestion and before a reward matures: the
// evidence is read from the store, scored by package fraud, and the
// decision applied to the referral here.

// velocityHours is how far back the velocity baselines look: a week of
// sliding hours.
const velocityHours = 7 * 24

// velocityWindow is the window of a velocity burst: the trailing hour.
const velocityWindow = time.Hour

// programVelocityCache keeps each program's baseline for the clock hour it
// was computed in: it moves slowly and its scan covers every referral of
// the week.
var programVelocityCache sync.Map // program id → cachedVelocity

type cachedVelocity struct {
	hour int64
	v    fraud.Velocity
}

// programVelocity returns the program's baseline of signups per active
// advocate per hour (what [fraud.Referral.ProgramHourly] means): every
// advocate with at least one signup in a sliding hour of the last week is
// one observation of their count, oldest first. Quiet advocates are not
// observations, so one advocate is compared with what an active advocate
// usually brings in an hour, not with the whole program.
func (in *ingest) programVelocity(ctx context.Context, at time.Time) (fraud.Velocity, error) {
	hour := at.UnixMilli() / int64(time.Hour/time.Millisecond)
	if v, ok := programVelocityCache.Load(in.prog.ID); ok && v.(cachedVelocity).hour == hour {
		return v.(cachedVelocity).v, nil
	}
	counts, err := in.tx.ActiveAdvocateHours(ctx, in.prog.ID, at, velocityHours)
	if err != nil {
		return fraud.Velocity{}, err
	}
	v := fraud.Velocity{}.UpdateAll(counts)
	programVelocityCache.Store(in.prog.ID, cachedVelocity{hour: hour, v: v})
	return v, nil
}

// rescoreBurst scores again the advocate's earlier signups of the trailing
// hour once a burst shows: the first signups of a burst were scored when
// the burst was not yet visible, and would otherwise be paid. Each is
// tightened only (a stricter decision applies, a looser one does not).
func (in *ingest) rescoreBurst(ctx context.Context, ref *parrain.Referral) error {
	at := in.ev.OccurredAt
	sibs, err := in.tx.UndecidedReferralsOf(ctx, ref.AdvocateID, ref.ID, at.Add(-velocityWindow), at, 200)
	if err != nil {
		return err
	}
	for i := range sibs {
		sib := &sibs[i]
		friend, err := in.tx.ParticipantByID(ctx, sib.FriendID)
		if err != nil {
			return fmt.Errorf("loading friend: %w", err)
		}
		sub := &ingest{tx: in.tx, prog: in.prog, ev: &parrain.Event{Type: parrain.EventSignup, OccurredAt: at},
			friend: &friend, referral: sib, signedUpAt: sib.SignedUpAt}
		if _, err := sub.tighten(ctx); err != nil {
			return err
		}
	}
	return nil
}

// fires reports whether the decision's signals include code.
func (r *riskOutcome) fires(code fraud.Code) bool {
	for _, o := range r.decision.Signals {
		if o.Code == code {
			return true
		}
	}
	return false
}

// riskOutcome is a fraud decision about to be applied to a referral.
type riskOutcome struct {
	decision fraud.Decision
}

func (r *riskOutcome) signalsJSON() string {
	b, _ := json.Marshal(r.decision.Signals)
	if len(r.decision.Signals) == 0 {
		return "[]"
	}
	return string(b)
}

// apply writes the decision into the referral being created.
func (r *riskOutcome) apply(ref *parrain.Referral) {
	d := r.decision
	ref.RiskScore, ref.RiskAction = d.Score, string(d.Action)
	ref.ReviewStatus = parrain.ReviewNone
	switch d.Action {
	case fraud.ActionFlag:
		ref.ReviewStatus = parrain.ReviewFlagged
	case fraud.ActionHold:
		ref.ReviewStatus = parrain.ReviewHeld
		if !d.ReviewBy.IsZero() {
			t := d.ReviewBy.UTC().Truncate(time.Millisecond)
			ref.ReviewDeadline = &t
		}
	case fraud.ActionReject, fraud.ActionSuspend:
		ref.Status, ref.Reason = parrain.ReferralRejected, parrain.ReasonFraud
		ref.ReviewStatus = parrain.ReviewRejected
	}
}

// recordRisk logs a non-trivial automatic decision and, for a suspension,
// suspends the advocate and voids what they have pending.
func recordRisk(ctx context.Context, tx *store.Tx, ref *parrain.Referral, r *riskOutcome) error {
	if len(r.decision.Signals) == 0 {
		return nil
	}
	if err := tx.LogFraudReview(ctx, ref, "auto_"+string(r.decision.Action), strings.Join(r.decision.Reasons, "; "), "system", r.decision.Score, r.signalsJSON()); err != nil {
		return err
	}
	if r.decision.Action != fraud.ActionApprove {
		if err := tx.Emit(ctx, ref.ProgramID, parrain.WebhookFraudFlagged, map[string]any{
			"referral": ref, "action": r.decision.Action, "score": r.decision.Score, "signals": r.decision.Signals,
		}); err != nil {
			return err
		}
	}
	if r.decision.Action == fraud.ActionSuspend {
		return tx.SuspendParticipant(ctx, ref.AdvocateID, "suspended by the fraud policy")
	}
	return nil
}

// assess scores the referral being attributed to adv from everything the
// database knows. It runs inside the ingestion transaction.
func (in *ingest) assess(ctx context.Context, adv parrain.Participant, cand *parrain.Candidate) (*riskOutcome, error) {
	doc, err := in.tx.FraudPolicyDoc(ctx, in.prog.ID)
	if err != nil {
		return nil, err
	}
	eng, err := fraud.Compiled(doc)
	if err != nil {
		return nil, err
	}
	r, err := in.fraudInput(ctx, eng, adv, cand)
	if err != nil {
		return nil, err
	}
	return &riskOutcome{decision: eng.Decide(r)}, nil
}

// party fills a fraud party's device, payment, address and IPs from traits
// (newest first), without overriding what the event itself says.
func party(p *fraud.Party, ts []store.Trait) {
	for _, t := range ts {
		switch t.Kind {
		case "ip":
			if p.IP == "" {
				p.IP = t.Value
			} else if t.Value != p.IP {
				p.RecentIPs = append(p.RecentIPs, t.Value)
			}
		case "device":
			if p.DeviceID == "" {
				p.DeviceID = t.Value
			}
		case "payment":
			if p.PaymentFingerprint == "" {
				p.PaymentFingerprint = t.Value
			}
		case "address":
			if p.Address == "" {
				p.Address = t.Value
			}
		case "ua":
			if p.UserAgent == "" {
				p.UserAgent = t.Value
			}
		}
	}
}

func clickOf(c store.ClickRow) fraud.Click {
	fc := fraud.Click{At: c.At, IP: c.IP, UserAgent: c.UserAgent, Referer: c.Referer}
	if c.Params != "" {
		fc.LandingURL = "/?" + c.Params
	}
	return fc
}

func (in *ingest) fraudInput(ctx context.Context, eng *fraud.Engine, adv parrain.Participant, cand *parrain.Candidate) (*fraud.Referral, error) {
	at := in.ev.OccurredAt
	r := &fraud.Referral{At: at, Code: adv.Code}
	r.Advocate = fraud.Party{ExternalID: adv.ExternalID, Email: adv.Email, Name: adv.Name, SignedUpAt: adv.CreatedAt}
	ts, err := in.tx.Traits(ctx, adv.ID, at.Add(-30*24*time.Hour))
	if err != nil {
		return nil, err
	}
	party(&r.Advocate, ts)
	f := in.friend
	r.Friend = fraud.Party{ExternalID: f.ExternalID, Email: f.Email, Name: f.Name, SignedUpAt: at}
	if c := in.ev.Context; c != nil {
		r.Friend.IP, r.Friend.UserAgent, r.Friend.DeviceID = c.IP, c.UserAgent, c.DeviceID
		r.Friend.PaymentFingerprint, r.Friend.Address, r.Friend.Country, r.Friend.AlreadyCustomer = c.PaymentFingerprint, c.Address, c.Country, c.AlreadyCustomer
	}
	if !in.friendNew {
		// A friend this event created has no traits but the event's
		// context, set above: nothing to read.
		fts, err := in.tx.Traits(ctx, f.ID, at.Add(-365*24*time.Hour))
		if err != nil {
			return nil, err
		}
		party(&r.Friend, fts)
	}
	r.Conversion = in.conversion
	r.FriendActivity = in.activityFacts
	if !in.signedUpAt.IsZero() {
		r.Friend.SignedUpAt = in.signedUpAt
	}

	// Clicks on the advocate's code in the recent window, and the click
	// this referral came through.
	window := eng.Policy().Tuning.ClickWindow
	if window <= 0 {
		window = time.Hour
	}
	from := at.Add(-window)
	if cand != nil && !cand.Typed && cand.At.Before(from) {
		from = cand.At.Add(-window)
	}
	clicks, err := in.tx.ClicksOf(ctx, adv.ID, from, at, 500)
	if err != nil {
		return nil, err
	}
	var best *fraud.Click
	for _, row := range clicks {
		c := clickOf(row)
		ip := row.IP
		if !c.At.Before(at.Add(-window)) {
			r.RecentClicks = append(r.RecentClicks, c)
		}
		// The referral's own click: at the cookie touch time (seconds), or
		// for a typed code the latest click from the friend's IP.
		switch {
		case cand != nil && !cand.Typed:
			if d := c.At.Sub(cand.At); d > -2*time.Second && d < 2*time.Second && (best == nil || (ip != "" && ip == r.Friend.IP)) {
				cc := c
				best = &cc
			}
		case r.Friend.IP != "" && ip == r.Friend.IP && best == nil:
			cc := c
			best = &cc
		}
	}
	r.Click = best

	// Velocity: the advocate's signups in the trailing 60 minutes (a
	// sliding window, so a burst straddling a clock hour counts whole)
	// against their own sliding hours of the last week, and against the
	// program's baseline of signups per active advocate per hour.
	perHour, err := in.tx.AdvocateSignupsPerHour(ctx, adv.ID, at, velocityHours)
	if err != nil {
		return nil, err
	}
	r.AdvocateHistory.ThisHour = perHour[0]
	if in.referral == nil {
		r.AdvocateHistory.ThisHour++ // the signup being attributed, not stored yet
	}
	for k := velocityHours - 1; k >= 1; k-- { // oldest hour first
		r.AdvocateHistory.Hourly = r.AdvocateHistory.Hourly.Update(perHour[k])
	}
	if r.ProgramHourly, err = in.programVelocity(ctx, at); err != nil {
		return nil, err
	}
	if r.AdvocateHistory.Referrals, r.AdvocateHistory.RefundedReferrals, err = in.tx.AdvocateHistory(ctx, in.prog.ID, adv.ID); err != nil {
		return nil, err
	}
	if in.judgingRefund && r.AdvocateHistory.RefundedReferrals > 0 && r.AdvocateHistory.Referrals > 0 {
		// The history is of the advocate's other referrals: the one
		// refunded by this event is counted in both totals.
		r.AdvocateHistory.Referrals--
		r.AdvocateHistory.RefundedReferrals--
	}
	// Referred friends who never used the product, when the integration
	// reports activity.
	tracked, err := in.tx.TracksActivity(ctx, in.prog.ID)
	if err != nil {
		return nil, err
	}
	if tracked {
		if r.AdvocateHistory.InactiveReferrals, err = in.tx.InactiveReferrals(ctx, adv.ID, at.Add(-eng.Policy().Tuning.InactiveAfter)); err != nil {
			return nil, err
		}
	}
	// Convergence: other friends of this program paying with the same card
	// or shipping to the same address.
	if r.Convergence.SamePaymentFriends, err = in.tx.FriendsSharingTrait(ctx, in.prog.ID, "payment", r.Friend.PaymentFingerprint, f.ID); err != nil {
		return nil, err
	}
	if r.Convergence.SameAddressFriends, err = in.tx.FriendsSharingTrait(ctx, in.prog.ID, "address", r.Friend.Address, f.ID); err != nil {
		return nil, err
	}
	return r, nil
}

// reassessAfterRefund scores a referral again after a refund of one of its
// purchases, with the conversion timeline (a refund shortly after the reward
// is a signal). It only ever tightens the review state.
func (in *ingest) reassessAfterRefund(ctx context.Context, purchaseAt, rewardedAt time.Time) error {
	ref := in.referral
	if ref.Status == parrain.ReferralRejected || ref.ReviewStatus == parrain.ReviewCleared {
		return nil
	}
	friend, err := in.tx.ParticipantByID(ctx, ref.FriendID)
	if err != nil {
		return fmt.Errorf("loading friend: %w", err)
	}
	in.friend = &friend
	in.conversion = &fraud.Conversion{At: purchaseAt, RewardedAt: rewardedAt, RefundedAt: in.ev.OccurredAt}
	in.judgingRefund = true
	// Whether the friend used the product before refunding separates a
	// customer who changed their mind from a cash-out account; it is known
	// only in programs that report activity.
	tracked, err := in.tx.TracksActivity(ctx, in.prog.ID)
	if err != nil {
		return err
	}
	if tracked {
		n, last, err := in.tx.ActivityOf(ctx, in.prog.ID, friend.ID)
		if err != nil {
			return err
		}
		act := &fraud.Activity{Events: n}
		if last != nil {
			act.LastSeen = *last
		}
		in.activityFacts = act
		in.signedUpAt = ref.SignedUpAt
	}
	_, err = in.tighten(ctx)
	return err
}

// reassess scores an existing referral again when an event brings new
// evidence (a payment fingerprint, a device) and tightens its review state
// if the new decision is stricter. It returns false when the referral is
// now rejected and must not be rewarded.
func (in *ingest) reassess(ctx context.Context) (bool, error) {
	ref := in.referral
	if in.ev.Context == nil || ref == nil || ref.Status == parrain.ReferralRejected || ref.ReviewStatus == parrain.ReviewCleared {
		return ref != nil && ref.Status != parrain.ReferralRejected, nil
	}
	return in.tighten(ctx)
}

// tighten scores in.referral again and applies the decision if it is
// stricter than the current one.
func (in *ingest) tighten(ctx context.Context) (bool, error) {
	ref := in.referral
	adv, err := in.tx.ParticipantByID(ctx, ref.AdvocateID)
	if err != nil {
		return false, fmt.Errorf("loading advocate: %w", err)
	}
	risk, err := in.assess(ctx, adv, nil)
	if err != nil {
		return false, err
	}
	if severity(string(risk.decision.Action)) <= severity(ref.RiskAction) {
		return true, nil
	}
	next := *ref
	risk.apply(&next)
	if err := in.tx.UpdateReferralRisk(ctx, &next, risk.signalsJSON()); err != nil {
		return false, err
	}
	*ref = next
	if err := recordRisk(ctx, in.tx, ref, risk); err != nil {
		return false, err
	}
	if ref.Status == parrain.ReferralRejected {
		in.res.Message = "rejected by the fraud policy on new evidence: its rewards are voided"
		return false, in.tx.VoidReferralRewards(ctx, ref.ID, "rejected by the fraud policy")
	}
	return true, nil
}

func severity(action string) int {
	switch fraud.Action(action) {
	case fraud.ActionFlag:
		return 1
	case fraud.ActionHold:
		return 2
	case fraud.ActionReject:
		return 3
	case fraud.ActionSuspend:
		return 4
	}
	return 0
}

// checkActivity runs before a reward matures, for programs whose
// integration reports activity events: a referred customer with no product
// activity since signup is scored again (the no-activity signal), which may
// put the referral under review. It returns true when approval must wait.
// The store's maturation calls it through store.SetMaturityCheck.
func checkActivity(ctx context.Context, tx *store.Tx, rw *parrain.Reward) (bool, error) {
	tracked, err := tx.TracksActivity(ctx, rw.ProgramID)
	if err != nil || !tracked {
		return false, err // untracked: the integration does not report activity
	}
	ref, err := tx.ReferralByID(ctx, rw.ReferralID)
	if err != nil {
		return false, err
	}
	if ref.Status == parrain.ReferralRejected || ref.ReviewStatus == parrain.ReviewCleared {
		return false, nil
	}
	n, last, err := tx.ActivityOf(ctx, rw.ProgramID, ref.FriendID)
	if err != nil {
		return false, err
	}
	prog, err := tx.Program(ctx, rw.ProgramID)
	if err != nil {
		return false, err
	}
	friend, err := tx.ParticipantByID(ctx, ref.FriendID)
	if err != nil {
		return false, err
	}
	in := &ingest{tx: tx, prog: &prog, ev: &parrain.Event{Type: parrain.EventActivity, OccurredAt: tx.Now()}, friend: &friend, referral: &ref}
	act := &fraud.Activity{Events: n}
	if last != nil {
		act.LastSeen = *last
	}
	in.activityFacts = act
	in.signedUpAt = ref.SignedUpAt
	if _, err := in.tighten(ctx); err != nil {
		return false, err
	}
	return parrain.UnderReview(ref.ReviewStatus) || ref.Status == parrain.ReferralRejected, nil
}
