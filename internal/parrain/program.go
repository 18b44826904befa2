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
	TriggerPurchase      Trigger = "purchase" // every purchase of the referred friend
)

// RewardKind is what the reward is made of.
type RewardKind string

// Reward kinds.
const (
	KindCash   RewardKind = "cash"
	KindCredit RewardKind = "credit"
	KindCoupon RewardKind = "coupon"
	KindCustom RewardKind = "custom"
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
}

// RewardRule creates rewards when its trigger happens: one for the advocate
// and, for a double-sided rule, one for the friend.
type RewardRule struct {
	ID       string      `json:"id"`
	Trigger  Trigger     `json:"trigger"`
	Advocate *RewardSpec `json:"advocate,omitempty"`
	Friend   *RewardSpec `json:"friend,omitempty"`
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
		case TriggerSignup, TriggerFirstPurchase, TriggerPurchase:
		case "":
			return Invalid(f+".trigger", "is required (signup, first_purchase or purchase)")
		default:
			return Invalid(f+".trigger", "must be signup, first_purchase or purchase")
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
	return nil
}

func (s *RewardSpec) validate(f string, t Trigger) error {
	switch s.Kind {
	case KindCash, KindCredit, KindCoupon, KindCustom:
	case "":
		return Invalid(f+".kind", "is required (cash, credit, coupon or custom)")
	default:
		return Invalid(f+".kind", "must be cash, credit, coupon or custom")
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
		if t == TriggerSignup {
			return Invalid(f+".type", "a signup has no amount: use type fixed")
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
	return nil
}
