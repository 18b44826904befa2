package app

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/widget"
)

// xp is a harness with a double-sided program, a widget secret and an
// advocate.
type xp struct {
	*harness
	prog   parrain.Program
	secret string
	alice  api.ParticipantView
}

func newXP(t *testing.T, url string) *xp {
	h := newHarness(t, testConfig(url))
	x := &xp{harness: h}
	res := h.do("POST", "/api/v1/programs", h.key, "", map[string]any{"name": "Acme", "landing_url": "https://shop.example/join", "currency": "EUR",
		"rules": []map[string]any{{"trigger": "first_purchase", "advocate": map[string]any{"kind": "cash", "type": "fixed", "amount": 2000},
			"friend": map[string]any{"kind": "coupon", "type": "percent", "percent_bps": 1000}}}}, &x.prog)
	if res.StatusCode != 201 {
		t.Fatalf("program: %d", res.StatusCode)
	}
	var sec store.WidgetSecret
	if res := h.do("POST", "/api/v1/programs/"+x.prog.ID+"/widget-secret", h.key, "rot-1", nil, &sec); res.StatusCode != 201 || !strings.HasPrefix(sec.Secret, "pws_") {
		t.Fatalf("widget secret: %d %+v", res.StatusCode, sec)
	}
	x.secret = sec.Secret
	h.do("PUT", "/api/v1/programs/"+x.prog.ID+"/participants/alice", h.key, "", `{"email":"alice@example.com","name":"Alice Martin","locale":"en"}`, &x.alice)
	return x
}

// call sends a request with optional headers and returns the response
// and its body.
func (x *xp) call(method, path string, hdr map[string]string, body string) (*http.Response, string) {
	x.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, x.srv.URL+path, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		x.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (x *xp) token(ext string, ttl time.Duration) string {
	return parrain.MintWidgetToken(x.secret, x.prog.ID, ext, x.clock.Now().Add(ttl))
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func (x *xp) drain() {
	for range 20 {
		if n, err := x.m.runner.RunOnce(context.Background()); err != nil || n == 0 {
			return
		}
	}
}

func TestWidgetAPIAuthentication(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	other := newXPProgram(x)
	valid := x.token("alice", time.Hour)
	cases := []struct {
		name, tok, query string
		status           int
	}{
		{"valid", valid, "", 200},
		{"valid, program asserted", valid, "?program=" + x.prog.ID, 200},
		{"no token", "", "", 401},
		{"forged signature", parrain.MintWidgetToken("pws_guess", x.prog.ID, "alice", x.clock.Now().Add(time.Hour)), "", 401},
		{"expired", x.token("alice", -time.Minute), "", 401},
		{"lives too long", x.token("alice", 48*time.Hour), "", 401},
		{"another program's token", parrain.MintWidgetToken(other.secret, other.prog.ID, "alice", x.clock.Now().Add(time.Hour)), "?program=" + x.prog.ID, 401},
		{"claims another program", parrain.MintWidgetToken(x.secret, other.prog.ID, "alice", x.clock.Now().Add(time.Hour)), "", 401},
	}
	for _, tc := range cases {
		hdr := map[string]string{}
		if tc.tok != "" {
			hdr = bearer(tc.tok)
		}
		res, body := x.call("GET", "/api/v1/widget/me"+tc.query, hdr, "")
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s", tc.name, res.StatusCode, body)
		}
		if tc.status == 401 && !strings.Contains(body, `"code": "unauthenticated"`) {
			t.Errorf("%s: %s", tc.name, body)
		}
		if res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header", tc.name)
		}
	}
	res, _ := x.call("OPTIONS", "/api/v1/widget/invites", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}, "")
	if res.StatusCode != 204 || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
	// A rotated secret: the old one works during the grace period only.
	var sec store.WidgetSecret
	x.do("POST", "/api/v1/programs/"+x.prog.ID+"/widget-secret", x.key, "", nil, &sec)
	if res, _ := x.call("GET", "/api/v1/widget/me", bearer(valid), ""); res.StatusCode != 200 {
		t.Errorf("old secret during grace: %d", res.StatusCode)
	}
	x.clock.Advance(store.SecretGrace + time.Minute)
	if res, _ := x.call("GET", "/api/v1/widget/me", bearer(x.token("alice", time.Hour)), ""); res.StatusCode != 401 {
		t.Errorf("old secret after grace: %d", res.StatusCode)
	}
	// Minting through the API needs the events scope and a secret.
	var minted api.WidgetToken
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/widget-tokens", x.key, "", `{"external_id":"bob","ttl_seconds":600}`, &minted); res.StatusCode != 201 {
		t.Fatalf("mint: %d", res.StatusCode)
	}
	if res, body := x.call("GET", "/api/v1/widget/me", bearer(minted.Token), ""); res.StatusCode != 200 || !strings.Contains(body, `"external_id": "bob"`) {
		t.Errorf("minted token: %d %s", res.StatusCode, body)
	}
	var e httpx.ErrorBody
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/widget-tokens", x.key, "", `{"external_id":"bob","ttl_seconds":999999}`, &e); res.StatusCode != 400 || e.Error.Field != "ttl_seconds" {
		t.Errorf("long ttl: %d %+v", res.StatusCode, e)
	}
	readOnly, _, _ := access.New(x.m.Store(), nil, access.Config{}).CreateAPIKey(context.Background(), "ro", []string{store.ScopeRead}, "")
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/widget-secret", readOnly, "", nil, nil); res.StatusCode != 403 {
		t.Errorf("rotation needs admin: %d", res.StatusCode)
	}
}

