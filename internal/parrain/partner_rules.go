package parrain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// LeadInput is a partner's registration of a lead (a deal opportunity).
type LeadInput struct {
	CompanyName   string `json:"company_name"`
	CompanyDomain string `json:"company_domain"`
	ContactName   string `json:"contact_name,omitempty"`
	ContactEmail  string `json:"contact_email,omitempty"`
	// CompanySize is the number of employees.
	CompanySize int    `json:"company_size"`
	Industry    string `json:"industry,omitempty"`
	Notes       string `json:"notes,omitempty"`
	// Consent is the partner's explicit confirmation that the contact
	// agreed to be contacted.
	Consent bool `json:"consent"`
}

// Normalize validates the fields of a registration (not the program's
// qualification criteria: see Qualify).
func (in *LeadInput) Normalize() error {
	in.CompanyName = strings.TrimSpace(in.CompanyName)
	if in.CompanyName == "" {
		return Invalid("company_name", "is required")
	}
	if len(in.CompanyName) > 200 {
		return Invalid("company_name", "must be at most 200 characters")
	}
	if CompanyKey(in.CompanyName) == "" {
		return Invalid("company_name", "must contain the company's name, not only a legal form")
	}
	in.CompanyDomain = strings.TrimSpace(in.CompanyDomain)
	if in.CompanyDomain == "" {
		return Invalid("company_domain", "is required (the company's web domain, such as acme.com)")
	}
	d := AccountDomain(in.CompanyDomain)
	if d == "" {
		return Invalid("company_domain", "is not a domain (such as acme.com)")
	}
	in.CompanyDomain = d
	in.ContactName = strings.TrimSpace(in.ContactName)
	if len(in.ContactName) > 200 {
		return Invalid("contact_name", "must be at most 200 characters")
	}
	var err error
	if in.ContactEmail, err = NormalizeEmailField("contact_email", in.ContactEmail); err != nil {
		return err
	}
	if in.CompanySize < 0 || in.CompanySize > 10_000_000 {
		return Invalid("company_size", "must be a non-negative number of employees")
	}
	in.Industry = strings.TrimSpace(in.Industry)
	if len(in.Industry) > 100 {
		return Invalid("industry", "must be at most 100 characters")
	}
	in.Notes = strings.TrimSpace(in.Notes)
	if len(in.Notes) > 5000 {
		return Invalid("notes", "must be at most 5000 characters")
	}
	return nil
}

// Qualify checks a normalized registration against the program's
// qualification criteria. It returns nil when the lead qualifies, or an
// invalid_argument error naming the first failing field with the reason.
func Qualify(q Qualification, in LeadInput) error {
	if q.ConsentRequired() && !in.Consent {
		return Invalid("consent", "the program requires your confirmation that the contact agreed to be contacted")
	}
	if q.MinCompanySize > 0 && in.CompanySize < q.MinCompanySize {
		return Invalid("company_size", "the program accepts companies of at least %d employees (this one has %d)", q.MinCompanySize, in.CompanySize)
	}
	if len(q.Industries) > 0 && !slices.ContainsFunc(q.Industries, func(s string) bool { return strings.EqualFold(s, in.Industry) }) {
		if in.Industry == "" {
			return Invalid("industry", "is required: the program accepts %s", strings.Join(q.Industries, ", "))
		}
		return Invalid("industry", "%q is not an industry the program accepts (%s)", in.Industry, strings.Join(q.Industries, ", "))
	}
	return nil
}

