package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/mail"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/integration/smtp/smtptest"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	log = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// env is a store, a real SMTP server, the notification service and a job
// runner with its handlers.
type env struct {
	t      *testing.T
	st     *store.Store
	clock  *parrain.FakeClock
	smtp   *smtptest.Server
	svc    *notify.Service
	runner *jobs.Runner
	prog   parrain.Program
}

func setup(t *testing.T, url string, opt smtptest.Options, withSMTP bool) *env {
	t.Helper()
	clock := parrain.NewFakeClock(t0)
	st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, clock: clock}
	var sender notify.Sender
	if withSMTP {
		e.smtp = smtptest.Start(t, opt)
		m, err := smtp.New(smtp.Config{Host: e.smtp.Host, Port: e.smtp.Port, TLS: smtp.TLSNone, From: "Parrain <referrals@acme.example>"})
		if err != nil {
			t.Fatal(err)
		}
		sender = m
	}
	e.svc = notify.New(st, log, sender, &mail.Address{Name: "Parrain", Address: "referrals@acme.example"}, "https://refer.acme.example")
	e.runner = jobs.NewRunner(st, log)
	e.runner.Handle(parrain.JobNotify, e.svc.HandleNotify)
	e.runner.Handle(parrain.JobSendEmail, e.svc.HandleSend)
	e.prog, _, err = program.New(st).Create(ctx, parrain.Program{Name: "Acme", LandingURL: "https://acme.example/join", Currency: "EUR", HoldDays: 30,
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := referral.New(st).SetExperience(ctx, e.prog.ID, parrain.Experience{TermsURL: "https://acme.example/terms"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func each(t *testing.T, opt smtptest.Options, fn func(t *testing.T, e *env)) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) { fn(t, setup(t, url, opt, true)) })
}

// run runs due jobs until none is left.
func (e *env) run() {
	e.t.Helper()
	for range 50 {
		n, err := e.runner.RunOnce(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("jobs keep coming")
}

func (e *env) participant(ext, email, name, locale string) parrain.Participant {
	e.t.Helper()
	p, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: ext, Email: email, Name: name, Locale: locale}, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) event(ev parrain.Event) store.EventResult {
	e.t.Helper()
	r, _, err := referral.New(e.st).IngestEvent(ctx, e.prog.ID, ev, store.Idem{})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// mails returns the parsed messages the SMTP server received for to.
func (e *env) mails(to string) []smtptest.Parsed {
	e.t.Helper()
	var out []smtptest.Parsed
	for _, m := range e.smtp.Messages() {
		if len(m.To) == 1 && m.To[0] == to {
			p, err := m.Parse()
			if err != nil {
				e.t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

func (e *env) messages(f store.MessageFilter) []store.EmailMessage {
	e.t.Helper()
	ms, _, err := e.st.EmailMessages(ctx, e.prog.ID, f, store.Page{Limit: 200})
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func TestReferralEmails(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		alice := e.participant("alice", "alice@example.com", "Alice Martin", "en")
		cns, _, _ := referral.New(e.st).RecordConsent(ctx, store.Consent{ProgramID: e.prog.ID, Code: alice.Code, Granted: true, WordingVersion: "builtin-1/fr",
			Wording: "Oui", Source: store.ConsentLanding}, store.Idem{})
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob@example.fr", Name: "Bob Dupont", Locale: "fr-FR",
			ReferralCode: alice.Code, ConsentID: cns.ID})
		e.event(parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		e.run()

		am := e.mails("alice@example.com")
		if len(am) != 2 {
			t.Fatalf("alice got %d emails", len(am))
		}
		subjects := map[string]smtptest.Parsed{}
		for _, m := range am {
			subjects[m.Subject()] = m
		}
		signed, ok := subjects["Bob D. signed up with your link"]
		if !ok {
			t.Fatalf("subjects: %v", keys(subjects))
		}
		earned, ok := subjects["You earned €20.00"]
		if !ok {
			t.Fatalf("subjects: %v", keys(subjects))
		}
		if !strings.Contains(earned.Text, "Thanks for referring Bob D. to Acme: you earned €20.00. It will be confirmed on Dec 1, 2026.") {
			t.Errorf("reward text: %s", earned.Text)
		}
		link := "https://refer.acme.example/r/" + alice.Code
		for _, m := range []smtptest.Parsed{signed, earned} {
			unsub := m.Header.Get("List-Unsubscribe")
			if !strings.HasPrefix(unsub, "<https://refer.acme.example/u/") || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
				t.Errorf("unsubscribe headers: %q", unsub)
			}
			url := strings.Trim(unsub, "<>")
			if !strings.Contains(m.Text, url) || !strings.Contains(m.HTML, url) {
				t.Error("the unsubscribe link is missing from a part")
			}
			if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
				t.Error("the referral link is missing")
			}
			if !strings.Contains(m.HTML, "https://acme.example/terms") || !strings.HasPrefix(m.Header.Get("Message-Id"), "<msg_") {
				t.Errorf("terms or message id: %q", m.Header.Get("Message-Id"))
			}
			if !strings.Contains(m.Header.Get("From"), "Acme") {
				t.Errorf("From = %q", m.Header.Get("From"))
			}
		}
		// Bob's reward email is in French.
		bm := e.mails("bob@example.fr")
		if len(bm) != 1 || bm[0].Subject() != "Vous avez gagné 10,00 €" {
			t.Fatalf("bob: %d emails %v", len(bm), subjectsOf(bm))
		}
		if !strings.Contains(bm[0].Text, "Bonjour Bob,") || !strings.Contains(bm[0].Text, "Grâce à l'invitation de Alice M., vous avez gagné 10,00 €.") ||
			!strings.Contains(bm[0].HTML, `lang="fr"`) || !strings.Contains(bm[0].Text, "Se désinscrire") {
			t.Errorf("french email: %s", bm[0].Text)
		}
		// Every message is on record, sent, once; retried jobs add nothing.
		ms := e.messages(store.MessageFilter{})
		if len(ms) != 3 {
			t.Fatalf("%d messages recorded", len(ms))
		}
		for _, m := range ms {
			if m.Status != store.EmailSent || m.SentAt == nil || m.Attempts != 1 {
				t.Errorf("message %s: %s (%s)", m.Kind, m.Status, m.Error)
			}
		}
		// The in-app feed has the same notices.
		ns, _, _ := e.st.Notifications(ctx, alice.ID, false, store.Page{})
		if len(ns) != 2 {
			t.Errorf("alice's feed: %d", len(ns))
		}
		fr := notify.Feed(e.svc.Catalog(), "fr", "Acme", ns)
		texts := []string{fr[0].Text, fr[1].Text}
		if !contains(texts, "Vous avez gagné 20,00 € (en attente de confirmation).") || !contains(texts, "Bob D. s'est inscrit·e avec votre lien.") {
			t.Errorf("feed in French: %q", texts)
		}
	})
}

func TestUnsubscribeIsHonoured(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		alice := e.participant("alice", "alice@example.com", "Alice", "en")
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: alice.Code})
		// Alice clicks the unsubscribe link of an email before its send job
		// runs: the queued email is not sent.
		if err := e.svc.HandleNotify(ctx, e.firstJob(parrain.JobNotify)); err != nil {
			t.Fatal(err)
		}
		ms := e.messages(store.MessageFilter{})
		if len(ms) != 1 || ms[0].Status != store.EmailQueued {
			t.Fatalf("queued: %+v", ms)
		}
		// The link carries the email's language, for the page to answer in it.
		tok, lang, _ := strings.Cut(strings.TrimPrefix(ms[0].UnsubscribeURL, "https://refer.acme.example/u/"), "?")
		prog, email, err := e.st.ParseUnsubscribeToken(tok)
		if err != nil || prog != e.prog.ID || email != "alice@example.com" || !strings.HasPrefix(lang, "lang=") {
			t.Fatalf("token of %s: %v", ms[0].UnsubscribeURL, err)
		}
		if err := referral.New(e.st).Unsubscribe(ctx, prog, email, "one-click"); err != nil {
			t.Fatal(err)
		}
		e.run()
		if n := len(e.smtp.Messages()); n != 0 {
			t.Fatalf("%d emails sent after unsubscribing", n)
		}
		if m := e.messages(store.MessageFilter{})[0]; m.Status != store.EmailSuppressed || m.Error != "unsubscribed" {
			t.Errorf("message: %s %s", m.Status, m.Error)
		}
		// Later notices are recorded as suppressed, and never sent.
		e.event(parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		e.run()
		for _, m := range e.messages(store.MessageFilter{To: "alice@example.com"}) {
			if m.Status != store.EmailSuppressed {
				t.Errorf("%s: %s", m.Kind, m.Status)
			}
		}
		if n := len(e.smtp.Messages()); n != 0 {
			t.Errorf("%d emails sent after unsubscribing", n)
		}
		// The in-app feed still works.
		if n, _ := e.st.UnreadNotifications(ctx, alice.ID); n != 2 {
			t.Errorf("feed: %d", n)
		}
	})
}

