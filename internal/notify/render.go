package notify

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// TemplateData is what an email template can use. The built-in emails are
// composed from the language files; a program's override (Go templates:
// text/template for the subject and text, html/template for the HTML)
// gets the same data. Amounts and dates are already formatted for the
// recipient's language.
type TemplateData struct {
	Kind           parrain.NoticeKind
	Locale         string
	Sender         string // the business ("Acme")
	Name           string // the recipient's name, if known
	FirstName      string
	Link           string // the recipient's referral link (the advocate's, for invites)
	FriendOffer    string // "10% off", or ""
	AdvocateOffer  string // "€20.00", or ""
	Friend         string // the referred friend, as shown to the advocate ("Bob M.")
	Advocate       string // the advocate, as shown to the friend ("Alice M.")
	Reward         string // "€20.00", or the reward's description
	Code           string // the coupon or gift card code, once delivered
	HoldUntil      string // when a pending reward is confirmed; until when payouts to a changed account wait
	Destination    string // a payout account, masked ("IBAN FR****0189")
	Note           string // the advocate's personal note (invites)
	Disclosure     string // the incentive disclosure (invites)
	TermsURL       string
	UnsubscribeURL string
	LogoURL        string
	Color          string // the program's primary colour, #rrggbb
}

// Rendered is a composed email.
type Rendered struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

//go:embed layout.html
var layoutHTML string

var layout = htmltemplate.Must(htmltemplate.New("layout").Parse(layoutHTML))

type layoutData struct {
	Lang, Title, Greeting, NoteIntro, Note, Disclosure, Reason string
	Paragraphs                                                 []string
	CTA                                                        htmltemplate.HTML
	TermsURL, TermsLabel, UnsubscribeURL, UnsubscribeLabel     string
	LogoURL, Sender, Color                                     string
}

const linkMark = "\x00link\x00"

// builtin composes a kind's email from the language file.
func builtin(cat *i18n.Catalog, d TemplateData) (Rendered, error) {
	lang := d.Locale
	vars := []string{"sender", d.Sender, "first_name", d.FirstName, "link", d.Link, "friend_offer", d.FriendOffer,
		"advocate_offer", d.AdvocateOffer, "friend", d.Friend, "advocate", d.Advocate, "reward", d.Reward, "hold_until", d.HoldUntil,
		"destination", d.Destination}
	k := "email." + string(d.Kind) + "."
	t := func(key string) string { return cat.T(lang, key, vars...) }
	body := k + "body"
	switch {
	case d.Kind == parrain.NoticeRewardEarned && d.Advocate != "":
		body = k + "body_friend"
	case d.FriendOffer != "" && d.AdvocateOffer != "" && cat.Has(lang, k+"body_offer") && d.Kind != parrain.NoticeInvite:
		body = k + "body_offer"
	case d.Kind == parrain.NoticeInvite && d.FriendOffer != "":
		body = k + "body_offer"
	case d.Kind == parrain.NoticePayoutAccountChanged && d.HoldUntil != "":
		body = k + "body_held"
	}
	greeting := t("email.greeting.anonymous")
	if d.FirstName != "" {
		greeting = t("email.greeting")
	}
	reason := t("email.footer.reason")
	if d.Kind == parrain.NoticeInvite {
		reason = t("email.footer.invite_reason")
	}
	// Names come from users: a line break must not reach the header.
	r := Rendered{Subject: strings.Join(strings.Fields(t(k+"subject")), " ")}
	para := t(body)
	paras := []string{para}
	if d.Code != "" {
		paras = append(paras, cat.T(lang, "reward.code", "code", d.Code))
	}
	cta := t(k + "cta")
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n%s\n\n", greeting, strings.Join(paras, "\n\n"))
	noteIntro := ""
	if d.Note != "" {
		noteIntro = t("email.note_intro")
		fmt.Fprintf(&text, "%s\n%s\n\n", noteIntro, quote(d.Note))
	}
	fmt.Fprintf(&text, "%s\n\n", cta)
	if d.Disclosure != "" {
		fmt.Fprintf(&text, "%s\n\n", d.Disclosure)
	}
	fmt.Fprintf(&text, "-- \n%s\n", reason)
	if d.TermsURL != "" {
		fmt.Fprintf(&text, "%s: %s\n", t("email.terms"), d.TermsURL)
	}
	fmt.Fprintf(&text, "%s: %s\n", t("email.unsubscribe"), d.UnsubscribeURL)
	r.Text = text.String()

	// The call to action with the link as an anchor: the text around the
	// link is escaped, the link is an attribute.
	ctaVars := append([]string(nil), vars...)
	for i := 0; i+1 < len(ctaVars); i += 2 {
		if ctaVars[i] == "link" {
			ctaVars[i+1] = linkMark
		}
	}
	ctaTpl := cat.T(lang, k+"cta", ctaVars...)
	before, after, hasLink := strings.Cut(ctaTpl, linkMark)
	var ctaHTML bytes.Buffer
	htmltemplate.HTMLEscape(&ctaHTML, []byte(before))
	if hasLink { // a security notice's call to action has no link
		fmt.Fprintf(&ctaHTML, `<a href="%s" style="color:%s;font-weight:bold">%s</a>`,
			htmltemplate.HTMLEscapeString(d.Link), htmltemplate.HTMLEscapeString(d.Color), htmltemplate.HTMLEscapeString(d.Link))
	}
	htmltemplate.HTMLEscape(&ctaHTML, []byte(after))
	var html bytes.Buffer
	err := layout.Execute(&html, layoutData{Lang: lang, Title: r.Subject, Greeting: greeting, Paragraphs: paras,
		NoteIntro: noteIntro, Note: d.Note, CTA: htmltemplate.HTML(ctaHTML.String()), Disclosure: d.Disclosure, Reason: reason, //nolint:gosec // built from escaped parts above
		TermsURL: d.TermsURL, TermsLabel: t("email.terms"), UnsubscribeURL: d.UnsubscribeURL, UnsubscribeLabel: t("email.unsubscribe"),
		LogoURL: d.LogoURL, Sender: d.Sender, Color: d.Color})
	if err != nil {
		return r, fmt.Errorf("rendering email layout: %w", err)
	}
	r.HTML = html.String()
	return r, nil
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n> ")
}

