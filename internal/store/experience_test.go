package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// jobs returns the unique keys of the jobs of a kind, in order.
func (e *env) jobs(kind string) []string {
	e.T.Helper()
	rows, err := e.St.DB().Query(`SELECT unique_key FROM jobs WHERE kind = $1 ORDER BY unique_key`, kind)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			e.T.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func (e *env) notifyArgs() []parrain.NotifyArgs {
	e.T.Helper()
	rows, err := e.St.DB().Query(`SELECT payload FROM jobs WHERE kind = $1 ORDER BY id`, parrain.JobNotify)
	if err != nil {
		e.T.Fatal(err)
	}
	defer rows.Close()
	var out []parrain.NotifyArgs
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			e.T.Fatal(err)
		}
		var a parrain.NotifyArgs
		if err := json.Unmarshal([]byte(p), &a); err != nil {
			e.T.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func kinds(as []parrain.NotifyArgs) map[parrain.NoticeKind]int {
	m := map[parrain.NoticeKind]int{}
	for _, a := range as {
		m[a.Kind]++
	}
	return m
}

func TestExperienceSettings(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		x, err := e.St.Experience(ctx, p.ID)
		if err != nil || x.LandingPage || x.InvitesPerDay != 20 || x.ConsentVersion != parrain.DefaultConsentVersion {
			t.Fatalf("defaults: %+v %v", x, err)
		}
		x.LandingPage, x.TermsURL, x.InvitesPerDay = true, "https://shop.example/terms", 3
		if _, err := e.Ref.SetExperience(ctx, p.ID, x); err != nil {
			t.Fatal(err)
		}
		y, err := e.St.Experience(ctx, p.ID)
		if err != nil || !y.LandingPage || y.TermsURL != "https://shop.example/terms" || y.InvitesPerDay != 3 {
			t.Fatalf("stored: %+v %v", y, err)
		}
		_, err = e.Ref.SetExperience(ctx, p.ID, parrain.Experience{TermsURL: "ftp://x"})
		if e := parrain.AsError(err); e == nil || e.Field != "terms_url" {
			t.Errorf("invalid settings: %v", err)
		}
		if _, err := e.St.Experience(ctx, "prog_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown program: %v", err)
		}
		if _, err := e.Ref.SetExperience(ctx, "prog_nope", parrain.Experience{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown program: %v", err)
		}
	})
}

func TestWidgetSecretRotation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		if cur, prev, err := e.St.WidgetSecrets(ctx, p.ID); err != nil || cur != "" || prev != "" {
			t.Fatalf("before rotation: %q %q %v", cur, prev, err)
		}
		idem := store.Idem{Scope: "key", Key: "rot-1", Hash: "h"}
		a, replayed, err := e.Ref.RotateWidgetSecret(ctx, p.ID, idem)
		if err != nil || replayed || a.Version != 1 || !strings.HasPrefix(a.Secret, "pws_") || len(a.Secret) != 68 || a.PreviousValidUntil != nil {
			t.Fatalf("first rotation: %+v %v %v", a, replayed, err)
		}
		// A replay answers the same rotation without the secret (shown
		// once), saying so.
		r, replayed, err := e.Ref.RotateWidgetSecret(ctx, p.ID, idem)
		if err != nil || !replayed || r.Secret != "" || r.SecretNotice != parrain.SecretWithheld || r.Version != 1 || !r.RotatedAt.Equal(a.RotatedAt) {
			t.Fatalf("replay: %+v %v %v", r, replayed, err)
		}
		b, _, err := e.Ref.RotateWidgetSecret(ctx, p.ID, store.Idem{})
		if err != nil || b.Version != 2 || b.Secret == a.Secret || b.PreviousValidUntil == nil {
			t.Fatalf("second rotation: %+v %v", b, err)
		}
		cur, prev, _ := e.St.WidgetSecrets(ctx, p.ID)
		if cur != b.Secret || prev != a.Secret {
			t.Errorf("during grace: current %q previous %q", cur, prev)
		}
		e.Clock.Advance(store.SecretGrace + time.Second)
		if cur, prev, _ := e.St.WidgetSecrets(ctx, p.ID); cur != b.Secret || prev != "" {
			t.Errorf("after grace: current %q previous %q", cur, prev)
		}
		// Replaying the first request after another rotation answers that
		// rotation still, rotating nothing.
		if r, replayed, err := e.Ref.RotateWidgetSecret(ctx, p.ID, idem); err != nil || !replayed || r.Version != 1 || r.Secret != "" {
			t.Errorf("late replay: %+v %v %v", r, replayed, err)
		}
		if cur, _, _ := e.St.WidgetSecrets(ctx, p.ID); cur != b.Secret {
			t.Errorf("a replay rotated the secret: %q", cur)
		}
		if _, _, err := e.Ref.RotateWidgetSecret(ctx, "prog_nope", store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown program: %v", err)
		}
	})
}

