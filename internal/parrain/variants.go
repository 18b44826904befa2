package parrain

import (
	"fmt"
	"slices"
	"strings"
)

// Personalised rewards: a reward spec may carry variants, each a condition
// on who is involved (the advocate's and the friend's attributes and
// locales) and on the advocate's history (their Nth successful referral),
// with the reward that replaces the spec's when the condition holds. The
// first variant whose condition holds wins; when none does, the spec's own
// reward applies. Variants are part of the rule, so they are versioned,
// explained, rendered in the terms and priced by dry runs and replays like
// everything else the engine does.

// maxVariants bounds the variants of one reward spec.
const maxVariants = 10

// RewardVariant replaces a reward spec's amount and/or kind when its
// condition holds. Fields left empty keep the spec's value; a variant that
// sets an amount (type, amount or percent_bps) replaces the whole amount
// computation (tiers and partner rates do not apply to it), and one that
// changes the kind drops the spec's kind-specific fields (pool, coupon
// discount, feature).
type RewardVariant struct {
	When          VariantCondition `json:"when"`
	Kind          RewardKind       `json:"kind,omitempty"`
	Type          AmountType       `json:"type,omitempty"`
	Amount        int64            `json:"amount,omitempty"`
	PercentBps    int64            `json:"percent_bps,omitempty"`
	MaxAmount     int64            `json:"max_amount,omitempty"`
	Description   string           `json:"description,omitempty"`
	Pool          string           `json:"pool,omitempty"`
	PercentOffBps int64            `json:"percent_off_bps,omitempty"`
	Feature       string           `json:"feature,omitempty"`
	Days          int              `json:"days,omitempty"`
}

// VariantCondition is when a variant applies: every condition given must
// hold.
type VariantCondition struct {
	// Advocate and Friend restrict the people of the referral by their
	// participant attributes and locale.
	Advocate *PersonCondition `json:"advocate,omitempty"`
	Friend   *PersonCondition `json:"friend,omitempty"`
	// Referrals restricts the advocate's count of successful referrals,
	// this one included (the same count as tiers).
	Referrals *CountCondition `json:"referrals,omitempty"`
}

// PersonCondition matches a participant: each named attribute must be one
// of its values, and the locale's language (or full tag) one of Locales.
type PersonCondition struct {
	Attributes map[string][]string `json:"attributes,omitempty"`
	// Locales are language tags: "de" matches de, de-DE and de-CH;
	// "de-CH" matches only de-CH.
	Locales []string `json:"locales,omitempty"`
}

// CountCondition matches the advocate's Nth successful referral in
// Period: From ≤ N, N ≤ To (when set), and N a multiple of Every (when
// set). {"from": 10, "to": 10} is exactly the 10th; {"every": 10} every
// 10th.
type CountCondition struct {
	From   int    `json:"from,omitempty"`
	To     int    `json:"to,omitempty"`
	Every  int    `json:"every,omitempty"`
	Period Period `json:"period,omitempty"`
}

// HasReferralCondition reports whether a spec has a variant that depends
// on the advocate's count of successful referrals.
func (s *RewardSpec) HasReferralCondition() bool {
	return slices.ContainsFunc(s.Variants, func(v RewardVariant) bool { return v.When.Referrals != nil })
}

// WithVariant returns the spec a variant makes of s (without variants).
func (s *RewardSpec) WithVariant(v RewardVariant) RewardSpec {
	out := *s
	out.Variants = nil
	if v.Kind != "" && v.Kind != s.Kind {
		out.Kind, out.Pool, out.PercentOffBps, out.Feature, out.Days, out.Description = v.Kind, "", 0, "", 0, ""
	}
	if v.Type != "" || v.Amount != 0 || v.PercentBps != 0 {
		t := v.Type
		if t == "" {
			t = s.Type
		}
		out.Type, out.Amount, out.PercentBps = t, v.Amount, v.PercentBps
		out.Tiers, out.TierPeriod, out.PartnerRates, out.PartnerAttribute = nil, "", nil, ""
		if t == AmountFixed {
			out.Months, out.Payments, out.IntroPayments, out.IntroPercentBps, out.TrueUpMonths = 0, 0, 0, 0, 0
		}
	}
	if v.MaxAmount != 0 {
		out.MaxAmount = v.MaxAmount
	}
	if v.Description != "" {
		out.Description = v.Description
	}
	if v.Pool != "" {
		out.Pool = v.Pool
	}
	if v.PercentOffBps != 0 {
		out.PercentOffBps = v.PercentOffBps
	}
	if v.Feature != "" {
		out.Feature = v.Feature
	}
	if v.Days != 0 {
		out.Days = v.Days
	}
	return out
}

