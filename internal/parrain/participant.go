package parrain

import (
	"net/mail"
	"strings"
	"time"
)

// ParticipantStatus says whether a participant's code earns credit.
type ParticipantStatus string

// Participant states.
const (
	ParticipantActive   ParticipantStatus = "active"
	ParticipantDisabled ParticipantStatus = "disabled"
	// ParticipantErased is a tombstone: the person exercised their right to
	// erasure (docs/privacy.md); the row stays only so the ledger, rewards
	// and referrals keep a reference, with every personal field blanked.
	ParticipantErased ParticipantStatus = "erased"
)

// Participant is a person in a program, identified by the customer's own
// user id (ExternalID). Every participant has a referral code; a referred
// friend can refer others in turn.
type Participant struct {
	ID         string            `json:"id"`
	ProgramID  string            `json:"program_id"`
	ExternalID string            `json:"external_id"`
	Email      string            `json:"email,omitempty"`
	Name       string            `json:"name,omitempty"`
	Locale     string            `json:"locale,omitempty"`
	Code       string            `json:"code"`
	Status     ParticipantStatus `json:"status"`
	// Attributes are the customer's facts about the participant (plan,
	// segment, paying, partner_tier, …) used by eligibility rules.
	Attributes Attributes `json:"attributes,omitempty"`
	// DoNotSell is the person's CCPA "do not sell or share" choice: no CRM
	// sync and no marketing webhooks about them (docs/privacy.md).
	DoNotSell bool       `json:"do_not_sell"`
	ErasedAt  *time.Time `json:"erased_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// ParticipantInput is an upsert request for a participant.
type ParticipantInput struct {
	ExternalID string            `json:"-"`
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Locale     string            `json:"locale"`
	Code       string            `json:"code"`   // requested vanity code, optional
	Status     ParticipantStatus `json:"status"` // optional: active or disabled
	// Attributes, when present, replace the participant's attributes (a
	// pointer keeps the input comparable and tells "absent" from "{}").
	Attributes *Attributes `json:"attributes,omitempty"`
	// DoNotSell, when present, sets the CCPA "do not sell or share" flag.
	DoNotSell *bool `json:"do_not_sell,omitempty"`
	// Context is what is known of the participant's own requests (IP,
	// device, payment fingerprint), remembered for fraud checks on the
	// referrals they make.
	Context *EventContext `json:"context,omitempty"`
}

// ValidateExternalID checks a customer user id.
func ValidateExternalID(field, id string) error {
	if strings.TrimSpace(id) == "" {
		return Invalid(field, "is required")
	}
	if len(id) > 200 {
		return Invalid(field, "must be at most 200 characters")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// Normalize validates the input and canonicalises its fields.
func (in *ParticipantInput) Normalize() error {
	if err := ValidateExternalID("external_id", in.ExternalID); err != nil {
		return err
	}
	if err := in.Context.Normalize(); err != nil {
		return err
	}
	if err := NormalizePerson(&in.Email, &in.Name, &in.Locale); err != nil {
		return err
	}
	var err error
	if in.Code != "" {
		if in.Code, err = ValidateVanityCode("code", in.Code); err != nil {
			return err
		}
	}
	switch in.Status {
	case "", ParticipantActive, ParticipantDisabled:
	default:
		return Invalid("status", "must be active or disabled")
	}
	if in.Attributes == nil {
		return nil
	}
	return NormalizeAttributes("attributes", *in.Attributes)
}

// NormalizePerson validates and canonicalises the optional email, name
// and locale that describe a person wherever they arrive (participants,
// signup and purchase events, moments, engine events), so that every path
// stores them alike.
func NormalizePerson(email, name, locale *string) error {
	var err error
	if *email, err = NormalizeEmailField("email", *email); err != nil {
		return err
	}
	*name = strings.TrimSpace(*name)
	if len(*name) > 200 {
		return Invalid("name", "must be at most 200 characters")
	}
	if *locale, err = NormalizeLocale("locale", *locale); err != nil {
		return err
	}
	return nil
}

// NormalizeEmailField validates an optional email address and returns it
// trimmed, with the domain lower-cased.
func NormalizeEmailField(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 254 {
		return "", Invalid(field, "must be at most 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", Invalid(field, "is not a valid email address")
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at] + "@" + strings.ToLower(s[at+1:]), nil
}

// CanonicalEmail returns the form used to decide that two addresses belong to
// the same person: lower case, "+tag" removed, and for Gmail the dots of the
// local part removed and googlemail.com folded into gmail.com.
func CanonicalEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return s
	}
	local, domain := s[:at], s[at+1:]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	if domain == "gmail.com" {
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + domain
}

// NormalizeLocale validates a BCP 47-like locale tag ("en", "fr-FR").
func NormalizeLocale(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	parts := strings.Split(strings.ReplaceAll(s, "_", "-"), "-")
	if len(parts) > 3 || len(parts[0]) < 2 || len(parts[0]) > 3 {
		return "", Invalid(field, "must be a language tag such as en or fr-FR")
	}
	for i, p := range parts {
		if p == "" || len(p) > 8 {
			return "", Invalid(field, "must be a language tag such as en or fr-FR")
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return "", Invalid(field, "must be a language tag such as en or fr-FR")
			}
		}
		if i == 0 {
			parts[i] = strings.ToLower(p)
		} else if len(p) == 2 {
			parts[i] = strings.ToUpper(p)
		}
	}
	return strings.Join(parts, "-"), nil
}
