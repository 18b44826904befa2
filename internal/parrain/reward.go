package parrain

import (
	"fmt"
	"time"
)

// Role is which side of a referral a reward goes to.
type Role string

// Reward roles.
const (
	RoleAdvocate Role = "advocate"
	RoleFriend   Role = "friend"
)

// RewardStatus is a reward's place in its lifecycle. The status is a
// projection of the reward's ledger entries, kept on the reward for listing.
type RewardStatus string

// Reward states:
//
//	pending ──hold elapsed──▶ approved ──payout──▶ paid
//	   │                        │                   │
//	   └─refund─▶ reversed      └──refund──▶ clawed_back ◀──┘
const (
	RewardPending    RewardStatus = "pending"
	RewardApproved   RewardStatus = "approved"
	RewardPaid       RewardStatus = "paid"
	RewardReversed   RewardStatus = "reversed"
	RewardClawedBack RewardStatus = "clawed_back"
)

// ValidRewardStatus reports whether s names a reward status.
func ValidRewardStatus(s string) bool {
	switch RewardStatus(s) {
	case RewardPending, RewardApproved, RewardPaid, RewardReversed, RewardClawedBack:
		return true
	}
	return false
}

// Reward is money (or value) owed to a participant because of a referral.
type Reward struct {
	ID            string       `json:"id"`
	ProgramID     string       `json:"program_id"`
	ParticipantID string       `json:"-"`
	ExternalID    string       `json:"external_id"`
	ReferralID    string       `json:"referral_id"`
	PurchaseID    string       `json:"-"`
	OrderID       string       `json:"order_id,omitempty"`
	EventID       string       `json:"event_id"`
	RuleID        string       `json:"rule_id"`
	RuleVersion   int          `json:"rule_version"`
	Role          Role         `json:"role"`
	Trigger       Trigger      `json:"trigger"`
	Kind          RewardKind   `json:"kind"`
	AmountType    AmountType   `json:"amount_type"`
	Amount        int64        `json:"amount"`
	Currency      string       `json:"currency"`
	Reversed      int64        `json:"reversed_amount"`
	Status        RewardStatus `json:"status"`
	Description   string       `json:"description,omitempty"`
	Explanation   string       `json:"explanation"`
	HoldUntil     time.Time    `json:"hold_until"`
	ApprovedAt    *time.Time   `json:"approved_at,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
}

// Outstanding is the part of the reward not reversed or clawed back.
func (r *Reward) Outstanding() int64 { return r.Amount - r.Reversed }

// Draft is a reward computed by the rules, before it is stored.
type Draft struct {
	RuleID      string
	Role        Role
	Trigger     Trigger
	Kind        RewardKind
	AmountType  AmountType
	Amount      int64
	Currency    string
	Description string
	Explanation string
}

// Skip records a rule that matched the trigger but produced no reward, and
// why.
type Skip struct {
	RuleID string `json:"rule_id"`
	Role   Role   `json:"role,omitempty"`
	Reason string `json:"reason"`
}

// Occasion describes what just happened to a referral, for rule evaluation.
type Occasion struct {
	Trigger       Trigger // signup, or purchase
	FirstPurchase bool    // the friend's first purchase in the program
	Amount        int64   // purchase amount, minor units
	Currency      string  // purchase currency
}

// Evaluate returns the rewards a program's rules grant for an occasion, and
// the rules that matched but granted nothing. A purchase fires both the
// "purchase" rules and, when it is the first, the "first_purchase" rules.
func Evaluate(p *Program, o Occasion) ([]Draft, []Skip) {
	var drafts []Draft
	var skips []Skip
	for _, r := range p.Rules {
		fires := false
		switch r.Trigger {
		case TriggerSignup:
			fires = o.Trigger == TriggerSignup
		case TriggerPurchase:
			fires = o.Trigger == TriggerPurchase
		case TriggerFirstPurchase:
			fires = o.Trigger == TriggerPurchase && o.FirstPurchase
		}
		if !fires {
			continue
		}
		for _, side := range []struct {
			role Role
			spec *RewardSpec
		}{{RoleAdvocate, r.Advocate}, {RoleFriend, r.Friend}} {
			if side.spec == nil {
				continue
			}
			d, skip := draft(p, r, side.role, side.spec, o)
			if skip != "" {
				skips = append(skips, Skip{RuleID: r.ID, Role: side.role, Reason: skip})
				continue
			}
			drafts = append(drafts, d)
		}
	}
	return drafts, skips
}

func draft(p *Program, r RewardRule, role Role, s *RewardSpec, o Occasion) (Draft, string) {
	d := Draft{RuleID: r.ID, Role: role, Trigger: r.Trigger, Kind: s.Kind, AmountType: s.Type,
		Currency: p.Currency, Description: s.Description}
	switch s.Type {
	case AmountFixed:
		d.Amount = s.Amount
		d.Explanation = fmt.Sprintf("rule %s (%s): fixed %s %s", r.ID, r.Trigger, FormatMinor(s.Amount, p.Currency), p.Currency)
	case AmountPercent:
		if o.Currency != p.Currency {
			return d, fmt.Sprintf("currency_mismatch: purchase in %s, program in %s", o.Currency, p.Currency)
		}
		amt, err := PercentOf(o.Amount, s.PercentBps)
		if err != nil {
			return d, "overflow"
		}
		d.Amount = amt
		d.Explanation = fmt.Sprintf("rule %s (%s): %s%% of %s %s = %s (half-up)", r.ID, r.Trigger,
			FormatBps(s.PercentBps), FormatMinor(o.Amount, o.Currency), o.Currency, FormatMinor(amt, p.Currency))
		if s.MaxAmount > 0 && d.Amount > s.MaxAmount {
			d.Amount = s.MaxAmount
			d.Explanation += fmt.Sprintf(", capped at %s", FormatMinor(s.MaxAmount, p.Currency))
		}
	}
	if d.Amount <= 0 {
		return d, "zero_amount"
	}
	return d, ""
}

// Reversal returns how much of a reward a refund reverses, given the
// purchase amount, the cumulative amount refunded on that order (including
// this refund) and what was already reversed. Percentage rewards are
// reversed in proportion to the refunded share (half-up); fixed rewards only
// when the order is refunded in full. The result never exceeds what is left.
func Reversal(r *Reward, purchaseAmount, refundedTotal int64) (int64, error) {
	left := r.Outstanding()
	if left <= 0 || refundedTotal <= 0 {
		return 0, nil
	}
	var target int64
	switch {
	case refundedTotal >= purchaseAmount:
		target = r.Amount
	case r.AmountType == AmountPercent:
		t, err := MulDiv(r.Amount, refundedTotal, purchaseAmount, RoundHalfUp)
		if err != nil {
			return 0, err
		}
		target = t
	default:
		return 0, nil
	}
	rev := target - r.Reversed
	if rev > left {
		rev = left
	}
	if rev < 0 {
		rev = 0
	}
	return rev, nil
}

// FormatMinor renders minor units as a decimal string with the currency's
// digits ("12.50" for 1250 EUR, "1250" for JPY). For display only.
func FormatMinor(amount int64, currency string) string {
	d, ok := CurrencyDigits(currency)
	if !ok || d == 0 {
		return fmt.Sprintf("%d", amount)
	}
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = uint64(-amount)
	}
	pow := uint64(1)
	for range d {
		pow *= 10
	}
	s := fmt.Sprintf("%d.%0*d", u/pow, d, u%pow)
	if neg {
		s = "-" + s
	}
	return s
}

// FormatBps renders basis points as a percentage ("12.5" for 1250).
func FormatBps(bps int64) string {
	sign, u := "", uint64(bps)
	if bps < 0 {
		sign, u = "-", uint64(-bps) // also right for MinInt64
	}
	s := fmt.Sprintf("%s%d", sign, u/100)
	if r := u % 100; r != 0 {
		if r%10 == 0 {
			s += fmt.Sprintf(".%d", r/10)
		} else {
			s += fmt.Sprintf(".%02d", r)
		}
	}
	return s
}
