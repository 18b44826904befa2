package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The program settings that advocates, friends and partners see or that
// steer money: the experience (landing page, share and invitation texts,
// widget origins, emails on or off), the fraud policy's thresholds and
// lists, the payout schedule, email templates and the email log. Each
// form calls the use case the API calls, so validation and the audit
// entry are the same; the console only turns form fields into its input
// and shows the use case's error under the field it names.

// settingsView renders a program settings page: the settings sub-navigation
// (Sub) is highlighted, the program is the one the form is about.
func (c *Console) settingsView(w http.ResponseWriter, r *http.Request, a *Auth, status int, page, title string, prog *parrain.Program, data any) {
	all, cur, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		prog = cur
	}
	c.render(w, r, status, page, view{Title: title, Nav: "settings", Auth: a, Programs: all, Program: prog, Data: data})
}

// formProgram is the program a settings form was posted for.
func (c *Console) formProgram(r *http.Request) (*parrain.Program, error) {
	p, err := c.st.Program(r.Context(), r.PostForm.Get("program"))
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// invalid reports whether err is a validation error to show on the form,
// filling fields with its message under the field it names.
func invalid(err error, fields map[string]string) bool {
	e := parrain.AsError(err)
	if e == nil || (e.Code != parrain.CodeInvalid && e.Code != parrain.CodeConflict) {
		return false
	}
	f := errField(e)
	if i := strings.IndexByte(f, '['); i > 0 {
		f = f[:i] // allowed_origins[2] → the allowed_origins box
	}
	fields[f] = e.Message
	return true
}

// intField reads a whole number form field into *dst; a blank field is
// 0 (the use case's default). A bad number is noted in fields.
func intField(f url.Values, name string, dst *int, fields map[string]string) {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		*dst = 0
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fields[name] = "must be a whole number"
		return
	}
	*dst = n
}

// lines splits a textarea into its non-blank lines (commas also separate).
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// ---- Experience: landing page, texts, origins, invitations, emails ----

// experienceData is the experience page.
type experienceData struct {
	X         parrain.Experience
	Origins   string // allowed origins, one a line
	Languages []string
	Kinds     []parrain.NoticeKind
	Field     map[string]string
	Preview   []sharePreview
	Previewed bool // the preview is of the typed, unsaved values
}

// sharePreview is what an advocate and a friend see in one language: the
// landing page's texts and the share message, composed as the widget
// composes them, with a sample advocate.
type sharePreview struct {
	Lang, Title, Body, When, Consent, Continue, Disclosure, TermsURL, TermsLabel string
	Subject, Message                                                             string
}

// Experience serves GET /admin/settings/experience.
func (c *Console) Experience(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "experience", "Advocate experience", nil, nil)
		return
	}
	x, err := c.st.Experience(r.Context(), prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.settingsView(w, r, a, http.StatusOK, "experience", "Advocate experience", prog, c.experienceData(prog, x, nil))
}

func (c *Console) experienceData(prog *parrain.Program, x parrain.Experience, fields map[string]string) experienceData {
	if fields == nil {
		fields = map[string]string{}
	}
	cat := i18n.Default()
	d := experienceData{X: x, Origins: strings.Join(x.AllowedOrigins, "\n"), Languages: cat.Languages(), Kinds: parrain.NoticeKinds, Field: fields}
	for _, lang := range d.Languages {
		d.Preview = append(d.Preview, previewShare(cat, lang, prog, &x))
	}
	return d
}

