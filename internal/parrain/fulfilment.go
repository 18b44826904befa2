package parrain

import "time"

// Fulfilment delivers non-cash rewards once approved: a coupon or gift card
// gets a code from its pool; credits, feature unlocks and custom rewards
// (and codes, when the program has a fulfilment URL) are pushed to the
// customer's system by a signed webhook, retried until acknowledged. A
// reward is fulfilled only on a 2xx acknowledgement (or, for a code without
// a fulfilment URL, when the code is assigned: the participant sees it in
// the API). Cash is paid out by payouts, not here.

// FulfilmentStatus is where a reward's delivery stands.
type FulfilmentStatus string

// Fulfilment states.
const (
	FulfilScheduled     FulfilmentStatus = "scheduled"          // waiting for the reward's approval
	FulfilWaitingCodes  FulfilmentStatus = "waiting_for_codes"  // the pool is empty (an alert is open)
	FulfilWaitingConfig FulfilmentStatus = "waiting_for_config" // no fulfilment URL (an alert is open)
	FulfilDelivering    FulfilmentStatus = "delivering"         // the webhook is being retried
	FulfilFulfilled     FulfilmentStatus = "fulfilled"          // acknowledged (or code shown)
	FulfilCancelled     FulfilmentStatus = "cancelled"          // the reward was reversed first
)

// FulfilmentState is a reward's delivery as shown with the reward.
type FulfilmentState struct {
	Status      FulfilmentStatus `json:"status"`
	Code        string           `json:"code,omitempty"`
	Pool        string           `json:"pool,omitempty"`
	Feature     string           `json:"feature,omitempty"`
	Days        int              `json:"days,omitempty"`
	Attempts    int              `json:"attempts"`
	LastError   string           `json:"last_error,omitempty"`
	FulfilledAt *time.Time       `json:"fulfilled_at,omitempty"`
}

// NeedsFulfilment reports whether a reward kind is delivered by Parrain.
func NeedsFulfilment(k RewardKind) bool {
	switch k {
	case KindCredit, KindCoupon, KindGiftCard, KindFeatureUnlock, KindCustom:
		return true
	}
	return false
}

// UsesCode reports whether a reward kind is delivered as a code.
func UsesCode(k RewardKind) bool { return k == KindCoupon || k == KindGiftCard }

// EntryFulfilment is the ledger entry of a delivered non-cash reward: its
// value moves from approved to paid (settled in kind).
const EntryFulfilment EntryType = "fulfilment"

// Fulfil returns the entries and the new status that settle an approved
// non-cash reward once delivered; ok is false when nothing is to settle.
func Fulfil(r *Reward) ([]Movement, RewardStatus, bool) {
	if r.Status != RewardApproved || r.Outstanding() <= 0 {
		return nil, r.Status, false
	}
	x := r.Outstanding()
	return []Movement{{EntryFulfilment, BucketApproved, -x}, {EntryFulfilment, BucketPaid, x}}, RewardPaid, true
}
