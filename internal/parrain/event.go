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
	// Moments of satisfaction, reported so that triggers can invite the
	// participant to refer when they are happiest (see moment.go).
	EventNPS         EventType = "nps"          // Score 0–10
	EventRating      EventType = "rating"       // Score 1–5 (stars)
	EventPlanUpgrade EventType = "plan_upgrade" // Plan (and PreviousPlan)
	EventMilestone   EventType = "milestone"    // Milestone name, optional Value
	EventCustom      EventType = "custom"       // EventName, optional Value
	// Reward engine events (see engine_event.go).
	EventStage    EventType = "stage"    // the referred lead reached Stage, optional Value
	EventContract EventType = "contract" // the lead's first-year contract value is now Value (true-ups)
	EventCancel   EventType = "cancel"   // the referred customer cancelled: rewards still on hold are voided
	// EventActivity reports that a referred customer used the product
	// (sent by the integration, e.g. once a day per active user); referred
	// accounts with none are flagged by fraud detection.
	EventActivity EventType = "activity"
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
	// Context is what the reporting system knows about the person's
	// request (IP, device, payment fingerprint…), used for fraud checks.
	Context *EventContext `json:"context,omitempty"`
	// ConsentID names the contact consent the friend gave on the referral
	// landing page (the parrain_consent value the snippet keeps); the
	// signup links it to the friend.
	ConsentID string `json:"consent_id,omitempty"`
	// Fields of the moment events (nps, rating, plan_upgrade, milestone,
	// custom); see moment.go.
	Score        *int   `json:"score,omitempty"`
	Plan         string `json:"plan,omitempty"`
	PreviousPlan string `json:"previous_plan,omitempty"`
	Milestone    string `json:"milestone,omitempty"`
	EventName    string `json:"event_name,omitempty"`
	Value        *int64 `json:"value,omitempty"`
	// Reward engine fields (see engine_event.go): the stage reached, the
	// exchange rate of Amount or Value into the program currency, the
	// partner tier of a deal, and whether the buyer was already a customer.
	Stage            string `json:"stage,omitempty"`
	FXRate           string `json:"fx_rate,omitempty"`
	PartnerTier      string `json:"partner_tier,omitempty"`
	ExistingCustomer bool   `json:"existing_customer,omitempty"`
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
		if err := NormalizePerson(&e.Email, &e.Name, &e.Locale); err != nil {
			return err
		}
	case EventRefund:
	case EventNPS, EventRating, EventPlanUpgrade, EventMilestone, EventCustom:
		if err := e.normalizeMoment(); err != nil {
			return err
		}
	case EventStage, EventContract, EventCancel, EventActivity:
		if err := ValidateExternalID("external_id", e.ExternalID); err != nil {
			return err
		}
	case "":
		return Invalid("type", "is required (signup, purchase, refund, stage, contract, cancel, activity, nps, rating, plan_upgrade, milestone or custom)")
	default:
		return Invalid("type", "must be signup, purchase, refund, stage, contract, cancel, activity, nps, rating, plan_upgrade, milestone or custom")
	}
	if e.ReferralCode != "" {
		e.ReferralCode = NormalizeCode(e.ReferralCode)
		if !ValidCodeSyntax(e.ReferralCode) {
			return Invalid("referral_code", "is not a referral code")
		}
	}
	if err := validConsentID(e.ConsentID); err != nil {
		return err
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
	if err := e.normalizeEngine(); err != nil {
		return err
	}
	if err := e.Context.Normalize(); err != nil {
		return err
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
