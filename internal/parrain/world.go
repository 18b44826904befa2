package parrain

import (
	"context"
	"time"
)

// Referred is a referral with both of its participants: what the reward
// engine rewards.
type Referred struct {
	Referral Referral
	Advocate Participant
	Friend   Participant
}

// GrantSource says what a reward comes from, for storage.
type GrantSource struct {
	EventID    string
	PurchaseID string
	OrderID    string
	Version    int // the program version whose rule produced it
}

// ReversalResult is what a refund, a cancellation or a true-up did to one
// reward.
type ReversalResult struct {
	RewardID  string       `json:"reward_id"`
	Amount    int64        `json:"amount"`
	Currency  string       `json:"currency"`
	EntryType EntryType    `json:"entry_type"`
	Status    RewardStatus `json:"status"`
}

// World is the reward engine's port: where its decisions on one program's
// referrals are read and recorded. Real ingestion and dry runs record them
// in the event's database transaction; a replay keeps them in memory over
// the database as it stood before its window.
type World interface {
	Facts
	// Reach records that a referral reached a stage; first is false when
	// it already had (then reached is when).
	Reach(ctx context.Context, r *Referred, stage, eventID string, value *int64, currency string, at time.Time) (first bool, reached time.Time, err error)
	// ReachedAt says when a referral reached a stage.
	ReachedAt(ctx context.Context, referralID, stage string) (time.Time, bool, error)
	// Succeed marks a referral successful at at, unless it already is.
	Succeed(ctx context.Context, r *Referred, at time.Time) (bool, error)
	// SucceededAt returns when a referral succeeded (nil if not, or voided).
	SucceededAt(ctx context.Context, referralID string) (*time.Time, error)
	// Grant stores an award as a pending reward.
	Grant(ctx context.Context, r *Referred, a Award, src GrantSource) (Reward, error)
	// RewardsOf lists a referral's rewards, oldest first.
	RewardsOf(ctx context.Context, referralID string) ([]Reward, error)
	// Reverse takes x off a reward (a reversal, or a clawback once approved).
	Reverse(ctx context.Context, rw *Reward, x int64, memo string) (ReversalResult, error)
	// Cancel records a customer's cancellation, voiding the success if void.
	Cancel(ctx context.Context, referralID string, at time.Time, void bool) error
	// Program returns the program document of a version.
	Program(ctx context.Context, version int) (Program, error)
}

// EventResult is the answer to a reported event: who was credited and what
// it created. It is stored with the idempotency key and replayed verbatim.
type EventResult struct {
	EventID   string    `json:"event_id"`
	Type      EventType `json:"type"`
	Duplicate bool      `json:"duplicate"`
	Message   string    `json:"message,omitempty"`
	// Participant is the friend (signup, purchase).
	Participant *ParticipantRef `json:"participant,omitempty"`
	// Credited is the advocate credited for this event, if any.
	Credited  *ParticipantRef  `json:"credited,omitempty"`
	Referral  *Referral        `json:"referral,omitempty"`
	Rewards   []Reward         `json:"rewards"`
	Reversals []ReversalResult `json:"reversals,omitempty"`
	Skipped   []Skip           `json:"skipped,omitempty"`
	// TriggersFired are the moment triggers this event fired.
	TriggersFired []FiredTrigger `json:"triggers_fired,omitempty"`
}

// ParticipantRef names a participant in answers.
type ParticipantRef struct {
	ExternalID string `json:"external_id"`
	Code       string `json:"code"`
}

// FiredTrigger names a trigger fired by an event, in the event's answer.
type FiredTrigger struct {
	TriggerID string `json:"trigger_id"`
	FiringID  string `json:"firing_id"`
	Name      string `json:"name"`
}
