package parrain

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// AttributionModel decides which referral link gets the credit when a friend
// clicked several within the cookie window.
type AttributionModel string

// Attribution models.
const (
	LastClick  AttributionModel = "last_click"
	FirstClick AttributionModel = "first_click"
)

// ProgramStatus is a program's lifecycle state.
type ProgramStatus string

// Program states. A paused program still redirects links (without credit)
// but creates no referrals or rewards.
const (
	ProgramActive ProgramStatus = "active"
	ProgramPaused ProgramStatus = "paused"
)

// Trigger is the event that earns a reward.
type Trigger string

// Reward triggers.
const (
	TriggerSignup        Trigger = "signup"
	TriggerFirstPurchase Trigger = "first_purchase"
	TriggerPurchase      Trigger = "purchase"  // every purchase of the referred friend
	TriggerStage         Trigger = "stage"     // the referred lead reached a stage of the program
	TriggerMilestone     Trigger = "milestone" // the advocate's Nth successful referral (a bonus)
	// Triggers recorded on rewards that no rule names directly.
	TriggerContract Trigger = "contract" // a true-up after a contract value change
	TriggerContest  Trigger = "contest"  // a contest prize
)

// RewardKind is what the reward is made of.
type RewardKind string

// Reward kinds.
const (
	KindCash   RewardKind = "cash"
	KindCredit RewardKind = "credit"
	KindCoupon RewardKind = "coupon"
	KindCustom RewardKind = "custom"
	// KindGiftCard is a gift card code drawn from an imported pool.
	KindGiftCard RewardKind = "gift_card"
	// KindFeatureUnlock unlocks a premium feature for a number of days.
	KindFeatureUnlock RewardKind = "feature_unlock"
)

// AmountType says how a reward amount is computed.
type AmountType string

// Amount types.
const (
	AmountFixed   AmountType = "fixed"   // a fixed amount in the program currency
	AmountPercent AmountType = "percent" // basis points of the purchase amount
)