// previewShare composes the landing page and share message of lang with
// the sample advocate "Alice".
func previewShare(cat *i18n.Catalog, lang string, prog *parrain.Program, x *parrain.Experience) sharePreview {
	const name, link = "Alice", "https://example.com/r/ALICE7"
	sender := x.Sender(prog)
	offer := ""
	if spec, _, ok := parrain.FriendOffer(prog); ok {
		offer = cat.Offer(lang, spec, prog.Currency, true)
	}
	if v := parrain.LocalizedText(x.OfferText, lang); v != "" {
		offer = v
	}
	args := []string{"name", name, "friend_offer", offer, "sender", sender}
	p := sharePreview{Lang: lang, Continue: cat.T(lang, "landing.continue", args...), Disclosure: cat.T(lang, "landing.disclosure", args...),
		TermsURL: x.TermsURL, TermsLabel: cat.T(lang, "landing.terms")}
	if p.TermsURL == "" {
		p.TermsURL = "/terms/" + prog.ID
	}
	if offer != "" {
		p.Title, p.Body = cat.T(lang, "landing.title", args...), cat.T(lang, "landing.body", args...)
		if _, when, ok := parrain.FriendOffer(prog); ok && parrain.LocalizedText(x.OfferText, lang) == "" {
			p.When = cat.T(lang, "landing.when."+string(when))
		}
	} else {
		p.Title, p.Body = cat.T(lang, "landing.title.no_offer", args...), cat.T(lang, "landing.body.no_offer", args...)
	}
	if p.Consent = parrain.LocalizedText(x.ConsentText, lang); p.Consent == "" {
		p.Consent = cat.T(lang, "landing.consent", "sender", sender)
	}
	msg := parrain.LocalizedText(x.ShareMessage, lang)
	if msg == "" {
		msg = cat.T(lang, "share.message.plain")
		if offer != "" {
			msg = cat.T(lang, "share.message.offer")
		}
	}
	p.Message = parrain.ComposeShare(msg, sender, name, offer, link, cat.T(lang, "share.disclosure"))
	p.Subject = cat.T(lang, "share.subject", "name", name, "sender", sender)
	return p
}

// readExperience reads the experience form: per-language texts are
// fields named offer_text.<lang>, share_message.<lang>, consent_text.<lang>;
// emails.<kind> are checkboxes.
func readExperience(f url.Values, langs []string, fields map[string]string) parrain.Experience {
	x := parrain.Experience{LandingPage: f.Get("landing_page") == "on", SenderName: f.Get("sender_name"), TermsURL: f.Get("terms_url"),
		ConsentVersion: f.Get("consent_version"), AllowedOrigins: lines(f.Get("allowed_origins")), DefaultLocale: f.Get("default_locale"),
		OfferText: map[string]string{}, ShareMessage: map[string]string{}, ConsentText: map[string]string{}, Emails: map[parrain.NoticeKind]bool{}}
	for _, l := range langs {
		x.OfferText[l] = f.Get("offer_text." + l)
		x.ShareMessage[l] = f.Get("share_message." + l)
		x.ConsentText[l] = f.Get("consent_text." + l)
	}
	for _, k := range parrain.NoticeKinds {
		x.Emails[k] = f.Get("emails."+string(k)) == "on"
	}
	intField(f, "invites_per_day", &x.InvitesPerDay, fields)
	intField(f, "program_invites_per_day", &x.ProgramInvitesPerDay, fields)
	intField(f, "reminder_after_days", &x.ReminderAfterDays, fields)
	return x
}

// SetExperience handles POST /admin/settings/experience: save (through
// referral.Service.SetExperience, as PUT …/experience), or with
// action=preview show the typed values' landing page and share message
// without saving.
func (c *Console) SetExperience(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	fields := map[string]string{}
	langs := i18n.Default().Languages()
	x := readExperience(r.PostForm, langs, fields)
	if len(fields) > 0 {
		c.settingsView(w, r, a, http.StatusBadRequest, "experience", "Advocate experience", prog, c.experienceData(prog, x, fields))
		return
	}
	if r.PostForm.Get("action") == "preview" {
		typed := x
		err := typed.Normalize()
		if invalid(err, fields) {
			c.settingsView(w, r, a, http.StatusBadRequest, "experience", "Advocate experience", prog, c.experienceData(prog, x, fields))
			return
		}
		d := c.experienceData(prog, typed, nil)
		d.Previewed = true
		c.settingsView(w, r, a, http.StatusOK, "experience", "Advocate experience", prog, d)
		return
	}
	if _, err := c.opt.Referral.SetExperience(r.Context(), prog.ID, x); invalid(err, fields) {
		c.settingsView(w, r, a, http.StatusBadRequest, "experience", "Advocate experience", prog, c.experienceData(prog, x, fields))
		return
	} else if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Advocate experience saved.")
	redirect(w, r, "/admin/settings/experience?program="+url.QueryEscape(prog.ID))
}

