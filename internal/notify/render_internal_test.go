package notify

import (
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// render composes the built-in email of kind in English from the sample
// data changed by mod.
func render(t *testing.T, kind parrain.NoticeKind, mod func(*TemplateData)) Rendered {
	t.Helper()
	d := SampleData(kind, "en")
	if mod != nil {
		mod(&d)
	}
	r, err := builtin(i18n.Default(), d)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return r
}

// Each kind picks its body by what the data holds: the offer variant when
// both offers are known, the friend's variant of a reward, the held
// variant of a changed payout account.
func TestBuiltinBodies(t *testing.T) {
	noOffer := func(d *TemplateData) { d.FriendOffer, d.AdvocateOffer = "", "" }
	cases := []struct {
		name    string
		kind    parrain.NoticeKind
		mod     func(*TemplateData)
		subject string
		body    string
	}{
		{"welcome with offers", parrain.NoticeWelcome, func(d *TemplateData) { d.Advocate = "" }, "Your referral link for Acme",
			"Each friend who joins with your link gets 10% off, and you get €20.00."},
		{"welcome without", parrain.NoticeWelcome, noOffer, "Your referral link for Acme", "Share your personal link with your friends."},
		{"one offer only", parrain.NoticeWelcome, func(d *TemplateData) { d.AdvocateOffer = "" }, "Your referral link for Acme",
			"Share your personal link with your friends."},
		{"friend signed up", parrain.NoticeFriendSignedUp, nil, "Bob D. signed up with your link", "Good news: Bob D. joined Acme thanks to you."},
		{"reward to the advocate", parrain.NoticeRewardEarned, func(d *TemplateData) { d.Advocate = "" }, "You earned €20.00",
			"you earned €20.00. It will be confirmed on Mar 1, 2026."},
		{"reward to the friend", parrain.NoticeRewardEarned, nil, "You earned €20.00", "Thanks to Alice M.'s invitation, you earned €20.00."},
		{"approved", parrain.NoticeRewardApproved, nil, "Your reward of €20.00 is confirmed", "Your reward of €20.00 from Acme's referral program is confirmed."},
		{"paid", parrain.NoticeRewardPaid, nil, "Your reward of €20.00 has been paid", "Thank you for recommending Acme!"},
		{"reminder with offers", parrain.NoticeReminder, nil, "Your friends might love Acme too", "Your friends get 10% off, and you get €20.00."},
		{"invite with the friend's offer", parrain.NoticeInvite, func(d *TemplateData) { d.AdvocateOffer = "" }, "Alice M. invites you to try Acme",
			"sent you this invitation, with 10% off."},
		{"invite without", parrain.NoticeInvite, noOffer, "Alice M. invites you to try Acme", "sent you this invitation."},
		{"moment", parrain.NoticeMoment, nil, "Enjoying Acme? Share it with a friend", "they get 10% off, and you get €20.00."},
		{"account set", parrain.NoticePayoutAccountChanged, func(d *TemplateData) { d.HoldUntil, d.Destination = "", "IBAN FR****0189" },
			"Your payout account was updated", "Your payout account for your Acme rewards is set: IBAN FR****0189."},
		{"account changed and held", parrain.NoticePayoutAccountChanged, func(d *TemplateData) { d.Destination = "IBAN FR****0189" },
			"Your payout account was updated", "payouts to it wait until Mar 1, 2026."},
	}
	for _, c := range cases {
		r := render(t, c.kind, c.mod)
		if r.Subject != c.subject {
			t.Errorf("%s: subject %q, want %q", c.name, r.Subject, c.subject)
		}
		if !strings.Contains(r.Text, c.body) {
			t.Errorf("%s: text lacks %q:\n%s", c.name, c.body, r.Text)
		}
		if !strings.Contains(r.HTML, htmlEscaped(c.body)) {
			t.Errorf("%s: HTML lacks %q", c.name, c.body)
		}
	}
}

func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// The text's parts and their order: greeting, body, code, the quoted
// note, the call to action, the disclosure, then the footer with the
// terms and the unsubscribe link.
func TestBuiltinText(t *testing.T) {
	r := render(t, parrain.NoticeInvite, nil)
	want := "Hi Alice,\n\n" +
		"Alice M. thinks you'll like Acme and sent you this invitation, with 10% off.\n\n" +
		"Your code: WELCOME-7KQ2\n\n" +
		"Alice M. wrote:\n> You'll love it!\n\n" +
		"Accept the invitation: https://refer.example/r/K7MPR2X\n\n" +
		"Alice M. may get a reward if you join.\n\n" +
		"-- \nAlice M. asked us to send you this one invitation. We won't email you again unless you join.\n" +
		"Program terms: https://acme.example/terms\n" +
		"Unsubscribe: https://refer.example/u/sample\n"
	if r.Text != want {
		t.Errorf("text:\n%s\nwant:\n%s", r.Text, want)
	}
	bare := render(t, parrain.NoticeWelcome, func(d *TemplateData) {
		d.FirstName, d.Code, d.Note, d.Disclosure, d.TermsURL = "", "", "", "", ""
	})
	if !strings.HasPrefix(bare.Text, "Hello,\n\n") || strings.Contains(bare.Text, "Program terms") || strings.Contains(bare.Text, "Your code") ||
		strings.Contains(bare.Text, "wrote:") || !strings.Contains(bare.Text, "-- \nYou receive this email because you take part in Acme's referral program.\n") {
		t.Errorf("bare text:\n%s", bare.Text)
	}
}

// Names typed by people reach neither the headers nor the HTML unescaped.
func TestBuiltinEscapes(t *testing.T) {
	r := render(t, parrain.NoticeFriendSignedUp, func(d *TemplateData) {
		d.Friend = "Bob\r\nBcc: all@example.com <script>"
		d.Link = `https://refer.example/r/X"><script>alert(1)</script>`
		d.Color = `red;background:url(javascript:x)"`
	})
	if strings.ContainsAny(r.Subject, "\r\n") || r.Subject != "Bob Bcc: all@example.com <script> signed up with your link" {
		t.Errorf("subject %q", r.Subject)
	}
	for _, bad := range []string{"<script>", `X"><`, `javascript:x)"`} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML holds %q unescaped", bad)
		}
	}
	if !strings.Contains(r.HTML, `href="https://refer.example/r/X&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("the link is not an escaped attribute:\n%s", r.HTML)
	}
	// A security notice's call to action has no link at all.
	p := render(t, parrain.NoticePayoutAccountChanged, nil)
	if strings.Contains(p.HTML, `<a href="https://refer.example/r/`) {
		t.Error("the payout notice links to the referral link")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"hi":                "> hi",
		"  one\ntwo \n":     "> one\n> two",
		"a\n\nb":            "> a\n> \n> b",
		"":                  "> ",
		"line\r\nwindows":   "> line\r\n> windows",
		"> already\nquoted": "> > already\n> quoted",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %q, want %q", in, got, want)
		}
	}
}