func TestShares(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		a := e.Advocate(p.ID, "a", "a@example.com")
		e.Advocate(p.ID, "b", "b@example.com")
		for _, c := range []string{"x", "email", "whatsapp"} {
			if ok, err := e.Ref.RecordShare(ctx, p.ID, a.ID, c); err != nil || !ok {
				t.Fatalf("share %s: %v %v", c, ok, err)
			}
		}
		// A double click counts once; a minute later it counts again.
		if ok, err := e.Ref.RecordShare(ctx, p.ID, a.ID, "x"); err != nil || ok {
			t.Errorf("debounce: %v %v", ok, err)
		}
		e.Clock.Advance(61 * time.Second)
		if ok, _ := e.Ref.RecordShare(ctx, p.ID, a.ID, "x"); !ok {
			t.Error("share after the debounce window not counted")
		}
		if _, err := e.Ref.RecordShare(ctx, p.ID, a.ID, "carrier-pigeon"); parrain.AsError(err) == nil || parrain.AsError(err).Field != "channel" {
			t.Errorf("bad channel: %v", err)
		}
		st, err := e.St.ShareStats(ctx, p.ID, t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if st.Participants != 2 || st.Sharing != 1 || st.ShareRateBps != 5000 || st.Shares != 4 || st.ByChannel["x"] != 2 || st.ByChannel["sms"] != 0 {
			t.Errorf("stats: %+v", st)
		}
		mine, _ := e.St.SharesOf(ctx, a.ID)
		if mine["email"] != 1 || mine["x"] != 2 {
			t.Errorf("shares of a: %v", mine)
		}
	})
}

func TestInvites(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		if _, err := e.Ref.SetExperience(ctx, p.ID, parrain.Experience{InvitesPerDay: 4}); err != nil {
			t.Fatal(err)
		}
		a := e.Advocate(p.ID, "alice", "alice@example.com")
		e.Advocate(p.ID, "member", "member@example.com")
		if err := e.Ref.Unsubscribe(ctx, p.ID, "gone@example.com", "test"); err != nil {
			t.Fatal(err)
		}
		idem := store.Idem{Scope: "widget:" + a.ID, Key: "inv-1", Hash: "h1"}
		res, replayed, err := e.Ref.CreateInvites(ctx, a, []string{"bob@example.com", "not-an-email", "Alice@EXAMPLE.com",
			"member@example.com", "gone@example.com", "BOB@example.com", "carol@example.com"}, "Try it!", "fr", idem)
		if err != nil || replayed {
			t.Fatal(err)
		}
		want := []string{"queued", "invalid", "skipped", "skipped", "skipped", "skipped", "queued"}
		for i, r := range res {
			if r.Status != want[i] {
				t.Errorf("%s: %s, want %s", r.Email, r.Status, want[i])
			}
		}
		if got := kinds(e.notifyArgs())[parrain.NoticeInvite]; got != 2 {
			t.Errorf("invite jobs = %d, want 2", got)
		}
		again, replayed, err := e.Ref.CreateInvites(ctx, a, []string{"bob@example.com"}, "Try it!", "fr", idem)
		if err != nil || !replayed || len(again) != 7 {
			t.Errorf("replay: %v %v %d", err, replayed, len(again))
		}
		// Each address is invited once per program, whoever invites it.
		b := e.Advocate(p.ID, "bruno", "bruno@example.com")
		res, _, _ = e.Ref.CreateInvites(ctx, b, []string{"bob@example.com", "dave@example.com", "erin@example.com", "fred@example.com"}, "", "en", store.Idem{})
		want = []string{"skipped", "queued", "queued", "queued"}
		for i, r := range res {
			if r.Status != want[i] {
				t.Errorf("second advocate %s: %s, want %s", r.Email, r.Status, want[i])
			}
		}
		// Alice has 2 of her 4 a day left.
		res, _, _ = e.Ref.CreateInvites(ctx, a, []string{"g@example.com", "h@example.com", "i@example.com"}, "", "en", store.Idem{})
		want = []string{"queued", "queued", "rate_limited"}
		for i, r := range res {
			if r.Status != want[i] {
				t.Errorf("limit %s: %s, want %s", r.Email, r.Status, want[i])
			}
		}
		e.Clock.Advance(24*time.Hour + time.Minute)
		res, _, _ = e.Ref.CreateInvites(ctx, a, []string{"i@example.com"}, "", "en", store.Idem{})
		if res[0].Status != "queued" {
			t.Errorf("next day: %s", res[0].Status)
		}
		bad := []struct {
			emails []string
			note   string
			field  string
		}{
			{nil, "", "emails"},
			{make([]string, 11), "", "emails"},
			{[]string{"x@example.com"}, strings.Repeat("x", 501), "note"},
			{[]string{"x@example.com"}, "see https://spam.example", "note"},
		}
		for _, tc := range bad {
			_, _, err := e.Ref.CreateInvites(ctx, a, tc.emails, tc.note, "en", store.Idem{})
			if pe := parrain.AsError(err); pe == nil || pe.Field != tc.field {
				t.Errorf("%v: %v", tc.field, err)
			}
		}
		inv, err := e.St.InviteByID(ctx, e.notifyArgs()[0].InviteID)
		if err != nil || inv.Email != "bob@example.com" || inv.Locale != "fr" || inv.Note != "Try it!" {
			t.Errorf("invite: %+v %v", inv, err)
		}
	})
}

