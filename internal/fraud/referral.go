package fraud

import "time"

// Party is one side of a referral, the advocate (who shares a code) or the
// friend (who signs up with it), as the caller knows them at assessment
// time. Empty fields are unknown and never produce signals.
type Party struct {
	// ExternalID is the operator's own user or customer id.
	ExternalID string
	// Email is the address as entered; it is normalized here.
	Email string
	// Name is the full name as entered.
	Name string
	// IP is the most recent client address: the friend's signup request,
	// the advocate's last login or share. A port and an IPv6 zone are
	// accepted and ignored.
	IP string
	// RecentIPs are other addresses this party used recently (for the
	// advocate, e.g. logins in the last 30 days).
	RecentIPs []string
	// UserAgent is the User-Agent header of the request behind IP. Leave it
	// empty when unknown: an empty signup User-Agent is not a signal.
	UserAgent string
	// DeviceID is a first-party device identifier (long-lived cookie or app
	// installation id).
	DeviceID string
	// PaymentFingerprint identifies the payment instrument without
	// revealing it (e.g. the payment processor's card fingerprint).
	PaymentFingerprint string
	// Address is the billing or shipping address; it is compared after
	// lowercasing and collapsing punctuation and spaces.
	Address string
	// Country is an ISO 3166-1 alpha-2 code (from billing, profile or IP
	// geolocation).
	Country string
	// AlreadyCustomer is true when the caller's records show this person
	// was a customer before the referral (same email, account or customer
	// id). Only meaningful for the friend.
	AlreadyCustomer bool
	// SignedUpAt is when this party created their account. For the friend
	// it anchors the no-activity check.
	SignedUpAt time.Time
}

// Click is one visit to a referral link.
type Click struct {
	// At is when the click happened. A zero At is treated as inside any
	// window.
	At time.Time
	// IP is the client address of the click.
	IP string
	// UserAgent is the click's User-Agent header; leave it empty only when
	// the request really had none (empty counts as automation).
	UserAgent string
	// Referer is the Referer header, if any.
	Referer string
	// LandingURL is the full URL requested, including its query string.
	LandingURL string
}

// History summarises the advocate's past referrals as counted by the
// caller.
type History struct {
	// Hourly is the EWMA baseline of the advocate's referred signups per
	// hour, updated with every complete hour before the trailing one (see
	// [Velocity]), quiet hours included.
	Hourly Velocity
	// ThisHour is the number of referred signups attributed to the
	// advocate in the trailing 60 minutes, including the one being
	// assessed. Count a sliding hour, not the clock hour: a burst that
	// straddles a clock hour must count whole.
	ThisHour int
	// Referrals is the number of earlier referred friends old enough to
	// judge (past the inactivity period or the refund window).
	Referrals int
	// InactiveReferrals is how many of those showed no product activity.
	InactiveReferrals int
	// RefundedReferrals is how many of those refunded or cancelled the
	// conversion that earned the advocate a reward.
	RefundedReferrals int
}

// Conversion is the friend's qualifying purchase or subscription.
type Conversion struct {
	// At is when the friend converted.
	At time.Time
	// RewardedAt is when the advocate's reward was issued; zero if not yet.
	RewardedAt time.Time
	// RefundedAt is when the conversion was refunded; zero if not.
	RefundedAt time.Time
	// CancelledAt is when the subscription or order was cancelled; zero if
	// not.
	CancelledAt time.Time
}

// Activity is the friend's product usage since signup, as counted by the
// caller (sessions, orders, messages sent: whatever proves real use).
type Activity struct {
	// Events is the number of meaningful product events since signup.
	Events int
	// LastSeen is the friend's most recent activity; zero if never.
	LastSeen time.Time
}

// Convergence counts other accounts sharing the friend's payment
// instrument or address, as found by the caller's own index.
type Convergence struct {
	// SamePaymentFriends is the number of other referred friends in the
	// program who used the friend's PaymentFingerprint.
	SamePaymentFriends int
	// SameAddressFriends is the number of other referred friends in the
	// program with the friend's Address.
	SameAddressFriends int
	// CustomersSamePayment is the number of existing customer accounts,
	// other than the advocate and created before this referral, that used
	// the friend's PaymentFingerprint.
	CustomersSamePayment int
}

// Referral is everything the caller knows about one referral at the time of
// assessment. Assess a referral when the friend signs up, again when they
// convert, and once more when the reward is due (after the inactivity
// period or refund window): each call sees whatever facts exist by then.
type Referral struct {
	// At is the time of the assessment ("now"); every window ends here.
	At time.Time
	// Code is the advocate's referral code, used in reasons only.
	Code string
	// Advocate is the person who shared the code.
	Advocate Party
	// Friend is the referred person.
	Friend Party
	// Click is the click the referral was attributed to, or nil when the
	// code was typed in.
	Click *Click
	// RecentClicks are clicks on the advocate's code in a recent window
	// ending at At (at least [Tuning.ClickWindow] long); the friend's own
	// click may be among them.
	RecentClicks []Click
	// AdvocateHistory summarises the advocate's earlier referrals.
	AdvocateHistory History
	// ProgramHourly is the program's baseline of referred signups per
	// active advocate per hour: update it each hour with the hourly count of
	// every advocate who had at least one signup in that hour (one update
	// per such advocate). It is not the program's total per hour, which
	// grows with the number of advocates and would hide any one burst.
	ProgramHourly Velocity
	// Conversion is the friend's conversion, or nil before it happens.
	Conversion *Conversion
	// FriendActivity is the friend's product usage, or nil when unknown.
	FriendActivity *Activity
	// Convergence counts accounts sharing the friend's payment instrument
	// or address.
	Convergence Convergence
}