// ---- Fraud policy: thresholds and the operator's lists ----

// fraudData is the fraud policy page.
type fraudData struct {
	P         fraud.Policy
	Review    int // review window, hours
	Lists     map[string]string
	ListNames []fraudList
	Field     map[string]string
}

// fraudList is one list of the policy, as a textarea.
type fraudList struct{ Name, Label, Help string }

// fraudLists are the lists the console edits, in the order shown.
var fraudLists = []fraudList{
	{"blocked_emails", "Blocked email addresses", "One a line; * matches any run of characters (*@competitor.example)."},
	{"blocked_domains", "Blocked email domains", "One a line; subdomains match."},
	{"blocked_ips", "Blocked IP addresses and ranges", "One a line: 198.51.100.7, 203.0.113.0/24, 2001:db8::/32."},
	{"blocked_countries", "Blocked countries", "ISO 3166-1 alpha-2 codes, one a line (KP)."},
	{"extra_disposable_domains", "Extra disposable email domains", "Treated as throwaway addresses, besides the built-in list."},
	{"allowed_domains", "Domains never treated as disposable", "For a domain wrongly on the built-in list."},
	{"datacenter_ranges", "Datacenter and VPN ranges", "Addresses or CIDR ranges, one a line."},
	{"tor_exit_ranges", "Tor exit addresses", "Addresses or CIDR ranges, one a line."},
}

func listPtrs(l *fraud.Lists) map[string]*[]string {
	return map[string]*[]string{"blocked_emails": &l.BlockedEmails, "blocked_domains": &l.BlockedDomains, "blocked_ips": &l.BlockedIPs,
		"blocked_countries": &l.BlockedCountries, "extra_disposable_domains": &l.ExtraDisposableDomains, "allowed_domains": &l.AllowedDomains,
		"datacenter_ranges": &l.DatacenterRanges, "tor_exit_ranges": &l.TorExitRanges}
}

func newFraudData(p fraud.Policy, fields map[string]string) fraudData {
	if fields == nil {
		fields = map[string]string{}
	}
	d := fraudData{P: p, Review: int(p.ReviewWindow / time.Hour), Lists: map[string]string{}, ListNames: fraudLists, Field: fields}
	for k, v := range listPtrs(&p.Lists) {
		d.Lists[k] = strings.Join(*v, "\n")
	}
	return d
}

// FraudPolicy serves GET /admin/settings/fraud.
func (c *Console) FraudPolicy(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "fraud", "Fraud policy", nil, nil)
		return
	}
	p, err := c.opt.Referral.FraudPolicy(r.Context(), prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.settingsView(w, r, a, http.StatusOK, "fraud", "Fraud policy", prog, newFraudData(p, nil))
}

