package parrain

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// This file holds the reward engine's configuration: everything a program
// says beyond its basic rules (stages, success definition, eligibility, caps,
// exchange rates, rounding, fulfilment and terms), and its validation.

// Period is a calendar period, in UTC, over which counts and caps are
// measured.
type Period string

// Periods.
const (
	PeriodLifetime Period = "lifetime"
	PeriodMonth    Period = "month"
	PeriodQuarter  Period = "quarter"
	PeriodYear     Period = "year"
)

// Beginning and End bound the lifetime period: every stored time lies
// between them.
var (
	Beginning = time.UnixMilli(0).UTC()
	End       = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func (p Period) valid() bool {
	switch p {
	case PeriodLifetime, PeriodMonth, PeriodQuarter, PeriodYear:
		return true
	}
	return false
}

// orLifetime returns p, or lifetime when p is empty.
func (p Period) orLifetime() Period {
	if p == "" {
		return PeriodLifetime
	}
	return p
}

// Bounds returns the period [from, to) that contains t.
func (p Period) Bounds(t time.Time) (from, to time.Time) {
	t = t.UTC()
	switch p {
	case PeriodMonth:
		from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 1, 0)
	case PeriodQuarter:
		from = time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 3, 0)
	case PeriodYear:
		from = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(1, 0, 0)
	}
	return Beginning, End
}

// Label names the period containing t for explanations ("month 2026-11").
func (p Period) Label(t time.Time) string {
	from, _ := p.Bounds(t)
	switch p {
	case PeriodMonth:
		return "month " + from.Format("2006-01")
	case PeriodQuarter:
		return fmt.Sprintf("quarter %d-Q%d", from.Year(), (int(from.Month())-1)/3+1)
	case PeriodYear:
		return fmt.Sprintf("year %d", from.Year())
	}
	return "lifetime"
}

// phrase names the period containing t in a sentence ("in month 2026-11",
// "in total").
func (p Period) phrase(t time.Time) string {
	if p == PeriodLifetime || p == "" {
		return "in total"
	}
	return "in " + p.Label(t)
}

// Stage is a step a referred lead can reach in a multi-stage program
// ("demo_booked", "closed_won"). Stages arrive as events of type "stage".
type Stage struct {
	Name  string `json:"name"`
	Label string `json:"label,omitempty"`
}

// Success says which event makes a referral successful: successful
// referrals are what tiers, milestone bonuses and contests count.
type Success struct {
	// Trigger is signup, first_purchase (the first purchase that counts
	// under the purchase eligibility) or stage.
	Trigger Trigger `json:"trigger"`
	// Stage names the stage when Trigger is stage.
	Stage string `json:"stage,omitempty"`
}

// Eligibility restricts who may refer and which referred purchases count.
type Eligibility struct {
	Advocates *AdvocateEligibility `json:"advocates,omitempty"`
	Purchases *PurchaseEligibility `json:"purchases,omitempty"`
}