// newXPProgram adds a second program with its own secret to x's server.
func newXPProgram(x *xp) *xp {
	y := &xp{harness: x.harness}
	x.do("POST", "/api/v1/programs", x.key, "", `{"name":"Other","landing_url":"https://other.example","currency":"EUR"}`, &y.prog)
	var sec store.WidgetSecret
	x.do("POST", "/api/v1/programs/"+y.prog.ID+"/widget-secret", x.key, "", nil, &sec)
	y.secret = sec.Secret
	return y
}

func TestWidgetMeSharesInvites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		x := newXP(t, url)
		x.do("PUT", "/api/v1/programs/"+x.prog.ID+"/experience", x.key, "", `{"terms_url":"https://shop.example/terms","invites_per_day":3}`, nil)
		tok := x.token("alice", time.Hour)
		var me widget.Me
		res := x.do("GET", "/api/v1/widget/me", "", "", nil, nil)
		if res.StatusCode != 401 {
			t.Fatal("no token")
		}
		_, body := x.call("GET", "/api/v1/widget/me", map[string]string{"Authorization": "Bearer " + tok, "Accept-Language": "de-DE,fr;q=0.8"}, "")
		decodeInto(t, body, &me)
		// Alice's locale (en) wins over the browser's.
		if me.Locale != "en" || me.Link != "http://parrain.test/r/"+x.alice.Code || me.Headline != "Give 10% off, get €20.00" {
			t.Errorf("me: %s %s %q", me.Locale, me.Link, me.Headline)
		}
		if !strings.Contains(me.Share.Message, me.Link) || !strings.HasSuffix(me.Share.Message, "(I may get a reward if you join.)") ||
			me.Share.URLs["whatsapp"] != widget.ShareURL("whatsapp", me.Link, me.Share.Subject, me.Share.Message) || me.TermsURL != "https://shop.example/terms" {
			t.Errorf("share: %+v", me.Share)
		}
		// A participant without a locale gets the browser's language.
		_, body = x.call("GET", "/api/v1/widget/me", map[string]string{"Authorization": "Bearer " + x.token("newbie", time.Hour), "Accept-Language": "fr-CA,en;q=0.5"}, "")
		var fr widget.Me
		decodeInto(t, body, &fr)
		if fr.Locale != "fr" || fr.Headline != "Offrez 10 % de réduction, recevez 20,00 €" || fr.Strings["widget.copy"] != "Copier" || fr.Participant.Code == "" {
			t.Errorf("french: %s %q %q", fr.Locale, fr.Headline, fr.Strings["widget.copy"])
		}
		// Shares.
		for _, c := range []string{"x", "email", "copy"} {
			if res, body := x.call("POST", "/api/v1/widget/shares", bearer(tok), `{"channel":"`+c+`"}`); res.StatusCode != 201 {
				t.Errorf("share %s: %d %s", c, res.StatusCode, body)
			}
		}
		if res, body := x.call("POST", "/api/v1/widget/shares", bearer(tok), `{"channel":"fax"}`); res.StatusCode != 400 || !strings.Contains(body, `"field": "channel"`) {
			t.Errorf("bad channel: %d %s", res.StatusCode, body)
		}
		var stats store.ShareStats
		x.do("GET", "/api/v1/programs/"+x.prog.ID+"/share-stats", x.key, "", nil, &stats)
		if stats.Shares != 3 || stats.ByChannel["x"] != 1 || stats.Sharing != 1 || stats.Participants != 2 || stats.ShareRateBps != 5000 {
			t.Errorf("stats: %+v", stats)
		}
		// Invitations, idempotent, limited per day.
		hdr := bearer(tok)
		hdr["Idempotency-Key"] = "inv-1"
		res, body = x.call("POST", "/api/v1/widget/invites", hdr, `{"emails":["zoe@example.org","nope","alice@example.com"],"note":"Try it"}`)
		if res.StatusCode != 201 || !strings.Contains(body, `"status": "queued"`) || !strings.Contains(body, `"status": "invalid"`) || !strings.Contains(body, `"left_today": 2`) {
			t.Fatalf("invites: %d %s", res.StatusCode, body)
		}
		res, body2 := x.call("POST", "/api/v1/widget/invites", hdr, `{"emails":["zoe@example.org","nope","alice@example.com"],"note":"Try it"}`)
		if res.Header.Get("Idempotent-Replayed") != "true" || !strings.Contains(body2, `"status": "queued"`) {
			t.Errorf("replay: %v %s", res.Header, body2)
		}
		_, body = x.call("POST", "/api/v1/widget/invites", bearer(tok), `{"emails":["a@example.org","b@example.org","c@example.org"]}`)
		if strings.Count(body, `"status": "queued"`) != 2 || !strings.Contains(body, `"status": "rate_limited"`) {
			t.Errorf("daily limit: %s", body)
		}
		if res, body := x.call("POST", "/api/v1/widget/invites", bearer(tok), `{"emails":[],"note":""}`); res.StatusCode != 400 || !strings.Contains(body, `"field": "emails"`) {
			t.Errorf("empty invite: %d %s", res.StatusCode, body)
		}
		// The referral shows in the widget, and reward and notification
		// follow the friend's purchase.
		x.do("POST", "/api/v1/programs/"+x.prog.ID+"/events", x.key, "su-1", map[string]any{"type": "signup", "external_id": "bob", "name": "Bob Dupont", "referral_code": x.alice.Code}, nil)
		x.do("POST", "/api/v1/programs/"+x.prog.ID+"/events", x.key, "pu-1", map[string]any{"type": "purchase", "external_id": "bob", "order_id": "o1", "amount": 5000, "currency": "EUR"}, nil)
		x.drain()
		_, body = x.call("GET", "/api/v1/widget/me", bearer(tok), "")
		me = widget.Me{}
		decodeInto(t, body, &me)
		if len(me.Referrals) != 1 || me.Referrals[0].Friend != "Bob D." || me.Referrals[0].Status != "rewarded" || me.Stats.Signups != 1 {
			t.Errorf("referrals: %+v %+v", me.Referrals, me.Stats)
		}
		if len(me.Rewards.Earned) != 1 || me.Rewards.Earned[0].Text != "€20.00" || len(me.Rewards.Pending) != 1 || len(me.Rewards.Paid) != 0 || me.Unread != 2 {
			t.Errorf("rewards: %+v unread %d", me.Rewards, me.Unread)
		}
		// Bob sees his friend reward.
		_, body = x.call("GET", "/api/v1/widget/me", bearer(x.token("bob", time.Hour)), "")
		var bob widget.Me
		decodeInto(t, body, &bob)
		// The coupon's code shows once delivered (no hold here: at once).
		if len(bob.Rewards.Friend) != 1 || !strings.HasPrefix(bob.Rewards.Friend[0].Text, "€5.00 off — Your code: ") {
			t.Errorf("friend reward: %+v", bob.Rewards.Friend)
		}
		// The feed, through the widget and through the API.
		_, body = x.call("GET", "/api/v1/widget/notifications?locale=fr", bearer(tok), "")
		if !strings.Contains(body, "Bob D. s'est inscrit·e avec votre lien.") || !strings.Contains(body, "Vous avez gagné 20,00 € (en attente de confirmation).") {
			t.Errorf("widget feed: %s", body)
		}
		var feed struct {
			Data []struct {
				ID   string `json:"id"`
				Text string `json:"text"`
			} `json:"data"`
			Unread int `json:"unread"`
		}
		x.do("GET", "/api/v1/programs/"+x.prog.ID+"/participants/alice/notifications", x.key, "", nil, &feed)
		if len(feed.Data) != 2 || feed.Unread != 2 || (feed.Data[0].Text != "Bob D. signed up with your link." && feed.Data[1].Text != "Bob D. signed up with your link.") {
			t.Fatalf("api feed: %+v", feed)
		}
		x.do("POST", "/api/v1/programs/"+x.prog.ID+"/participants/alice/notifications/read", x.key, "", `{"ids":["`+feed.Data[0].ID+`"]}`, nil)
		x.call("POST", "/api/v1/widget/notifications/read", bearer(x.token("bob", time.Hour)), `{}`) // Bob's: none of Alice's
		x.do("GET", "/api/v1/programs/"+x.prog.ID+"/participants/alice/notifications?unread=true", x.key, "", nil, &feed)
		if len(feed.Data) != 1 || feed.Unread != 1 {
			t.Errorf("after marking one: %+v", feed)
		}
		if res, body := x.call("POST", "/api/v1/widget/notifications/read", bearer(tok), `{}`); res.StatusCode != 200 || !strings.Contains(body, `"marked": 1`) {
			t.Errorf("mark all: %s", body)
		}
		// The email log records the (skipped: no SMTP) emails.
		var emails api.List[store.EmailMessage]
		x.do("GET", "/api/v1/programs/"+x.prog.ID+"/emails?to=alice@example.com", x.key, "", nil, &emails)
		if len(emails.Data) != 2 || emails.Data[0].Status != store.EmailSkipped {
			t.Errorf("emails: %+v", emails.Data)
		}
		if res := x.do("GET", "/api/v1/programs/"+x.prog.ID+"/emails?status=lost", x.key, "", nil, nil); res.StatusCode != 400 {
			t.Errorf("bad status filter: %d", res.StatusCode)
		}
	})
}

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