// SetFraudPolicy handles POST /admin/settings/fraud: the thresholds, the
// review window and the lists, through referral.Service.SetFraudPolicy (as
// PUT …/fraud/policy). Per-signal rules and the detectors' tuning are
// kept as they are.
func (c *Console) SetFraudPolicy(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	p, err := c.opt.Referral.FraudPolicy(r.Context(), prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	f, fields := r.PostForm, map[string]string{}
	var review int
	intField(f, "flag_at", &p.FlagAt, fields)
	intField(f, "hold_at", &p.HoldAt, fields)
	intField(f, "reject_at", &p.RejectAt, fields)
	intField(f, "review_window_hours", &review, fields)
	p.ReviewWindow = time.Duration(review) * time.Hour
	for k, v := range listPtrs(&p.Lists) {
		*v = lines(f.Get(k))
	}
	if len(fields) == 0 {
		if _, err = c.opt.Referral.SetFraudPolicy(r.Context(), prog.ID, p); err == nil {
			c.setFlash(w, r, "ok", "Fraud policy saved: it applies to the next referrals scored.")
			redirect(w, r, "/admin/settings/fraud?program="+url.QueryEscape(prog.ID))
			return
		}
		if !invalid(err, fields) {
			c.fail(w, r, a, err)
			return
		}
	}
	d := newFraudData(p, fields)
	d.Review = review
	c.settingsView(w, r, a, http.StatusBadRequest, "fraud", "Fraud policy", prog, d)
}

// ---- Payout schedule and thresholds ----

// payoutSettingsData is the payout settings page.
type payoutSettingsData struct {
	S                  parrain.PayoutSettings
	Minimum, AutoLimit string // in major units of the program's currency
	Field              map[string]string
}

// PayoutSettings serves GET /admin/settings/payouts.
func (c *Console) PayoutSettings(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "payout_settings", "Payout schedule", nil, nil)
		return
	}
	s, err := c.st.PayoutSettings(r.Context(), prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	digits := currencyDigits(prog.Currency)
	c.settingsView(w, r, a, http.StatusOK, "payout_settings", "Payout schedule", prog, payoutSettingsData{S: s,
		Minimum: formatDecimal(s.MinimumAmount, digits), AutoLimit: formatDecimal(s.AutoApproveLimit, digits), Field: map[string]string{}})
}

func currencyDigits(cur string) int {
	d, ok := parrain.CurrencyDigits(cur)
	if !ok {
		return 2
	}
	return d
}

// SetPayoutSettings handles POST /admin/settings/payouts, through
// payout.Service.SetPayoutSettings (as PUT …/payout-settings); amounts are
// typed in major units ("50.00") and stored in minor units.
func (c *Console) SetPayoutSettings(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	f, fields := r.PostForm, map[string]string{}
	d := payoutSettingsData{S: parrain.PayoutSettings{ProgramID: prog.ID, Schedule: parrain.PayoutSchedule(f.Get("schedule"))},
		Minimum: f.Get("minimum_amount"), AutoLimit: f.Get("auto_approve_limit"), Field: fields}
	intField(f, "day", &d.S.Day, fields)
	intField(f, "hour", &d.S.Hour, fields)
	digits := currencyDigits(prog.Currency)
	if d.S.MinimumAmount, err = parseDecimal("minimum_amount", d.Minimum, digits); err != nil {
		invalid(err, fields)
	}
	if d.S.AutoApproveLimit, err = parseDecimal("auto_approve_limit", d.AutoLimit, digits); err != nil {
		invalid(err, fields)
	}
	if len(fields) == 0 {
		_, err = c.payouts.SetPayoutSettings(r.Context(), prog.ID, d.S)
		if err == nil {
			c.setFlash(w, r, "ok", "Payout schedule saved.")
			redirect(w, r, "/admin/settings/payouts?program="+url.QueryEscape(prog.ID))
			return
		}
		if !invalid(err, fields) {
			c.fail(w, r, a, err)
			return
		}
	}
	c.settingsView(w, r, a, http.StatusBadRequest, "payout_settings", "Payout schedule", prog, d)
}

// ---- Email templates and the email log ----

// emailTemplatesData is the email templates page: every kind × language,
// overridden or built in, and the one being edited with its preview.
type emailTemplatesData struct {
	Kinds     []parrain.NoticeKind
	Languages []string
	Overrides map[string]bool // "kind/locale"
	Kind      parrain.NoticeKind
	Locale    string
	Edit      store.EmailTemplate
	Override  bool
	Preview   notify.Rendered
	Field     map[string]string
}

