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
)

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
}

// SelfReferral reports whether the friend is the advocate: the same user id
// or the same canonical email.
func SelfReferral(advocate Participant, friendExternalID, friendEmail string) bool {
	if advocate.ExternalID == friendExternalID {
		return true
	}
	return advocate.Email != "" && friendEmail != "" && CanonicalEmail(advocate.Email) == CanonicalEmail(friendEmail)
}