// A template override must parse, render, keep its subject on one line
// and carry the unsubscribe link in the text and the HTML.
func TestValidateTemplate(t *testing.T) {
	ok := store.EmailTemplate{Kind: parrain.NoticeWelcome, Locale: "en", Subject: "Join {{.Sender}}",
		Text: "{{.Link}}\n{{.UnsubscribeURL}}", HTML: `<a href="{{.UnsubscribeURL}}">stop</a>`}
	if err := ValidateTemplate(ok); err != nil {
		t.Fatalf("a good template: %v", err)
	}
	noHTML := ok
	noHTML.HTML = ""
	if err := ValidateTemplate(noHTML); err != nil {
		t.Fatalf("without HTML: %v", err)
	}
	cases := []struct {
		name  string
		mod   func(*store.EmailTemplate)
		field string
	}{
		{"unknown kind", func(e *store.EmailTemplate) { e.Kind = "birthday" }, "kind"},
		{"blank subject", func(e *store.EmailTemplate) { e.Subject = "  " }, "subject"},
		{"long subject", func(e *store.EmailTemplate) { e.Subject = strings.Repeat("s", 501) }, "subject"},
		{"subject renders empty", func(e *store.EmailTemplate) { e.Subject = "{{if false}}x{{end}}" }, "subject"},
		{"subject does not parse", func(e *store.EmailTemplate) { e.Subject = "{{.Sender" }, "subject"},
		{"unknown field", func(e *store.EmailTemplate) { e.Subject = "{{.Shop}}" }, "subject"},
		{"blank text", func(e *store.EmailTemplate) { e.Text = "\n" }, "text"},
		{"long text", func(e *store.EmailTemplate) { e.Text = strings.Repeat("t", 50001) }, "text"},
		{"text without unsubscribe", func(e *store.EmailTemplate) { e.Text = "{{.Link}}" }, "text"},
		{"text does not parse", func(e *store.EmailTemplate) { e.Text = "{{range}}" }, "text"},
		{"HTML without unsubscribe", func(e *store.EmailTemplate) { e.HTML = "<p>{{.Link}}</p>" }, "html"},
		{"HTML does not parse", func(e *store.EmailTemplate) { e.HTML = "<p>{{.Link</p>" }, "html"},
		{"HTML unknown field", func(e *store.EmailTemplate) { e.HTML = "{{.UnsubscribeURL}}{{.Nope}}" }, "html"},
		{"long HTML", func(e *store.EmailTemplate) { e.HTML = strings.Repeat("h", 100001) }, "html"},
	}
	for _, c := range cases {
		tpl := ok
		c.mod(&tpl)
		err := ValidateTemplate(tpl)
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeInvalid || pe.Field != c.field {
			t.Errorf("%s: %v, want invalid on %s", c.name, err, c.field)
		}
	}
}

// An override renders the same data as the built-in email: the subject
// folded to one line, the HTML escaped by html/template.
func TestOverride(t *testing.T) {
	d := SampleData(parrain.NoticeRewardPaid, "fr")
	d.Name = `Zoë <b>"Z"</b>`
	r, err := override(store.EmailTemplate{Subject: "{{.Reward}}\n pour\t{{.FirstName}}", Text: "Bonjour {{.Name}}", HTML: "<p>{{.Name}}</p>"}, d)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "€20.00 pour Alice" || r.Text != `Bonjour Zoë <b>"Z"</b>` || r.HTML != "<p>Zoë &lt;b&gt;&#34;Z&#34;&lt;/b&gt;</p>" {
		t.Errorf("override: %+v", r)
	}
}