// validateVariants checks a spec's variants: each condition, then the
// spec each variant makes, with the variant's field path.
func (s *RewardSpec) validateVariants(f string, t Trigger) error {
	if len(s.Variants) > maxVariants {
		return Invalid(f+".variants", "at most %d variants", maxVariants)
	}
	for i := range s.Variants {
		v := &s.Variants[i]
		vf := fmt.Sprintf("%s.variants[%d]", f, i)
		if err := v.When.validate(vf+".when", t); err != nil {
			return err
		}
		merged := s.WithVariant(*v)
		if err := merged.validate(vf, t); err != nil {
			return err
		}
	}
	return nil
}

func (c *VariantCondition) validate(f string, t Trigger) error {
	if c.Advocate == nil && c.Friend == nil && c.Referrals == nil {
		return Invalid(f, "needs at least one condition (advocate, friend or referrals)")
	}
	for _, pc := range []struct {
		f string
		c *PersonCondition
	}{{f + ".advocate", c.Advocate}, {f + ".friend", c.Friend}} {
		if pc.c == nil {
			continue
		}
		if len(pc.c.Attributes) == 0 && len(pc.c.Locales) == 0 {
			return Invalid(pc.f, "needs attributes or locales")
		}
		if len(pc.c.Attributes) > 20 {
			return Invalid(pc.f+".attributes", "at most 20 attributes")
		}
		for k, vs := range pc.c.Attributes {
			if !engineIdent(k) {
				return Invalid(pc.f+".attributes", "%q is not an attribute name (lower-case identifier)", k)
			}
			if len(vs) == 0 {
				return Invalid(pc.f+".attributes."+k, "needs at least one value")
			}
			if err := validValues(pc.f+".attributes."+k, vs); err != nil {
				return err
			}
		}
		if len(pc.c.Locales) > 50 {
			return Invalid(pc.f+".locales", "at most 50 locales")
		}
		for i, l := range pc.c.Locales {
			n, err := NormalizeLocale(fmt.Sprintf("%s.locales[%d]", pc.f, i), l)
			if err != nil {
				return err
			}
			if n == "" {
				return Invalid(fmt.Sprintf("%s.locales[%d]", pc.f, i), "must be a language tag such as de or de-CH")
			}
			pc.c.Locales[i] = n
		}
	}
	if r := c.Referrals; r != nil {
		if t == TriggerMilestone {
			return Invalid(f+".referrals", "a milestone rule already depends on the count: use another milestone rule")
		}
		if r.From == 0 && r.To == 0 && r.Every == 0 {
			return Invalid(f+".referrals", "needs from, to or every")
		}
		if r.From < 0 || r.From > 100000 {
			return Invalid(f+".referrals.from", "must be between 1 and 100000")
		}
		if r.To < 0 || r.To > 100000 || (r.To != 0 && r.To < r.From) {
			return Invalid(f+".referrals.to", "must be at least from (and at most 100000)")
		}
		if r.Every < 0 || r.Every > 100000 {
			return Invalid(f+".referrals.every", "must be between 1 and 100000")
		}
		if r.Period == "" {
			r.Period = PeriodLifetime
		}
		if !r.Period.valid() {
			return Invalid(f+".referrals.period", "must be lifetime, month, quarter or year")
		}
	}
	return nil
}

// localeMatches reports whether a participant's locale matches a
// condition's tag: the same tag, or the tag's language for a bare one.
func localeMatches(locale, tag string) bool {
	if locale == "" {
		return false
	}
	if strings.EqualFold(locale, tag) {
		return true
	}
	return !strings.Contains(tag, "-") && strings.HasPrefix(strings.ToLower(locale), strings.ToLower(tag)+"-")
}

// matches checks a person condition against a participant; why describes
// what matched ("advocate vip is true, locale de-DE").
func (c *PersonCondition) matches(who string, p *Participant) (bool, string) {
	var attrs Attributes
	locale := ""
	if p != nil {
		attrs, locale = p.Attributes, p.Locale
	}
	var why []string
	for _, k := range termsKeys(c.Attributes) {
		v := AttributeString(attrs, k)
		if !slices.Contains(c.Attributes[k], v) {
			return false, ""
		}
		why = append(why, fmt.Sprintf("%s %s is %s", who, k, v))
	}
	if len(c.Locales) > 0 {
		if !slices.ContainsFunc(c.Locales, func(t string) bool { return localeMatches(locale, t) }) {
			return false, ""
		}
		why = append(why, fmt.Sprintf("%s locale is %s", who, locale))
	}
	return true, strings.Join(why, ", ")
}

