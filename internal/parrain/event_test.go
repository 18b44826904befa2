package parrain

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEventNormalizeSignup(t *testing.T) {
	e := Event{
		Type:         EventSignup,
		ExternalID:   "friend_1",
		Email:        " Bob@Example.COM ",
		Name:         "  Bob ",
		Locale:       "en_gb",
		ReferralCode: "  marie-2025 ",
	}
	if err := e.Normalize(t0); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if e.Email != "Bob@example.com" || e.Name != "Bob" || e.Locale != "en-GB" || e.ReferralCode != "MARIE-2025" {
		t.Errorf("fields not normalised: %+v", e)
	}
	if !e.OccurredAt.Equal(t0) {
		t.Errorf("OccurredAt = %v, want now %v", e.OccurredAt, t0)
	}
}

func TestEventNormalizePurchaseAndRefund(t *testing.T) {
	p := Event{Type: EventPurchase, ExternalID: "f", OrderID: "  ord_1 ", Amount: 4999, Currency: "eur"}
	if err := p.Normalize(t0); err != nil {
		t.Fatalf("purchase: %v", err)
	}
	if p.OrderID != "ord_1" || p.Currency != "EUR" || p.Amount != 4999 {
		t.Errorf("purchase = %+v", p)
	}
	// A refund needs no external id nor currency.
	r := Event{Type: EventRefund, OrderID: "ord_1", Amount: 1000}
	if err := r.Normalize(t0); err != nil {
		t.Fatalf("refund: %v", err)
	}
	if r.Currency != "" {
		t.Errorf("refund currency = %q", r.Currency)
	}
	r2 := Event{Type: EventRefund, OrderID: "ord_1", Amount: 1000, Currency: "jpy"}
	if err := r2.Normalize(t0); err != nil || r2.Currency != "JPY" {
		t.Errorf("refund with currency: %q, %v", r2.Currency, err)
	}
}

func TestEventNormalizeErrors(t *testing.T) {
	signup := func() Event { return Event{Type: EventSignup, ExternalID: "f"} }
	purchase := func() Event {
		return Event{Type: EventPurchase, ExternalID: "f", OrderID: "o", Amount: 100, Currency: "EUR"}
	}
	refund := func() Event { return Event{Type: EventRefund, OrderID: "o", Amount: 100} }
	tests := []struct {
		name  string
		ev    func() Event
		mod   func(*Event)
		field string
	}{
		{"type missing", signup, func(e *Event) { e.Type = "" }, "type"},
		{"type unknown", signup, func(e *Event) { e.Type = "click" }, "type"},
		{"signup external id", signup, func(e *Event) { e.ExternalID = "" }, "external_id"},
		{"purchase external id", purchase, func(e *Event) { e.ExternalID = " " }, "external_id"},
		{"signup email", signup, func(e *Event) { e.Email = "bob" }, "email"},
		{"purchase email", purchase, func(e *Event) { e.Email = "bob@" }, "email"},
		{"name too long", signup, func(e *Event) { e.Name = strings.Repeat("n", 201) }, "name"},
		{"locale", signup, func(e *Event) { e.Locale = "x" }, "locale"},
		{"referral code junk", signup, func(e *Event) { e.ReferralCode = "a'; drop" }, "referral_code"},
		{"referral code short", signup, func(e *Event) { e.ReferralCode = "ab" }, "referral_code"},
		{"referral cookie malformed", signup, func(e *Event) { e.ReferralCookie = "garbage" }, "referral_cookie"},
		{"touch bad code", signup, func(e *Event) { e.Touches = []Touch{{Code: "a b", At: t0}} }, "touches"},
		{"touch no time", signup, func(e *Event) { e.Touches = []Touch{{Code: "ABC"}} }, "touches"},
		{"too many touches", signup, func(e *Event) {
			for range 21 {
				e.Touches = append(e.Touches, Touch{Code: "ABC", At: t0})
			}
		}, "touches"},
		{"touches plus cookie over 20", signup, func(e *Event) {
			for range 19 {
				e.Touches = append(e.Touches, Touch{Code: "ABC", At: t0})
			}
			e.ReferralCookie = "DEF.1700000000~GHI.1700000001"
		}, "touches"},
		{"purchase order id", purchase, func(e *Event) { e.OrderID = "  " }, "order_id"},
		{"purchase order id long", purchase, func(e *Event) { e.OrderID = strings.Repeat("o", 201) }, "order_id"},
		{"purchase amount zero", purchase, func(e *Event) { e.Amount = 0 }, "amount"},
		{"purchase amount negative", purchase, func(e *Event) { e.Amount = -1 }, "amount"},
		{"purchase amount too large", purchase, func(e *Event) { e.Amount = MaxAmount + 1 }, "amount"},
		{"purchase currency missing", purchase, func(e *Event) { e.Currency = "" }, "currency"},
		{"purchase currency unknown", purchase, func(e *Event) { e.Currency = "BTC" }, "currency"},
		{"refund order id", refund, func(e *Event) { e.OrderID = "" }, "order_id"},
		{"refund amount", refund, func(e *Event) { e.Amount = 0 }, "amount"},
		{"refund currency unknown", refund, func(e *Event) { e.Currency = "XYZ" }, "currency"},
		{"future", signup, func(e *Event) { e.OccurredAt = t0.Add(5*time.Minute + time.Second) }, "occurred_at"},
		{"far future", purchase, func(e *Event) { e.OccurredAt = t0.AddDate(1, 0, 0) }, "occurred_at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.ev()
			tc.mod(&e)
			wantInvalid(t, e.Normalize(t0), tc.field)
		})
	}
}

func TestEventNormalizeOccurredAt(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"absent = now", time.Time{}, t0},
		{"back-dated", t0.Add(-72 * time.Hour), t0.Add(-72 * time.Hour)},
		{"clock skew tolerated", t0.Add(5 * time.Minute), t0.Add(5 * time.Minute)},
		{"converted to UTC", t0.Add(-time.Hour).In(paris), t0.Add(-time.Hour)},
	}
	for _, tc := range tests {
		e := Event{Type: EventSignup, ExternalID: "f", OccurredAt: tc.in}
		if err := e.Normalize(t0); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !e.OccurredAt.Equal(tc.want) || e.OccurredAt.Location() != time.UTC {
			t.Errorf("%s: OccurredAt = %v, want %v UTC", tc.name, e.OccurredAt, tc.want)
		}
	}
}

func TestEventNormalizeTouches(t *testing.T) {
	e := Event{
		Type:           EventSignup,
		ExternalID:     "f",
		Touches:        []Touch{{Code: " abc ", At: t0.Add(-time.Hour)}},
		ReferralCookie: "marie.1741600000~BOB-1.1741600100",
	}
	if err := e.Normalize(t0); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := []Touch{
		{Code: "ABC", At: t0.Add(-time.Hour)},
		{Code: "MARIE", At: time.Unix(1741600000, 0).UTC()},
		{Code: "BOB-1", At: time.Unix(1741600100, 0).UTC()},
	}
	if !slices.Equal(e.Touches, want) {
		t.Errorf("Touches = %v, want %v", e.Touches, want)
	}
	if e.ReferralCookie != "" {
		t.Errorf("ReferralCookie not cleared: %q", e.ReferralCookie)
	}
	// Normalising again must not duplicate the cookie's touches.
	if err := e.Normalize(t0); err != nil || len(e.Touches) != 3 {
		t.Errorf("second Normalize: %d touches, %v", len(e.Touches), err)
	}
}