func TestLandingPageAndConsent(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	code := x.alice.Code
	browser := map[string]string{"User-Agent": "Mozilla/5.0 Chrome/130", "Accept-Language": "fr-FR,fr;q=0.9"}
	// Off by default: an immediate redirect.
	if res, _ := x.call("GET", "/r/"+code, browser, ""); res.StatusCode != 302 {
		t.Fatalf("default: %d", res.StatusCode)
	}
	var set parrain.Experience
	if res := x.do("PUT", "/api/v1/programs/"+x.prog.ID+"/experience", x.key, "", `{"landing_page":true,"terms_url":"https://shop.example/terms"}`, &set); res.StatusCode != 200 || !set.LandingPage {
		t.Fatalf("settings: %d", res.StatusCode)
	}
	res, page := x.call("GET", "/r/"+code, browser, "")
	if res.StatusCode != 200 || !strings.Contains(page, "Alice vous offre 10 % de réduction") || !strings.Contains(page, `name="consent"`) ||
		!strings.Contains(page, "https://shop.example/terms") || !strings.Contains(page, "Alice peut recevoir une récompense") {
		t.Fatalf("landing page: %d\n%s", res.StatusCode, page)
	}
	if !strings.Contains(page, "--brand: #1d4ed8;") || !strings.Contains(res.Header.Get("Content-Security-Policy"), "style-src 'self' 'nonce-") {
		t.Errorf("brand colour: %s", page[:min(len(page), 600)])
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "form-action 'self' https://shop.example") {
		t.Errorf("CSP: %q", res.Header.Get("Content-Security-Policy"))
	}
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "parrain_ref" {
			cookie = c.Value
		}
	}
	if !strings.HasPrefix(cookie, code+".") {
		t.Errorf("the landing page keeps the attribution cookie: %q", cookie)
	}
	form := formOf(t, page)
	// Without the checkbox: the refusal is recorded too.
	res, _ = x.call("POST", "/r/"+code, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 303 || loc.Host != "shop.example" || loc.Query().Get("ref") != code || !strings.HasPrefix(loc.Query().Get("parrain_consent"), "cns_") {
		t.Fatalf("submit: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	refused, _ := x.m.Store().ConsentByID(context.Background(), loc.Query().Get("parrain_consent"))
	if refused.Granted || refused.Locale != "fr" || !strings.HasPrefix(refused.Wording, "Oui, Acme peut m'envoyer") || refused.WordingVersion != "builtin-1/fr" {
		t.Errorf("refusal: %+v", refused)
	}
	form.Set("consent", "yes")
	res, _ = x.call("POST", "/r/"+code, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}, form.Encode())
	loc, _ = url.Parse(res.Header.Get("Location"))
	consentID := loc.Query().Get("parrain_consent")
	// Another site cannot post a consent for a visitor.
	if res, _ := x.call("POST", "/r/"+code, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "cross-site",
		"Origin": "https://evil.example"}, form.Encode()); res.StatusCode != 403 {
		t.Errorf("cross-site post: %d", res.StatusCode)
	}
	// A wording that this server did not show is not recorded.
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = v
	}
	tampered.Set("wording", "I agree to everything")
	if res, _ := x.call("POST", "/r/"+code, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, tampered.Encode()); res.StatusCode != 303 ||
		res.Header.Get("Location") != "/r/"+code {
		t.Errorf("tampered wording: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The signup names the consent: it is linked to the friend.
	x.do("POST", "/api/v1/programs/"+x.prog.ID+"/events", x.key, "su", map[string]any{"type": "signup", "external_id": "zoe", "email": "zoe@example.org",
		"referral_code": code, "consent_id": consentID}, nil)
	var cs api.List[store.Consent]
	x.do("GET", "/api/v1/programs/"+x.prog.ID+"/participants/zoe/consents", x.key, "", nil, &cs)
	if len(cs.Data) != 1 || !cs.Data[0].Granted || cs.Data[0].ID != consentID || cs.Data[0].Source != "landing" {
		t.Errorf("consents: %+v", cs.Data)
	}
	// Consent asked in the customer's own form.
	var c store.Consent
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/participants/zoe/consents", x.key, "c1", `{"granted":false,"wording":"Email me","wording_version":"app-3"}`, &c); res.StatusCode != 201 || c.Granted {
		t.Errorf("api consent: %d %+v", res.StatusCode, c)
	}
	var e httpx.ErrorBody
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/participants/zoe/consents", x.key, "c2", `{"wording":"x","wording_version":"v"}`, &e); res.StatusCode != 400 || e.Error.Field != "granted" {
		t.Errorf("missing granted: %d %+v", res.StatusCode, e)
	}
	// Link previews see the personalised page too.
	if res, page := x.call("GET", "/r/"+code, map[string]string{"User-Agent": "facebookexternalhit/1.1"}, ""); res.StatusCode != 200 || !strings.Contains(page, `og:title" content="Alice gave you 10% off"`) {
		t.Errorf("preview: %d", res.StatusCode)
	}
	// An unknown code still lands without a page.
	if res, _ := x.call("GET", "/r/NOPE999", browser, ""); res.StatusCode != 302 {
		t.Errorf("unknown code: %d", res.StatusCode)
	}
}

