package parrain

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// NoticeKind names something Parrain tells a participant, in the in-app
// feed and, when enabled, by email.
type NoticeKind string

// Notice kinds.
const (
	NoticeWelcome        NoticeKind = "welcome"          // joined the program: here is your link
	NoticeFriendSignedUp NoticeKind = "friend_signed_up" // to the advocate: a friend signed up with your link
	NoticeRewardEarned   NoticeKind = "reward_earned"    // a reward was created (pending)
	NoticeRewardApproved NoticeKind = "reward_approved"  // the hold ended
	NoticeRewardPaid     NoticeKind = "reward_paid"      // the reward was paid out
	NoticeReminder       NoticeKind = "reminder"         // to an advocate who has not shared yet
	NoticeInvite         NoticeKind = "invite"           // an advocate's email invitation to a friend
	NoticeMoment         NoticeKind = "moment"           // a moment trigger fired: invite to refer
)

// NoticeKinds lists every kind, in a stable order.
var NoticeKinds = []NoticeKind{NoticeWelcome, NoticeFriendSignedUp, NoticeRewardEarned, NoticeRewardApproved,
	NoticeRewardPaid, NoticeReminder, NoticeInvite, NoticeMoment}

// ValidNoticeKind reports whether k is a notice kind.
func ValidNoticeKind(k string) bool {
	for _, v := range NoticeKinds {
		if string(v) == k {
			return true
		}
	}
	return false
}

// Marketing reports whether an email of this kind promotes the program
// rather than reporting on the recipient's own referrals and rewards. A
// referred friend receives marketing email only with recorded consent.
func (k NoticeKind) Marketing() bool {
	switch k {
	case NoticeWelcome, NoticeReminder, NoticeMoment:
		return true
	}
	return false
}

// Experience is how a program presents itself to advocates and their
// friends: the landing page, the widget's texts and limits, and which
// emails are sent. Missing fields take defaults (see Normalize).
type Experience struct {
	// LandingPage shows a personalised page on /r/{code} ("Alice gave you
	// 10% off", the offer, the terms and a consent checkbox) before the
	// redirect. Off: /r/{code} redirects at once.
	LandingPage bool `json:"landing_page"`
	// SenderName is how emails and pages name the business ("Acme");
	// defaults to the program name.
	SenderName string `json:"sender_name,omitempty"`
	// OfferText overrides, per locale, the sentence describing the friend's
	// offer ("10% off your first order"); by default it is derived from
	// the program's friend reward.
	OfferText map[string]string `json:"offer_text,omitempty"`
	// ShareMessage overrides, per locale, the pre-written share message.
	// {name}, {offer} and {link} are replaced. The incentive disclosure is
	// always added when missing.
	ShareMessage map[string]string `json:"share_message,omitempty"`
	// TermsURL is the program terms, linked from the widget, the landing
	// page and the emails.
	TermsURL string `json:"terms_url,omitempty"`
	// ConsentText overrides, per locale, the wording of the landing page's
	// contact consent checkbox; ConsentVersion must then name it, and is
	// stored with every consent.
	ConsentText    map[string]string `json:"consent_text,omitempty"`
	ConsentVersion string            `json:"consent_version"`
	// AllowedOrigins may embed the widget iframe (CSP frame-ancestors),
	// besides the landing URL's origin.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// InvitesPerDay bounds the email invitations one advocate sends per
	// 24 hours; ProgramInvitesPerDay bounds the whole program's.
	InvitesPerDay        int `json:"invites_per_day"`
	ProgramInvitesPerDay int `json:"program_invites_per_day"`
	// ReminderAfterDays: advocates who have not shared this many days
	// after joining get a reminder (and at most one more, 30 days later).
	ReminderAfterDays int `json:"reminder_after_days"`
	// Emails enables or disables each email kind (all on by default; the
	// in-app feed is always kept).
	Emails map[NoticeKind]bool `json:"emails"`
	// DefaultLocale is used when neither the participant nor the browser
	// names a supported language (default "en").
	DefaultLocale string `json:"default_locale"`
}

// Sender is how the program names the business to advocates and friends:
// the experience's sender name, else the program's name.
func (x *Experience) Sender(p *Program) string {
	if x.SenderName != "" {
		return x.SenderName
	}
	return p.Name
}

// DefaultConsentVersion is the version of the built-in consent wording.
const DefaultConsentVersion = "builtin-1"

// EmailEnabled reports whether emails of kind k are sent.
func (x *Experience) EmailEnabled(k NoticeKind) bool {
	on, ok := x.Emails[k]
	return !ok || on
}

