package stripehook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event types Parrain handles.
const (
	EventInvoicePaid                 = "invoice.paid"                  // data.object is an invoice: ParseInvoice
	EventCheckoutSessionCompleted    = "checkout.session.completed"    // data.object is a checkout.session: ParseCheckoutSession
	EventChargeRefunded              = "charge.refunded"               // data.object is a charge: ParseCharge
	EventCustomerSubscriptionDeleted = "customer.subscription.deleted" // data.object is a subscription: ParseSubscription
)

// Sentinel errors returned (wrapped) by the parsers.
var (
	// ErrMalformedPayload: the bytes are not the JSON shape Stripe documents
	// (not JSON, wrong field types, or a required field such as id missing).
	ErrMalformedPayload = errors.New("stripehook: malformed payload")
	// ErrUnexpectedObject: data.object is a different kind of Stripe object
	// than the parser expects (its "object" field says otherwise).
	ErrUnexpectedObject = errors.New("stripehook: unexpected object type")
)

// Event is the envelope of a Stripe event
// (https://docs.stripe.com/api/events/object).
type Event struct {
	// ID is the event id ("evt_..."); use it to deduplicate deliveries.
	ID string
	// Type is the event type, such as "invoice.paid".
	Type string
	// APIVersion is the Stripe API version the object is rendered in; it may
	// be empty.
	APIVersion string
	// Created is when the event was created (unix seconds in the payload).
	Created time.Time
	// Livemode is false for test-mode events.
	Livemode bool
	// Account is the connected account id for Connect events, else "".
	Account string
	// Object is data.object, the raw JSON of the object the event is about;
	// decode it with ParseInvoice, ParseCheckoutSession, ParseCharge or
	// ParseSubscription according to Type.
	Object json.RawMessage
}