// formOf extracts the hidden fields of the landing page's form.
func formOf(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, name := range []string{"lang", "wording_version", "wording", "sig"} {
		marker := `name="` + name + `" value="`
		i := strings.Index(page, marker)
		if i < 0 {
			t.Fatalf("no %s field", name)
		}
		rest := page[i+len(marker):]
		val := rest[:strings.IndexByte(rest, '"')]
		v.Set(name, html.UnescapeString(val))
	}
	return v
}

func TestUnsubscribeLink(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	tok := x.m.Store().UnsubscribeToken(x.prog.ID, "alice@example.com")
	res, page := x.call("GET", "/u/"+tok, map[string]string{"Accept-Language": "en"}, "")
	if res.StatusCode != 200 || !strings.Contains(page, "Stop emails about Acme&#39;s referral program to alice@example.com?") || !strings.Contains(page, `method="post"`) {
		t.Fatalf("page: %d %s", res.StatusCode, page)
	}
	if u, _ := x.m.Store().Unsubscribed(context.Background(), x.prog.ID, "alice@example.com"); u {
		t.Fatal("opening the link must not unsubscribe (mail scanners)")
	}
	res, _ = x.call("POST", "/u/"+tok, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "List-Unsubscribe=One-Click")
	if res.StatusCode != 200 {
		t.Fatalf("one-click: %d", res.StatusCode)
	}
	if u, _ := x.m.Store().Unsubscribed(context.Background(), x.prog.ID, "alice@example.com"); !u {
		t.Error("not unsubscribed")
	}
	if res, _ := x.call("GET", "/u/"+tok+"x", nil, ""); res.StatusCode != 404 {
		t.Errorf("forged link: %d", res.StatusCode)
	}
}