// Normalize applies defaults and validates the settings.
func (x *Experience) Normalize() error {
	x.SenderName = strings.TrimSpace(x.SenderName)
	if len(x.SenderName) > 100 {
		return Invalid("sender_name", "must be at most 100 characters")
	}
	var err error
	if x.OfferText, err = localeTexts("offer_text", x.OfferText, 300); err != nil {
		return err
	}
	if x.ShareMessage, err = localeTexts("share_message", x.ShareMessage, 1000); err != nil {
		return err
	}
	if x.ConsentText, err = localeTexts("consent_text", x.ConsentText, 1000); err != nil {
		return err
	}
	x.ConsentVersion = strings.TrimSpace(x.ConsentVersion)
	if len(x.ConsentText) > 0 && (x.ConsentVersion == "" || x.ConsentVersion == DefaultConsentVersion) {
		return Invalid("consent_version", "is required when consent_text is set: name this wording (e.g. 2026-03) so every consent records which one was shown")
	}
	if x.ConsentVersion == "" {
		x.ConsentVersion = DefaultConsentVersion
	}
	if len(x.ConsentVersion) > 50 {
		return Invalid("consent_version", "must be at most 50 characters")
	}
	if x.TermsURL = strings.TrimSpace(x.TermsURL); x.TermsURL != "" {
		u, err := url.Parse(x.TermsURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Invalid("terms_url", "must be an absolute http or https URL")
		}
		x.TermsURL = u.String()
	}
	if len(x.AllowedOrigins) > 20 {
		return Invalid("allowed_origins", "at most 20 origins")
	}
	for i, o := range x.AllowedOrigins {
		n, ok := NormalizeOrigin(o)
		if !ok {
			return Invalid(fmt.Sprintf("allowed_origins[%d]", i), "must be an origin such as https://app.example.com (scheme, host and optional port, no path)")
		}
		x.AllowedOrigins[i] = n
	}
	if x.InvitesPerDay == 0 {
		x.InvitesPerDay = 20
	}
	if x.InvitesPerDay < 1 || x.InvitesPerDay > 200 {
		return Invalid("invites_per_day", "must be between 1 and 200")
	}
	if x.ProgramInvitesPerDay == 0 {
		x.ProgramInvitesPerDay = 2000
	}
	if x.ProgramInvitesPerDay < 1 || x.ProgramInvitesPerDay > 1000000 {
		return Invalid("program_invites_per_day", "must be between 1 and 1000000")
	}
	if x.ReminderAfterDays == 0 {
		x.ReminderAfterDays = 7
	}
	if x.ReminderAfterDays < 1 || x.ReminderAfterDays > 365 {
		return Invalid("reminder_after_days", "must be between 1 and 365")
	}
	if x.Emails == nil {
		x.Emails = map[NoticeKind]bool{}
	}
	for k := range x.Emails {
		if !ValidNoticeKind(string(k)) {
			return Invalid("emails."+string(k), "is not an email kind (%s)", kindList())
		}
	}
	for _, k := range NoticeKinds {
		if _, ok := x.Emails[k]; !ok {
			x.Emails[k] = true
		}
	}
	if x.DefaultLocale == "" {
		x.DefaultLocale = "en"
	}
	if x.DefaultLocale, err = NormalizeLocale("default_locale", x.DefaultLocale); err != nil {
		return err
	}
	return nil
}

func kindList() string {
	var s []string
	for _, k := range NoticeKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// localeTexts validates a locale → text map.
func localeTexts(field string, m map[string]string, max int) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	if len(m) > 50 {
		return nil, Invalid(field, "at most 50 locales")
	}
	out := make(map[string]string, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		loc, err := NormalizeLocale(field+"."+k, k)
		if err != nil || loc == "" {
			return nil, Invalid(field+"."+k, "the key must be a language tag such as en or fr-FR")
		}
		v := strings.TrimSpace(m[k])
		if v == "" {
			continue
		}
		if len(v) > max {
			return nil, Invalid(field+"."+k, "must be at most %d characters", max)
		}
		out[loc] = v
	}
	return out, nil
}

// NormalizeOrigin returns the canonical form of a web origin
// ("https://app.example.com:8443") and whether s is one.
func NormalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// LocalizedText picks the text for locale from a locale → text map: an
// exact match, then the language alone ("fr" for "fr-CA"), else "".
func LocalizedText(m map[string]string, locale string) string {
	if v, ok := m[locale]; ok {
		return v
	}
	lang, _, _ := strings.Cut(locale, "-")
	if v, ok := m[lang]; ok {
		return v
	}
	return ""
}

// FriendOffer returns the friend's side of the program's first rule that
// rewards friends, preferring signup, then first purchase, then every
// purchase — what the landing page and share messages promise.
func FriendOffer(p *Program) (RewardSpec, Trigger, bool) {
	for _, t := range []Trigger{TriggerSignup, TriggerFirstPurchase, TriggerPurchase} {
		for _, r := range p.Rules {
			if r.Trigger == t && r.Friend != nil {
				return *r.Friend, t, true
			}
		}
	}
	return RewardSpec{}, "", false
}

// AdvocateOffer returns the advocate's side of the program's first rule
// that rewards advocates, in the same preference order as FriendOffer.
func AdvocateOffer(p *Program) (RewardSpec, Trigger, bool) {
	for _, t := range []Trigger{TriggerSignup, TriggerFirstPurchase, TriggerPurchase} {
		for _, r := range p.Rules {
			if r.Trigger == t && r.Advocate != nil {
				return *r.Advocate, t, true
			}
		}
	}
	return RewardSpec{}, "", false
}

// ComposeShare fills a share message's placeholders ({sender},
// {friend_offer} or {offer}, {name}, {link}), appends the link when the
// message lacks it, and always carries the incentive disclosure that
// rewarded recommendations require (FTC 16 CFR Part 255). The widget and
// the console's preview compose with it, so the preview is what advocates
// get.
func ComposeShare(msg, sender, name, offer, link, disclosure string) string {
	r := strings.NewReplacer("{sender}", sender, "{friend_offer}", offer, "{offer}", offer, "{name}", name, "{link}", link)
	msg = r.Replace(msg)
	if !strings.Contains(msg, link) {
		msg += " " + link
	}
	return WithDisclosure(msg, disclosure)
}

// WithDisclosure appends the incentive disclosure to a share message that
// lacks it (the advocate may edit the message, not drop the disclosure).
func WithDisclosure(msg, disclosure string) string {
	if strings.Contains(msg, disclosure) {
		return msg
	}
	return strings.TrimSpace(msg) + " " + disclosure
}
