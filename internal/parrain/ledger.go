package parrain

import "time"

// Bucket is a ledger account a reward's value sits in.
type Bucket string

// Ledger buckets. A participant's balance in a bucket is the sum of their
// entries in it.
const (
	BucketPending  Bucket = "pending"
	BucketApproved Bucket = "approved"
	BucketPaid     Bucket = "paid"
)

// EntryType says why a ledger entry exists.
type EntryType string

// Ledger entry types.
const (
	EntryAccrual  EntryType = "accrual"  // a reward is created: +amount pending
	EntryApproval EntryType = "approval" // hold elapsed: −x pending, +x approved
	EntryReversal EntryType = "reversal" // refund during the hold: −x pending
	EntryClawback EntryType = "clawback" // refund after approval: −x approved (may go negative, netted at payout)
	EntryPayout   EntryType = "payout"   // paid out: −x approved, +x paid
	// EntryReinstatement undoes a void by a manager's decision: +x approved
	// (a reward voided as inactive, its hold over).
	EntryReinstatement EntryType = "reinstatement"
)

// Entry is one immutable line of the ledger. Corrections are new entries;
// no entry is ever updated or deleted (the database refuses it).
type Entry struct {
	ID            string    `json:"id"`
	ProgramID     string    `json:"program_id"`
	ParticipantID string    `json:"-"`
	RewardID      string    `json:"reward_id"`
	Type          EntryType `json:"type"`
	Bucket        Bucket    `json:"bucket"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Memo          string    `json:"memo,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// Movement is a ledger change to apply, without identity or time.
type Movement struct {
	Type   EntryType
	Bucket Bucket
	Amount int64
}

// Accrue returns the entries for a new reward.
func Accrue(amount int64) []Movement {
	return []Movement{{EntryAccrual, BucketPending, amount}}
}

// Approve returns the entries and the new status that approve a pending
// reward's outstanding amount. ok is false when the reward cannot be
// approved (not pending, or nothing left to approve).
func Approve(r *Reward) ([]Movement, RewardStatus, bool) {
	if r.Status != RewardPending || r.Outstanding() <= 0 {
		return nil, r.Status, false
	}
	x := r.Outstanding()
	return []Movement{{EntryApproval, BucketPending, -x}, {EntryApproval, BucketApproved, x}}, RewardApproved, true
}

// Reverse returns the entries and the new status for reversing x of a
// reward: a reversal while pending, a clawback once approved or paid. The
// status changes only when nothing is left.
func Reverse(r *Reward, x int64) ([]Movement, RewardStatus) {
	if x <= 0 {
		return nil, r.Status
	}
	full := x >= r.Outstanding()
	switch r.Status {
	case RewardPending:
		st := RewardPending
		if full {
			st = RewardReversed
		}
		return []Movement{{EntryReversal, BucketPending, -x}}, st
	case RewardApproved, RewardPaid:
		st := r.Status
		if full {
			st = RewardClawedBack
		}
		return []Movement{{EntryClawback, BucketApproved, -x}}, st
	}
	return nil, r.Status
}

// PayOut returns the entries and the new status for paying out amount of a
// reward's approved bucket: −amount approved, +amount paid. amount is what
// the payout settled for this reward (its approved balance when the batch
// was made); a negative amount nets a clawback of an already paid reward
// against the payout, and leaves the status as it is. An approved reward
// becomes paid.
func PayOut(r *Reward, amount int64) ([]Movement, RewardStatus) {
	if amount == 0 {
		return nil, r.Status
	}
	st := r.Status
	if amount > 0 && r.Status == RewardApproved {
		st = RewardPaid
	}
	return []Movement{{EntryPayout, BucketApproved, -amount}, {EntryPayout, BucketPaid, amount}}, st
}