func TestNoMarketingWithoutConsent(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		alice := e.participant("alice", "alice@example.com", "Alice", "en")
		yes, _, _ := referral.New(e.st).RecordConsent(ctx, store.Consent{ProgramID: e.prog.ID, Granted: true, WordingVersion: "v", Wording: "Yes", Source: store.ConsentLanding}, store.Idem{})
		no, _, _ := referral.New(e.st).RecordConsent(ctx, store.Consent{ProgramID: e.prog.ID, Granted: false, WordingVersion: "v", Wording: "Yes", Source: store.ConsentLanding}, store.Idem{})
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "c1", Email: "c1@example.com", ReferralCode: alice.Code, ConsentID: yes.ID})
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "c2", Email: "c2@example.com", ReferralCode: alice.Code, ConsentID: no.ID})
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "c3", Email: "c3@example.com", ReferralCode: alice.Code})
		if _, err := e.st.SweepNotices(ctx); err != nil { // welcomes
			t.Fatal(err)
		}
		e.run()
		want := map[string]string{"alice@example.com": store.EmailSent, "c1@example.com": store.EmailSent,
			"c2@example.com": store.EmailSuppressed, "c3@example.com": store.EmailSuppressed}
		for to, status := range want {
			ms := e.messages(store.MessageFilter{To: to, Kind: string(parrain.NoticeWelcome)})
			if len(ms) != 1 || ms[0].Status != status {
				t.Errorf("welcome to %s: %+v", to, ms)
			}
		}
		if got := len(e.mails("c3@example.com")) + len(e.mails("c2@example.com")); got != 0 {
			t.Errorf("%d marketing emails to friends without consent", got)
		}
		if m := e.messages(store.MessageFilter{To: "c3@example.com"}); !strings.HasPrefix(m[0].Error, "no_consent") {
			t.Errorf("reason: %q", m[0].Error)
		}
		if m := e.messages(store.MessageFilter{To: "c2@example.com"}); !strings.HasPrefix(m[0].Error, "consent_refused") {
			t.Errorf("reason: %q", m[0].Error)
		}
		w := e.mails("c1@example.com")
		if len(w) != 1 || w[0].Subject() != "Your referral link for Acme" {
			t.Errorf("welcome: %v", subjectsOf(w))
		}
	})
}