func TestReferByName(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	x.m.widgets.SetLookupLimit(time.Hour, 3)
	post := func(body string) (int, string) {
		res, b := x.call("POST", "/api/v1/widget/lookup", map[string]string{"Content-Type": "text/plain", "Accept-Language": "fr"}, body)
		return res.StatusCode, b
	}
	st, body := post(`{"program_id":"` + x.prog.ID + `","query":"martin alice"}`)
	if st != 200 || !strings.Contains(body, `"matched": true`) || !strings.Contains(body, `"code": "`+x.alice.Code+`"`) || !strings.Contains(body, "Alice M.") {
		t.Errorf("match: %d %s", st, body)
	}
	st, body = post(`{"program_id":"` + x.prog.ID + `","query":"someone@example.com"}`)
	if st != 200 || !strings.Contains(body, `"matched": false`) || strings.Contains(body, `"code"`) || !strings.Contains(body, "Aucune correspondance unique") {
		t.Errorf("no match: %d %s", st, body)
	}
	if st, body = post(`{"program_id":"` + x.prog.ID + `","query":"Alice"}`); st != 400 || !strings.Contains(body, `"field": "query"`) {
		t.Errorf("first name only: %d %s", st, body)
	}
	if st, _ = post(`{"program_id":"` + x.prog.ID + `","query":"Alice Martin"}`); st != 429 {
		t.Errorf("fourth lookup: %d, want 429", st)
	}
}

