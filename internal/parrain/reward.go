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
	RewardDetails
}

// RewardDetails are what the reward engine records beside a reward: when
// the event happened, the stage, the rate and base it applied to, the
// exchange rate snapshot, the manual review state and the fulfilment.
type RewardDetails struct {
	OccurredAt   *time.Time `json:"occurred_at,omitempty"`
	Stage        string     `json:"stage,omitempty"`
	RateBps      int64      `json:"rate_bps,omitempty"`
	BaseAmount   int64      `json:"base_amount,omitempty"`
	BaseCurrency string     `json:"base_currency,omitempty"`
	// FXRate is the exchange rate used to convert the base into the
	// program currency, as recorded when the reward was made.
	FXRate string `json:"fx_rate,omitempty"`
	// Review is waiting, approved or rejected for a reward queued for
	// manual approval (over a cap); ReviewReason says why.
	Review       string `json:"review,omitempty"`
	ReviewReason string `json:"review_reason,omitempty"`
	// VoidReason is inactive for a reward voided at maturation because
	// the friend showed no activity during the hold (a manager may
	// reinstate it).
	VoidReason string           `json:"void_reason,omitempty"`
	Fulfilment *FulfilmentState `json:"fulfilment,omitempty"`
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
	Trigger       Trigger // signup, purchase, stage or contract
	FirstPurchase bool    // the friend's first (qualifying) purchase in the program
	Amount        int64   // purchase amount or stage/contract value, minor units
	Currency      string  // currency of Amount ("" when a stage carries no value)

	// What the reward engine also needs; zero values suit simple programs.
	At               time.Time    // when it happened
	Stage            string       // the stage reached (trigger stage)
	FXRate           string       // exchange rate given with the event
	Plan             string       // the plan bought
	PartnerTier      string       // the deal's partner tier, overriding the advocate's
	ExistingCustomer bool         // the friend was a customer before the referral
	PaymentNumber    int          // 1-based rank of this payment among the referral's
	FirstPaymentAt   time.Time    // when the referral's first payment happened
	Success          bool         // this occasion made the referral successful
	ReferralID       string       // the referral rewarded
	Advocate         *Participant // the advocate (attributes for eligibility and partner tiers)
	Friend           *Participant // the referred friend
}

// Evaluate returns the rewards a program's rules grant for an occasion, and
// the rules that matched but granted nothing, without any history: tiers
// count this referral as the first, caps see nothing earned yet. A purchase
// fires both the "purchase" rules and, when it is the first, the
// "first_purchase" rules. The store uses EvaluateWith and its facts.
func Evaluate(p *Program, o Occasion) ([]Draft, []Skip) {
	awards, skips, _ := EvaluateWith(p, o, NoFacts{})
	var drafts []Draft
	for _, a := range awards {
		drafts = append(drafts, a.Draft)
	}
	return drafts, skips
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
