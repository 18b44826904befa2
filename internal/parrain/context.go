package parrain

import (
	"net/netip"
	"strings"
)

// EventContext carries facts about the person behind an event that fraud
// detection compares across the advocate and the friend. Every field is
// optional; the more the integration sends, the better the checks.
type EventContext struct {
	IP                 string `json:"ip,omitempty"`                  // the person's IP address when the event happened
	UserAgent          string `json:"user_agent,omitempty"`          // their browser's User-Agent
	DeviceID           string `json:"device_id,omitempty"`           // a stable device id (from the snippet or the app)
	PaymentFingerprint string `json:"payment_fingerprint,omitempty"` // card fingerprint or payment-method hash
	Address            string `json:"address,omitempty"`             // billing or shipping address, normalised by the caller
	Country            string `json:"country,omitempty"`             // ISO 3166-1 alpha-2
	AlreadyCustomer    bool   `json:"already_customer,omitempty"`    // the person was a customer before this referral
}

// Normalize validates the context; a nil context is valid.
func (c *EventContext) Normalize() error {
	if c == nil {
		return nil
	}
	if c.IP != "" {
		a, err := netip.ParseAddr(strings.TrimSpace(c.IP))
		if err != nil {
			return Invalid("context.ip", "is not an IP address")
		}
		c.IP = a.Unmap().String()
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"context.user_agent", &c.UserAgent, 500}, {"context.device_id", &c.DeviceID, 200},
		{"context.payment_fingerprint", &c.PaymentFingerprint, 200}, {"context.address", &c.Address, 500}} {
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > f.max {
			return Invalid(f.name, "must be at most %d characters", f.max)
		}
	}
	c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
	if c.Country != "" && (len(c.Country) != 2 || c.Country[0] < 'A' || c.Country[0] > 'Z' || c.Country[1] < 'A' || c.Country[1] > 'Z') {
		return Invalid("context.country", "must be an ISO 3166-1 alpha-2 code such as FR")
	}
	return nil
}