func TestTriggersAPI(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	var tr parrain.MomentTrigger
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/triggers", x.key, "t1", `{"name":"Promoters","event":"nps","effects":["notification","webhook"]}`, &tr); res.StatusCode != 201 || *tr.MinScore != 9 {
		t.Fatalf("create: %d %+v", res.StatusCode, tr)
	}
	var e httpx.ErrorBody
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/triggers", x.key, "", `{"event":"purchase_count","count":3}`, &e); res.StatusCode != 400 || e.Error.Field != "within_days" {
		t.Errorf("invalid: %d %+v", res.StatusCode, e)
	}
	var r store.EventResult
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/events", x.key, "nps-1", `{"type":"nps","external_id":"alice","score":10}`, &r); res.StatusCode != 201 || len(r.TriggersFired) != 1 {
		t.Fatalf("nps event: %d %+v", res.StatusCode, r)
	}
	if res := x.do("POST", "/api/v1/programs/"+x.prog.ID+"/events", x.key, "nps-2", `{"type":"nps","external_id":"alice","score":11}`, &e); res.StatusCode != 400 || e.Error.Field != "score" {
		t.Errorf("bad score: %d %+v", res.StatusCode, e)
	}
	x.drain()
	var fs api.List[store.Firing]
	x.do("GET", "/api/v1/programs/"+x.prog.ID+"/triggers/"+tr.ID+"/firings", x.key, "", nil, &fs)
	if len(fs.Data) != 1 || fs.Data[0].ExternalID != "alice" || fs.Data[0].Effects[0].Status != store.EffectDone || fs.Data[0].Effects[1].Status != store.EffectSkipped {
		t.Errorf("firings: %+v", fs.Data)
	}
	tr.MinScore = nil
	x.do("PUT", "/api/v1/programs/"+x.prog.ID+"/triggers/"+tr.ID, x.key, "", `{"event":"rating","min_score":4}`, &tr)
	if tr.Kind != parrain.MomentRating || *tr.MinScore != 4 {
		t.Errorf("replace: %+v", tr)
	}
	var list api.List[parrain.MomentTrigger]
	x.do("GET", "/api/v1/programs/"+x.prog.ID+"/triggers", x.key, "", nil, &list)
	if len(list.Data) != 1 {
		t.Errorf("list: %d", len(list.Data))
	}
	if res := x.do("DELETE", "/api/v1/programs/"+x.prog.ID+"/triggers/"+tr.ID, x.key, "", nil, nil); res.StatusCode != 204 {
		t.Errorf("delete: %d", res.StatusCode)
	}
	if res := x.do("GET", "/api/v1/programs/"+x.prog.ID+"/triggers/"+tr.ID, x.key, "", nil, nil); res.StatusCode != 404 {
		t.Errorf("deleted: %d", res.StatusCode)
	}
}

