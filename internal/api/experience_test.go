package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestWidgetSecretAndTokens(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		// No secret yet: no token.
		e.checkErrors(t, []errCase{{name: "no secret", method: "POST", path: base + "/widget-tokens", body: `{"external_id":"anna"}`, status: 409, code: parrain.CodeConflict}})

		var sec store.WidgetSecret
		w := e.ok(http.StatusCreated, "POST", base+"/widget-secret", "sec-1", "", &sec)
		if sec.ProgramID != p.ID || sec.Secret == "" || sec.Version != 1 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("secret %+v", sec)
		}
		var again store.WidgetSecret
		w = e.ok(http.StatusCreated, "POST", base+"/widget-secret", "sec-1", "", &again)
		// The replay answers the same rotation without the secret, shown
		// once, and says so.
		if again.Secret != "" || again.SecretNotice != parrain.SecretWithheld || again.Version != 1 || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replayed rotation: %+v", again)
		}
		var second store.WidgetSecret
		e.ok(http.StatusCreated, "POST", base+"/widget-secret", "", "", &second)
		if second.Version != 2 || second.Secret == sec.Secret || second.PreviousValidUntil == nil {
			t.Errorf("rotation %+v", second)
		}

		// Tokens: the default lifetime of an hour, or the one asked; they
		// verify against the current secret.
		for _, c := range []struct {
			body string
			ttl  time.Duration
		}{
			{`{"external_id":"anna"}`, time.Hour},
			{`{"external_id":"anna","ttl_seconds":60}`, time.Minute},
			{`{"external_id":"anna","ttl_seconds":86400}`, 24 * time.Hour},
		} {
			var tok WidgetToken
			e.ok(http.StatusCreated, "POST", base+"/widget-tokens", "", c.body, &tok)
			if !tok.ExpiresAt.Equal(e.clock.Now().Add(c.ttl).Truncate(time.Second)) {
				t.Errorf("%s: expires %s", c.body, tok.ExpiresAt)
			}
			claims, err := parrain.VerifyWidgetToken(context.Background(), e.st.WidgetSecrets, tok.Token, p.ID, e.clock.Now())
			if err != nil || claims.ExternalID != "anna" || claims.ProgramID != p.ID {
				t.Errorf("%s: token does not verify: %+v %v", c.body, claims, err)
			}
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "no external id", method: "POST", path: base + "/widget-tokens", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "external_id"},
			{name: "ttl too short", method: "POST", path: base + "/widget-tokens", body: `{"external_id":"anna","ttl_seconds":59}`, status: 400, code: parrain.CodeInvalid, field: "ttl_seconds"},
			{name: "ttl too long", method: "POST", path: base + "/widget-tokens", body: `{"external_id":"anna","ttl_seconds":86401}`, status: 400, code: parrain.CodeInvalid, field: "ttl_seconds"},
			{name: "negative ttl", method: "POST", path: base + "/widget-tokens", body: `{"external_id":"anna","ttl_seconds":-5}`, status: 400, code: parrain.CodeInvalid, field: "ttl_seconds"},
			{name: "token unknown program", method: "POST", path: "/api/v1/programs/prg_nope/widget-tokens", body: `{"external_id":"anna"}`, status: 404, code: parrain.CodeNotFound},
			{name: "token other program", key: restricted, method: "POST", path: base + "/widget-tokens", body: `{"external_id":"anna"}`, status: 404, code: parrain.CodeNotFound},
			{name: "token read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "POST", path: base + "/widget-tokens", body: `{"external_id":"anna"}`, status: 403, code: parrain.CodeForbidden},
			{name: "secret unknown program", method: "POST", path: "/api/v1/programs/prg_nope/widget-secret", status: 404, code: parrain.CodeNotFound},
			{name: "secret other program", key: restricted, method: "POST", path: base + "/widget-secret", status: 404, code: parrain.CodeNotFound},
			{name: "secret without admin", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/widget-secret", status: 403, code: parrain.CodeForbidden},
		})
	})
}

