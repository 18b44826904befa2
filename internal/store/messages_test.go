package store_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// message records an email message (without in-app part) and returns it.
func (e *env) message(prog, to string, kind parrain.NoticeKind, key string) store.EmailMessage {
	e.T.Helper()
	m, err := e.St.RecordNotice(ctx, store.Notice{ProgramID: prog, Kind: kind, DedupeKey: key,
		Email: &store.EmailMessage{To: to, Locale: "en", Subject: key, Text: "t"}})
	if err != nil || m == nil {
		e.T.Fatalf("message %s: %v", key, err)
	}
	return *m
}

func messageSubjects(ms []store.EmailMessage) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Subject
	}
	return strings.Join(out, ",")
}

func TestEmailMessagesFiltersAndPages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		m0 := e.message(a.ID, "jane.doe@gmail.com", parrain.NoticeWelcome, "m0")
		m1 := e.message(a.ID, "JaneDoe+promo@googlemail.com", parrain.NoticeRewardEarned, "m1")
		e.message(a.ID, "bob@example.com", parrain.NoticeWelcome, "m2")
		m3 := e.message(a.ID, "bob@example.com", parrain.NoticeRewardPaid, "m3")
		e.message(b.ID, "jane.doe@gmail.com", parrain.NoticeWelcome, "o0")
		if err := e.St.MarkEmailSent(ctx, m0.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.St.MarkEmailAttempt(ctx, m1.ID, "550 no such user", true); err != nil {
			t.Fatal(err)
		}
		if err := e.St.MarkEmailSuppressed(ctx, m3.ID, "unsubscribed"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			f    store.MessageFilter
			want string
		}{
			{"all of a", store.MessageFilter{}, "m3,m2,m1,m0"},
			{"to, canonically (Gmail dots, plus, googlemail)", store.MessageFilter{To: "JANE.DOE@gmail.com"}, "m1,m0"},
			{"to, another spelling", store.MessageFilter{To: "janedoe@googlemail.com"}, "m1,m0"},
			{"to bob", store.MessageFilter{To: "Bob@Example.com"}, "m3,m2"},
			{"status sent", store.MessageFilter{Status: store.EmailSent}, "m0"},
			{"status failed", store.MessageFilter{Status: store.EmailFailed}, "m1"},
			{"status suppressed", store.MessageFilter{Status: store.EmailSuppressed}, "m3"},
			{"status queued", store.MessageFilter{Status: store.EmailQueued}, "m2"},
			{"kind", store.MessageFilter{Kind: string(parrain.NoticeWelcome)}, "m2,m0"},
			{"kind and to", store.MessageFilter{Kind: string(parrain.NoticeWelcome), To: "janedoe@gmail.com"}, "m0"},
			{"kind, to and status", store.MessageFilter{Kind: string(parrain.NoticeWelcome), To: "bob@example.com", Status: store.EmailSent}, ""},
			{"unknown address", store.MessageFilter{To: "nobody@example.com"}, ""},
		}
		for _, c := range cases {
			got, next, err := e.St.EmailMessages(ctx, a.ID, c.f, store.Page{})
			if err != nil || messageSubjects(got) != c.want || next != "" {
				t.Errorf("%s: %q %q %v, want %q", c.name, messageSubjects(got), next, err, c.want)
			}
		}
		got := walk(t, 1, 5, func(pg store.Page) ([]store.EmailMessage, string, error) {
			return e.St.EmailMessages(ctx, a.ID, store.MessageFilter{}, pg)
		}, func(m store.EmailMessage) string { return m.Subject })
		if strings.Join(got, ",") != "m3,m2,m1,m0" {
			t.Errorf("pages %v", got)
		}
		if got, _, err := e.St.EmailMessages(ctx, b.ID, store.MessageFilter{}, store.Page{}); err != nil || messageSubjects(got) != "o0" {
			t.Errorf("program b: %q %v", messageSubjects(got), err)
		}
		if _, err := e.St.EmailMessageByID(ctx, "msg_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing message: %v", err)
		}
	})
}