func TestEmailTemplatesAPI(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	base := "/api/v1/programs/" + x.prog.ID + "/email-templates"
	var e httpx.ErrorBody
	if res := x.do("PUT", base+"/welcome/fr", x.key, "", `{"subject":"Bienvenue","text":"pas de lien"}`, &e); res.StatusCode != 400 || e.Error.Field != "text" {
		t.Errorf("no unsubscribe link: %d %+v", res.StatusCode, e)
	}
	if res := x.do("PUT", base+"/spam/fr", x.key, "", `{"subject":"x","text":"{{.UnsubscribeURL}}"}`, &e); res.StatusCode != 400 || e.Error.Field != "kind" {
		t.Errorf("bad kind: %d %+v", res.StatusCode, e)
	}
	if res := x.do("PUT", base+"/welcome/fr", x.key, "", `{"subject":"Bienvenue {{.FirstName}}","text":"Lien : {{.Link}}\n{{.UnsubscribeURL}}"}`, nil); res.StatusCode != 200 {
		t.Errorf("save: %d", res.StatusCode)
	}
	var v api.EmailTemplateView
	x.do("GET", base+"/welcome/fr", x.key, "", nil, &v)
	if v.Override == nil || v.Preview.Subject != "Bienvenue Alice" {
		t.Errorf("preview: %+v", v)
	}
	v = api.EmailTemplateView{}
	x.do("GET", base+"/welcome/en", x.key, "", nil, &v)
	if v.Override != nil || v.Preview.Subject != "Your referral link for Acme" || !strings.Contains(v.Preview.HTML, "https://refer.example/u/sample") {
		t.Errorf("built-in preview: %+v", v.Preview.Subject)
	}
	var list api.EmailTemplatesView
	x.do("GET", base, x.key, "", nil, &list)
	if len(list.Data) != 1 || len(list.Kinds) != len(parrain.NoticeKinds) || len(list.Languages) < 2 {
		t.Errorf("list: %+v", list)
	}
	if res := x.do("DELETE", base+"/welcome/fr", x.key, "", nil, nil); res.StatusCode != 204 {
		t.Errorf("delete: %d", res.StatusCode)
	}
	if res := x.do("DELETE", base+"/welcome/fr", x.key, "", nil, nil); res.StatusCode != 404 {
		t.Errorf("delete again: %d", res.StatusCode)
	}
}