// EmailTemplates serves GET /admin/settings/email-templates (?kind=&locale=
// picks the email edited, default the welcome email in English).
func (c *Console) EmailTemplates(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "email_templates", "Email templates", nil, nil)
		return
	}
	q := r.URL.Query()
	kind, loc := parrain.NoticeKind(q.Get("kind")), q.Get("locale")
	if !parrain.ValidNoticeKind(string(kind)) {
		kind = parrain.NoticeWelcome
	}
	if loc == "" {
		loc = i18n.Fallback
	}
	if loc, err = parrain.NormalizeLocale("locale", loc); err != nil || loc == "" {
		loc = i18n.Fallback
	}
	d, err := c.emailTemplatesData(r, prog, kind, loc)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if t, ok, err := c.st.EmailTemplate(r.Context(), prog.ID, kind, loc); err != nil {
		c.fail(w, r, a, err)
		return
	} else if ok {
		d.Edit, d.Override = t, true
	}
	c.settingsView(w, r, a, http.StatusOK, "email_templates", "Email templates", prog, d)
}

func (c *Console) emailTemplatesData(r *http.Request, prog *parrain.Program, kind parrain.NoticeKind, loc string) (emailTemplatesData, error) {
	d := emailTemplatesData{Kinds: parrain.NoticeKinds, Languages: i18n.Default().Languages(), Overrides: map[string]bool{},
		Kind: kind, Locale: loc, Edit: store.EmailTemplate{Kind: kind, Locale: loc}, Field: map[string]string{}}
	ts, err := c.st.EmailTemplates(r.Context(), prog.ID)
	if err != nil {
		return d, err
	}
	for _, t := range ts {
		d.Overrides[string(t.Kind)+"/"+t.Locale] = true
	}
	if d.Preview, _, err = notify.Preview(r.Context(), c.st, i18n.Default(), prog.ID, kind, loc); err != nil {
		// A stored template that no longer renders: say so on the preview.
		d.Field["preview"] = err.Error()
	}
	return d, nil
}

// SetEmailTemplate handles POST /admin/settings/email-templates: save the
// override (notify.SetEmailTemplate, as PUT …/email-templates/{kind}/{locale}),
// preview it unsaved (action=preview, rendered with sample data) or
// delete it (action=delete, back to the built-in email).
func (c *Console) SetEmailTemplate(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	f := r.PostForm
	kind := parrain.NoticeKind(f.Get("kind"))
	if !parrain.ValidNoticeKind(string(kind)) {
		c.fail(w, r, a, parrain.Invalid("kind", "is not an email kind"))
		return
	}
	loc, err := parrain.NormalizeLocale("locale", f.Get("locale"))
	if err != nil || loc == "" {
		c.fail(w, r, a, parrain.Invalid("locale", "must be a language tag such as en or fr-FR"))
		return
	}
	back := "/admin/settings/email-templates?" + url.Values{"program": {prog.ID}, "kind": {string(kind)}, "locale": {loc}}.Encode()
	if f.Get("action") == "delete" {
		if err := notify.DeleteEmailTemplate(r.Context(), c.st, prog.ID, kind, loc); err != nil {
			c.fail(w, r, a, err)
			return
		}
		c.setFlash(w, r, "ok", "Custom email removed: the built-in email is sent again.")
		redirect(w, r, back)
		return
	}
	t := store.EmailTemplate{Kind: kind, Locale: loc, Subject: f.Get("subject"), Text: f.Get("text"), HTML: f.Get("html")}
	d, err := c.emailTemplatesData(r, prog, kind, loc)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d.Edit, d.Override = t, d.Overrides[string(kind)+"/"+loc]
	if f.Get("action") == "preview" {
		if err := notify.ValidateTemplate(t); invalid(err, d.Field) {
			c.settingsView(w, r, a, http.StatusBadRequest, "email_templates", "Email templates", prog, d)
			return
		}
		if d.Preview, err = notify.RenderSample(t, prog.Name); invalid(err, d.Field) {
			c.settingsView(w, r, a, http.StatusBadRequest, "email_templates", "Email templates", prog, d)
			return
		} else if err != nil {
			c.fail(w, r, a, err)
			return
		}
		c.settingsView(w, r, a, http.StatusOK, "email_templates", "Email templates", prog, d)
		return
	}
	if _, err := notify.SetEmailTemplate(r.Context(), c.st, prog.ID, t); invalid(err, d.Field) {
		c.settingsView(w, r, a, http.StatusBadRequest, "email_templates", "Email templates", prog, d)
		return
	} else if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Custom email saved.")
	redirect(w, r, back)
}