func TestExperienceSettings(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		var x parrain.Experience
		e.ok(http.StatusOK, "GET", base+"/experience", "", "", &x)
		if x.InvitesPerDay != 20 || x.DefaultLocale != "en" || len(x.Emails) != len(parrain.NoticeKinds) {
			t.Fatalf("defaults %+v", x)
		}
		e.ok(http.StatusOK, "PUT", base+"/experience", "", `{"landing_page":true,"sender_name":" Acme ","invites_per_day":5,
			"consent_text":{"fr":"J'accepte d'être contacté"},"consent_version":"2026-11","allowed_origins":["https://app.example.com"],
			"emails":{"reminder":false},"default_locale":"fr"}`, &x)
		if !x.LandingPage || x.SenderName != "Acme" || x.InvitesPerDay != 5 || x.ConsentVersion != "2026-11" || x.Emails[parrain.NoticeReminder] ||
			!x.Emails[parrain.NoticeWelcome] || x.DefaultLocale != "fr" || x.ReminderAfterDays != 7 {
			t.Fatalf("put %+v", x)
		}
		var got parrain.Experience
		e.ok(http.StatusOK, "GET", base+"/experience", "", "", &got)
		if got.SenderName != "Acme" || got.ConsentText["fr"] == "" || len(got.AllowedOrigins) != 1 {
			t.Errorf("stored %+v", got)
		}
		var stats store.ShareStats
		e.ok(http.StatusOK, "GET", base+"/share-stats", "", "", &stats)
		if !stats.Since.Equal(e.clock.Now().Add(-30 * 24 * time.Hour)) {
			t.Errorf("default since %s", stats.Since)
		}
		e.ok(http.StatusOK, "GET", base+"/share-stats?since=2026-10-01T00:00:00Z", "", "", &stats)
		if !stats.Since.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("since %s", stats.Since)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "consent text without version", method: "PUT", path: base + "/experience", body: `{"consent_text":{"en":"I agree"}}`, status: 400, code: parrain.CodeInvalid, field: "consent_version"},
			{name: "bad terms url", method: "PUT", path: base + "/experience", body: `{"terms_url":"ftp://x"}`, status: 400, code: parrain.CodeInvalid, field: "terms_url"},
			{name: "origin with path", method: "PUT", path: base + "/experience", body: `{"allowed_origins":["https://app.example.com/x"]}`, status: 400, code: parrain.CodeInvalid, field: "allowed_origins[0]"},
			{name: "too many invites", method: "PUT", path: base + "/experience", body: `{"invites_per_day":201}`, status: 400, code: parrain.CodeInvalid, field: "invites_per_day"},
			{name: "negative reminder", method: "PUT", path: base + "/experience", body: `{"reminder_after_days":-1}`, status: 400, code: parrain.CodeInvalid, field: "reminder_after_days"},
			{name: "unknown email kind", method: "PUT", path: base + "/experience", body: `{"emails":{"spam":true}}`, status: 400, code: parrain.CodeInvalid, field: "emails.spam"},
			{name: "bad offer locale", method: "PUT", path: base + "/experience", body: `{"offer_text":{"not a tag":"x"}}`, status: 400, code: parrain.CodeInvalid, field: "offer_text.not a tag"},
			{name: "bad default locale", method: "PUT", path: base + "/experience", body: `{"default_locale":"e"}`, status: 400, code: parrain.CodeInvalid, field: "default_locale"},
			{name: "unknown field", method: "PUT", path: base + "/experience", body: `{"landing":true}`, status: 400, code: parrain.CodeInvalid, field: "landing"},
			{name: "put unknown program", method: "PUT", path: "/api/v1/programs/prg_nope/experience", body: `{}`, status: 404, code: parrain.CodeNotFound},
			{name: "put other program", key: restricted, method: "PUT", path: base + "/experience", body: `{}`, status: 404, code: parrain.CodeNotFound},
			{name: "put read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "PUT", path: base + "/experience", body: `{}`, status: 403, code: parrain.CodeForbidden},
			{name: "get unknown program", method: "GET", path: "/api/v1/programs/prg_nope/experience", status: 404, code: parrain.CodeNotFound},
			{name: "share stats bad since", method: "GET", path: base + "/share-stats?since=yesterday", status: 400, code: parrain.CodeInvalid, field: "since"},
			{name: "share stats unknown program", method: "GET", path: "/api/v1/programs/prg_nope/share-stats", status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestNotificationsAndConsents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		adv := e.participant(p.ID, "anna")
		e.event(p.ID, "s1", `{"type":"signup","external_id":"fred","referral_code":"`+adv.Code+`"}`)

		type feed struct {
			Data   []map[string]any `json:"data"`
			Unread int64            `json:"unread"`
			Locale string           `json:"locale"`
		}
		var f feed
		e.ok(http.StatusOK, "GET", base+"/participants/anna/notifications?locale=fr", "", "", &f)
		if f.Locale != "fr" || f.Unread != int64(len(f.Data)) {
			t.Errorf("feed %+v", f)
		}
		var marked map[string]int64
		e.ok(http.StatusOK, "POST", base+"/participants/anna/notifications/read", "", "", &marked)
		if marked["marked"] != f.Unread {
			t.Errorf("marked %v of %d", marked, f.Unread)
		}
		e.ok(http.StatusOK, "GET", base+"/participants/anna/notifications?unread=true", "", "", &f)
		if f.Unread != 0 || len(f.Data) != 0 {
			t.Errorf("unread after marking %+v", f)
		}
		e.ok(http.StatusOK, "POST", base+"/participants/anna/notifications/read", "", `{"ids":["ntf_nope"]}`, &marked)
		if marked["marked"] != 0 {
			t.Errorf("marked unknown ids: %v", marked)
		}

		var c store.Consent
		w := e.ok(http.StatusCreated, "POST", base+"/participants/anna/consents", "cns-1", `{"granted":true,"wording":"I agree to be contacted","wording_version":"v1","locale":"en"}`, &c)
		if c.ID == "" || !c.Granted || c.ExternalID != "anna" || c.Source != store.ConsentAPI || c.WordingVersion != "v1" || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("consent %+v", c)
		}
		var again store.Consent
		w = e.ok(http.StatusCreated, "POST", base+"/participants/anna/consents", "cns-1", `{"granted":true,"wording":"I agree to be contacted","wording_version":"v1","locale":"en"}`, &again)
		if again.ID != c.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay %+v", again)
		}
		e.ok(http.StatusCreated, "POST", base+"/participants/anna/consents", "", `{"granted":false,"wording":"I agree to be contacted","wording_version":"v1"}`, nil)
		var list List[store.Consent]
		e.ok(http.StatusOK, "GET", base+"/participants/anna/consents", "", "", &list)
		if len(list.Data) != 2 {
			t.Errorf("consents %+v", list.Data)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "feed unknown participant", method: "GET", path: base + "/participants/ghost/notifications", status: 404, code: parrain.CodeNotFound},
			{name: "feed bad unread", method: "GET", path: base + "/participants/anna/notifications?unread=often", status: 400, code: parrain.CodeInvalid, field: "unread"},
			{name: "feed bad limit", method: "GET", path: base + "/participants/anna/notifications?limit=1000", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "feed other program", key: restricted, method: "GET", path: base + "/participants/anna/notifications", status: 404, code: parrain.CodeNotFound},
			{name: "mark unknown participant", method: "POST", path: base + "/participants/ghost/notifications/read", status: 404, code: parrain.CodeNotFound},
			{name: "mark bad ids", method: "POST", path: base + "/participants/anna/notifications/read", body: `{"ids":"all"}`, status: 400, code: parrain.CodeInvalid, field: "ids"},
			{name: "mark read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "POST", path: base + "/participants/anna/notifications/read", status: 403, code: parrain.CodeForbidden},
			{name: "consent without granted", method: "POST", path: base + "/participants/anna/consents", body: `{"wording":"x","wording_version":"v1"}`, status: 400, code: parrain.CodeInvalid, field: "granted"},
			{name: "consent without wording", method: "POST", path: base + "/participants/anna/consents", body: `{"granted":true,"wording_version":"v1"}`, status: 400, code: parrain.CodeInvalid, field: "wording"},
			{name: "consent without version", method: "POST", path: base + "/participants/anna/consents", body: `{"granted":true,"wording":"x"}`, status: 400, code: parrain.CodeInvalid, field: "wording_version"},
			{name: "consent bad locale", method: "POST", path: base + "/participants/anna/consents", body: `{"granted":true,"wording":"x","wording_version":"v1","locale":"??"}`, status: 400, code: parrain.CodeInvalid, field: "locale"},
			{name: "consent granted as string", method: "POST", path: base + "/participants/anna/consents", body: `{"granted":"yes"}`, status: 400, code: parrain.CodeInvalid, field: "granted"},
			{name: "consent same key other body", method: "POST", path: base + "/participants/anna/consents", idem: "cns-1", body: `{"granted":false,"wording":"x","wording_version":"v1"}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "consent unknown participant", method: "POST", path: base + "/participants/ghost/consents", body: `{"granted":true,"wording":"x","wording_version":"v1"}`, status: 404, code: parrain.CodeNotFound},
			{name: "consent other program", key: restricted, method: "POST", path: base + "/participants/anna/consents", body: `{"granted":true,"wording":"x","wording_version":"v1"}`, status: 404, code: parrain.CodeNotFound},
			{name: "consent read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "POST", path: base + "/participants/anna/consents", body: `{"granted":true,"wording":"x","wording_version":"v1"}`, status: 403, code: parrain.CodeForbidden},
			{name: "consents unknown participant", method: "GET", path: base + "/participants/ghost/consents", status: 404, code: parrain.CodeNotFound},
			{name: "consents in the other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/participants/anna/consents", status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestEmailTemplates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		var list EmailTemplatesView
		e.ok(http.StatusOK, "GET", base+"/email-templates", "", "", &list)
		if len(list.Data) != 0 || len(list.Kinds) != len(parrain.NoticeKinds) || len(list.Languages) == 0 {
			t.Fatalf("templates %+v", list)
		}
		var builtIn EmailTemplateView
		e.ok(http.StatusOK, "GET", base+"/email-templates/welcome/fr", "", "", &builtIn)
		if builtIn.Override != nil || builtIn.Preview.Subject == "" {
			t.Fatalf("built-in %+v", builtIn)
		}
		var tpl store.EmailTemplate
		e.ok(http.StatusOK, "PUT", base+"/email-templates/welcome/fr", "", `{"subject":"Bienvenue {{.Name}}","text":"Bonjour\n{{.UnsubscribeURL}}"}`, &tpl)
		if tpl.Kind != parrain.NoticeWelcome || tpl.Locale != "fr" || tpl.Subject != "Bienvenue {{.Name}}" {
			t.Fatalf("put %+v", tpl)
		}
		var over EmailTemplateView
		e.ok(http.StatusOK, "GET", base+"/email-templates/welcome/fr", "", "", &over)
		if over.Override == nil || !strings.HasPrefix(over.Preview.Subject, "Bienvenue") {
			t.Errorf("override %+v", over)
		}
		e.ok(http.StatusOK, "GET", base+"/email-templates", "", "", &list)
		if len(list.Data) != 1 {
			t.Errorf("list %+v", list.Data)
		}
		if w := e.call("", "DELETE", base+"/email-templates/welcome/fr", "", ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		var after EmailTemplateView
		e.ok(http.StatusOK, "GET", base+"/email-templates/welcome/fr", "", "", &after)
		if after.Override != nil || after.Preview.Subject != builtIn.Preview.Subject {
			t.Errorf("after delete %+v", after)
		}
		var emails List[store.EmailMessage]
		e.ok(http.StatusOK, "GET", base+"/emails?status=sent&kind=welcome", "", "", &emails)

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		valid := `{"subject":"Hi","text":"Hello {{.UnsubscribeURL}}"}`
		e.checkErrors(t, []errCase{
			{name: "unknown kind", method: "GET", path: base + "/email-templates/spam/en", status: 400, code: parrain.CodeInvalid, field: "kind"},
			{name: "bad locale", method: "GET", path: base + "/email-templates/welcome/toolong", status: 400, code: parrain.CodeInvalid, field: "locale"},
			{name: "put unknown kind", method: "PUT", path: base + "/email-templates/spam/en", body: valid, status: 400, code: parrain.CodeInvalid, field: "kind"},
			{name: "put bad locale", method: "PUT", path: base + "/email-templates/welcome/toolong", body: valid, status: 400, code: parrain.CodeInvalid, field: "locale"},
			{name: "without subject", method: "PUT", path: base + "/email-templates/welcome/en", body: `{"text":"Hello {{.UnsubscribeURL}}"}`, status: 400, code: parrain.CodeInvalid, field: "subject"},
			{name: "without text", method: "PUT", path: base + "/email-templates/welcome/en", body: `{"subject":"Hi"}`, status: 400, code: parrain.CodeInvalid, field: "text"},
			{name: "without unsubscribe link", method: "PUT", path: base + "/email-templates/welcome/en", body: `{"subject":"Hi","text":"Hello"}`, status: 400, code: parrain.CodeInvalid, field: "text"},
			{name: "broken template", method: "PUT", path: base + "/email-templates/welcome/en", body: `{"subject":"Hi {{.Name","text":"Hello {{.UnsubscribeURL}}"}`, status: 400, code: parrain.CodeInvalid, field: "subject"},
			{name: "unknown field", method: "PUT", path: base + "/email-templates/welcome/en", body: `{"subject":"Hi","body":"x"}`, status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "put unknown program", method: "PUT", path: "/api/v1/programs/prg_nope/email-templates/welcome/en", body: valid, status: 404, code: parrain.CodeNotFound},
			{name: "put other program", key: restricted, method: "PUT", path: base + "/email-templates/welcome/en", body: valid, status: 404, code: parrain.CodeNotFound},
			{name: "put read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "PUT", path: base + "/email-templates/welcome/en", body: valid, status: 403, code: parrain.CodeForbidden},
			{name: "delete again", method: "DELETE", path: base + "/email-templates/welcome/fr", status: 404, code: parrain.CodeNotFound},
			{name: "delete unknown kind", method: "DELETE", path: base + "/email-templates/spam/en", status: 400, code: parrain.CodeInvalid, field: "kind"},
			{name: "delete unknown program", method: "DELETE", path: "/api/v1/programs/prg_nope/email-templates/welcome/en", status: 404, code: parrain.CodeNotFound},
			{name: "list unknown program", method: "GET", path: "/api/v1/programs/prg_nope/email-templates", status: 404, code: parrain.CodeNotFound},
			{name: "get unknown program", method: "GET", path: "/api/v1/programs/prg_nope/email-templates/welcome/en", status: 404, code: parrain.CodeNotFound},
			{name: "emails bad status", method: "GET", path: base + "/emails?status=bounced", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "emails bad kind", method: "GET", path: base + "/emails?kind=spam", status: 400, code: parrain.CodeInvalid, field: "kind"},
			{name: "emails bad limit", method: "GET", path: base + "/emails?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "emails unknown program", method: "GET", path: "/api/v1/programs/prg_nope/emails", status: 404, code: parrain.CodeNotFound},
		})
	})
}
