package parrain

import "time"

// ReferralStatus is where a referred friend stands.
type ReferralStatus string

// Referral states.
const (
	ReferralSignedUp  ReferralStatus = "signed_up" // attributed at signup
	ReferralConverted ReferralStatus = "converted" // made a first purchase
	ReferralRejected  ReferralStatus = "rejected"  // recorded but never rewarded (see Reason)
)

// Reasons a referral is rejected.
const (
	ReasonSelfReferral = "self_referral"
	ReasonFraud        = "fraud"        // rejected automatically by the fraud policy
	ReasonFraudReview  = "fraud_review" // rejected by a reviewer
)

// Review states of a referral.
const (
	ReviewNone     = "none"
	ReviewFlagged  = "flagged"
	ReviewHeld     = "held"
	ReviewCleared  = "cleared"
	ReviewRejected = "rejected"
)

// UnderReview reports whether a review status blocks reward approval: only
// a hold does. A flag is observe-and-pay: the rewards mature as usual and
// the referral waits in the review queue for an optional look.
func UnderReview(status string) bool { return status == ReviewHeld }

// InReviewQueue reports whether a referral is in the review queue, waiting
// for a reviewer's decision (flagged or held).
func InReviewQueue(status string) bool { return status == ReviewFlagged || status == ReviewHeld }

// ParticipantSuspended marks an advocate suspended for fraud: their code
// earns nothing and they keep nothing pending.
const ParticipantSuspended ParticipantStatus = "suspended"

// Referral links a friend to the advocate credited for bringing them. A
// person is referred at most once per program.
type Referral struct {
	ID                 string         `json:"id"`
	ProgramID          string         `json:"program_id"`
	AdvocateID         string         `json:"-"`
	AdvocateExternalID string         `json:"advocate_external_id"`
	FriendID           string         `json:"-"`
	FriendExternalID   string         `json:"friend_external_id"`
	Code               string         `json:"code"`
	Status             ReferralStatus `json:"status"`
	Reason             string         `json:"reason,omitempty"`
	ClickedAt          *time.Time     `json:"clicked_at,omitempty"`
	SignedUpAt         time.Time      `json:"signed_up_at"`
	ConvertedAt        *time.Time     `json:"converted_at,omitempty"`
	CreatedAt          time.Time      `json:"created_at"`
	// RiskScore (0–100) and RiskAction are the fraud assessment made when
	// the referral was attributed (and revised by later evidence).
	RiskScore  int    `json:"risk_score"`
	RiskAction string `json:"risk_action,omitempty"`
	// ReviewStatus is none, flagged (in the review queue, its rewards paid
	// as usual), held (waiting for a reviewer: its rewards are not approved
	// meanwhile), cleared or rejected.
	ReviewStatus   string     `json:"review_status,omitempty"`
	ReviewDeadline *time.Time `json:"review_deadline,omitempty"`
}

// SelfReferral reports whether the friend is the advocate: the same user id
// or the same canonical email.
func SelfReferral(advocate Participant, friendExternalID, friendEmail string) bool {
	if advocate.ExternalID == friendExternalID {
		return true
	}
	return advocate.Email != "" && friendEmail != "" && CanonicalEmail(advocate.Email) == CanonicalEmail(friendEmail)
}