// emailLogData is the email log page.
type emailLogData struct {
	Messages []store.EmailMessage
	Next     string
	Status   string
	Kind     string
	Statuses []string
	Kinds    []parrain.NoticeKind
}

// EmailLog serves GET /admin/settings/email-log: the program's emails,
// newest first (?status, ?kind, ?cursor), as GET …/emails lists them.
func (c *Console) EmailLog(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "email_log", "Email log", nil, nil)
		return
	}
	q := r.URL.Query()
	d := emailLogData{Status: q.Get("status"), Kind: q.Get("kind"), Kinds: parrain.NoticeKinds,
		Statuses: []string{store.EmailQueued, store.EmailSent, store.EmailFailed, store.EmailSuppressed, store.EmailSkipped}}
	okStatus := d.Status == ""
	for _, s := range d.Statuses {
		okStatus = okStatus || s == d.Status
	}
	if !okStatus {
		d.Status = ""
	}
	if d.Kind != "" && !parrain.ValidNoticeKind(d.Kind) {
		d.Kind = ""
	}
	d.Messages, d.Next, err = c.st.EmailMessages(r.Context(), prog.ID, store.MessageFilter{Status: d.Status, Kind: d.Kind},
		store.Page{Limit: 50, Cursor: q.Get("cursor")})
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.settingsView(w, r, a, http.StatusOK, "email_log", "Email log", prog, d)
}

// EmailOn reports whether emails of kind k are sent (all on by default).
func (d experienceData) EmailOn(k parrain.NoticeKind) bool { return d.X.EmailEnabled(k) }

// ---- Partner program: settings, agreement and tiers ----

// partnerProgramData is the partner program settings page.
type partnerProgramData struct {
	PP         store.PartnerProgram
	Exists     bool
	Industries string // one a line
	Consent    bool
	Tiers      []tierForm
	Field      map[string]string
}

// tierForm is one tier row, amounts in major units.
type tierForm struct {
	N                                     int
	Key, Name, Rank, Description          string
	MinWonDeals, MinRevenue, PeriodMonths string
	Training                              bool
}

// PartnerProgramSettings serves GET /admin/settings/partner-program.
func (c *Console) PartnerProgramSettings(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "partner_program", "Partner program", nil, nil)
		return
	}
	d := partnerProgramData{Field: map[string]string{}, Consent: true}
	pp, err := c.st.PartnerProgram(r.Context(), prog.ID)
	switch {
	case err == nil:
		d.PP, d.Exists = pp, true
		d.Industries = strings.Join(pp.Qualification.Industries, "\n")
		d.Consent = pp.Qualification.RequireConsent == nil || *pp.Qualification.RequireConsent
		digits := currencyDigits(prog.Currency)
		for i, t := range pp.Tiers {
			d.Tiers = append(d.Tiers, tierForm{N: i, Key: t.Key, Name: t.Name, Rank: strconv.Itoa(t.Rank), Description: t.Description,
				MinWonDeals: strconv.Itoa(t.Criteria.MinWonDeals), MinRevenue: formatDecimal(t.Criteria.MinRevenue, digits),
				PeriodMonths: strconv.Itoa(t.Criteria.PeriodMonths), Training: t.Criteria.TrainingRequired})
		}
	case parrain.ErrorCode(err) == parrain.CodeNotFound:
		d.PP.WindowDays, d.PP.DirectEngagedMonths = parrain.DefaultWindowDays, 6
		d.Tiers = []tierForm{{N: 0, Key: "registered", Name: "Registered", Rank: "0"}}
	default:
		c.fail(w, r, a, err)
		return
	}
	d.Tiers = append(d.Tiers, tierForm{N: len(d.Tiers)}) // a blank row to add a tier
	c.settingsView(w, r, a, http.StatusOK, "partner_program", "Partner program", prog, d)
}