func TestConsentLinkAndMarketingPermission(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		other := e.Program(nil)
		a := e.Advocate(p.ID, "alice", "alice@example.com")
		yes, _, err := e.Ref.RecordConsent(ctx, store.Consent{ProgramID: p.ID, Code: a.Code, Granted: true, WordingVersion: "builtin-1",
			Wording: "Yes, email me", Locale: "fr_FR", Source: store.ConsentLanding}, store.Idem{})
		if err != nil || !strings.HasPrefix(yes.ID, "cns_") || yes.Locale != "fr-FR" {
			t.Fatalf("record: %+v %v", yes, err)
		}
		foreign, _, _ := e.Ref.RecordConsent(ctx, store.Consent{ProgramID: other.ID, Granted: true, WordingVersion: "v", Wording: "w", Source: store.ConsentLanding}, store.Idem{})
		// Bob signs up through Alice with his landing-page consent.
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob@example.com", ReferralCode: a.Code, ConsentID: yes.ID})
		bob, _ := e.St.Participant(ctx, p.ID, "bob")
		cs, err := e.St.Consents(ctx, bob.ID)
		if err != nil || len(cs) != 1 || cs[0].ID != yes.ID || !cs[0].Granted || cs[0].ExternalID != "bob" || cs[0].Wording != "Yes, email me" {
			t.Fatalf("linked consents: %+v %v", cs, err)
		}
		if ok, why, err := e.St.MarketingPermission(ctx, bob.ID); err != nil || !ok {
			t.Errorf("bob consented: %v %q %v", ok, why, err)
		}
		// Carol names another program's consent: it is not linked.
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "carol", ReferralCode: a.Code, ConsentID: foreign.ID})
		carol, _ := e.St.Participant(ctx, p.ID, "carol")
		if ok, why, _ := e.St.MarketingPermission(ctx, carol.ID); ok || !strings.HasPrefix(why, "no_consent") {
			t.Errorf("carol without consent: %v %q", ok, why)
		}
		if c, _ := e.St.ConsentByID(ctx, foreign.ID); c.ParticipantID != "" {
			t.Error("another program's consent was linked")
		}
		// Bob withdraws through the API: the latest answer wins.
		if _, _, err := e.Ref.RecordConsent(ctx, store.Consent{ProgramID: p.ID, ParticipantID: bob.ID, Granted: false, WordingVersion: "v2",
			Wording: "Email me", Source: store.ConsentAPI}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if ok, why, _ := e.St.MarketingPermission(ctx, bob.ID); ok || !strings.HasPrefix(why, "consent_refused") {
			t.Errorf("bob withdrew: %v %q", ok, why)
		}
		// An advocate who was never referred needs no consent.
		if ok, _, _ := e.St.MarketingPermission(ctx, a.ID); !ok {
			t.Error("advocate")
		}
		_, _, err = e.Ref.RecordConsent(ctx, store.Consent{ProgramID: p.ID, Granted: true, WordingVersion: "v"}, store.Idem{})
		if pe := parrain.AsError(err); pe == nil || pe.Field != "wording" {
			t.Errorf("missing wording: %v", err)
		}
	})
}