func TestInviteEmail(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		alice := e.participant("alice", "alice@example.com", "Alice Martin", "fr")
		res, _, err := referral.New(e.st).CreateInvites(ctx, alice, []string{"zoe@example.org"}, "Tu vas adorer <b>ça</b> !", "fr", store.Idem{})
		if err != nil || res[0].Status != store.InviteQueued {
			t.Fatal(res, err)
		}
		e.run()
		m := e.mails("zoe@example.org")
		if len(m) != 1 {
			t.Fatalf("%d invites", len(m))
		}
		if m[0].Subject() != "Alice M. vous invite à essayer Acme" {
			t.Errorf("subject %q", m[0].Subject())
		}
		for _, want := range []string{"avec 10,00 € de réduction", "Le mot de Alice M. :", "> Tu vas adorer <b>ça</b> !",
			"https://refer.acme.example/r/" + alice.Code, "Alice M. peut recevoir une récompense si vous vous inscrivez.",
			"nous a demandé de vous envoyer cette invitation, une seule fois"} {
			if !strings.Contains(m[0].Text, want) {
				t.Errorf("text lacks %q:\n%s", want, m[0].Text)
			}
		}
		if strings.Contains(m[0].HTML, "<b>ça</b>") || !strings.Contains(m[0].HTML, "&lt;b&gt;ça&lt;/b&gt;") {
			t.Error("the advocate's note is not escaped in HTML")
		}
		if m[0].Header.Get("List-Unsubscribe") == "" {
			t.Error("an invitation carries List-Unsubscribe too")
		}
	})
}

