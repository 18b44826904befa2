package parrain

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// This file holds the B2B partner program's settings and its account
// matching: how a company is recognised whatever the spelling of its domain
// or name. The exclusivity and conflict rules are in partner_rules.go, tier
// evaluation and KPIs in partner_tiers.go.

// PartnerStatus is where a partner stands in the program.
type PartnerStatus string

// Partner statuses. An applicant becomes active when a manager approves the
// application (or was invited); only active partners register leads.
const (
	PartnerApplied   PartnerStatus = "applied"
	PartnerActive    PartnerStatus = "active"
	PartnerRejected  PartnerStatus = "rejected"
	PartnerSuspended PartnerStatus = "suspended"
)

// Exclusivity window bounds, in days.
const (
	DefaultWindowDays = 90
	MinWindowDays     = 30
	MaxWindowDays     = 180
)

// StageKind says whether a deal stage is open or ends the deal.
type StageKind string

// Stage kinds.
const (
	StageOpen StageKind = "open"
	StageWon  StageKind = "won"
	StageLost StageKind = "lost"
)

// DealStage is one configurable stage of a partner deal.
type DealStage struct {
	Name  string    `json:"name"`
	Label string    `json:"label,omitempty"`
	Kind  StageKind `json:"kind,omitempty"`
}

// DefaultDealStages are the stages of a partner deal when the program does
// not configure its own.
func DefaultDealStages() []DealStage {
	return []DealStage{
		{Name: "registered", Label: "Registered", Kind: StageOpen},
		{Name: "accepted", Label: "Accepted", Kind: StageOpen},
		{Name: "demo_booked", Label: "Demo booked", Kind: StageOpen},
		{Name: "demo_completed", Label: "Demo completed", Kind: StageOpen},
		{Name: "poc", Label: "Proof of concept", Kind: StageOpen},
		{Name: "closed_won", Label: "Closed won", Kind: StageWon},
		{Name: "closed_lost", Label: "Closed lost", Kind: StageLost},
	}
}

// Qualification is what a lead must satisfy to be accepted.
type Qualification struct {
	// MinCompanySize is the smallest number of employees (0 = any).
	MinCompanySize int `json:"min_company_size,omitempty"`
	// Industries, when not empty, lists the accepted industries
	// (compared case-insensitively).
	Industries []string `json:"industries,omitempty"`
	// RequireConsent requires the partner to confirm that the contact
	// agreed to be contacted. It defaults to true.
	RequireConsent *bool `json:"require_consent,omitempty"`
}

// ConsentRequired reports whether consent is required (the default).
func (q Qualification) ConsentRequired() bool { return q.RequireConsent == nil || *q.RequireConsent }

// Branding is how the partner portal looks: the company's, not Parrain's.
type Branding struct {
	CompanyName  string `json:"company_name,omitempty"`
	LogoURL      string `json:"logo_url,omitempty"`
	PrimaryColor string `json:"primary_color,omitempty"`
	AccentColor  string `json:"accent_color,omitempty"`
	Welcome      string `json:"welcome,omitempty"`
}