// SetPartnerProgram handles POST /admin/settings/partner-program, through
// partner.Service.PutProgram (as PUT …/partner-program). The deal stages
// and the portal branding are kept as they are; a tier row whose key is
// blank is left out.
func (c *Console) SetPartnerProgram(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	f, fields := r.PostForm, map[string]string{}
	d := partnerProgramData{Field: fields, Industries: f.Get("industries"), Consent: f.Get("require_consent") == "on"}
	set := parrain.PartnerSettings{}
	if cur, err := c.st.PartnerProgram(r.Context(), prog.ID); err == nil {
		set, d.Exists = cur.PartnerSettings, true
	} else if parrain.ErrorCode(err) != parrain.CodeNotFound {
		c.fail(w, r, a, err)
		return
	}
	set.Slug, set.ApplicationsOpen = f.Get("slug"), f.Get("applications_open") == "on"
	set.TermsVersion, set.TermsText = f.Get("terms_version"), f.Get("terms_text")
	intField(f, "window_days", &set.WindowDays, fields)
	intField(f, "direct_engaged_months", &set.DirectEngagedMonths, fields)
	intField(f, "min_company_size", &set.Qualification.MinCompanySize, fields)
	set.Qualification.Industries = lines(d.Industries)
	set.Qualification.RequireConsent = &d.Consent
	digits := currencyDigits(prog.Currency)
	var tiers []parrain.Tier
	for i := 0; i < 11 && f.Has("tier."+strconv.Itoa(i)+".key"); i++ {
		p := "tier." + strconv.Itoa(i) + "."
		tf := tierForm{N: i, Key: strings.TrimSpace(f.Get(p + "key")), Name: f.Get(p + "name"), Rank: f.Get(p + "rank"), Description: f.Get(p + "description"),
			MinWonDeals: f.Get(p + "min_won_deals"), MinRevenue: f.Get(p + "min_revenue"), PeriodMonths: f.Get(p + "period_months"), Training: f.Get(p+"training") == "on"}
		d.Tiers = append(d.Tiers, tf)
		if tf.Key == "" {
			continue
		}
		t := parrain.Tier{Key: tf.Key, Name: tf.Name, Description: tf.Description}
		t.Criteria.TrainingRequired = tf.Training
		for _, n := range []struct {
			name string
			dst  *int
		}{{"rank", &t.Rank}, {"min_won_deals", &t.Criteria.MinWonDeals}, {"period_months", &t.Criteria.PeriodMonths}} {
			intField(f, p+n.name, n.dst, fields)
			if msg, bad := fields[p+n.name]; bad {
				delete(fields, p+n.name)
				fields["tiers"] = "tier " + tf.Key + ", " + n.name + ": " + msg
			}
		}
		if t.Criteria.MinRevenue, err = parseDecimal("min_revenue", tf.MinRevenue, digits); err != nil {
			fields["tiers"] = "tier " + tf.Key + ", minimum revenue: " + parrain.AsError(err).Message
		}
		tiers = append(tiers, t)
	}
	d.PP = store.PartnerProgram{PartnerSettings: set}
	if len(fields) == 0 {
		_, err = c.partners.PutProgram(r.Context(), prog.ID, set, tiers)
		if err == nil {
			c.setFlash(w, r, "ok", "Partner program saved.")
			redirect(w, r, "/admin/settings/partner-program?program="+url.QueryEscape(prog.ID))
			return
		}
		if e := parrain.AsError(err); e == nil || (e.Code != parrain.CodeInvalid && e.Code != parrain.CodeConflict) {
			c.fail(w, r, a, err)
			return
		} else {
			f, msg := tierFieldName(errField(e), e.Message)
			fields[f] = msg
		}
	}
	if len(d.Tiers) == 0 || d.Tiers[len(d.Tiers)-1].Key != "" {
		d.Tiers = append(d.Tiers, tierForm{N: len(d.Tiers)})
	}
	c.settingsView(w, r, a, http.StatusBadRequest, "partner_program", "Partner program", prog, d)
}