func TestEmailMessageStates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		get := func(id string) store.EmailMessage {
			t.Helper()
			m, err := e.St.EmailMessageByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		// Two failed attempts, then success.
		m := e.message(prog.ID, "a@example.com", parrain.NoticeWelcome, "a")
		for i := 1; i <= 2; i++ {
			n, err := e.St.MarkEmailAttempt(ctx, m.ID, fmt.Sprintf("421 try later %d", i), false)
			if err != nil || n != i {
				t.Fatalf("attempt %d: %d %v", i, n, err)
			}
		}
		if got := get(m.ID); got.Status != store.EmailQueued || got.Error != "421 try later 2" || got.Attempts != 2 {
			t.Errorf("after attempts %+v", got)
		}
		e.Clock.Advance(time.Minute)
		if err := e.St.MarkEmailSent(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		got := get(m.ID)
		if got.Status != store.EmailSent || got.Error != "" || got.Attempts != 3 || got.SentAt == nil || !got.SentAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("sent %+v", got)
		}
		// Once sent, nothing moves it: not an attempt, not a suppression,
		// not another send.
		e.Clock.Advance(time.Minute)
		if n, err := e.St.MarkEmailAttempt(ctx, m.ID, "late", true); err != nil || n != 0 {
			t.Errorf("attempt after sent: %d %v", n, err)
		}
		if err := e.St.MarkEmailSuppressed(ctx, m.ID, "late"); err != nil {
			t.Fatal(err)
		}
		if err := e.St.MarkEmailSent(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if again := get(m.ID); again.Status != store.EmailSent || again.Attempts != 3 || !again.SentAt.Equal(*got.SentAt) {
			t.Errorf("sent message changed: %+v", again)
		}
		// A final failure is final; a long error is cut.
		f := e.message(prog.ID, "f@example.com", parrain.NoticeWelcome, "f")
		if n, err := e.St.MarkEmailAttempt(ctx, f.ID, strings.Repeat("x", 5000), true); err != nil || n != 1 {
			t.Fatalf("final attempt: %d %v", n, err)
		}
		if err := e.St.MarkEmailSent(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		if got := get(f.ID); got.Status != store.EmailFailed || len(got.Error) != 1000 || got.SentAt != nil {
			t.Errorf("failed %+v", got)
		}
		if n, err := e.St.MarkEmailAttempt(ctx, "msg_missing", "x", false); err != nil || n != 0 {
			t.Errorf("attempt on a missing message: %d %v", n, err)
		}
	})
}

// unsubscribe records an unsubscription in its own transaction.
func unsubscribe(e *env, programID, email, source string) error {
	return e.St.InTx(ctx, func(tx *store.Tx) error { return tx.Unsubscribe(ctx, programID, email, source) })
}

func TestUnsubscribeCanonicalAndScoped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		if err := unsubscribe(e, a.ID, "Jane.Doe+news@GMAIL.com", "link"); err != nil {
			t.Fatal(err)
		}
		// Idempotent.
		if err := unsubscribe(e, a.ID, "janedoe@gmail.com", "api"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			prog, email string
			want        bool
		}{
			{a.ID, "janedoe@gmail.com", true},
			{a.ID, "JANE.DOE@googlemail.com", true},
			{a.ID, "jane.doe+other@gmail.com", true},
			{a.ID, "jane.doe@example.com", false},
			{b.ID, "janedoe@gmail.com", false},
			{"prog_missing", "janedoe@gmail.com", false},
		}
		for _, c := range cases {
			got, err := e.St.Unsubscribed(ctx, c.prog, c.email)
			if err != nil || got != c.want {
				t.Errorf("%s in %s: %v %v, want %v", c.email, c.prog, got, err, c.want)
			}
		}
	})
}