func TestNotificationsFeed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		a := e.Advocate(p.ID, "alice", "alice@example.com")
		b := e.Advocate(p.ID, "bruno", "")
		for i, k := range []parrain.NoticeKind{parrain.NoticeWelcome, parrain.NoticeFriendSignedUp, parrain.NoticeRewardEarned} {
			n := store.Notice{ProgramID: p.ID, ParticipantID: a.ID, Kind: k, DedupeKey: string(k) + ":x", InApp: true, Data: map[string]any{"i": i}}
			for range 2 { // retried jobs record once
				if _, err := e.St.RecordNotice(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			e.Clock.Advance(time.Second)
		}
		ns, next, err := e.St.Notifications(ctx, a.ID, false, store.Page{Limit: 2})
		if err != nil || len(ns) != 2 || next == "" || ns[0].Kind != parrain.NoticeRewardEarned || ns[0].Data["i"] != float64(2) {
			t.Fatalf("page 1: %+v %q %v", ns, next, err)
		}
		rest, next, _ := e.St.Notifications(ctx, a.ID, false, store.Page{Limit: 2, Cursor: next})
		if len(rest) != 1 || next != "" || rest[0].Kind != parrain.NoticeWelcome {
			t.Fatalf("page 2: %+v", rest)
		}
		if n, _ := e.St.UnreadNotifications(ctx, a.ID); n != 3 {
			t.Errorf("unread = %d", n)
		}
		// Bruno cannot mark Alice's notifications.
		if n, err := e.Ref.MarkNotificationsRead(ctx, b.ID, []string{ns[0].ID}); err != nil || n != 0 {
			t.Errorf("other participant marked %d (%v)", n, err)
		}
		if n, _ := e.Ref.MarkNotificationsRead(ctx, a.ID, []string{ns[0].ID, "ntf_nope"}); n != 1 {
			t.Errorf("marked %d", n)
		}
		unread, _, _ := e.St.Notifications(ctx, a.ID, true, store.Page{})
		if len(unread) != 2 {
			t.Errorf("unread list = %d", len(unread))
		}
		if n, _ := e.Ref.MarkNotificationsRead(ctx, a.ID, nil); n != 2 {
			t.Errorf("mark all = %d", n)
		}
		if n, _ := e.St.UnreadNotifications(ctx, a.ID); n != 0 {
			t.Errorf("unread after all = %d", n)
		}
	})
}