func TestSendRetriesAndFailures(t *testing.T) {
	var busy atomic.Bool
	each(t, smtptest.Options{Reject: func(to string) error {
		switch {
		case strings.HasPrefix(to, "gone@"):
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case strings.HasPrefix(to, "busy@") && busy.Load():
			return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}}, func(t *testing.T, e *env) {
		busy.Store(true)
		gone := e.participant("gone", "gone@example.com", "", "")
		e.participant("busy", "busy@example.com", "", "")
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", ReferralCode: gone.Code})
		e.run()
		if m := e.messages(store.MessageFilter{To: "gone@example.com"}); len(m) != 1 || m[0].Status != store.EmailFailed || !strings.Contains(m[0].Error, "550") {
			t.Errorf("permanent failure: %+v", m)
		}
		busyP, _ := e.st.Participant(ctx, e.prog.ID, "busy")
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", ReferralCode: busyP.Code})
		e.run()
		m := e.messages(store.MessageFilter{To: "busy@example.com"})
		if len(m) != 1 || m[0].Status != store.EmailQueued || m[0].Attempts != 1 || !strings.Contains(m[0].Error, "451") {
			t.Fatalf("temporary failure: %+v", m)
		}
		// The job runner retries after its backoff.
		e.clock.Advance(jobs.Backoff(1) + time.Second)
		e.run()
		if m := e.messages(store.MessageFilter{To: "busy@example.com"}); m[0].Status != store.EmailQueued || m[0].Attempts != 2 {
			t.Fatalf("second attempt: %+v", m[0])
		}
		busy.Store(false)
		e.clock.Advance(jobs.Backoff(2) + time.Second)
		e.run()
		if m := e.messages(store.MessageFilter{To: "busy@example.com"}); m[0].Status != store.EmailSent || m[0].Attempts != 3 {
			t.Fatalf("after recovery: %+v", m[0])
		}
		if len(e.mails("busy@example.com")) != 1 {
			t.Error("sent once")
		}
	})
}

func TestTemplateOverride(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		bad := []struct {
			tpl   store.EmailTemplate
			field string
		}{
			{store.EmailTemplate{Kind: "spam", Subject: "s", Text: "t"}, "kind"},
			{store.EmailTemplate{Kind: parrain.NoticeWelcome, Subject: "", Text: "t"}, "subject"},
			{store.EmailTemplate{Kind: parrain.NoticeWelcome, Subject: "{{.Nope}}", Text: "t {{.UnsubscribeURL}}"}, "subject"},
			{store.EmailTemplate{Kind: parrain.NoticeWelcome, Subject: "{{if}}", Text: "t"}, "subject"},
			{store.EmailTemplate{Kind: parrain.NoticeWelcome, Subject: "Hi", Text: "no unsubscribe link"}, "text"},
			{store.EmailTemplate{Kind: parrain.NoticeWelcome, Subject: "Hi", Text: "{{.UnsubscribeURL}}", HTML: "<p>none</p>"}, "html"},
		}
		for _, tc := range bad {
			err := notify.ValidateTemplate(tc.tpl)
			if pe := parrain.AsError(err); pe == nil || pe.Field != tc.field {
				t.Errorf("%+v: %v", tc.tpl, err)
			}
		}
		tpl := store.EmailTemplate{Kind: parrain.NoticeFriendSignedUp, Locale: "fr", Subject: "{{.Friend}} a rejoint {{.Sender}} !",
			Text: "Salut {{.FirstName}}, {{.Friend}} est là. Ton lien : {{.Link}}\nDésinscription : {{.UnsubscribeURL}}",
			HTML: `<p>Salut {{.FirstName}}, <b>{{.Friend}}</b> est là.</p><a href="{{.UnsubscribeURL}}">Désinscription</a>`}
		if err := notify.ValidateTemplate(tpl); err != nil {
			t.Fatal(err)
		}
		if _, err := notify.SetEmailTemplate(ctx, e.st, e.prog.ID, tpl); err != nil {
			t.Fatal(err)
		}
		claire := e.participant("claire", "claire@example.fr", "Claire Moreau", "fr-CA")
		dave := e.participant("dave", "dave@example.com", "Dave Smith", "en")
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", Name: "Élise Dupont", ReferralCode: claire.Code})
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", Name: "Elias Smith", ReferralCode: dave.Code})
		e.run()
		m := e.mails("claire@example.fr")
		if len(m) != 1 || m[0].Subject() != "Élise D. a rejoint Acme !" {
			t.Fatalf("override subject: %v", subjectsOf(m))
		}
		if !strings.Contains(m[0].Text, "Salut Claire, Élise D. est là.") || !strings.Contains(m[0].HTML, "<b>Élise D.</b>") {
			t.Errorf("override body: %s / %s", m[0].Text, m[0].HTML)
		}
		// English keeps the built-in email.
		if d := e.mails("dave@example.com"); len(d) != 1 || d[0].Subject() != "Elias S. signed up with your link" {
			t.Errorf("built-in: %v", subjectsOf(d))
		}
	})
}