// Program is a referral program: where links land, how clicks are
// attributed, how long rewards are held and which rules create rewards.
type Program struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	LandingURL       string           `json:"landing_url"`
	Currency         string           `json:"currency"`
	CookieWindowDays int              `json:"cookie_window_days"`
	AttributionModel AttributionModel `json:"attribution_model"`
	HoldDays         int              `json:"hold_days"`
	Status           ProgramStatus    `json:"status"`
	Rules            []RewardRule     `json:"rules"`
	Version          int              `json:"version"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	// ProgramSettings is the reward engine's configuration (stages,
	// success, eligibility, caps, rates, fulfilment, terms).
	ProgramSettings
}

// RewardRule creates rewards when its trigger happens: one for the advocate
// and, for a double-sided rule, one for the friend.
type RewardRule struct {
	ID       string      `json:"id"`
	Trigger  Trigger     `json:"trigger"`
	Advocate *RewardSpec `json:"advocate,omitempty"`
	Friend   *RewardSpec `json:"friend,omitempty"`
	// Stage names the stage of a stage rule.
	Stage string `json:"stage,omitempty"`
	// Milestone is the condition of a milestone rule.
	Milestone *Milestone `json:"milestone,omitempty"`
}

// RewardSpec describes one side's reward.
type RewardSpec struct {
	Kind RewardKind `json:"kind"`
	Type AmountType `json:"type"`
	// Amount is the fixed amount in minor units (Type fixed).
	Amount int64 `json:"amount,omitempty"`
	// PercentBps is the share of the purchase in basis points, 1000 = 10%
	// (Type percent).
	PercentBps int64 `json:"percent_bps,omitempty"`
	// MaxAmount caps a percentage reward (0 = no cap).
	MaxAmount int64 `json:"max_amount,omitempty"`
	// Description says what a custom reward is ("a free month").
	Description string `json:"description,omitempty"`

	// Tiers raise the reward with the advocate's count of successful
	// referrals in TierPeriod (progressive rewards).
	Tiers      []TierStep `json:"tiers,omitempty"`
	TierPeriod Period     `json:"tier_period,omitempty"`
	// PartnerRates replaces PercentBps by partner tier: the tier comes from
	// the event's partner_tier or the advocate's PartnerAttribute attribute
	// (default "partner_tier").
	PartnerRates     map[string]int64 `json:"partner_rates,omitempty"`
	PartnerAttribute string           `json:"partner_attribute,omitempty"`
	// Months and Payments bound a recurring commission (trigger purchase):
	// only payments within Months of the first payment, and at most
	// Payments of them, earn it. IntroPercentBps replaces PercentBps for
	// the first IntroPayments payments.
	Months          int   `json:"months,omitempty"`
	Payments        int   `json:"payments,omitempty"`
	IntroPayments   int   `json:"intro_payments,omitempty"`
	IntroPercentBps int64 `json:"intro_percent_bps,omitempty"`
	// TrueUpMonths makes a percentage of a stage value (a contract's first
	// year) follow contract changes reported within that many months.
	TrueUpMonths int `json:"true_up_months,omitempty"`
	// Pool names the code pool of a coupon or gift card (a coupon without
	// a pool gets a generated code).
	Pool string `json:"pool,omitempty"`
	// PercentOffBps is the discount a coupon gives, for display and for the
	// customer's system.
	PercentOffBps int64 `json:"percent_off_bps,omitempty"`
	// Feature and Days describe a feature unlock.
	Feature string `json:"feature,omitempty"`
	Days    int    `json:"days,omitempty"`
	// Deliver is on_approval (after the hold, default) or immediately.
	Deliver Delivery `json:"deliver,omitempty"`
	// Variants personalise the reward by segment, locale and history: the
	// first whose condition holds replaces the amount and/or kind (see
	// variants.go).
	Variants []RewardVariant `json:"variants,omitempty"`
}

// Window returns the cookie window as a duration.
func (p *Program) Window() time.Duration {
	return time.Duration(p.CookieWindowDays) * 24 * time.Hour
}

// Hold returns the hold period as a duration.
func (p *Program) Hold() time.Duration { return time.Duration(p.HoldDays) * 24 * time.Hour }

// Rule returns the rule with the given id.
func (p *Program) Rule(id string) (RewardRule, bool) {
	for _, r := range p.Rules {
		if r.ID == id {
			return r, true
		}
	}
	return RewardRule{}, false
}

// Normalize applies defaults and validates a program as submitted by a
// client. It returns the first validation error with its field path.
func (p *Program) Normalize() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return Invalid("name", "is required")
	}
	if len(p.Name) > 200 {
		return Invalid("name", "must be at most 200 characters")
	}
	u, err := url.Parse(strings.TrimSpace(p.LandingURL))
	if p.LandingURL == "" {
		return Invalid("landing_url", "is required")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid("landing_url", "must be an absolute http or https URL")
	}
	p.LandingURL = u.String()
	cur, err := NormalizeCurrency("currency", p.Currency)
	if err != nil {
		return err
	}
	p.Currency = cur
	if p.CookieWindowDays == 0 {
		p.CookieWindowDays = 30
	}
	if p.CookieWindowDays < 1 || p.CookieWindowDays > 730 {
		return Invalid("cookie_window_days", "must be between 1 and 730")
	}
	switch p.AttributionModel {
	case "":
		p.AttributionModel = LastClick
	case LastClick, FirstClick:
	default:
		return Invalid("attribution_model", "must be last_click or first_click")
	}
	if p.HoldDays < 0 || p.HoldDays > 365 {
		return Invalid("hold_days", "must be between 0 and 365")
	}
	switch p.Status {
	case "":
		p.Status = ProgramActive
	case ProgramActive, ProgramPaused:
	default:
		return Invalid("status", "must be active or paused")
	}
	if len(p.Rules) > 50 {
		return Invalid("rules", "at most 50 rules per program")
	}
	seen := map[string]bool{}
	for i := range p.Rules {
		r := &p.Rules[i]
		f := fmt.Sprintf("rules[%d]", i)
		if r.ID == "" {
			r.ID = fmt.Sprintf("rule_%d", i+1)
		}
		if seen[r.ID] {
			return Invalid(f+".id", "duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
		switch r.Trigger {
		case TriggerSignup, TriggerFirstPurchase, TriggerPurchase, TriggerStage, TriggerMilestone:
		case "":
			return Invalid(f+".trigger", "is required (signup, first_purchase, purchase, stage or milestone)")
		default:
			return Invalid(f+".trigger", "must be signup, first_purchase, purchase, stage or milestone")
		}
		if err := r.validateRuleExtras(f); err != nil {
			return err
		}
		if r.Advocate == nil && r.Friend == nil {
			return Invalid(f, "needs an advocate reward, a friend reward or both")
		}
		if r.Advocate != nil {
			if err := r.Advocate.validate(f+".advocate", r.Trigger); err != nil {
				return err
			}
		}
		if r.Friend != nil {
			if err := r.Friend.validate(f+".friend", r.Trigger); err != nil {
				return err
			}
		}
	}
	return p.normalizeSettings()
}

func (s *RewardSpec) validate(f string, t Trigger) error {
	switch s.Kind {
	case KindCash, KindCredit, KindCoupon, KindGiftCard, KindFeatureUnlock, KindCustom:
	case "":
		return Invalid(f+".kind", "is required (cash, credit, coupon, gift_card, feature_unlock or custom)")
	default:
		return Invalid(f+".kind", "must be cash, credit, coupon, gift_card, feature_unlock or custom")
	}
	switch s.Type {
	case AmountFixed:
		if s.Amount <= 0 || s.Amount > MaxAmount {
			return Invalid(f+".amount", "must be a positive integer in the currency's minor unit")
		}
		if s.PercentBps != 0 {
			return Invalid(f+".percent_bps", "is only for type percent")
		}
	case AmountPercent:
		if t == TriggerSignup || t == TriggerMilestone {
			return Invalid(f+".type", "a %s has no amount: use type fixed", t)
		}
		if s.PercentBps <= 0 || s.PercentBps > 10000 {
			return Invalid(f+".percent_bps", "must be between 1 and 10000 basis points (10000 = 100%%)")
		}
		if s.Amount != 0 {
			return Invalid(f+".amount", "is only for type fixed")
		}
	case "":
		return Invalid(f+".type", "is required (fixed or percent)")
	default:
		return Invalid(f+".type", "must be fixed or percent")
	}
	if s.MaxAmount < 0 || s.MaxAmount > MaxAmount {
		return Invalid(f+".max_amount", "must be a non-negative amount")
	}
	if len(s.Description) > 500 {
		return Invalid(f+".description", "must be at most 500 characters")
	}
	if err := s.validateExtras(f, t); err != nil {
		return err
	}
	return s.validateVariants(f, t)
}