func TestEmailMessages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		a := e.Advocate(p.ID, "alice", "alice@example.com")
		n := store.Notice{ProgramID: p.ID, ParticipantID: a.ID, Kind: parrain.NoticeWelcome, DedupeKey: "welcome:" + a.ID, InApp: true,
			Email: &store.EmailMessage{To: "alice@example.com", Locale: "en", Subject: "Hi", Text: "t", HTML: "<p>h</p>"}}
		m1, err := e.St.RecordNotice(ctx, n)
		if err != nil || m1.Status != store.EmailQueued || !strings.HasPrefix(m1.ID, "msg_") {
			t.Fatalf("record: %+v %v", m1, err)
		}
		m2, _ := e.St.RecordNotice(ctx, n)
		if m2.ID != m1.ID {
			t.Error("a retried notice recorded a second email")
		}
		if got := e.jobs(parrain.JobSendEmail); len(got) != 1 || got[0] != parrain.JobSendEmail+":"+m1.ID {
			t.Errorf("send jobs = %v", got)
		}
		// A suppressed message has no send job.
		sup, _ := e.St.RecordNotice(ctx, store.Notice{ProgramID: p.ID, ParticipantID: a.ID, Kind: parrain.NoticeReminder, DedupeKey: "reminder:x",
			Email: &store.EmailMessage{To: "alice@example.com", Locale: "en", Subject: "S", Status: store.EmailSuppressed, Error: "no_consent"}})
		if sup.Status != store.EmailSuppressed || len(e.jobs(parrain.JobSendEmail)) != 1 {
			t.Errorf("suppressed: %+v, jobs %v", sup, e.jobs(parrain.JobSendEmail))
		}
		if n, err := e.St.MarkEmailAttempt(ctx, m1.ID, "421 try later", false); err != nil || n != 1 {
			t.Errorf("attempt: %d %v", n, err)
		}
		if err := e.St.MarkEmailSent(ctx, m1.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := e.St.EmailMessageByID(ctx, m1.ID)
		if got.Status != store.EmailSent || got.SentAt == nil || got.Attempts != 2 || got.Error != "" {
			t.Errorf("sent: %+v", got)
		}
		// A sent message is final.
		if n, _ := e.St.MarkEmailAttempt(ctx, m1.ID, "late", true); n != 0 {
			t.Error("attempt recorded on a sent message")
		}
		list, _, err := e.St.EmailMessages(ctx, p.ID, store.MessageFilter{To: "ALICE@example.com", Status: store.EmailSent}, store.Page{})
		if err != nil || len(list) != 1 || list[0].ID != m1.ID {
			t.Errorf("filter: %+v %v", list, err)
		}
		all, _, _ := e.St.EmailMessages(ctx, p.ID, store.MessageFilter{}, store.Page{})
		if len(all) != 2 {
			t.Errorf("all = %d", len(all))
		}
	})
}

func TestUnsubscribe(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		tok := e.St.UnsubscribeToken(p.ID, "Jean.Dupont+promo@gmail.com")
		prog, email, err := e.St.ParseUnsubscribeToken(tok)
		if err != nil || prog != p.ID || email != "jeandupont@gmail.com" {
			t.Fatalf("parse: %q %q %v", prog, email, err)
		}
		for _, bad := range []string{"", "x.y", tok + "x", strings.Replace(tok, ".", "A.", 1), "bm9wZQ." + strings.SplitN(tok, ".", 2)[1]} {
			if _, _, err := e.St.ParseUnsubscribeToken(bad); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("forged token %q accepted: %v", bad, err)
			}
		}
		if err := e.Ref.Unsubscribe(ctx, prog, email, "link"); err != nil {
			t.Fatal(err)
		}
		if err := e.Ref.Unsubscribe(ctx, prog, email, "link"); err != nil {
			t.Fatal("unsubscribing twice must be fine:", err)
		}
		if u, _ := e.St.Unsubscribed(ctx, p.ID, "jean.dupont@googlemail.com"); !u {
			t.Error("the canonical address is unsubscribed")
		}
		if u, _ := e.St.Unsubscribed(ctx, e.Program(nil).ID, "jean.dupont@gmail.com"); u {
			t.Error("unsubscribing is per program")
		}
	})
}

func TestEmailTemplates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		if _, ok, err := e.St.EmailTemplate(ctx, p.ID, parrain.NoticeWelcome, "fr"); ok || err != nil {
			t.Fatal("no override yet")
		}
		// The store keeps what it is given: rendering is checked by the use
		// case (notify.SetEmailTemplate).
		set := func(tpl store.EmailTemplate) error {
			return e.St.InTx(ctx, func(tx *store.Tx) error { _, err := tx.SetEmailTemplate(ctx, p.ID, tpl); return err })
		}
		del := func() error {
			return e.St.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteEmailTemplate(ctx, p.ID, parrain.NoticeWelcome, "fr") })
		}
		tpl := store.EmailTemplate{Kind: parrain.NoticeWelcome, Locale: "fr", Subject: "Bienvenue", Text: "t", HTML: "h"}
		if err := set(tpl); err != nil {
			t.Fatal(err)
		}
		tpl.Subject = "Bienvenue !"
		if err := set(tpl); err != nil {
			t.Fatal(err)
		}
		got, ok, _ := e.St.EmailTemplate(ctx, p.ID, parrain.NoticeWelcome, "fr")
		if !ok || got.Subject != "Bienvenue !" {
			t.Errorf("override: %+v", got)
		}
		if all, _ := e.St.EmailTemplates(ctx, p.ID); len(all) != 1 {
			t.Errorf("list = %d", len(all))
		}
		if err := del(); err != nil {
			t.Fatal(err)
		}
		if err := del(); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("delete twice: %v", err)
		}
	})
}