func TestUnsubscribeTokens(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok := e.St.UnsubscribeToken("prog_1", "Jane.Doe@Gmail.com")
		prog, email, err := e.St.ParseUnsubscribeToken(tok)
		if err != nil || prog != "prog_1" || email != parrain.CanonicalEmail("Jane.Doe@Gmail.com") {
			t.Fatalf("parse: %q %q %v", prog, email, err)
		}
		if tok != e.St.UnsubscribeToken("prog_1", "janedoe@gmail.com") {
			t.Errorf("the token depends on the address's spelling")
		}
		payload, mac, _ := strings.Cut(tok, ".")
		forged := base64.RawURLEncoding.EncodeToString([]byte("prog_2\njanedoe@gmail.com"))
		noNewline := e.St.UnsubscribeToken("prog_1", "")
		bad := []string{
			"",
			"nodot",
			forged + "." + mac,                      // another program, old signature
			payload + "." + mac[:len(mac)-2],        // cut signature
			payload + "x." + mac,                    // changed payload
			payload + "." + mac + "x",               // changed signature
			payload + "." + strings.Repeat("A", 24), // wrong signature
			strings.Repeat("a", 1001) + "." + mac,
			"!!!." + mac,
		}
		for _, b := range bad {
			if _, _, err := e.St.ParseUnsubscribeToken(b); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("token %.40q: %v", b, err)
			}
		}
		// A token of another installation (another secret) is refused.
		other := open(t, dbURLOfAnotherInstallation(t, e))
		if _, _, err := other.St.ParseUnsubscribeToken(tok); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("foreign token: %v", err)
		}
		if _, email, err := e.St.ParseUnsubscribeToken(noNewline); err != nil || email != "" {
			t.Errorf("empty address: %q %v", email, err)
		}
	})
}

// setTemplate and deleteTemplate run the store's template writes in their
// own transaction (the use case in internal/notify adds the render check).
func setTemplate(e *env, programID string, et store.EmailTemplate) (store.EmailTemplate, error) {
	var out store.EmailTemplate
	err := e.St.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.SetEmailTemplate(ctx, programID, et)
		return err
	})
	return out, err
}

func deleteTemplate(e *env, programID string, kind parrain.NoticeKind, locale string) error {
	return e.St.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteEmailTemplate(ctx, programID, kind, locale) })
}

func TestEmailTemplatesCRUD(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		set := func(prog string, kind parrain.NoticeKind, locale, subject string) {
			t.Helper()
			if _, err := setTemplate(e, prog, store.EmailTemplate{Kind: kind, Locale: locale, Subject: subject, Text: "t", HTML: "<p>h</p>"}); err != nil {
				t.Fatal(err)
			}
		}
		set(a.ID, parrain.NoticeWelcome, "fr", "Bienvenue")
		set(a.ID, parrain.NoticeWelcome, "en", "Welcome")
		set(a.ID, parrain.NoticeRewardEarned, "en", "Earned")
		e.Clock.Advance(time.Hour)
		set(a.ID, parrain.NoticeWelcome, "en", "Welcome!") // replaces
		set(b.ID, parrain.NoticeWelcome, "en", "B")
		list, err := e.St.EmailTemplates(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, tp := range list {
			keys = append(keys, fmt.Sprintf("%s/%s=%s", tp.Kind, tp.Locale, tp.Subject))
		}
		if want := []string{"reward_earned/en=Earned", "welcome/en=Welcome!", "welcome/fr=Bienvenue"}; !slices.Equal(keys, want) {
			t.Errorf("templates %v", keys)
		}
		got, ok, err := e.St.EmailTemplate(ctx, a.ID, parrain.NoticeWelcome, "en")
		if err != nil || !ok || got.Subject != "Welcome!" || got.HTML != "<p>h</p>" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("template %+v %v %v", got, ok, err)
		}
		for _, c := range []struct {
			prog   string
			kind   parrain.NoticeKind
			locale string
		}{{a.ID, parrain.NoticeWelcome, "de"}, {a.ID, parrain.NoticeRewardPaid, "en"}, {"prog_missing", parrain.NoticeWelcome, "en"}} {
			if _, ok, err := e.St.EmailTemplate(ctx, c.prog, c.kind, c.locale); err != nil || ok {
				t.Errorf("%+v: %v %v", c, ok, err)
			}
		}
		if err := deleteTemplate(e, a.ID, parrain.NoticeWelcome, "en"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			prog   string
			locale string
		}{{a.ID, "en"}, {a.ID, "de"}, {"prog_missing", "en"}} {
			if err := deleteTemplate(e, c.prog, parrain.NoticeWelcome, c.locale); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("delete %+v again: %v", c, err)
			}
		}
		if _, ok, err := e.St.EmailTemplate(ctx, b.ID, parrain.NoticeWelcome, "en"); err != nil || !ok {
			t.Errorf("b's template went with a's: %v %v", ok, err)
		}
	})
}

// dbURLOfAnotherInstallation returns a fresh database of e's engine.
func dbURLOfAnotherInstallation(t *testing.T, e *env) string {
	return dbtest.URL(t, e.St.Dialect())
}