// AdvocateEligibility restricts who earns rewards for referring, by the
// advocate's participant attributes (the conventional "paying", "plan" and
// "segment", or any other). An empty restriction lets everyone refer.
type AdvocateEligibility struct {
	// PayingOnly requires the attribute paying = true.
	PayingOnly bool `json:"paying_only,omitempty"`
	// Plans requires the attribute plan to be one of these.
	Plans []string `json:"plans,omitempty"`
	// Segments requires the attribute segment to be one of these.
	Segments []string `json:"segments,omitempty"`
	// Attributes requires each named attribute to be one of its values.
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// PurchaseEligibility restricts which referred purchases count: only
// qualifying purchases fire purchase rules and make a referral successful.
type PurchaseEligibility struct {
	// MinAmount is the smallest qualifying purchase, in the program
	// currency (a purchase in another currency is converted first).
	MinAmount int64 `json:"min_amount,omitempty"`
	// FirstPurchaseOnly counts only the friend's very first purchase.
	FirstPurchaseOnly bool `json:"first_purchase_only,omitempty"`
	// Plans counts only purchases whose event names one of these plans.
	Plans []string `json:"plans,omitempty"`
	// NewCustomersOnly excludes existing customers: a friend known to
	// Parrain before they were referred, or a purchase event flagged
	// existing_customer.
	NewCustomersOnly bool `json:"new_customers_only,omitempty"`
}

// CapAction is what happens to a reward that would exceed a cap.
type CapAction string

// Cap actions.
const (
	CapStop   CapAction = "stop"   // the reward is reduced to what the cap leaves (possibly nothing)
	CapReview CapAction = "review" // the whole reward is queued for manual approval
)

// PeriodCap is an amount limit per period.
type PeriodCap struct {
	Amount int64  `json:"amount"`
	Period Period `json:"period,omitempty"`
}

// Caps bound what rewards may add up to. Amounts are in the program
// currency and count what is outstanding (reversed value frees room).
type Caps struct {
	// PerReferral caps what one participant earns from one referral.
	PerReferral int64 `json:"per_referral,omitempty"`
	// PerParticipant caps what one participant earns per period.
	PerParticipant *PeriodCap `json:"per_participant,omitempty"`
	// Budget caps what the whole program grants per period.
	Budget *PeriodCap `json:"budget,omitempty"`
	// OnCap is stop (default) or review.
	OnCap CapAction `json:"on_cap,omitempty"`
}

// Fulfilment is where credits, feature unlocks, custom rewards and codes
// are pushed: a signed outgoing webhook (Standard Webhooks). The secret is
// write-only: it is stored encrypted and answers only show SecretSet.
type Fulfilment struct {
	URL       string `json:"url"`
	Secret    string `json:"secret,omitempty"`
	SecretSet bool   `json:"secret_set,omitempty"`
}

// TermsSettings are the parts of a program's terms that are not already in
// its configuration (the payment schedule and minimum come from the
// program's payout settings).
type TermsSettings struct {
	// Notes are additional terms in plain text, shown last.
	Notes string `json:"notes,omitempty"`
}

// ProgramSettings is the reward engine's configuration of a program. It is
// embedded in Program, so its fields appear at the top level of the
// program's JSON document.
type ProgramSettings struct {
	// Key is an optional stable identifier ("b2b-partners") used to apply
	// the same program document to several installations.
	Key string `json:"key,omitempty"`
	// Rounding is how fractional minor units are rounded: half_up
	// (default) or half_even (banker's).
	Rounding Rounding `json:"rounding,omitempty"`
	// Success defines a successful referral (default: first_purchase).
	Success *Success `json:"success,omitempty"`
	// Stages are the stages a referred lead can reach.
	Stages      []Stage      `json:"stages,omitempty"`
	Eligibility *Eligibility `json:"eligibility,omitempty"`
	Caps        *Caps        `json:"caps,omitempty"`
	// FXRates converts amounts in other currencies into the program
	// currency: "USD": "0.92" means 1 USD = 0.92 of the program currency.
	// A rate in the event takes precedence.
	FXRates    map[string]string `json:"fx_rates,omitempty"`
	Fulfilment *Fulfilment       `json:"fulfilment,omitempty"`
	Terms      *TermsSettings    `json:"terms,omitempty"`
	// Activity requires the referred friend's activity during the hold
	// before rewards mature (off by default; see activity.go).
	Activity *ActivityRequirement `json:"activity,omitempty"`
}

// Milestone is the condition of a milestone rule: the advocate's Count-th
// successful referral in the period.
type Milestone struct {
	Count  int    `json:"count"`
	Period Period `json:"period,omitempty"`
}

// TierStep raises a reward from the advocate's From-th successful referral
// in the tier period: Amount for a fixed reward, PercentBps for a
// percentage.
type TierStep struct {
	From       int   `json:"from"`
	Amount     int64 `json:"amount,omitempty"`
	PercentBps int64 `json:"percent_bps,omitempty"`
}

// Delivery says when a reward is delivered.
type Delivery string

// Deliveries.
const (
	DeliverOnApproval  Delivery = "on_approval" // after the program's hold (default)
	DeliverImmediately Delivery = "immediately" // no hold: approved and fulfilled at once
)

// HasStage reports whether the program defines the named stage.
func (p *Program) HasStage(name string) bool {
	return slices.ContainsFunc(p.Stages, func(s Stage) bool { return s.Name == name })
}

// SuccessRule returns the program's success definition (first_purchase
// when not set).
func (p *Program) SuccessRule() Success {
	if p.Success == nil {
		return Success{Trigger: TriggerFirstPurchase}
	}
	return *p.Success
}

// CapsOrZero returns the program's caps (no caps when not set).
func (p *Program) CapsOrZero() Caps {
	if p.Caps == nil {
		return Caps{OnCap: CapStop}
	}
	c := *p.Caps
	if c.OnCap == "" {
		c.OnCap = CapStop
	}
	return c
}

// RoundingMode returns the program's rounding (half_up when not set).
func (p *Program) RoundingMode() Rounding {
	if p.Rounding == "" {
		return RoundHalfUp
	}
	return p.Rounding
}

// engineIdent reports whether s is a lower-case identifier: a letter, then
// letters, digits or underscores, at most 64 characters. Stage names,
// features, pools and attribute names use it.
func engineIdent(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validValues checks a list of attribute values.
func validValues(field string, vs []string) error {
	if len(vs) > 50 {
		return Invalid(field, "at most 50 values")
	}
	for i, v := range vs {
		if strings.TrimSpace(v) == "" || len(v) > 100 {
			return Invalid(fmt.Sprintf("%s[%d]", field, i), "must be a non-empty value of at most 100 characters")
		}
	}
	return nil
}

// normalizeSettings validates the engine settings; it runs after the rules
// were validated.
func (p *Program) normalizeSettings() error {
	p.Key = strings.TrimSpace(p.Key)
	if p.Key != "" && !engineIdent(p.Key) {
		return Invalid("key", "must be a lower-case identifier (letters, digits, - and _; at most 64)")
	}
	switch p.Rounding {
	case "":
		p.Rounding = RoundHalfUp
	case RoundHalfUp, RoundHalfEven:
	default:
		return Invalid("rounding", "must be half_up or half_even")
	}
	if len(p.Stages) > 50 {
		return Invalid("stages", "at most 50 stages")
	}
	seen := map[string]bool{}
	for i := range p.Stages {
		s := &p.Stages[i]
		f := fmt.Sprintf("stages[%d]", i)
		s.Name = strings.TrimSpace(s.Name)
		if !engineIdent(s.Name) {
			return Invalid(f+".name", "must be a lower-case identifier such as demo_booked")
		}
		if seen[s.Name] {
			return Invalid(f+".name", "duplicate stage %q", s.Name)
		}
		seen[s.Name] = true
		s.Label = strings.TrimSpace(s.Label)
		if len(s.Label) > 100 {
			return Invalid(f+".label", "must be at most 100 characters")
		}
	}
	if p.Success == nil {
		p.Success = &Success{Trigger: TriggerFirstPurchase}
	}
	switch p.Success.Trigger {
	case TriggerSignup, TriggerFirstPurchase:
		if p.Success.Stage != "" {
			return Invalid("success.stage", "is only for trigger stage")
		}
	case TriggerStage:
		if !p.HasStage(p.Success.Stage) {
			return Invalid("success.stage", "must name one of the program's stages")
		}
	default:
		return Invalid("success.trigger", "must be signup, first_purchase or stage")
	}
	if e := p.Eligibility; e != nil {
		if a := e.Advocates; a != nil {
			if err := validValues("eligibility.advocates.plans", a.Plans); err != nil {
				return err
			}
			if err := validValues("eligibility.advocates.segments", a.Segments); err != nil {
				return err
			}
			if len(a.Attributes) > 20 {
				return Invalid("eligibility.advocates.attributes", "at most 20 attributes")
			}
			for k, vs := range a.Attributes {
				if !engineIdent(k) {
					return Invalid("eligibility.advocates.attributes", "%q is not an attribute name (lower-case identifier)", k)
				}
				if len(vs) == 0 {
					return Invalid("eligibility.advocates.attributes."+k, "needs at least one value")
				}
				if err := validValues("eligibility.advocates.attributes."+k, vs); err != nil {
					return err
				}
			}
		}
		if pe := e.Purchases; pe != nil {
			if pe.MinAmount < 0 || pe.MinAmount > MaxAmount {
				return Invalid("eligibility.purchases.min_amount", "must be a non-negative amount in the currency's minor unit")
			}
			if err := validValues("eligibility.purchases.plans", pe.Plans); err != nil {
				return err
			}
		}
	}
	if c := p.Caps; c != nil {
		if c.PerReferral < 0 || c.PerReferral > MaxAmount {
			return Invalid("caps.per_referral", "must be a non-negative amount")
		}
		for _, pc := range []struct {
			f string
			c *PeriodCap
		}{{"caps.per_participant", c.PerParticipant}, {"caps.budget", c.Budget}} {
			if pc.c == nil {
				continue
			}
			if pc.c.Amount <= 0 || pc.c.Amount > MaxAmount {
				return Invalid(pc.f+".amount", "must be a positive amount in the currency's minor unit")
			}
			if pc.c.Period == "" {
				pc.c.Period = PeriodLifetime
			}
			if !pc.c.Period.valid() {
				return Invalid(pc.f+".period", "must be lifetime, month, quarter or year")
			}
		}
		switch c.OnCap {
		case "":
			c.OnCap = CapStop
		case CapStop, CapReview:
		default:
			return Invalid("caps.on_cap", "must be stop or review")
		}
	}
	if len(p.FXRates) > 200 {
		return Invalid("fx_rates", "at most 200 rates")
	}
	if p.FXRates != nil {
		norm := make(map[string]string, len(p.FXRates))
		for k, v := range p.FXRates {
			cur, err := NormalizeCurrency("fx_rates", k)
			if err != nil {
				return err
			}
			if cur == p.Currency {
				return Invalid("fx_rates."+cur, "is the program currency")
			}
			r, err := ParseRate("fx_rates."+cur, v)
			if err != nil {
				return err
			}
			norm[cur] = r.String()
		}
		p.FXRates = norm
	}
	if f := p.Fulfilment; f != nil {
		f.URL = strings.TrimSpace(f.URL)
		u, err := url.Parse(f.URL)
		if f.URL == "" {
			return Invalid("fulfilment.url", "is required")
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return Invalid("fulfilment.url", "must be an absolute http or https URL without credentials")
		}
		f.URL = u.String()
		f.SecretSet = false // the server decides, from the stored secret
		if f.Secret != "" && (!strings.HasPrefix(f.Secret, "whsec_") || len(f.Secret) < 30 || len(f.Secret) > 200) {
			return Invalid("fulfilment.secret", "must be a Standard Webhooks secret: whsec_ followed by base64 (at least 24 bytes)")
		}
	}
	if t := p.Terms; t != nil {
		t.Notes = strings.TrimSpace(t.Notes)
		if len(t.Notes) > 5000 {
			return Invalid("terms.notes", "must be at most 5000 characters")
		}
	}
	if err := p.validateActivity(); err != nil {
		return err
	}
	// Rules that name stages need them defined.
	for i, r := range p.Rules {
		if r.Trigger == TriggerStage && !p.HasStage(r.Stage) {
			return Invalid(fmt.Sprintf("rules[%d].stage", i), "must name one of the program's stages")
		}
	}
	return nil
}

// validateRuleExtras checks what a rule needs beyond its trigger and
// sides: the stage of a stage rule and the milestone of a milestone rule.
func (r *RewardRule) validateRuleExtras(f string) error {
	switch r.Trigger {
	case TriggerStage:
		r.Stage = strings.TrimSpace(r.Stage)
		if r.Stage == "" {
			return Invalid(f+".stage", "is required for trigger stage")
		}
	default:
		if r.Stage != "" {
			return Invalid(f+".stage", "is only for trigger stage")
		}
	}
	switch r.Trigger {
	case TriggerMilestone:
		if r.Milestone == nil {
			return Invalid(f+".milestone", "is required for trigger milestone ({\"count\": 5})")
		}
		if r.Milestone.Count < 1 || r.Milestone.Count > 100000 {
			return Invalid(f+".milestone.count", "must be between 1 and 100000")
		}
		if r.Milestone.Period == "" {
			r.Milestone.Period = PeriodLifetime
		}
		if !r.Milestone.Period.valid() {
			return Invalid(f+".milestone.period", "must be lifetime, month, quarter or year")
		}
		if r.Friend != nil {
			return Invalid(f+".friend", "a milestone bonus is for the advocate only")
		}
	default:
		if r.Milestone != nil {
			return Invalid(f+".milestone", "is only for trigger milestone")
		}
	}
	return nil
}

// validateExtras checks the engine fields of a reward spec: tiers,
// partner rates, recurring commissions, true-ups and kind-specific fields.
func (s *RewardSpec) validateExtras(f string, t Trigger) error {
	if len(s.Tiers) > 20 {
		return Invalid(f+".tiers", "at most 20 tiers")
	}
	last := 1
	for i, st := range s.Tiers {
		tf := fmt.Sprintf("%s.tiers[%d]", f, i)
		if st.From <= last {
			return Invalid(tf+".from", "must be above %d (tiers start after the base amount, in increasing order)", last)
		}
		last = st.From
		switch s.Type {
		case AmountFixed:
			if st.Amount <= 0 || st.Amount > MaxAmount {
				return Invalid(tf+".amount", "must be a positive amount (the reward is fixed)")
			}
			if st.PercentBps != 0 {
				return Invalid(tf+".percent_bps", "is only for type percent")
			}
		case AmountPercent:
			if st.PercentBps <= 0 || st.PercentBps > 10000 {
				return Invalid(tf+".percent_bps", "must be between 1 and 10000 basis points")
			}
			if st.Amount != 0 {
				return Invalid(tf+".amount", "is only for type fixed")
			}
		}
	}
	if s.TierPeriod != "" && !s.TierPeriod.valid() {
		return Invalid(f+".tier_period", "must be lifetime, month, quarter or year")
	}
	if s.TierPeriod != "" && len(s.Tiers) == 0 {
		return Invalid(f+".tier_period", "is only for tiered rewards")
	}
	if len(s.Tiers) > 0 && s.TierPeriod == "" {
		s.TierPeriod = PeriodLifetime
	}
	if len(s.PartnerRates) > 0 {
		if len(s.Tiers) > 0 {
			return Invalid(f+".partner_rates", "choose partner_rates or tiers, not both")
		}
		if s.Type != AmountPercent {
			return Invalid(f+".partner_rates", "is only for type percent")
		}
		if len(s.PartnerRates) > 20 {
			return Invalid(f+".partner_rates", "at most 20 partner tiers")
		}
		for k, v := range s.PartnerRates {
			if !engineIdent(k) {
				return Invalid(f+".partner_rates", "%q is not a partner tier name (lower-case identifier)", k)
			}
			if v <= 0 || v > 10000 {
				return Invalid(f+".partner_rates."+k, "must be between 1 and 10000 basis points")
			}
		}
		if s.PartnerAttribute == "" {
			s.PartnerAttribute = "partner_tier"
		}
		if !engineIdent(s.PartnerAttribute) {
			return Invalid(f+".partner_attribute", "must be an attribute name (lower-case identifier)")
		}
	} else if s.PartnerAttribute != "" {
		return Invalid(f+".partner_attribute", "is only used with partner_rates")
	}
	recurring := s.Months != 0 || s.Payments != 0 || s.IntroPayments != 0 || s.IntroPercentBps != 0
	if recurring {
		if t != TriggerPurchase {
			return Invalid(f+".months", "recurring commission (months, payments, intro_payments) is only for trigger purchase")
		}
		if s.Type != AmountPercent {
			return Invalid(f+".type", "a recurring commission is a percentage: use type percent")
		}
		if s.Months < 0 || s.Months > 120 {
			return Invalid(f+".months", "must be between 1 and 120")
		}
		if s.Payments < 0 || s.Payments > 1000 {
			return Invalid(f+".payments", "must be between 1 and 1000")
		}
		if (s.IntroPayments == 0) != (s.IntroPercentBps == 0) {
			return Invalid(f+".intro_payments", "intro_payments and intro_percent_bps go together")
		}
		if s.IntroPayments < 0 || s.IntroPayments > 1000 {
			return Invalid(f+".intro_payments", "must be between 1 and 1000")
		}
		if s.IntroPercentBps < 0 || s.IntroPercentBps > 10000 {
			return Invalid(f+".intro_percent_bps", "must be between 1 and 10000 basis points")
		}
	}
	if s.TrueUpMonths != 0 {
		if t != TriggerStage || s.Type != AmountPercent {
			return Invalid(f+".true_up_months", "true-ups apply to percentage rewards of a stage (contract value)")
		}
		if s.TrueUpMonths < 1 || s.TrueUpMonths > 60 {
			return Invalid(f+".true_up_months", "must be between 1 and 60")
		}
	}
	switch s.Kind {
	case KindCoupon, KindGiftCard:
		if s.Pool != "" && !engineIdent(s.Pool) {
			return Invalid(f+".pool", "must be a pool name (lower-case identifier)")
		}
		if s.Kind == KindGiftCard && s.Pool == "" {
			return Invalid(f+".pool", "is required: gift card codes are drawn from an imported pool")
		}
		if s.PercentOffBps < 0 || s.PercentOffBps > 10000 {
			return Invalid(f+".percent_off_bps", "must be between 1 and 10000 basis points")
		}
		if s.Kind == KindGiftCard && s.PercentOffBps != 0 {
			return Invalid(f+".percent_off_bps", "is only for coupons")
		}
	default:
		if s.Pool != "" {
			return Invalid(f+".pool", "is only for coupon and gift_card rewards")
		}
		if s.PercentOffBps != 0 {
			return Invalid(f+".percent_off_bps", "is only for coupons")
		}
	}
	if s.Kind == KindFeatureUnlock {
		if !engineIdent(s.Feature) {
			return Invalid(f+".feature", "is required: the feature to unlock (lower-case identifier)")
		}
		if s.Days < 1 || s.Days > 3650 {
			return Invalid(f+".days", "must be between 1 and 3650")
		}
	} else if s.Feature != "" || s.Days != 0 {
		return Invalid(f+".feature", "feature and days are only for feature_unlock rewards")
	}
	switch s.Deliver {
	case "", DeliverOnApproval, DeliverImmediately:
	default:
		return Invalid(f+".deliver", "must be on_approval or immediately")
	}
	return nil
}