// tierFieldName maps a use case's field naming one tier
// ("tiers[1].criteria.min_revenue", in rank order) to the tiers box, the
// message then saying which tier and field; other fields are kept.
func tierFieldName(f, msg string) (string, string) {
	if strings.HasPrefix(f, "tiers[") {
		return "tiers", f + ": " + msg
	}
	return f, msg
}

// ---- Coupon and gift-card pools ----

// couponPoolsData is the coupon pools page: the pools with their stock,
// the new pool form and the code import form.
type couponPoolsData struct {
	Pools    []store.CouponPool
	New      store.CouponPool
	LowWater string
	Pool     string // the import form's pool
	Codes    string
	Imported *store.ImportResult
	Field    map[string]string
}

// CouponPools serves GET /admin/settings/coupon-pools.
func (c *Console) CouponPools(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil || prog == nil {
		c.settingsView(w, r, a, http.StatusOK, "coupon_pools", "Coupon pools", nil, nil)
		return
	}
	c.renderCouponPools(w, r, a, http.StatusOK, prog, couponPoolsData{LowWater: strconv.Itoa(store.DefaultLowWater), Field: map[string]string{}})
}

func (c *Console) renderCouponPools(w http.ResponseWriter, r *http.Request, a *Auth, status int, prog *parrain.Program, d couponPoolsData) {
	var err error
	if d.Pools, err = c.st.CouponPools(r.Context(), prog.ID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.settingsView(w, r, a, status, "coupon_pools", "Coupon pools", prog, d)
}

// CreateCouponPool handles POST /admin/settings/coupon-pools: a new pool of
// imported or generated codes (referral.Service.CreateCouponPool, as
// POST …/coupon-pools).
func (c *Console) CreateCouponPool(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	f, fields := r.PostForm, map[string]string{}
	d := couponPoolsData{New: store.CouponPool{Name: f.Get("name"), GeneratePrefix: f.Get("generate_prefix")}, LowWater: f.Get("low_water"), Field: fields}
	intField(f, "generate_length", &d.New.GenerateLength, fields)
	intField(f, "low_water", &d.New.LowWater, fields)
	if len(fields) == 0 {
		var p store.CouponPool
		if p, _, err = c.opt.Referral.CreateCouponPool(r.Context(), prog.ID, d.New, store.Idem{}); err == nil {
			c.setFlash(w, r, "ok", "Pool "+p.Name+" created.")
			redirect(w, r, "/admin/settings/coupon-pools?program="+url.QueryEscape(prog.ID))
			return
		}
		if !invalid(err, fields) {
			c.fail(w, r, a, err)
			return
		}
	}
	c.renderCouponPools(w, r, a, http.StatusBadRequest, prog, d)
}

// ImportCouponCodes handles POST /admin/settings/coupon-pools/codes: codes
// pasted one a line into a pool (referral.Service.ImportCodes, as
// POST …/coupon-pools/{pool}/codes); codes already there are reported.
func (c *Console) ImportCouponCodes(w http.ResponseWriter, r *http.Request, a *Auth) {
	prog, err := c.formProgram(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	f, fields := r.PostForm, map[string]string{}
	d := couponPoolsData{Pool: f.Get("pool"), Codes: f.Get("codes"), LowWater: strconv.Itoa(store.DefaultLowWater), Field: fields}
	res, _, err := c.opt.Referral.ImportCodes(r.Context(), prog.ID, d.Pool, lines(d.Codes), store.Idem{})
	if err != nil {
		if parrain.ErrorCode(err) == parrain.CodeNotFound {
			fields["pool"] = "no such pool"
		} else if !invalid(err, fields) {
			c.fail(w, r, a, err)
			return
		}
		c.renderCouponPools(w, r, a, httpx.Status(parrain.ErrorCode(err)), prog, d)
		return
	}
	d.Imported, d.Codes = &res, ""
	c.renderCouponPools(w, r, a, http.StatusOK, prog, d)
}