func TestEventsEnqueueNotices(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil) // first purchase: 20 € advocate, 10 € friend
		a := e.Advocate(p.ID, "alice", "alice@example.com")
		idem := store.Idem{Scope: "k", Key: "signup-bob", Hash: "h"}
		if _, _, err := e.Ref.IngestEvent(ctx, p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: a.Code}, idem); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.Ref.IngestEvent(ctx, p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: a.Code}, idem); err != nil {
			t.Fatal(err)
		}
		// A second signup of the same friend (another key) is a duplicate.
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: a.Code})
		k := kinds(e.notifyArgs())
		if k[parrain.NoticeFriendSignedUp] != 1 || len(k) != 1 {
			t.Fatalf("after signup: %v", k)
		}
		if as := e.notifyArgs(); as[0].ParticipantID != a.ID {
			t.Error("friend_signed_up goes to the advocate")
		}
		res := e.Event(p.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		e.Event(p.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		k = kinds(e.notifyArgs())
		if k[parrain.NoticeRewardEarned] != 2 || k[parrain.NoticeFriendSignedUp] != 1 {
			t.Fatalf("after purchase: %v", k)
		}
		owners := map[string]bool{}
		for _, na := range e.notifyArgs() {
			if na.Kind == parrain.NoticeRewardEarned {
				owners[na.ParticipantID] = true
			}
		}
		if len(owners) != 2 || len(res.Rewards) != 2 {
			t.Errorf("reward notices go to both sides: %v", owners)
		}
		// A self-referral notifies nobody.
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "alice2", Email: "alice@example.com", ReferralCode: a.Code})
		if k2 := kinds(e.notifyArgs()); k2[parrain.NoticeFriendSignedUp] != 1 {
			t.Errorf("self-referral notified: %v", k2)
		}
	})
}

func TestLookupAdvocate(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(nil)
		up := func(ext, email, name string, st parrain.ParticipantStatus) parrain.Participant {
			x, _, err := e.Ref.UpsertParticipant(ctx, p.ID, parrain.ParticipantInput{ExternalID: ext, Email: email, Name: name, Status: st}, store.Idem{})
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		chloe := up("c", "chloe.bernard@gmail.com", "Chloé Bernard", "")
		up("j1", "jean1@example.com", "Jean Martin", "")
		up("j2", "jean2@example.com", "Jean Martin", "")
		up("d", "dis@example.com", "Denis Abled", parrain.ParticipantDisabled)
		e.Program(nil)
		look := func(q string) (string, bool) {
			lq, err := parrain.ParseLookup(q)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			x, ok, err := e.St.LookupAdvocate(ctx, p.ID, lq)
			if err != nil {
				t.Fatal(err)
			}
			return x.ExternalID, ok
		}
		tests := []struct {
			q    string
			want string
			ok   bool
		}{
			{"chloe bernard", "c", true},
			{"BERNARD, Chloé", "c", true},
			{"Chloe.Bernard+x@googlemail.com", "c", true},
			{"Chloé Bernardo", "", false},
			{"Jean Martin", "", false},        // ambiguous
			{"jean1@example.com", "j1", true}, // but the email is unique
			{"Denis Abled", "", false},        // disabled
			{"nobody@example.com", "", false},
		}
		for _, tc := range tests {
			got, ok := look(tc.q)
			if ok != tc.ok || got != tc.want {
				t.Errorf("lookup %q = %q %v, want %q %v", tc.q, got, ok, tc.want, tc.ok)
			}
		}
		// A rename is picked up by the next lookup.
		e.Clock.Advance(time.Hour)
		up("c", "", "Chloé Dubois", "")
		if got, ok := look("Chloé Dubois"); !ok || got != chloe.ExternalID {
			t.Errorf("after rename: %q %v", got, ok)
		}
		if _, ok := look("Chloé Bernard"); ok {
			t.Error("old name still matches")
		}
		// Another program's advocates are not found.
		q, _ := parrain.ParseLookup("chloe dubois")
		if _, ok, _ := e.St.LookupAdvocate(ctx, e.Program(nil).ID, q); ok {
			t.Error("found in another program")
		}
	})
}