// wireEvent is the JSON shape of an event.
type wireEvent struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
	Created    int64  `json:"created"`
	Livemode   bool   `json:"livemode"`
	Account    string `json:"account"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// ParseEvent decodes a Stripe event envelope. It requires id, type and a JSON
// object in data.object, and, when "object" is present, that it is "event".
// Call it only on a payload that Verify accepted.
func ParseEvent(payload []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(payload, &w); err != nil {
		return Event{}, fmt.Errorf("%w: event: %w", ErrMalformedPayload, err)
	}
	if w.Object != "" && w.Object != "event" {
		return Event{}, fmt.Errorf("%w: object is %q, want \"event\"", ErrUnexpectedObject, w.Object)
	}
	if w.ID == "" || w.Type == "" {
		return Event{}, fmt.Errorf("%w: event without id or type", ErrMalformedPayload)
	}
	if !isJSONObject(w.Data.Object) {
		return Event{}, fmt.Errorf("%w: event %s: data.object is not a JSON object", ErrMalformedPayload, w.ID)
	}
	return Event{
		ID:         w.ID,
		Type:       w.Type,
		APIVersion: w.APIVersion,
		Created:    time.Unix(w.Created, 0).UTC(),
		Livemode:   w.Livemode,
		Account:    w.Account,
		Object:     w.Data.Object,
	}, nil
}

// isJSONObject reports whether raw (already valid JSON) is an object.
func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}

// expandable is a Stripe "expandable" reference: either the id string, an
// expanded object with an "id" field, or null. It decodes to the id.
type expandable string

// UnmarshalJSON implements json.Unmarshaler.
func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = expandable(s)
		return nil
	case len(b) > 0 && b[0] == '{':
		var obj struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*e = expandable(obj.ID)
		return nil
	default:
		return fmt.Errorf("expandable field: want string, object or null, got %.20s", b)
	}
}

// decodeObject unmarshals a data.object into dst after checking its "object"
// field (when present) against want, and that it has an id.
func decodeObject(raw json.RawMessage, want string, dst any) error {
	var head struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMalformedPayload, want, err)
	}
	if head.Object != "" && head.Object != want {
		return fmt.Errorf("%w: object is %q, want %q", ErrUnexpectedObject, head.Object, want)
	}
	if head.ID == "" {
		return fmt.Errorf("%w: %s without id", ErrMalformedPayload, want)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrMalformedPayload, want, head.ID, err)
	}
	return nil
}

// Invoice holds the fields of a Stripe Invoice
// (https://docs.stripe.com/api/invoices/object) that Parrain uses, typically
// from invoice.paid. Amounts are in the currency's minor unit.
type Invoice struct {
	ID            string // "in_..."
	Customer      string // "cus_..."; "" if none
	CustomerEmail string // customer_email, as on the invoice
	AmountPaid    int64  // amount_paid
	Currency      string // lower-case ISO 4217 code, as Stripe sends it
	// Subscription is the subscription that generated the invoice, "" for a
	// one-off invoice. It is read from parent.subscription_details.subscription
	// (API 2025-03-31.basil and later) or the older top-level subscription.
	Subscription string
	// Metadata is the invoice's own metadata.
	Metadata map[string]string
	// SubscriptionMetadata is the subscription's metadata snapshot carried on
	// the invoice (parent.subscription_details.metadata, or the older
	// subscription_details.metadata); nil if absent.
	SubscriptionMetadata map[string]string
}

// ParseInvoice decodes an invoice data.object.
func ParseInvoice(object json.RawMessage) (Invoice, error) {
	var w struct {
		ID                  string            `json:"id"`
		Customer            expandable        `json:"customer"`
		CustomerEmail       *string           `json:"customer_email"`
		AmountPaid          int64             `json:"amount_paid"`
		Currency            string            `json:"currency"`
		Subscription        expandable        `json:"subscription"`
		Metadata            map[string]string `json:"metadata"`
		SubscriptionDetails *struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"subscription_details"`
		Parent *struct {
			SubscriptionDetails *struct {
				Subscription expandable        `json:"subscription"`
				Metadata     map[string]string `json:"metadata"`
			} `json:"subscription_details"`
		} `json:"parent"`
	}
	if err := decodeObject(object, "invoice", &w); err != nil {
		return Invoice{}, err
	}
	inv := Invoice{
		ID:           w.ID,
		Customer:     string(w.Customer),
		AmountPaid:   w.AmountPaid,
		Currency:     w.Currency,
		Subscription: string(w.Subscription),
		Metadata:     w.Metadata,
	}
	if w.CustomerEmail != nil {
		inv.CustomerEmail = *w.CustomerEmail
	}
	if w.SubscriptionDetails != nil {
		inv.SubscriptionMetadata = w.SubscriptionDetails.Metadata
	}
	if w.Parent != nil && w.Parent.SubscriptionDetails != nil {
		sd := w.Parent.SubscriptionDetails
		if sd.Subscription != "" {
			inv.Subscription = string(sd.Subscription)
		}
		if sd.Metadata != nil {
			inv.SubscriptionMetadata = sd.Metadata
		}
	}
	return inv, nil
}

// CheckoutSession holds the fields of a Stripe Checkout Session
// (https://docs.stripe.com/api/checkout/sessions/object) that Parrain uses,
// typically from checkout.session.completed.
type CheckoutSession struct {
	ID       string // "cs_..."
	Customer string // "cus_..."; "" for guest sessions
	// CustomerEmail is customer_details.email (what the buyer entered),
	// falling back to customer_email (what the session was created with).
	CustomerEmail string
	AmountTotal   int64  // amount_total in minor units; 0 when null
	Currency      string // lower-case ISO 4217 code; "" when null
	// ClientReferenceID is client_reference_id, the merchant's own reference
	// (Parrain's referral code or visitor id when the merchant passes it).
	ClientReferenceID string
	Metadata          map[string]string
	// Mode is "payment", "subscription" or "setup".
	Mode string
	// PaymentStatus is "paid", "unpaid" (delayed payment methods: wait for
	// checkout.session.async_payment_succeeded) or "no_payment_required".
	PaymentStatus string
	// Subscription is the created subscription for mode "subscription".
	Subscription string
}