// PartnerSettings configure a program's partner program.
type PartnerSettings struct {
	ProgramID string `json:"program_id"`
	// Slug names the program in portal URLs (/partners/{slug}/…).
	Slug string `json:"slug"`
	// WindowDays is the exclusivity window of an accepted registration
	// (30–180, default 90).
	WindowDays    int           `json:"window_days"`
	Qualification Qualification `json:"qualification"`
	// Stages are the deal stages in order (default DefaultDealStages).
	Stages []DealStage `json:"stages"`
	// DirectEngagedMonths is how long an account the direct sales team
	// engaged stays excluded (default 6).
	DirectEngagedMonths int `json:"direct_engaged_months"`
	// ApplicationsOpen lets anyone apply on the public form.
	ApplicationsOpen bool `json:"applications_open"`
	// TermsVersion and TermsText are the partner agreement accepted at
	// onboarding; a new version must be accepted again.
	TermsVersion string    `json:"terms_version"`
	TermsText    string    `json:"terms_text,omitempty"`
	Branding     Branding  `json:"branding"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// Normalize validates settings and fills defaults.
func (s *PartnerSettings) Normalize() error {
	s.Slug = strings.ToLower(strings.TrimSpace(s.Slug))
	if !slugRE.MatchString(s.Slug) {
		return Invalid("slug", "must be 2–63 lower-case letters, digits or hyphens (it appears in the portal URL)")
	}
	if s.WindowDays == 0 {
		s.WindowDays = DefaultWindowDays
	}
	if s.WindowDays < MinWindowDays || s.WindowDays > MaxWindowDays {
		return Invalid("window_days", "must be between %d and %d days", MinWindowDays, MaxWindowDays)
	}
	q := &s.Qualification
	if q.MinCompanySize < 0 || q.MinCompanySize > 10_000_000 {
		return Invalid("qualification.min_company_size", "must be a non-negative number of employees")
	}
	if len(q.Industries) > 100 {
		return Invalid("qualification.industries", "at most 100 industries")
	}
	for i, in := range q.Industries {
		q.Industries[i] = strings.TrimSpace(in)
		if q.Industries[i] == "" || len(q.Industries[i]) > 100 {
			return Invalid(fmt.Sprintf("qualification.industries[%d]", i), "must be a non-empty name of at most 100 characters")
		}
	}
	if len(s.Stages) == 0 {
		s.Stages = DefaultDealStages()
	}
	if len(s.Stages) > 30 {
		return Invalid("stages", "at most 30 stages")
	}
	seen := map[string]bool{}
	won, lost := 0, 0
	for i := range s.Stages {
		st := &s.Stages[i]
		f := fmt.Sprintf("stages[%d]", i)
		st.Name = strings.TrimSpace(st.Name)
		if !engineIdent(st.Name) {
			return Invalid(f+".name", "must be a lower-case identifier such as demo_booked")
		}
		if seen[st.Name] {
			return Invalid(f+".name", "duplicate stage %q", st.Name)
		}
		seen[st.Name] = true
		if st.Label = strings.TrimSpace(st.Label); st.Label == "" {
			st.Label = strings.ReplaceAll(st.Name, "_", " ")
		}
		switch st.Kind {
		case "":
			st.Kind = StageOpen
		case StageOpen:
		case StageWon:
			won++
		case StageLost:
			lost++
		default:
			return Invalid(f+".kind", "must be open, won or lost")
		}
	}
	if s.Stages[0].Kind != StageOpen {
		return Invalid("stages[0].kind", "the first stage (where a registration starts) must be open")
	}
	if won != 1 || lost != 1 {
		return Invalid("stages", "exactly one stage must be of kind won and one of kind lost")
	}
	if s.DirectEngagedMonths == 0 {
		s.DirectEngagedMonths = 6
	}
	if s.DirectEngagedMonths < 1 || s.DirectEngagedMonths > 36 {
		return Invalid("direct_engaged_months", "must be between 1 and 36 months")
	}
	s.TermsVersion = strings.TrimSpace(s.TermsVersion)
	if s.TermsVersion == "" {
		s.TermsVersion = "1"
	}
	if len(s.TermsVersion) > 40 {
		return Invalid("terms_version", "must be at most 40 characters")
	}
	if len(s.TermsText) > 50_000 {
		return Invalid("terms_text", "must be at most 50000 characters")
	}
	b := &s.Branding
	b.CompanyName, b.LogoURL, b.Welcome = strings.TrimSpace(b.CompanyName), strings.TrimSpace(b.LogoURL), strings.TrimSpace(b.Welcome)
	if len(b.CompanyName) > 100 {
		return Invalid("branding.company_name", "must be at most 100 characters")
	}
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			return Invalid("branding.logo_url", "must be an absolute http or https URL")
		}
	}
	for _, c := range []struct{ f, v string }{{"branding.primary_color", b.PrimaryColor}, {"branding.accent_color", b.AccentColor}} {
		if c.v != "" && !colorRE.MatchString(c.v) {
			return Invalid(c.f, "must be a colour like #1a2b3c")
		}
	}
	if len(b.Welcome) > 2000 {
		return Invalid("branding.welcome", "must be at most 2000 characters")
	}
	return nil
}

// Stage returns the named stage.
func (s *PartnerSettings) Stage(name string) (DealStage, bool) {
	i := slices.IndexFunc(s.Stages, func(st DealStage) bool { return st.Name == name })
	if i < 0 {
		return DealStage{}, false
	}
	return s.Stages[i], true
}

// StageNames lists the stage names, for error messages.
func (s *PartnerSettings) StageNames() string {
	names := make([]string, len(s.Stages))
	for i, st := range s.Stages {
		names[i] = st.Name
	}
	return strings.Join(names, ", ")
}

// Window returns the exclusivity window.
func (s *PartnerSettings) Window() time.Duration { return time.Duration(s.WindowDays) * 24 * time.Hour }

// twoLevelSuffixes are public suffixes of two labels under which companies
// register their domain (acme.co.uk): the registrable domain keeps three
// labels there.
var twoLevelSuffixes = map[string]bool{
	"co.uk": true, "org.uk": true, "ac.uk": true, "gov.uk": true, "ltd.uk": true, "plc.uk": true,
	"com.au": true, "net.au": true, "org.au": true, "co.nz": true, "co.jp": true, "ne.jp": true, "or.jp": true,
	"com.br": true, "com.mx": true, "com.ar": true, "co.za": true, "co.in": true, "co.kr": true, "com.cn": true,
	"com.sg": true, "com.hk": true, "com.tr": true, "co.il": true, "com.tw": true, "com.my": true,
}

// AccountDomain reduces a domain, URL or email address to the company's
// registrable domain, so that "https://www.Acme.com/contact",
// "sales.acme.com", "ACME.COM." and "jane@acme.com" are one account. It
// returns "" when s holds no domain.
func AccountDomain(s string) string {
	d := NormalizeDomain(s)
	if d == "" {
		return ""
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if l == "" {
			return ""
		}
	}
	keep := 2
	if len(labels) >= 3 && twoLevelSuffixes[strings.Join(labels[len(labels)-2:], ".")] {
		keep = 3
	}
	if len(labels) > keep {
		labels = labels[len(labels)-keep:]
	}
	return strings.Join(labels, ".")
}

// legalSuffixes are words dropped from company names before comparing
// them: legal forms and filler that partners spell inconsistently.
var legalSuffixes = map[string]bool{
	"inc": true, "incorporated": true, "llc": true, "llp": true, "ltd": true, "limited": true, "corp": true,
	"corporation": true, "co": true, "company": true, "plc": true, "gmbh": true, "ag": true, "sa": true, "sas": true,
	"sarl": true, "srl": true, "spa": true, "bv": true, "nv": true, "oy": true, "ab": true, "as": true, "kg": true,
	"pty": true, "pte": true, "kk": true, "the": true, "group": true, "holding": true, "holdings": true,
}

// CompanyKey reduces a company name to a comparison key: lower case,
// accents and punctuation removed, legal forms dropped, so that
// "ACME, Inc.", "Acme Inc" and "acme" are one account. It returns "" when
// nothing distinctive is left.
func CompanyKey(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		r = foldAccent(r)
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '&':
			b.WriteString(" and ")
		default:
			b.WriteByte(' ')
		}
	}
	var words []string
	for _, w := range strings.Fields(b.String()) {
		if !legalSuffixes[w] {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// foldAccent maps common Latin accented letters to their base letter.
func foldAccent(r rune) rune {
	const from, to = "àáâãäåçèéêëìíîïñòóôõöøùúûüýÿœæß", "aaaaaaceeeeiiiinoooooouuuuyyoas"
	for i, f := range []rune(from) {
		if f == r {
			return []rune(to)[i]
		}
	}
	return r
}

// AccountKeys are the keys one account is known by: its domain and its
// company name. Two registrations are of the same account when any key
// matches.
func AccountKeys(domain, company string) []string {
	var keys []string
	if d := AccountDomain(domain); d != "" {
		keys = append(keys, "domain:"+d)
	}
	if c := CompanyKey(company); c != "" {
		keys = append(keys, "company:"+c)
	}
	return keys
}

// Partner is a member of a program's partner program: a participant (so
// rewards, the ledger and payouts work unchanged) plus a partner record.
type Partner struct {
	ID            string        `json:"id"`
	ProgramID     string        `json:"program_id"`
	ParticipantID string        `json:"participant_id,omitempty"`
	ExternalID    string        `json:"external_id,omitempty"` // the participant's external id
	Code          string        `json:"code,omitempty"`        // the participant's referral code
	Email         string        `json:"email"`
	Name          string        `json:"name"`
	Company       string        `json:"company,omitempty"`
	Website       string        `json:"website,omitempty"`
	Message       string        `json:"message,omitempty"`
	Status        PartnerStatus `json:"status"`
	Tier          string        `json:"tier,omitempty"`
	// Source is "application" (the public form) or "invite".
	Source           string     `json:"source"`
	AgreementVersion string     `json:"agreement_version,omitempty"`
	AgreementAt      *time.Time `json:"agreement_at,omitempty"`
	KickoffAt        *time.Time `json:"kickoff_at,omitempty"`
	TrainingAt       *time.Time `json:"training_at,omitempty"`
	HasPassword      bool       `json:"has_password"`
	DecisionNote     string     `json:"decision_note,omitempty"`
	AppliedAt        time.Time  `json:"applied_at"`
	ApprovedAt       *time.Time `json:"approved_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// PartnerApplication is an application to a partner program (or a
// manager's invitation).
type PartnerApplication struct {
	Email   string `json:"email"`
	Name    string `json:"name"`
	Company string `json:"company,omitempty"`
	Website string `json:"website,omitempty"`
	Message string `json:"message,omitempty"`
}

// Normalize validates an application.
func (a *PartnerApplication) Normalize() error {
	var err error
	if a.Email, err = NormalizeEmailField("email", a.Email); err != nil {
		return err
	}
	if a.Email == "" {
		return Invalid("email", "is required")
	}
	a.Email = strings.ToLower(a.Email)
	a.Name, a.Company, a.Website, a.Message = strings.TrimSpace(a.Name), strings.TrimSpace(a.Company), strings.TrimSpace(a.Website), strings.TrimSpace(a.Message)
	if a.Name == "" || len(a.Name) > 200 {
		return Invalid("name", "is required (at most 200 characters)")
	}
	if len(a.Company) > 200 {
		return Invalid("company", "must be at most 200 characters")
	}
	if len(a.Website) > 300 {
		return Invalid("website", "must be at most 300 characters")
	}
	if len(a.Message) > 5000 {
		return Invalid("message", "must be at most 5000 characters")
	}
	return nil
}

// Lead is a registered lead and, as it progresses, the deal.
type Lead struct {
	ID           string    `json:"id"`
	ProgramID    string    `json:"program_id"`
	PartnerID    string    `json:"partner_id"`
	PartnerName  string    `json:"partner_name,omitempty"`
	CompanyName  string    `json:"company_name"`
	Domain       string    `json:"company_domain"`
	ContactName  string    `json:"contact_name,omitempty"`
	ContactEmail string    `json:"contact_email,omitempty"`
	CompanySize  int       `json:"company_size"`
	Industry     string    `json:"industry,omitempty"`
	Notes        string    `json:"notes,omitempty"`
	Consent      bool      `json:"consent"`
	Credit       Credit    `json:"credit"`
	Stage        string    `json:"stage"`
	StageKind    StageKind `json:"stage_kind"`
	Value        int64     `json:"value"`
	Currency     string    `json:"currency"`
	ReferralID   string    `json:"referral_id,omitempty"`
	// ExpiresAt ends the exclusivity window.
	ExpiresAt    time.Time  `json:"expires_at"`
	RegisteredAt time.Time  `json:"registered_at"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	// DaysToClose is measured from registration to closed won or lost.
	DaysToClose *float64  `json:"days_to_close,omitempty"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// StageChange is one move of a deal.
type StageChange struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Value     int64     `json:"value,omitempty"`
	Source    string    `json:"source"`
	Actor     string    `json:"actor,omitempty"`
	EventID   string    `json:"event_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