func TestSweeps(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := e.Program(func(p *parrain.Program) { p.HoldDays = 1 })
		a := e.Advocate(p.ID, "alice", "alice@example.com")
		e.Advocate(p.ID, "noemail", "")
		e.Event(p.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob@example.com", ReferralCode: a.Code})
		res := e.Event(p.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		n, err := e.St.SweepNotices(ctx)
		if err != nil || n != 2 { // welcome for alice and bob (both have an email)
			t.Fatalf("sweep 1: %d %v", n, err)
		}
		e.Clock.Advance(25 * time.Hour)
		for _, rw := range res.Rewards {
			if ok, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		if n, _ := e.St.SweepNotices(ctx); n != 2 { // 2 approvals; the welcomes are a day old, no longer due
			t.Errorf("sweep 2: %d", n)
		}
		k := kinds(e.notifyArgs())
		if k[parrain.NoticeWelcome] != 2 || k[parrain.NoticeRewardApproved] != 2 {
			t.Errorf("jobs: %v", k)
		}
		// Once notified, nothing is found again.
		for _, na := range e.notifyArgs() {
			if _, err := e.St.RecordNotice(ctx, store.Notice{ProgramID: na.ProgramID, ParticipantID: na.ParticipantID, Kind: na.Kind,
				DedupeKey: na.DedupeKey(), InApp: true}); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := e.St.SweepNotices(ctx); n != 0 {
			t.Errorf("sweep after notifying: %d", n)
		}
		// Reminders: alice has no share, no invite, no click.
		if n, _ := e.St.SweepReminders(ctx); n != 0 {
			t.Errorf("reminders before 7 days: %d", n)
		}
		e.Clock.Advance(7 * 24 * time.Hour)
		if _, err := e.Ref.RecordShare(ctx, p.ID, e.mustParticipant(p.ID, "bob").ID, "x"); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.St.SweepReminders(ctx); n != 1 {
			t.Errorf("reminders: %d (alice only: bob shared)", n)
		}
		if n, _ := e.St.SweepReminders(ctx); n != 1 {
			t.Errorf("reminder not yet recorded is enqueued again (the job key dedupes): %d", n)
		}
		if got := kinds(e.notifyArgs())[parrain.NoticeReminder]; got != 1 {
			t.Errorf("reminder jobs = %d", got)
		}
		if _, err := e.St.RecordNotice(ctx, store.Notice{ProgramID: p.ID, ParticipantID: a.ID, Kind: parrain.NoticeReminder, DedupeKey: "reminder:" + a.ID + ":1", InApp: true}); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.St.SweepReminders(ctx); n != 0 {
			t.Errorf("second reminder too early: %d", n)
		}
		e.Clock.Advance(31 * 24 * time.Hour)
		if n, _ := e.St.SweepReminders(ctx); n != 1 {
			t.Errorf("second reminder: %d", n)
		}
		if _, err := e.Ref.SetExperience(ctx, p.ID, parrain.Experience{Emails: map[parrain.NoticeKind]bool{parrain.NoticeReminder: false}}); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.St.SweepReminders(ctx); n != 0 {
			t.Errorf("reminders disabled: %d", n)
		}
	})
}

func (e *env) mustParticipant(prog, ext string) parrain.Participant {
	e.T.Helper()
	p, err := e.St.Participant(ctx, prog, ext)
	if err != nil {
		e.T.Fatal(err)
	}
	return p
}

func TestScheduleRecurring(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for range 3 {
			if err := e.St.EnsureRecurring(ctx, parrain.JobNotifySweep, 5*time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		e.Clock.Advance(5 * time.Minute)
		if err := e.St.EnsureRecurring(ctx, parrain.JobNotifySweep, 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := e.jobs(parrain.JobNotifySweep); len(got) != 2 {
			t.Errorf("slots = %v", got)
		}
	})
}