// Claim is an account key currently reserved by a partner's registration.
type Claim struct {
	Key         string    `json:"key"`
	LeadID      string    `json:"lead_id"`
	PartnerID   string    `json:"partner_id"`
	PartnerName string    `json:"partner_name"`
	CompanyName string    `json:"company_name"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// Active reports whether the claim still protects its partner at now.
func (c Claim) Active(now time.Time) bool { return now.Before(c.ExpiresAt) }

// TakenBy returns the active claim of another lead on the account, if a
// lapsed registration's account was registered by someone else since (it
// can then no longer be extended).
func TakenBy(now time.Time, leadID string, claims []Claim) (Claim, bool) {
	for _, c := range claims {
		if c.LeadID != leadID && c.Active(now) {
			return c, true
		}
	}
	return Claim{}, false
}

// ExclusionKind says why an account cannot be registered by partners.
type ExclusionKind string

// Exclusion kinds.
const (
	ExcludeCustomer      ExclusionKind = "customer"       // an existing customer
	ExcludeNamedAccount  ExclusionKind = "named_account"  // reserved to the direct sales team
	ExcludeDirectEngaged ExclusionKind = "direct_engaged" // the direct team engaged it recently
)

// Exclusion is an account partners cannot register.
type Exclusion struct {
	ID          string        `json:"id"`
	ProgramID   string        `json:"program_id"`
	Kind        ExclusionKind `json:"kind"`
	Domain      string        `json:"domain,omitempty"`
	CompanyName string        `json:"company_name,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	// EngagedAt is when the direct team last engaged the account (kind
	// direct_engaged): the exclusion lapses DirectEngagedMonths later.
	EngagedAt *time.Time `json:"engaged_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// Normalize validates an exclusion.
func (e *Exclusion) Normalize(now time.Time) error {
	switch e.Kind {
	case ExcludeCustomer, ExcludeNamedAccount:
		if e.EngagedAt != nil {
			return Invalid("engaged_at", "is only for kind direct_engaged")
		}
	case ExcludeDirectEngaged:
		if e.EngagedAt == nil {
			return Invalid("engaged_at", "is required for kind direct_engaged: when the direct team last engaged the account")
		}
		t := e.EngagedAt.UTC().Truncate(time.Millisecond)
		if t.After(now.Add(time.Minute)) {
			return Invalid("engaged_at", "is in the future")
		}
		e.EngagedAt = &t
	default:
		return Invalid("kind", "must be customer, named_account or direct_engaged")
	}
	e.CompanyName = strings.TrimSpace(e.CompanyName)
	if e.Domain = strings.TrimSpace(e.Domain); e.Domain != "" {
		if e.Domain = AccountDomain(e.Domain); e.Domain == "" {
			return Invalid("domain", "is not a domain (such as acme.com)")
		}
	}
	if e.Domain == "" && CompanyKey(e.CompanyName) == "" {
		return Invalid("domain", "a domain or a company name is required")
	}
	if len(e.CompanyName) > 200 {
		return Invalid("company_name", "must be at most 200 characters")
	}
	e.Reason = strings.TrimSpace(e.Reason)
	if len(e.Reason) > 500 {
		return Invalid("reason", "must be at most 500 characters")
	}
	return nil
}

// Keys are the account keys the exclusion covers.
func (e Exclusion) Keys() []string { return AccountKeys(e.Domain, e.CompanyName) }

// ActiveAt reports whether the exclusion applies at now: customers and
// named accounts always; direct engagements for months after EngagedAt.
func (e Exclusion) ActiveAt(now time.Time, months int) bool {
	if e.Kind != ExcludeDirectEngaged || e.EngagedAt == nil {
		return true
	}
	return now.Before(e.EngagedAt.AddDate(0, months, 0))
}

// Decision outcomes and reasons, recorded for every registration, check and
// extension so that each conflict can be explained later.
const (
	OutcomeAccepted = "accepted"
	OutcomeRefused  = "refused"
	OutcomeClear    = "clear"   // a check found the account free
	OutcomeGranted  = "granted" // an extension was granted
)

// Reasons of refusals.
const (
	ReasonNotQualified   = "not_qualified"
	ReasonExcluded       = "excluded_account"
	ReasonOwnedByOther   = "registered_by_another_partner"
	ReasonAlreadyYours   = "already_registered_by_you"
	ReasonPartnerInvalid = "partner_not_active"
)

// Decision is the explained outcome of a registration or an account check.
type Decision struct {
	Outcome     string `json:"outcome"`
	Reason      string `json:"reason,omitempty"`
	Field       string `json:"field,omitempty"`
	Explanation string `json:"explanation"`
	// Holder is the claim that blocks the account (registrations and
	// checks of a protected account).
	Holder *Claim `json:"holder,omitempty"`
	// Exclusion is the exclusion that blocks the account.
	Exclusion *Exclusion `json:"exclusion,omitempty"`
	// ExpiresAt is the end of the exclusivity window of an accepted
	// registration.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// DecideInput is everything the registration rule looks at.
type DecideInput struct {
	Now        time.Time
	Settings   PartnerSettings
	PartnerID  string
	Lead       LeadInput // normalized
	Claims     []Claim   // claims on the lead's account keys
	Exclusions []Exclusion
}

// DecideRegistration applies the program's rules to a registration, in
// order: qualification, excluded accounts, then exclusivity (an active
// claim of another partner wins; the partner's own active claim is a
// duplicate). Every outcome carries a sentence a partner or a manager can
// read.
func DecideRegistration(in DecideInput) Decision {
	if err := Qualify(in.Settings.Qualification, in.Lead); err != nil {
		e := AsError(err)
		return Decision{Outcome: OutcomeRefused, Reason: ReasonNotQualified, Field: e.Field,
			Explanation: "Not qualified: " + e.Field + " " + e.Message + "."}
	}
	if d, ok := excluded(in.Now, in.Settings, AccountKeys(in.Lead.CompanyDomain, in.Lead.CompanyName), in.Lead.CompanyName, in.Exclusions); ok {
		return d
	}
	for _, c := range in.Claims {
		if !c.Active(in.Now) {
			continue
		}
		c := c
		if c.PartnerID == in.PartnerID {
			return Decision{Outcome: OutcomeRefused, Reason: ReasonAlreadyYours, Field: "company_domain", Holder: &c,
				Explanation: fmt.Sprintf("You already registered %s; it is yours %s.", c.CompanyName, heldUntil(c))}
		}
		return Decision{Outcome: OutcomeRefused, Reason: ReasonOwnedByOther, Field: "company_domain", Holder: &c,
			Explanation: fmt.Sprintf("%s is already registered by another partner %s (matched on %s).",
				in.Lead.CompanyName, heldUntil(c), describeKey(c.Key))}
	}
	exp := in.Now.Add(in.Settings.Window())
	return Decision{Outcome: OutcomeAccepted, ExpiresAt: &exp,
		Explanation: fmt.Sprintf("Accepted: %s is reserved to you for %d days, until %s.", in.Lead.CompanyName, in.Settings.WindowDays, Day(exp))}
}

func excluded(now time.Time, s PartnerSettings, keys []string, name string, exs []Exclusion) (Decision, bool) {
	for _, e := range exs {
		if !e.ActiveAt(now, s.DirectEngagedMonths) {
			continue
		}
		for _, k := range e.Keys() {
			if !slices.Contains(keys, k) {
				continue
			}
			e := e
			why := map[ExclusionKind]string{
				ExcludeCustomer:      "is already a customer",
				ExcludeNamedAccount:  "is a named account of the direct sales team",
				ExcludeDirectEngaged: "was engaged by the direct sales team",
			}[e.Kind]
			if e.Kind == ExcludeDirectEngaged {
				why += fmt.Sprintf(" on %s (excluded until %s)", Day(*e.EngagedAt), Day(e.EngagedAt.AddDate(0, s.DirectEngagedMonths, 0)))
			}
			return Decision{Outcome: OutcomeRefused, Reason: ReasonExcluded, Field: "company_domain", Exclusion: &e,
				Explanation: fmt.Sprintf("%s %s and cannot be registered by partners (matched on %s).", name, why, describeKey(k))}, true
		}
	}
	return Decision{}, false
}

// CheckAccount tells the direct sales team whether an account is free:
// excluded, registered by a partner until a date, or clear.
func CheckAccount(now time.Time, s PartnerSettings, domain, company string, claims []Claim, exs []Exclusion) Decision {
	d := AccountDomain(domain)
	name := strings.TrimSpace(company)
	if name == "" {
		name = d
	}
	if dec, ok := excluded(now, s, AccountKeys(d, company), name, exs); ok {
		dec.Explanation = strings.Replace(dec.Explanation, "cannot be registered by partners", "is not open to partners", 1)
		return dec
	}
	for _, c := range claims {
		if c.Active(now) {
			c := c
			return Decision{Outcome: OutcomeRefused, Reason: ReasonOwnedByOther, Holder: &c,
				Explanation: fmt.Sprintf("%s is registered by %s %s (matched on %s).", c.CompanyName, c.PartnerName, heldUntil(c), describeKey(c.Key))}
		}
	}
	return Decision{Outcome: OutcomeClear, Explanation: fmt.Sprintf("%s is not registered by any partner and not excluded.", name)}
}

// WonClaim reports whether a claim's end is the far-future date a won deal
// keeps its account with (year 9999).
func WonClaim(expires time.Time) bool { return expires.Year() >= 9999 }

// heldUntil words how long a claim holds its account: "until 2026-12-01",
// or "for good (the deal was won)" for a won account.
func heldUntil(c Claim) string {
	if WonClaim(c.ExpiresAt) {
		return "for good (the deal was won)"
	}
	return "until " + Day(c.ExpiresAt)
}

// Day formats a date for explanations (UTC).
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func describeKey(k string) string {
	kind, v, _ := strings.Cut(k, ":")
	if kind == "domain" {
		return "domain " + v
	}
	return "company name \"" + v + "\""
}

// ExtensionInput is a request to extend a registration's exclusivity.
type ExtensionInput struct {
	Days   int    `json:"days"`
	Reason string `json:"reason"`
}

// Normalize validates an extension request: 1–180 days with a reason.
func (e *ExtensionInput) Normalize() error {
	if e.Days < 1 || e.Days > MaxWindowDays {
		return Invalid("days", "must be between 1 and %d", MaxWindowDays)
	}
	e.Reason = strings.TrimSpace(e.Reason)
	if e.Reason == "" {
		return Invalid("reason", "is required: say why the deal needs more time")
	}
	if len(e.Reason) > 1000 {
		return Invalid("reason", "must be at most 1000 characters")
	}
	return nil
}

// Credit says how a partner is credited for a deal: sourced (they
// registered it first) or influenced (involved later, on an account
// another partner or the direct team owns).
type Credit string

// Credits.
const (
	CreditSourced    Credit = "sourced"
	CreditInfluenced Credit = "influenced"
)

// CommissionTier is the partner_tier reported to the reward engine for a
// deal: the tier's key for a sourced deal, "<key>_influenced" for an
// influenced one, so that a rule's partner_rates can hold a rate for each.
func CommissionTier(tierKey string, c Credit) string {
	if tierKey == "" {
		return ""
	}
	if c == CreditInfluenced {
		return tierKey + "_influenced"
	}
	return tierKey
}
