package parrain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The reward engine: given a program, an occasion (what just happened to a
// referral) and facts about the past, it computes the rewards to create,
// each with the inputs and the arithmetic that produced it, and the rules
// that matched but granted nothing, with the reason. It is pure: history
// comes through the Facts interface, time through the occasion.
//
// The pipeline of one rule side is: trigger → eligibility → base amount
// (converted into the program currency when needed) → rate (partner tier,
// tier by count, recurring intro rate) → amount, rounded to the minor unit
// with the program's rounding → the rule's max_amount → the program's caps
// (per referral, per participant per period, budget per period) → zero
// check.

// Facts answers the engine's questions about history. Sums count what is
// outstanding (amount minus reversed) of rewards whose event happened in
// [from, to); counts exclude the referral being evaluated.
type Facts interface {
	// Successes counts the advocate's successful, non-voided referrals,
	// other than excludeReferralID, that succeeded in [from, to).
	Successes(advocateID, excludeReferralID string, from, to time.Time) (int, error)
	// Earned sums a participant's outstanding rewards in [from, to); with a
	// referralID, only those of that referral.
	Earned(participantID, referralID string, from, to time.Time) (int64, error)
	// Spent sums the program's outstanding rewards in [from, to).
	Spent(from, to time.Time) (int64, error)
	// Rewarded reports whether a rule gave a participant an outstanding
	// reward in [from, to).
	Rewarded(ruleID, participantID string, from, to time.Time) (bool, error)
}

// NoFacts is an empty history: nothing earned, nobody successful yet.
type NoFacts struct{}

// Successes returns 0.
func (NoFacts) Successes(string, string, time.Time, time.Time) (int, error) { return 0, nil }

// Earned returns 0.
func (NoFacts) Earned(string, string, time.Time, time.Time) (int64, error) { return 0, nil }

// Spent returns 0.
func (NoFacts) Spent(time.Time, time.Time) (int64, error) { return 0, nil }

// Rewarded returns false.
func (NoFacts) Rewarded(string, string, time.Time, time.Time) (bool, error) { return false, nil }

// Award is a reward the engine grants: the draft to store plus what
// explains it.
type Award struct {
	Draft
	// Owner is the participant id the reward goes to.
	Owner string
	// At is when the event that earned it happened.
	At    time.Time
	Stage string
	// Review is non-empty when the reward exceeds a cap and the program
	// queues such rewards for manual approval: it says which cap.
	Review string
	// Immediate rewards are delivered without the hold.
	Immediate bool
	// Spec is the side's reward spec, kept for fulfilment.
	Spec   RewardSpec
	Inputs Inputs
	// Steps are the arithmetic, one human-readable step each.
	Steps []string
}

// FXUse records a currency conversion: Amount of From at Rate gave
// Converted of To. Source says where the rate came from (event or program).
type FXUse struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Rate      string `json:"rate"`
	Source    string `json:"source"`
	Amount    int64  `json:"amount"`
	Converted int64  `json:"converted"`
}