// matches checks a count condition against the advocate's Nth successful
// referral.
func (c *CountCondition) matches(n int) bool {
	if c.From > 0 && n < c.From {
		return false
	}
	if c.To > 0 && n > c.To {
		return false
	}
	return c.Every <= 0 || n%c.Every == 0
}

// describe renders a count condition in words ("the 10th successful
// referral in total").
func (c *CountCondition) describe() string {
	var s string
	switch {
	case c.Every > 0:
		s = fmt.Sprintf("every %s successful referral", ordinal(c.Every))
		if c.From > 0 {
			s += fmt.Sprintf(" from the %s", ordinal(c.From))
		}
		if c.To > 0 {
			s += fmt.Sprintf(" up to the %s", ordinal(c.To))
		}
	case c.From > 0 && c.From == c.To:
		s = fmt.Sprintf("the %s successful referral", ordinal(c.From))
	case c.From > 0 && c.To > 0:
		s = fmt.Sprintf("the %s to %s successful referrals", ordinal(c.From), ordinal(c.To))
	case c.From > 0:
		s = fmt.Sprintf("the %s successful referral and later ones", ordinal(c.From))
	default:
		s = fmt.Sprintf("successful referrals up to the %s", ordinal(c.To))
	}
	return s + " " + periodText(c.Period.orLifetime())
}

// describe renders a variant's condition for the terms ("advocates with
// vip true and friends speaking de").
func (c *VariantCondition) describe() string {
	var parts []string
	for _, pc := range []struct {
		who string
		c   *PersonCondition
	}{{"advocate", c.Advocate}, {"friend", c.Friend}} {
		if pc.c == nil {
			continue
		}
		for _, k := range termsKeys(pc.c.Attributes) {
			parts = append(parts, fmt.Sprintf("the %s's %s is %s", pc.who, k, strings.Join(pc.c.Attributes[k], " or ")))
		}
		if len(pc.c.Locales) > 0 {
			parts = append(parts, fmt.Sprintf("the %s's language is %s", pc.who, strings.Join(pc.c.Locales, " or ")))
		}
	}
	if c.Referrals != nil {
		parts = append(parts, "it is the advocate's "+strings.TrimPrefix(c.Referrals.describe(), "the "))
	}
	return strings.Join(parts, " and ")
}

// personalise picks the variant of a spec that applies to the occasion:
// the spec to compute with, and a step for the explanation. It records the
// variant in the award's inputs.
func (ev *evaluation) personalise(s *RewardSpec, a *Award) (*RewardSpec, error) {
	if len(s.Variants) == 0 {
		return s, nil
	}
	o := ev.o
	for i, v := range s.Variants {
		var why []string
		ok := true
		for _, pc := range []struct {
			who string
			c   *PersonCondition
			p   *Participant
		}{{"advocate", v.When.Advocate, o.Advocate}, {"friend", v.When.Friend, o.Friend}} {
			if pc.c == nil || !ok {
				continue
			}
			m, w := pc.c.matches(pc.who, pc.p)
			ok = m
			if w != "" {
				why = append(why, w)
			}
		}
		if ok && v.When.Referrals != nil {
			period := v.When.Referrals.Period.orLifetime()
			from, to := period.Bounds(o.At)
			n, err := ev.f.Successes(ev.advocateID(), o.ReferralID, from, to)
			if err != nil {
				return nil, err
			}
			n++
			ok = v.When.Referrals.matches(n)
			why = append(why, fmt.Sprintf("this is the advocate's %s successful referral %s", ordinal(n), period.phrase(o.At)))
		}
		if !ok {
			continue
		}
		merged := s.WithVariant(v)
		a.Inputs.Variant = i + 1
		a.Inputs.VariantWhy = strings.Join(why, ", ")
		a.Steps = append(a.Steps, fmt.Sprintf("variant %d applies (%s)", i+1, a.Inputs.VariantWhy))
		return &merged, nil
	}
	a.Steps = append(a.Steps, "no variant applies: the rule's own reward")
	base := *s
	base.Variants = nil
	return &base, nil
}
