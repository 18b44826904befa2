package parrain

import (
	"strings"
	"time"
)

// EventType is the kind of a reported event.
type EventType string

// Event types accepted by the events API.
const (
	EventSignup   EventType = "signup"
	EventPurchase EventType = "purchase"
	EventRefund   EventType = "refund"
)

// Event is a fact reported by the customer's backend, the snippet or a
// provider webhook.
type Event struct {
	Type       EventType `json:"type"`
	ExternalID string    `json:"external_id,omitempty"` // the friend's user id (signup, purchase)
	Email      string    `json:"email,omitempty"`
	Name       string    `json:"name,omitempty"`
	Locale     string    `json:"locale,omitempty"`
	// ReferralCode is the code read from the attribution cookie or typed by
	// the user.
	ReferralCode string `json:"referral_code,omitempty"`
	// Touches are the referral clicks remembered for this visitor (from the
	// parrain_ref cookie), so the program's attribution model can choose.
	Touches []Touch `json:"touches,omitempty"`
	// ReferralCookie is the raw parrain_ref cookie value, an alternative to
	// Touches.
	ReferralCookie string    `json:"referral_cookie,omitempty"`
	OrderID        string    `json:"order_id,omitempty"`
	Amount         int64     `json:"amount,omitempty"`
	Currency       string    `json:"currency,omitempty"`
	OccurredAt     time.Time `json:"occurred_at,omitzero"`
}

// Normalize validates an event and fills OccurredAt with now when absent.
// Events may be back-dated (late reports) but not dated in the future.
func (e *Event) Normalize(now time.Time) error {
	var err error
	switch e.Type {
	case EventSignup, EventPurchase:
		if err := ValidateExternalID("external_id", e.ExternalID); err != nil {
			return err
		}
		if e.Email, err = NormalizeEmailField("email", e.Email); err != nil {
			return err
		}
		e.Name = strings.TrimSpace(e.Name)
		if len(e.Name) > 200 {
			return Invalid("name", "must be at most 200 characters")
		}
		if e.Locale, err = NormalizeLocale("locale", e.Locale); err != nil {
			return err
		}
	case EventRefund:
	case "":
		return Invalid("type", "is required (signup, purchase or refund)")
	default:
		return Invalid("type", "must be signup, purchase or refund")
	}
	if e.ReferralCode != "" {
		e.ReferralCode = NormalizeCode(e.ReferralCode)
		if !ValidCodeSyntax(e.ReferralCode) {
			return Invalid("referral_code", "is not a referral code")
		}
	}
	if e.ReferralCookie != "" {
		ts, err := ParseTouchCookie(e.ReferralCookie)
		if err != nil {
			return Invalid("referral_cookie", "%v", err)
		}
		e.Touches = append(e.Touches, ts...)
		e.ReferralCookie = ""
	}
	if len(e.Touches) > 20 {
		return Invalid("touches", "at most 20 touches")
	}
	for i := range e.Touches {
		e.Touches[i].Code = NormalizeCode(e.Touches[i].Code)
		if !ValidCodeSyntax(e.Touches[i].Code) {
			return Invalid("touches", "touch %d has an invalid code", i)
		}
		if e.Touches[i].At.IsZero() {
			return Invalid("touches", "touch %d needs clicked_at", i)
		}
	}
	switch e.Type {
	case EventPurchase, EventRefund:
		e.OrderID = strings.TrimSpace(e.OrderID)
		if e.OrderID == "" {
			return Invalid("order_id", "is required")
		}
		if len(e.OrderID) > 200 {
			return Invalid("order_id", "must be at most 200 characters")
		}
		if e.Amount <= 0 || e.Amount > MaxAmount {
			return Invalid("amount", "must be a positive integer in the currency's minor unit")
		}
	}
	if e.Type == EventPurchase {
		if e.Currency, err = NormalizeCurrency("currency", e.Currency); err != nil {
			return err
		}
	}
	if e.Type == EventRefund && e.Currency != "" {
		if e.Currency, err = NormalizeCurrency("currency", e.Currency); err != nil {
			return err
		}
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Millisecond)
	if e.OccurredAt.After(now.Add(5 * time.Minute)) {
		return Invalid("occurred_at", "is in the future")
	}
	return nil
}