// Inputs are the facts a reward was computed from.
type Inputs struct {
	// Event says what happened ("purchase", "stage closed_won", …).
	Event string `json:"event"`
	// Amount and Currency are the event's amount or value as reported.
	Amount   int64  `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	// FX is the conversion into the program currency, if any.
	FX *FXUse `json:"fx,omitempty"`
	// Base is the amount, in the program currency, the rate applied to.
	Base int64 `json:"base,omitempty"`
	// RateBps is the rate applied, and RateSource why this rate.
	RateBps    int64  `json:"rate_bps,omitempty"`
	RateSource string `json:"rate_source,omitempty"`
	// PartnerTier is the partner tier that chose the rate.
	PartnerTier string `json:"partner_tier,omitempty"`
	// PaymentNumber is the payment's rank among the referral's payments.
	PaymentNumber int `json:"payment_number,omitempty"`
	// SuccessfulReferrals is the advocate's count of successful referrals
	// in Period, this one included, used by a tier or a milestone.
	SuccessfulReferrals int    `json:"successful_referrals,omitempty"`
	Period              string `json:"period,omitempty"`
	// Earned is what a true-up found already earned on the contract.
	Earned int64 `json:"earned,omitempty"`
	// Variant is the 1-based personalised variant of the rule side that
	// applied (0: none, the rule's own reward), and VariantWhy what
	// matched.
	Variant    int    `json:"variant,omitempty"`
	VariantWhy string `json:"variant_why,omitempty"`
	// Caps are the caps checked and how much room each left.
	Caps []CapCheck `json:"caps,omitempty"`
}

// CapCheck is one cap the engine checked.
type CapCheck struct {
	Cap     string `json:"cap"`
	Limit   int64  `json:"limit"`
	Used    int64  `json:"used"`
	Room    int64  `json:"room"`
	Applied bool   `json:"applied"`
}

// evaluation is one run of the engine: it remembers what it granted so far
// so that caps see the rewards of the same event.
type evaluation struct {
	p      *Program
	o      Occasion
	f      Facts
	mode   Rounding
	caps   Caps
	byPart map[string]int64 // granted per participant
	byRef  map[string]int64 // granted per participant on this referral
	total  int64            // granted in all
}

func newEvaluation(p *Program, o Occasion, f Facts) *evaluation {
	if f == nil {
		f = NoFacts{}
	}
	return &evaluation{p: p, o: o, f: f, mode: p.RoundingMode(), caps: p.CapsOrZero(),
		byPart: map[string]int64{}, byRef: map[string]int64{}}
}

// EvaluateWith returns the rewards a program's rules grant for an occasion
// given the facts of the past, and the rules that matched but granted
// nothing with the reason. Errors come only from the facts.
func EvaluateWith(p *Program, o Occasion, f Facts) ([]Award, []Skip, error) {
	ev := newEvaluation(p, o, f)
	advOK, advWhy := p.AdvocateEligible(o.Advocate)
	qualOK, qualWhy := true, ""
	if o.Trigger == TriggerPurchase {
		qualOK, qualWhy = p.PurchaseQualifies(o)
	}
	var awards []Award
	var skips []Skip
	for _, r := range p.Rules {
		if !ev.fires(r, qualOK) {
			continue
		}
		for _, side := range []struct {
			role Role
			spec *RewardSpec
		}{{RoleAdvocate, r.Advocate}, {RoleFriend, r.Friend}} {
			if side.spec == nil {
				continue
			}
			if !advOK {
				skips = append(skips, Skip{RuleID: r.ID, Role: side.role, Reason: "advocate_not_eligible: " + advWhy})
				continue
			}
			if (r.Trigger == TriggerPurchase || r.Trigger == TriggerFirstPurchase) && !qualOK {
				skips = append(skips, Skip{RuleID: r.ID, Role: side.role, Reason: "purchase_not_eligible: " + qualWhy})
				continue
			}
			a, why, err := ev.award(r, side.role, side.spec)
			if err != nil {
				return nil, nil, err
			}
			if why != "" {
				skips = append(skips, Skip{RuleID: r.ID, Role: side.role, Reason: why})
				continue
			}
			awards = append(awards, a)
		}
	}
	return awards, skips, nil
}

// fires reports whether a rule's trigger matches the occasion. A
// first_purchase rule is also considered on a purchase that does not
// qualify, so that the skip says why.
func (ev *evaluation) fires(r RewardRule, qualOK bool) bool {
	o := ev.o
	switch r.Trigger {
	case TriggerSignup:
		return o.Trigger == TriggerSignup
	case TriggerPurchase:
		return o.Trigger == TriggerPurchase
	case TriggerFirstPurchase:
		return o.Trigger == TriggerPurchase && (o.FirstPurchase || (!qualOK && o.PaymentNumber <= 1))
	case TriggerStage:
		return o.Trigger == TriggerStage && o.Stage == r.Stage
	case TriggerMilestone:
		return o.Success
	}
	return false
}

// owner returns the participant id of a side.
func (ev *evaluation) owner(role Role) string {
	p := ev.o.Advocate
	if role == RoleFriend {
		p = ev.o.Friend
	}
	if p == nil {
		return ""
	}
	return p.ID
}

func (ev *evaluation) advocateID() string { return ev.owner(RoleAdvocate) }

// describe names the occasion for explanations.
func (o Occasion) describe() string {
	switch o.Trigger {
	case TriggerPurchase:
		if o.FirstPurchase {
			return "first purchase"
		}
		return "purchase"
	case TriggerStage:
		return "stage " + o.Stage
	case TriggerContract:
		return "contract change"
	}
	return string(o.Trigger)
}

// ruleLabel is the "rule id (trigger)" prefix of an explanation.
func ruleLabel(r RewardRule) string {
	switch r.Trigger {
	case TriggerStage:
		return fmt.Sprintf("rule %s (stage %s)", r.ID, r.Stage)
	case TriggerMilestone:
		return fmt.Sprintf("rule %s (milestone: successful referral %s)", r.ID, ordinal(r.Milestone.Count))
	}
	return fmt.Sprintf("rule %s (%s)", r.ID, r.Trigger)
}

// award computes one side's reward; why is set when it grants nothing.
func (ev *evaluation) award(r RewardRule, role Role, s *RewardSpec) (Award, string, error) {
	p, o := ev.p, ev.o
	a := Award{Owner: ev.owner(role), At: o.At, Inputs: Inputs{Event: o.describe(), PaymentNumber: o.PaymentNumber}}
	s, err := ev.personalise(s, &a)
	if err != nil {
		return a, "", err
	}
	a.Draft = Draft{RuleID: r.ID, Role: role, Trigger: r.Trigger, Kind: s.Kind, AmountType: s.Type,
		Currency: p.Currency, Description: s.Description}
	a.Spec, a.Immediate = *s, s.Deliver == DeliverImmediately
	if o.Trigger == TriggerStage {
		a.Stage = o.Stage
	}
	if o.Currency != "" && (o.Amount != 0 || o.Trigger == TriggerPurchase) {
		a.Inputs.Amount, a.Inputs.Currency = o.Amount, o.Currency
	}
	if r.Trigger == TriggerMilestone {
		why, err := ev.milestone(r, &a)
		if why != "" || err != nil {
			return a, why, err
		}
	}
	// Tiers by the advocate's count of successful referrals.
	var step *TierStep
	if len(s.Tiers) > 0 {
		period := s.TierPeriod.orLifetime()
		from, to := period.Bounds(o.At)
		n, err := ev.f.Successes(ev.advocateID(), o.ReferralID, from, to)
		if err != nil {
			return a, "", err
		}
		n++
		a.Inputs.SuccessfulReferrals, a.Inputs.Period = n, period.Label(o.At)
		for i := range s.Tiers {
			if n >= s.Tiers[i].From {
				step = &s.Tiers[i]
			}
		}
	}
	tierNote := func() string {
		if len(s.Tiers) == 0 {
			return ""
		}
		if step == nil {
			return fmt.Sprintf("base tier (this is the %s successful referral %s; the next tier starts at the %s): ",
				ordinal(a.Inputs.SuccessfulReferrals), s.TierPeriod.orLifetime().phrase(o.At), ordinal(s.Tiers[0].From))
		}
		return fmt.Sprintf("tier from the %s successful referral (this is the %s %s): ",
			ordinal(step.From), ordinal(a.Inputs.SuccessfulReferrals), s.TierPeriod.orLifetime().phrase(o.At))
	}
	var amt int64
	switch s.Type {
	case AmountFixed:
		amt = s.Amount
		if step != nil {
			amt = step.Amount
		}
		a.Steps = append(a.Steps, fmt.Sprintf("%sfixed %s %s", tierNote(), FormatMinor(amt, p.Currency), p.Currency))
	case AmountPercent:
		if why := ev.recurring(s, &a); why != "" {
			return a, why, nil
		}
		base, why, err := ev.base(&a)
		if why != "" || err != nil {
			return a, why, err
		}
		rate, src := ev.rate(s, step, &a)
		a.Inputs.RateBps, a.Inputs.RateSource = rate, src
		v, err := MulDiv(base, rate, 10000, ev.mode)
		if err != nil {
			return a, "overflow", nil
		}
		amt = v
		prefix := tierNote()
		if src != "" && step == nil {
			prefix = src + ": "
		}
		a.Steps = append(a.Steps, fmt.Sprintf("%s%s%% of %s %s = %s (%s)", prefix, FormatBps(rate),
			FormatMinor(base, p.Currency), p.Currency, FormatMinor(amt, p.Currency), RoundingLabel(ev.mode)))
	}
	if amt <= 0 {
		return a, "zero_amount", nil
	}
	if s.MaxAmount > 0 && amt > s.MaxAmount {
		amt = s.MaxAmount
		a.Steps = append(a.Steps, fmt.Sprintf("capped at %s", FormatMinor(s.MaxAmount, p.Currency)))
	}
	amt, why, err := ev.applyCaps(&a, amt)
	if why != "" || err != nil {
		return a, why, err
	}
	a.Amount = amt
	a.Explanation = ruleLabel(r) + ": " + strings.Join(a.Steps, ", ")
	return a, "", nil
}

// milestone checks a milestone rule: the advocate's successful referral
// count in the period, this one included, must equal the milestone, and the
// bonus must not already stand in the period.
func (ev *evaluation) milestone(r RewardRule, a *Award) (string, error) {
	m := r.Milestone
	period := m.Period.orLifetime()
	from, to := period.Bounds(ev.o.At)
	n, err := ev.f.Successes(ev.advocateID(), ev.o.ReferralID, from, to)
	if err != nil {
		return "", err
	}
	n++
	a.Inputs.SuccessfulReferrals, a.Inputs.Period = n, period.Label(ev.o.At)
	if n != m.Count {
		return fmt.Sprintf("milestone_not_reached: this is the %s successful referral %s; the bonus is for the %s",
			ordinal(n), period.phrase(ev.o.At), ordinal(m.Count)), nil
	}
	done, err := ev.f.Rewarded(r.ID, a.Owner, from, to)
	if err != nil {
		return "", err
	}
	if done {
		return fmt.Sprintf("milestone_already_rewarded: the bonus was already granted %s", period.phrase(ev.o.At)), nil
	}
	a.Steps = append(a.Steps, fmt.Sprintf("%s successful referral %s", ordinal(n), period.phrase(ev.o.At)))
	return "", nil
}

// recurring checks the commission period of a recurring percentage.
func (ev *evaluation) recurring(s *RewardSpec, a *Award) string {
	o := ev.o
	if s.Payments > 0 && o.PaymentNumber > s.Payments {
		return fmt.Sprintf("commission_period_over: this is payment %d and the commission covers %d payments", o.PaymentNumber, s.Payments)
	}
	if s.Months > 0 && !o.FirstPaymentAt.IsZero() && !o.At.Before(o.FirstPaymentAt.AddDate(0, s.Months, 0)) {
		return fmt.Sprintf("commission_period_over: the commission covers payments until %s, %d months after the first payment",
			o.FirstPaymentAt.AddDate(0, s.Months, 0).Format("2006-01-02"), s.Months)
	}
	if s.Months > 0 || s.Payments > 0 {
		limit := []string{}
		if s.Payments > 0 {
			limit = append(limit, fmt.Sprintf("%d payments", s.Payments))
		}
		if s.Months > 0 && !o.FirstPaymentAt.IsZero() {
			limit = append(limit, "until "+o.FirstPaymentAt.AddDate(0, s.Months, 0).Format("2006-01-02"))
		}
		a.Steps = append(a.Steps, fmt.Sprintf("recurring commission, payment %d (covers %s)", max(o.PaymentNumber, 1), strings.Join(limit, ", ")))
	}
	return ""
}

// base returns the amount, in the program currency, a percentage applies
// to: the purchase amount or the stage value, converted when it is in
// another currency with the event's rate or the program's table.
func (ev *evaluation) base(a *Award) (int64, string, error) {
	p, o := ev.p, ev.o
	if o.Currency == "" {
		return 0, fmt.Sprintf("no_value: the %s carries no value to take a percentage of", o.describe()), nil
	}
	if o.Currency == p.Currency {
		a.Inputs.Base = o.Amount
		return o.Amount, "", nil
	}
	conv, fx, why := ev.convert(o.Amount, o.Currency)
	if why != "" {
		return 0, why, nil
	}
	a.Inputs.FX, a.Inputs.Base = fx, conv
	a.Steps = append(a.Steps, fmt.Sprintf("%s %s at %s (%s rate) = %s %s (%s)", FormatMinor(o.Amount, o.Currency), o.Currency,
		fx.Rate, fx.Source, FormatMinor(conv, p.Currency), p.Currency, RoundingLabel(ev.mode)))
	return conv, "", nil
}

// convert converts an amount into the program currency; why explains a
// missing rate.
func (ev *evaluation) convert(amount int64, cur string) (int64, *FXUse, string) {
	p, o := ev.p, ev.o
	text, source := o.FXRate, "event"
	if text == "" {
		text, source = p.FXRates[cur], "program"
	}
	what := "value"
	if o.Trigger == TriggerPurchase {
		what = "purchase"
	}
	if text == "" {
		return 0, nil, fmt.Sprintf("currency_mismatch: %s in %s, program in %s", what, cur, p.Currency)
	}
	r, err := ParseRate("fx_rate", text)
	if err != nil {
		return 0, nil, "invalid_fx_rate: " + err.Error()
	}
	conv, err := ConvertMinor(amount, cur, p.Currency, r, ev.mode)
	if err != nil {
		return 0, nil, "overflow"
	}
	return conv, &FXUse{From: cur, To: p.Currency, Rate: r.String(), Source: source, Amount: amount, Converted: conv}, ""
}

// rate chooses the percentage: the tier's, the intro rate of a recurring
// commission, the partner tier's or the spec's.
func (ev *evaluation) rate(s *RewardSpec, step *TierStep, a *Award) (int64, string) {
	o := ev.o
	rate, src := s.PercentBps, ""
	if len(s.PartnerRates) > 0 {
		tier, from := o.PartnerTier, "the deal"
		if tier == "" && o.Advocate != nil {
			tier, from = AttributeString(o.Advocate.Attributes, s.PartnerAttribute), "the advocate's "+s.PartnerAttribute
		}
		if r, ok := s.PartnerRates[tier]; ok && tier != "" {
			rate, src = r, fmt.Sprintf("partner tier %s (from %s)", tier, from)
			a.Inputs.PartnerTier = tier
		} else if tier != "" {
			src = fmt.Sprintf("partner tier %s has no rate: default rate", tier)
		} else {
			src = "no partner tier: default rate"
		}
	}
	if step != nil {
		rate, src = step.PercentBps, fmt.Sprintf("tier from the %s successful referral", ordinal(step.From))
	}
	if s.IntroPayments > 0 && max(o.PaymentNumber, 1) <= s.IntroPayments {
		rate, src = s.IntroPercentBps, fmt.Sprintf("intro rate for the first %d payments", s.IntroPayments)
	}
	return rate, src
}

// applyCaps limits amt by the program's caps, counting what the owner and
// the program have earned and what this evaluation granted. With on_cap
// stop the amount shrinks to the room left (why is set when nothing is
// left); with review the reward keeps its amount and is marked for manual
// approval.
func (ev *evaluation) applyCaps(a *Award, amt int64) (int64, string, error) {
	c, p, o := ev.caps, ev.p, ev.o
	type check struct {
		name  string
		limit int64
		used  func() (int64, error)
		add   func(int64)
	}
	var checks []check
	if c.PerReferral > 0 {
		checks = append(checks, check{"per-referral cap", c.PerReferral, func() (int64, error) {
			v, err := ev.f.Earned(a.Owner, o.ReferralID, Beginning, End)
			return v + ev.byRef[a.Owner], err
		}, func(x int64) { ev.byRef[a.Owner] += x }})
	}
	if pc := c.PerParticipant; pc != nil {
		period := pc.Period.orLifetime()
		from, to := period.Bounds(o.At)
		checks = append(checks, check{"per-participant cap " + period.phrase(o.At), pc.Amount, func() (int64, error) {
			v, err := ev.f.Earned(a.Owner, "", from, to)
			return v + ev.byPart[a.Owner], err
		}, func(x int64) { ev.byPart[a.Owner] += x }})
	}
	if b := c.Budget; b != nil {
		period := b.Period.orLifetime()
		from, to := period.Bounds(o.At)
		checks = append(checks, check{"program budget " + period.phrase(o.At), b.Amount, func() (int64, error) {
			v, err := ev.f.Spent(from, to)
			return v + ev.total, err
		}, func(x int64) { ev.total += x }})
	}
	room := amt
	binding := -1
	for i, ch := range checks {
		used, err := ch.used()
		if err != nil {
			return 0, "", err
		}
		left := max(ch.limit-used, 0)
		a.Inputs.Caps = append(a.Inputs.Caps, CapCheck{Cap: ch.name, Limit: ch.limit, Used: used, Room: left})
		if left < room {
			room, binding = left, i
		}
	}
	if binding >= 0 {
		cc := &a.Inputs.Caps[binding]
		cc.Applied = true
		name := checks[binding].name
		if c.OnCap == CapReview {
			a.Review = fmt.Sprintf("over the %s: %s of %s used, %s left", name, FormatMinor(cc.Used, p.Currency),
				FormatMinor(cc.Limit, p.Currency), FormatMinor(cc.Room, p.Currency))
			a.Steps = append(a.Steps, a.Review+": queued for manual approval")
		} else {
			if room <= 0 {
				return 0, fmt.Sprintf("cap_reached: the %s (%s %s) is used up", name, FormatMinor(cc.Limit, p.Currency), p.Currency), nil
			}
			a.Steps = append(a.Steps, fmt.Sprintf("capped at %s by the %s (%s of %s used)", FormatMinor(room, p.Currency), name,
				FormatMinor(cc.Used, p.Currency), FormatMinor(cc.Limit, p.Currency)))
			amt = room
		}
	}
	for _, ch := range checks {
		ch.add(amt)
	}
	return amt, "", nil
}

// ordinal renders 1 as "1st", 2 as "2nd", 11 as "11th".
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// AdvocateEligible reports whether the advocate may earn referral rewards
// under the program's advocate eligibility, and why not.
func (p *Program) AdvocateEligible(adv *Participant) (bool, string) {
	if p.Eligibility == nil || p.Eligibility.Advocates == nil {
		return true, ""
	}
	e := p.Eligibility.Advocates
	var attrs Attributes
	if adv != nil {
		attrs = adv.Attributes
	}
	if e.PayingOnly && AttributeString(attrs, "paying") != "true" {
		return false, "only paying customers may refer (attribute paying is not true)"
	}
	check := func(name string, allowed []string) (bool, string) {
		if len(allowed) == 0 {
			return true, ""
		}
		v := AttributeString(attrs, name)
		if slices.Contains(allowed, v) {
			return true, ""
		}
		return false, fmt.Sprintf("%s %q is not one of %s", name, v, strings.Join(allowed, ", "))
	}
	if ok, why := check("plan", e.Plans); !ok {
		return false, why
	}
	if ok, why := check("segment", e.Segments); !ok {
		return false, why
	}
	keys := make([]string, 0, len(e.Attributes))
	for k := range e.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if ok, why := check(k, e.Attributes[k]); !ok {
			return false, why
		}
	}
	return true, ""
}

// PurchaseQualifies reports whether a referred purchase counts under the
// program's purchase eligibility, and why not.
func (p *Program) PurchaseQualifies(o Occasion) (bool, string) {
	if p.Eligibility == nil || p.Eligibility.Purchases == nil {
		return true, ""
	}
	e := p.Eligibility.Purchases
	if e.FirstPurchaseOnly && o.PaymentNumber > 1 {
		return false, fmt.Sprintf("only the friend's first purchase counts (this is purchase %d)", o.PaymentNumber)
	}
	if len(e.Plans) > 0 && !slices.Contains(e.Plans, o.Plan) {
		return false, fmt.Sprintf("plan %q does not count (counted: %s)", o.Plan, strings.Join(e.Plans, ", "))
	}
	if e.NewCustomersOnly && o.ExistingCustomer {
		return false, "only new customers count and the friend was already a customer"
	}
	if e.MinAmount > 0 {
		amt := o.Amount
		if o.Currency != p.Currency {
			ev := newEvaluation(p, o, nil)
			conv, _, why := ev.convert(o.Amount, o.Currency)
			if why != "" {
				return false, why
			}
			amt = conv
		}
		if amt < e.MinAmount {
			return false, fmt.Sprintf("%s %s is below the minimum of %s %s", FormatMinor(amt, p.Currency), p.Currency,
				FormatMinor(e.MinAmount, p.Currency), p.Currency)
		}
	}
	return true, ""
}

// SuccessMatches reports whether an occasion is the program's success
// event for a referral: a new referral's signup, its first qualifying
// purchase, or the success stage.
func (p *Program) SuccessMatches(o Occasion) bool {
	s := p.SuccessRule()
	switch s.Trigger {
	case TriggerSignup:
		return o.Trigger == TriggerSignup
	case TriggerFirstPurchase:
		return o.Trigger == TriggerPurchase && o.FirstPurchase
	case TriggerStage:
		return o.Trigger == TriggerStage && o.Stage == s.Stage
	}
	return false
}

// AttributeString returns a participant attribute as a string: strings as
// they are, booleans as "true"/"false", numbers in decimal; "" when absent.
func AttributeString(attrs Attributes, name string) string {
	switch v := attrs[name].(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		return fmt.Sprintf("%v", v)
	case int64:
		return fmt.Sprintf("%d", v)
	case int:
		return fmt.Sprintf("%d", v)
	}
	return ""
}