// ParseCheckoutSession decodes a checkout.session data.object.
func ParseCheckoutSession(object json.RawMessage) (CheckoutSession, error) {
	var w struct {
		ID              string     `json:"id"`
		Customer        expandable `json:"customer"`
		CustomerEmail   *string    `json:"customer_email"`
		CustomerDetails *struct {
			Email *string `json:"email"`
		} `json:"customer_details"`
		AmountTotal       *int64            `json:"amount_total"`
		Currency          *string           `json:"currency"`
		ClientReferenceID *string           `json:"client_reference_id"`
		Metadata          map[string]string `json:"metadata"`
		Mode              string            `json:"mode"`
		PaymentStatus     string            `json:"payment_status"`
		Subscription      expandable        `json:"subscription"`
	}
	if err := decodeObject(object, "checkout.session", &w); err != nil {
		return CheckoutSession{}, err
	}
	s := CheckoutSession{
		ID:            w.ID,
		Customer:      string(w.Customer),
		Metadata:      w.Metadata,
		Mode:          w.Mode,
		PaymentStatus: w.PaymentStatus,
		Subscription:  string(w.Subscription),
	}
	if w.CustomerDetails != nil && w.CustomerDetails.Email != nil {
		s.CustomerEmail = *w.CustomerDetails.Email
	}
	if s.CustomerEmail == "" && w.CustomerEmail != nil {
		s.CustomerEmail = *w.CustomerEmail
	}
	if w.AmountTotal != nil {
		s.AmountTotal = *w.AmountTotal
	}
	if w.Currency != nil {
		s.Currency = *w.Currency
	}
	if w.ClientReferenceID != nil {
		s.ClientReferenceID = *w.ClientReferenceID
	}
	return s, nil
}

// Charge holds the fields of a Stripe Charge
// (https://docs.stripe.com/api/charges/object) that Parrain uses, typically
// from charge.refunded. Amounts are in the currency's minor unit.
type Charge struct {
	ID             string // "ch_..." or "py_..."
	Customer       string // "cus_..."; "" if none
	Amount         int64  // amount charged
	AmountRefunded int64  // amount_refunded, cumulative over all refunds
	Refunded       bool   // true once fully refunded
	Currency       string // lower-case ISO 4217 code
	// Invoice is the invoice this charge paid. Stripe removed the field from
	// Charge in API 2025-03-31.basil, so it is "" for endpoints on that version
	// or later: use PaymentIntent (or the invoice payments API) instead.
	Invoice       string
	PaymentIntent string // "pi_..."; "" if none
	Metadata      map[string]string
}

// ParseCharge decodes a charge data.object.
func ParseCharge(object json.RawMessage) (Charge, error) {
	var w struct {
		ID             string            `json:"id"`
		Customer       expandable        `json:"customer"`
		Amount         int64             `json:"amount"`
		AmountRefunded int64             `json:"amount_refunded"`
		Refunded       bool              `json:"refunded"`
		Currency       string            `json:"currency"`
		Invoice        expandable        `json:"invoice"`
		PaymentIntent  expandable        `json:"payment_intent"`
		Metadata       map[string]string `json:"metadata"`
	}
	if err := decodeObject(object, "charge", &w); err != nil {
		return Charge{}, err
	}
	return Charge{
		ID:             w.ID,
		Customer:       string(w.Customer),
		Amount:         w.Amount,
		AmountRefunded: w.AmountRefunded,
		Refunded:       w.Refunded,
		Currency:       w.Currency,
		Invoice:        string(w.Invoice),
		PaymentIntent:  string(w.PaymentIntent),
		Metadata:       w.Metadata,
	}, nil
}

// Subscription holds the fields of a Stripe Subscription
// (https://docs.stripe.com/api/subscriptions/object) that Parrain uses,
// typically from customer.subscription.deleted.
type Subscription struct {
	ID       string // "sub_..."
	Customer string // "cus_..."
	Status   string // "canceled" for customer.subscription.deleted
	Metadata map[string]string
}

// ParseSubscription decodes a subscription data.object.
func ParseSubscription(object json.RawMessage) (Subscription, error) {
	var w struct {
		ID       string            `json:"id"`
		Customer expandable        `json:"customer"`
		Status   string            `json:"status"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := decodeObject(object, "subscription", &w); err != nil {
		return Subscription{}, err
	}
	return Subscription{
		ID:       w.ID,
		Customer: string(w.Customer),
		Status:   w.Status,
		Metadata: w.Metadata,
	}, nil
}