// override renders a program's template override.
func override(t store.EmailTemplate, d TemplateData) (Rendered, error) {
	var r Rendered
	var err error
	if r.Subject, err = execText("subject", t.Subject, d); err != nil {
		return r, err
	}
	r.Subject = strings.Join(strings.Fields(r.Subject), " ")
	if r.Text, err = execText("text", t.Text, d); err != nil {
		return r, err
	}
	if t.HTML != "" {
		tpl, err := htmltemplate.New("html").Option("missingkey=error").Parse(t.HTML)
		if err != nil {
			return r, parrain.Invalid("html", "%v", err)
		}
		var b bytes.Buffer
		if err := tpl.Execute(&b, d); err != nil {
			return r, parrain.Invalid("html", "%v", err)
		}
		r.HTML = b.String()
	}
	return r, nil
}

func execText(field, src string, d TemplateData) (string, error) {
	tpl, err := texttemplate.New(field).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", parrain.Invalid(field, "%v", err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, d); err != nil {
		return "", parrain.Invalid(field, "%v", err)
	}
	return b.String(), nil
}

// SampleData is the data used to check a template before it is saved.
func SampleData(kind parrain.NoticeKind, locale string) TemplateData {
	return TemplateData{Kind: kind, Locale: locale, Sender: "Acme", Name: "Alice Martin", FirstName: "Alice",
		Link: "https://refer.example/r/K7MPR2X", FriendOffer: "10% off", AdvocateOffer: "€20.00", Friend: "Bob D.",
		Advocate: "Alice M.", Reward: "€20.00", Code: "WELCOME-7KQ2", HoldUntil: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Format("Jan 2, 2006"),
		Note: "You'll love it!", Disclosure: "Alice M. may get a reward if you join.", TermsURL: "https://acme.example/terms",
		UnsubscribeURL: "https://refer.example/u/sample", Color: "#1d4ed8"}
}

// ValidateTemplate checks an override: it must parse, render against
// sample data, keep the subject to one line, and carry the unsubscribe
// link in the text and the HTML, so that no email goes out without one.
func ValidateTemplate(t store.EmailTemplate) error {
	if !parrain.ValidNoticeKind(string(t.Kind)) {
		return parrain.Invalid("kind", "must be one of the email kinds")
	}
	if strings.TrimSpace(t.Subject) == "" || len(t.Subject) > 500 {
		return parrain.Invalid("subject", "is required (at most 500 characters)")
	}
	if strings.TrimSpace(t.Text) == "" || len(t.Text) > 50000 {
		return parrain.Invalid("text", "is required (at most 50000 characters)")
	}
	if len(t.HTML) > 100000 {
		return parrain.Invalid("html", "must be at most 100000 characters")
	}
	r, err := override(t, SampleData(t.Kind, t.Locale))
	if err != nil {
		return err
	}
	if strings.ContainsAny(strings.TrimSpace(r.Subject), "\r\n") || r.Subject == "" {
		return parrain.Invalid("subject", "must render to one non-empty line")
	}
	unsub := SampleData(t.Kind, t.Locale).UnsubscribeURL
	if !strings.Contains(r.Text, unsub) {
		return parrain.Invalid("text", "must contain {{.UnsubscribeURL}}: every email carries a working unsubscribe link")
	}
	if t.HTML != "" && !strings.Contains(r.HTML, unsub) {
		return parrain.Invalid("html", "must contain {{.UnsubscribeURL}}: every email carries a working unsubscribe link")
	}
	return nil
}

// Preview renders a kind's email for a program in a language with sample
// data: the program's override when it has one for that language, else the
// built-in email. It is what the console and the API show before saving.
func Preview(ctx context.Context, st *store.Store, cat *i18n.Catalog, programID string, kind parrain.NoticeKind, locale string) (Rendered, bool, error) {
	d := SampleData(kind, locale)
	if p, err := st.Program(ctx, programID); err == nil {
		d.Sender = p.Name
	} else {
		return Rendered{}, false, err
	}
	t, ok, err := st.EmailTemplate(ctx, programID, kind, locale)
	if err != nil {
		return Rendered{}, false, err
	}
	if ok {
		r, err := override(t, d)
		return r, true, err
	}
	d.Locale = cat.Match(locale)
	r, err := builtin(cat, d)
	return r, false, err
}

// RenderSample renders an unsaved override with sample data, the program
// named sender: the console's preview before saving.
func RenderSample(t store.EmailTemplate, sender string) (Rendered, error) {
	d := SampleData(t.Kind, t.Locale)
	d.Sender = sender
	return override(t, d)
}