func TestWithoutSMTP(t *testing.T) {
	t.Parallel()
	e := setup(t, dbtest.URL(t, "sqlite"), smtptest.Options{}, false)
	alice := e.participant("alice", "alice@example.com", "Alice", "en")
	e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: alice.Code})
	e.run()
	ms := e.messages(store.MessageFilter{})
	if len(ms) != 1 || ms[0].Status != store.EmailSkipped || !strings.Contains(ms[0].Error, "SMTP") {
		t.Errorf("%+v", ms)
	}
	if n, _ := e.st.UnreadNotifications(ctx, alice.ID); n != 1 {
		t.Error("the in-app notice does not need SMTP")
	}
}

func TestMomentEffects(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		tr, _, err := referral.New(e.st).CreateTrigger(ctx, e.prog.ID, parrain.MomentTrigger{Kind: parrain.MomentNPS,
			Effects: []parrain.Effect{parrain.EffectEmail, parrain.EffectNotification}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		score := 10
		r := e.event(parrain.Event{Type: parrain.EventNPS, ExternalID: "happy", Email: "happy@example.com", Name: "Hana Sato", Score: &score})
		if len(r.TriggersFired) != 1 {
			t.Fatal("not fired")
		}
		e.run()
		m := e.mails("happy@example.com")
		if len(m) != 1 || m[0].Subject() != "Enjoying Acme? Share it with a friend" {
			t.Fatalf("moment email: %v", subjectsOf(m))
		}
		p, _ := e.st.Participant(ctx, e.prog.ID, "happy")
		if !strings.Contains(m[0].Text, "https://refer.acme.example/r/"+p.Code) {
			t.Error("the invitation carries the participant's link")
		}
		fs, _, _ := e.st.Firings(ctx, e.prog.ID, tr.ID, store.Page{})
		for _, o := range fs[0].Effects {
			if o.Status != store.EffectDone {
				t.Errorf("effect %s: %s (%s)", o.Effect, o.Status, o.Detail)
			}
		}
		if n, _ := e.st.UnreadNotifications(ctx, p.ID); n != 1 {
			t.Errorf("feed: %d", n)
		}
	})
}