func TestSnippetAndWidgetPage(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	res, js := x.call("GET", "/js/parrain.js", nil, "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(js, "Parrain") ||
		res.Header.Get("ETag") == "" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=3600") {
		t.Errorf("snippet: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := x.call("GET", "/js/parrain.js", map[string]string{"If-None-Match": res.Header.Get("ETag")}, ""); res.StatusCode != 304 {
		t.Errorf("revalidation: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", x.srv.URL+"/js/parrain.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	gz, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, gz.Body)
	gz.Body.Close()
	if gz.Header.Get("Content-Encoding") != "gzip" || n > 4096 {
		t.Errorf("gzip: %q, %d bytes", gz.Header.Get("Content-Encoding"), n)
	}
	x.do("PUT", "/api/v1/programs/"+x.prog.ID+"/experience", x.key, "", `{"allowed_origins":["https://app.example.com"]}`, nil)
	res, page := x.call("GET", "/widget?program="+x.prog.ID, map[string]string{"Accept-Language": "fr"}, "")
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || res.Header.Get("X-Frame-Options") != "" || !strings.Contains(csp, "frame-ancestors 'self' https://shop.example https://app.example.com") ||
		!strings.Contains(page, `lang="fr"`) || !strings.Contains(page, "Parrainez un ami") {
		t.Errorf("widget page: %d %q %v", res.StatusCode, csp, res.Header)
	}
	if res, _ := x.call("GET", "/widget?program=prog_nope", nil, ""); res.StatusCode != 404 {
		t.Errorf("unknown program: %d", res.StatusCode)
	}
	if res, _ := x.call("GET", "/widget/assets/widget.js", nil, ""); res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("asset: %d", res.StatusCode)
	}
	if res, _ := x.call("GET", "/widget/assets/secret.txt", nil, ""); res.StatusCode != 404 {
		t.Errorf("unknown asset: %d", res.StatusCode)
	}
	// Other pages stay unframable.
	if res, _ := x.call("GET", "/healthz", nil, ""); res.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("X-Frame-Options removed elsewhere")
	}
}

func TestExperienceSettingsAPI(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	var e httpx.ErrorBody
	cases := []struct{ body, field string }{
		{`{"terms_url":"ftp://x"}`, "terms_url"},
		{`{"consent_text":{"en":"Yes"}}`, "consent_version"},
		{`{"emails":{"spam":true}}`, "emails.spam"},
		{`{"colour":"red"}`, "colour"},
		{`{"invites_per_day":"many"}`, "invites_per_day"},
	}
	for _, tc := range cases {
		if res := x.do("PUT", "/api/v1/programs/"+x.prog.ID+"/experience", x.key, "", tc.body, &e); res.StatusCode != 400 || e.Error.Field != tc.field {
			t.Errorf("%s: %d %+v", tc.body, res.StatusCode, e)
		}
	}
	var got parrain.Experience
	x.do("GET", "/api/v1/programs/"+x.prog.ID+"/experience", x.key, "", nil, &got)
	if got.InvitesPerDay != 20 || !got.EmailEnabled(parrain.NoticeReminder) {
		t.Errorf("defaults: %+v", got)
	}
}

// The advocate sets where cash rewards are paid from the widget: bad
// details are refused with the field, good ones are stored and shown
// masked; another advocate's token sees only their own.
func TestWidgetPayoutAccount(t *testing.T) {
	x := newXP(t, dbtest.URL(t, "sqlite"))
	tok := x.token("alice", time.Hour)
	res, body := x.call("GET", "/api/v1/widget/payout-account", bearer(tok), "")
	if res.StatusCode != 200 || !strings.Contains(body, `"set": false`) {
		t.Fatalf("before: %d %s", res.StatusCode, body)
	}
	res, body = x.call("PUT", "/api/v1/widget/payout-account", bearer(tok), `{"method":"bank","bank":{"holder_name":"Alice Martin","iban":"FR00 1234"}}`)
	if res.StatusCode != 400 || !strings.Contains(body, `"field": "bank.iban"`) {
		t.Fatalf("bad IBAN: %d %s", res.StatusCode, body)
	}
	res, body = x.call("PUT", "/api/v1/widget/payout-account", bearer(tok), `{"method":"bank","bank":{"holder_name":"Alice Martin","iban":"FR76 3000 6000 0112 3456 7890 189","bic":"AGRIFRPP"}}`)
	if res.StatusCode != 200 || strings.Contains(body, "30006000011234567890") || !strings.Contains(body, "Alice Martin") {
		t.Fatalf("good IBAN: %d %s", res.StatusCode, body)
	}
	acct, err := x.m.Store().PayoutAccount(context.Background(), x.prog.ID, "alice")
	if err != nil || acct.Bank == nil || acct.Bank.IBAN != "FR7630006000011234567890189" {
		t.Fatalf("stored %+v %v", acct, err)
	}
	_, body = x.call("GET", "/api/v1/widget/payout-account", bearer(x.token("bob", time.Hour)), "")
	if strings.Contains(body, "Alice") {
		t.Errorf("bob sees alice's account: %s", body)
	}
	if res, _ := x.call("PUT", "/api/v1/widget/payout-account", nil, `{"method":"paypal","paypal_email":"a@b.example"}`); res.StatusCode != 401 {
		t.Errorf("without token: %d", res.StatusCode)
	}
}