func (e *env) firstJob(kind string) []byte {
	e.t.Helper()
	var payload string
	if err := e.st.DB().QueryRow(`SELECT payload FROM jobs WHERE kind = $1 ORDER BY id LIMIT 1`, kind).Scan(&payload); err != nil {
		e.t.Fatal(err)
	}
	return []byte(payload)
}

func keys(m map[string]smtptest.Parsed) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func subjectsOf(ps []smtptest.Parsed) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Subject())
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// The friend's coupon code is emailed and shown in the feed once the
// reward engine delivers it (after the hold).
func TestFriendCouponCodeEmailed(t *testing.T) {
	each(t, smtptest.Options{}, func(t *testing.T, e *env) {
		referral.New(e.st).RegisterJobs(e.runner, webhook.NewClient(false)) // maturation and fulfilment
		alice := e.participant("alice", "alice@example.com", "Alice Martin", "en")
		e.event(parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob@example.fr", Name: "Bob Dupont", Locale: "fr", ReferralCode: alice.Code})
		e.event(parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		e.run()
		e.clock.Advance(30*24*time.Hour + time.Minute)
		e.run() // approval, then delivery of the coupon code
		if _, err := e.st.SweepNotices(ctx); err != nil {
			t.Fatal(err)
		}
		e.run()
		bob, _ := e.st.Participant(ctx, e.prog.ID, "bob")
		rws, _, _ := e.st.ParticipantRewards(ctx, bob.ID, "", store.Page{})
		if err := e.st.DecorateRewards(ctx, rws); err != nil {
			t.Fatal(err)
		}
		if len(rws) != 1 || rws[0].Fulfilment == nil || rws[0].Fulfilment.Code == "" {
			t.Fatalf("bob's coupon: %+v", rws)
		}
		code := rws[0].Fulfilment.Code
		var paid *smtptest.Parsed
		for _, m := range e.mails("bob@example.fr") {
			if m.Subject() == "Votre récompense de 10,00 € a été versée" {
				paid = &m
			}
		}
		if paid == nil {
			t.Fatalf("no paid email to bob: %v", subjectsOf(e.mails("bob@example.fr")))
		}
		if !strings.Contains(paid.Text, "Votre code : "+code) || !strings.Contains(paid.HTML, "Votre code : "+code) {
			t.Errorf("the code is not in the email:\n%s", paid.Text)
		}
		ns, _, _ := e.st.Notifications(ctx, bob.ID, false, store.Page{})
		found := false
		for _, it := range notify.Feed(e.svc.Catalog(), "fr", "Acme", ns) {
			found = found || strings.Contains(it.Text, "Votre code : "+code)
		}
		if !found {
			t.Error("the code is not in the feed")
		}
		// Alice's cash reward was approved: her email says so.
		approved := false
		for _, m := range e.mails("alice@example.com") {
			approved = approved || m.Subject() == "Your reward of €20.00 is confirmed"
		}
		if !approved {
			t.Errorf("alice: %v", subjectsOf(e.mails("alice@example.com")))
		}
	})
}
