package widget

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// refCookie returns the attribution cookie an answer sets, or nil.
func refCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	return nil
}

// TestRedirectTargets: where each kind of code lands, whether it credits
// (ref parameter and cookie) and how its click is counted.
func TestRedirectTargets(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		paused, _, err := program.New(e.st).Create(ctx, parrain.Program{Name: "Paused", LandingURL: "https://paused.example/welcome", Currency: "EUR"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		pat, _, err := referral.New(e.st).UpsertParticipant(ctx, paused.ID, parrain.ParticipantInput{ExternalID: "pat"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := program.New(e.st).SetStatus(ctx, paused.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, path string
			ua         string
			host, ref  string // where it lands, the ref it carries ("" none)
			cookie     bool
		}{
			{"a valid code", "/r/" + e.alice.Code, browser, "shop.example", e.alice.Code, true},
			{"a valid code in lower case with spaces", "/r/%20" + strings.ToLower(e.alice.Code), browser, "shop.example", e.alice.Code, true},
			{"a paused program's code: its landing, no credit", "/r/" + pat.Code, browser, "paused.example", "", false},
			{"an unknown code: the active program's landing", "/r/ZZZZZZZ", browser, "shop.example", "", false},
			{"a malformed code", "/r/%3Cscript%3E", browser, "shop.example", "", false},
			{"a bot still gets its redirect and cookie", "/r/" + e.alice.Code, "Googlebot/2.1 (+http://www.google.com/bot.html)", "shop.example", e.alice.Code, true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := e.serve(request("GET", c.path, "203.0.113.5:1", map[string]string{"User-Agent": c.ua}, ""))
				loc, err := url.Parse(w.Header().Get("Location"))
				if err != nil || w.Code != http.StatusFound || loc.Host != c.host || loc.Query().Get("ref") != c.ref {
					t.Fatalf("%d %q %v; want %s with ref %q", w.Code, w.Header().Get("Location"), err, c.host, c.ref)
				}
				if got := refCookie(w); (got != nil) != c.cookie {
					t.Errorf("cookie %v, want %v", got, c.cookie)
				}
				if w.Header().Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
					t.Errorf("Referrer-Policy %q", w.Header().Get("Referrer-Policy"))
				}
			})
		}
		clicks := e.recordedClicks()
		var got []string
		for _, c := range clicks {
			got = append(got, c.code)
		}
		// Counted: the two browser visits of Alice's link, Pat's, the unknown
		// and the malformed code (as typed, normalised); not the bot.
		want := []string{e.alice.Code, e.alice.Code, pat.Code, "ZZZZZZZ", "<SCRIPT>"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("clicks %v, want %v", got, want)
		}
		valid, invalid, err := e.st.ClickCounts(ctx)
		if err != nil || valid != 2 || invalid != 3 {
			t.Errorf("click counts: %d valid, %d invalid, %v", valid, invalid, err)
		}
	})
}

// TestRedirectFallbackAndCookie: with no active program an unknown code
// lands on the configured fallback; the cookie keeps earlier touches,
// replaces a garbled one and carries the configured Domain and Secure.
func TestRedirectFallbackAndCookie(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		bob := e.advocate(t, "bob", "bob@example.org")
		red := NewRedirect(e.st, slog.New(slog.DiscardHandler), e.clicks, "https://fallback.example/", ".shop.example", true, httpx.IPResolver{})
		get := func(code, cookie string) *httptest.ResponseRecorder {
			r := request("GET", "/r/"+code, "203.0.113.5:1", map[string]string{"Cookie": cookie}, "")
			r.SetPathValue("code", code)
			w := httptest.NewRecorder()
			red.ServeHTTP(w, r)
			return w
		}
		first := refCookie(get(bob.Code, ""))
		if first == nil || !first.Secure || first.Domain != "shop.example" || first.MaxAge != e.prog.CookieWindowDays*24*3600 || first.MaxAge == 0 {
			t.Fatalf("cookie %+v", first)
		}
		e.clock.Advance(3600e9)
		second := refCookie(get(e.alice.Code, CookieName+"="+first.Value))
		touches, err := parrain.ParseTouchCookie(second.Value)
		if err != nil || len(touches) != 2 || touches[0].Code != bob.Code || touches[1].Code != e.alice.Code {
			t.Errorf("touches %+v %v", touches, err)
		}
		garbled := refCookie(get(e.alice.Code, CookieName+"=%%%garbage"))
		touches, err = parrain.ParseTouchCookie(garbled.Value)
		if err != nil || len(touches) != 1 || touches[0].Code != e.alice.Code {
			t.Errorf("after a garbled cookie: %+v %v", touches, err)
		}

		if _, err := program.New(e.st).SetStatus(ctx, e.prog.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		w := get("NOSUCH1", "")
		if w.Code != http.StatusFound || w.Header().Get("Location") != "https://fallback.example/" || refCookie(w) != nil {
			t.Errorf("no active program: %d %q", w.Code, w.Header().Get("Location"))
		}
	})
}

// formOf reads the landing page's hidden consent fields.
func formOf(t *testing.T, body string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, name := range []string{"lang", "wording", "wording_version", "sig"} {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in the form:\n%s", name, body)
		}
		form.Set(name, htmlUnescape(m[1]))
	}
	return form
}

// TestLandingConsent: the landing page speaks the visitor's language and
// records exactly the wording it showed, granted or declined; a form posted
// from another site, or for a code that no longer credits, records nothing.
func TestLandingConsent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		if _, err := e.ref.SetExperience(ctx, e.prog.ID, parrain.Experience{LandingPage: true, SenderName: "Acme Shop",
			ConsentText: map[string]string{"fr": "Oui, Acme Shop peut m'écrire."}, ConsentVersion: "2026-11"}); err != nil {
			t.Fatal(err)
		}
		page := func(lang string) (string, url.Values) {
			t.Helper()
			w := e.serve(request("GET", "/r/"+e.alice.Code, "203.0.113.5:1", map[string]string{"Accept-Language": lang}, ""))
			if w.Code != http.StatusOK || refCookie(w) == nil {
				t.Fatalf("landing page (%s): %d", lang, w.Code)
			}
			return w.Body.String(), formOf(t, w.Body.String())
		}
		post := func(form url.Values, hdr map[string]string) *httptest.ResponseRecorder {
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			for k, v := range hdr {
				h[k] = v
			}
			return e.serve(request("POST", "/r/"+e.alice.Code, "203.0.113.5:1", h, form.Encode()))
		}
		consents := func() int { return e.countRows(t, `SELECT COUNT(*) FROM consents WHERE program_id = $1`, e.prog.ID) }

		frBody, fr := page("fr-FR,fr;q=0.9")
		if !strings.Contains(frBody, `lang="fr"`) || !strings.Contains(frBody, "Continuer vers Acme Shop") || fr.Get("wording") != "Oui, Acme Shop peut m'écrire." || fr.Get("wording_version") != "2026-11" {
			t.Fatalf("French page: %v\n%s", fr, frBody)
		}
		enBody, en := page("en")
		if !strings.Contains(enBody, "Continue to Acme Shop") || en.Get("wording_version") != parrain.DefaultConsentVersion+"/en" || !strings.Contains(en.Get("wording"), "Acme Shop may email me") {
			t.Fatalf("English page: %v", en)
		}

		// Refused: from another site, or with the French wording under the
		// English signature.
		cross := post(fr, map[string]string{"Sec-Fetch-Site": "cross-site"})
		if cross.Code != http.StatusForbidden {
			t.Errorf("cross-site post: %d", cross.Code)
		}
		mixed := url.Values{}
		for k, v := range en {
			mixed[k] = v
		}
		mixed.Set("wording", fr.Get("wording"))
		if w := post(mixed, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/r/"+e.alice.Code {
			t.Errorf("mismatched wording: %d %q", w.Code, w.Header().Get("Location"))
		}
		if n := consents(); n != 0 {
			t.Fatalf("%d consents after refused posts", n)
		}

		cases := []struct {
			name    string
			form    url.Values
			granted bool
			locale  string
		}{
			{"declined, in French", fr, false, "fr"},
			{"granted, in English", en, true, "en"},
		}
		for _, c := range cases {
			f := url.Values{}
			for k, v := range c.form {
				f[k] = v
			}
			if c.granted {
				f.Set("consent", "yes")
			}
			w := post(f, nil)
			loc, err := url.Parse(w.Header().Get("Location"))
			if err != nil || w.Code != http.StatusSeeOther || loc.Host != "shop.example" || loc.Query().Get("ref") != e.alice.Code || loc.Query().Get("utm") != "mail" {
				t.Fatalf("%s: %d %q", c.name, w.Code, w.Header().Get("Location"))
			}
			got, err := e.st.ConsentByID(ctx, loc.Query().Get(ConsentParam))
			if err != nil || got.Granted != c.granted || got.Locale != c.locale || got.Wording != c.form.Get("wording") ||
				got.WordingVersion != c.form.Get("wording_version") || got.Source != store.ConsentLanding || got.Code != e.alice.Code {
				t.Errorf("%s: consent %+v %v", c.name, got, err)
			}
		}

		// A paused program's code no longer takes consents: back to GET.
		if _, err := program.New(e.st).SetStatus(ctx, e.prog.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		if w := post(en, nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/r/"+e.alice.Code {
			t.Errorf("paused: %d %q", w.Code, w.Header().Get("Location"))
		}
		if w := e.serve(request("POST", "/r/NOSUCH1", "203.0.113.5:1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, en.Encode())); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/r/NOSUCH1" {
			t.Errorf("unknown code: %d %q", w.Code, w.Header().Get("Location"))
		}
		if n := consents(); n != 2 {
			t.Errorf("%d consents, want 2", n)
		}
		// And its GET is a plain redirect, not the landing page.
		if w := e.serve(request("GET", "/r/"+e.alice.Code, "203.0.113.5:1", nil, "")); w.Code != http.StatusFound {
			t.Errorf("paused GET: %d", w.Code)
		}
	})
}

// TestUnsubscribe: the link asks first (mail scanners open links), the
// confirmation or a one-click POST unsubscribes, in the program's language;
// a forged link is refused; an unsubscribed address gets no invitation.
func TestUnsubscribe(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		if _, err := e.ref.SetExperience(ctx, e.prog.ID, parrain.Experience{SenderName: "Acme Shop", DefaultLocale: "fr"}); err != nil {
			t.Fatal(err)
		}
		tokFor := func(email string) string { return e.st.UnsubscribeToken(e.prog.ID, email) }
		// A recipient known to write in English, in a French program.
		if _, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "anglo", Email: "anglo@example.org", Locale: "en"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		forged := strings.SplitN(tokFor("friend@example.org"), ".", 2)[0] + "." + strings.SplitN(tokFor("other@example.org"), ".", 2)[1]
		cases := []struct {
			name, method, token, body, accept string
			status                            int
			text                              string
			unsubscribed                      string // the address unsubscribed afterwards ("" none)
			source                            string
		}{
			{"GET asks, in the program's French", "GET", tokFor("friend@example.org"), "", "", 200, "Ne plus envoyer à friend@example.org d'e-mails sur le programme de parrainage de Acme Shop ?", "", ""},
			{"GET asks in the recipient's own English", "GET", tokFor("anglo@example.org"), "", "fr", 200, "Stop emails about Acme Shop's referral program to anglo@example.org?", "", ""},
			{"the email's language in the link wins", "GET", tokFor("friend@example.org") + "?lang=en", "", "fr", 200, "Stop emails about Acme Shop's referral program to friend@example.org?", "", ""},
			{"a forged token, in the browser's French", "GET", forged, "", "fr-FR", 404, "Ce lien de désinscription n'est pas valide.", "", ""},
			{"garbage, in the browser's English", "POST", "garbage", "", "en", 404, "This unsubscribe link is not valid.", "", ""},
			{"the confirmation form", "POST", tokFor("friend@example.org"), "", "", 200, "C'est fait : friend@example.org ne recevra plus", "friend@example.org", "page"},
			{"one-click from a mail provider", "POST", tokFor("Other@Example.org"), "List-Unsubscribe=One-Click", "", 200, "other@example.org", "other@example.org", "one-click"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := e.serve(request(c.method, "/u/"+c.token, "203.0.113.5:1", map[string]string{"Accept-Language": c.accept,
					"Content-Type": "application/x-www-form-urlencoded"}, c.body))
				if w.Code != c.status || !strings.Contains(htmlUnescape(w.Body.String()), c.text) {
					t.Fatalf("%d, want %d with %q:\n%s", w.Code, c.status, c.text, w.Body)
				}
				if w.Header().Get("Cache-Control") != "no-store" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
					t.Errorf("headers %v", w.Header())
				}
				if c.method == "GET" && c.status == 200 && !strings.Contains(w.Body.String(), `action="/u/`+strings.SplitN(c.token, "?", 2)[0]+`?lang=`) {
					t.Errorf("no confirmation form:\n%s", w.Body)
				}
				if c.unsubscribed == "" {
					return
				}
				var source string
				if err := e.st.DB().QueryRowContext(ctx, `SELECT source FROM unsubscribes WHERE program_id = $1 AND email_canonical = $2`,
					e.prog.ID, c.unsubscribed).Scan(&source); err != nil || source != c.source {
					t.Errorf("unsubscribe of %s: source %q, %v", c.unsubscribed, source, err)
				}
			})
		}
		// Asking (GET) and refusals unsubscribed nobody else.
		if n := e.countRows(t, `SELECT COUNT(*) FROM unsubscribes WHERE program_id = $1`, e.prog.ID); n != 2 {
			t.Errorf("%d unsubscribes, want 2", n)
		}
		var got inviteAnswer
		decodeOK(t, e.call("POST", "/api/v1/widget/invites", e.token("alice", 3600e9), `{"emails":["friend@example.org","new@example.org"]}`, nil), http.StatusCreated, &got)
		if statuses(got.Results) != "friend@example.org=skipped new@example.org=queued" {
			t.Errorf("invites after unsubscribing: %s", statuses(got.Results))
		}
	})
}

// TestWidgetPageAndAssets: the widget page may be framed only by the
// program's origins and speaks the chosen language; assets are cached,
// revalidated and compressed; preflights are answered.
func TestWidgetPageAndAssets(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		if _, err := e.ref.SetExperience(context.Background(), e.prog.ID, parrain.Experience{AllowedOrigins: []string{"https://app.shop.example"}}); err != nil {
			t.Fatal(err)
		}
		get := func(path string, hdr map[string]string) *httptest.ResponseRecorder {
			return e.serve(request("GET", path, "203.0.113.5:1", hdr, ""))
		}
		if w := get("/widget?program=prg_nope", nil); w.Code != http.StatusNotFound {
			t.Errorf("unknown program: %d", w.Code)
		}
		pages := []struct {
			name, query, accept string
			lang, title         string
		}{
			{"the browser's French", "", "fr", "fr", "Parrainez un ami"},
			{"an explicit English", "&locale=en", "fr", "en", "Refer a friend"},
			{"a malformed locale is ignored", "&locale=%3Cx%3E", "fr", "fr", "Parrainez un ami"},
		}
		for _, c := range pages {
			w := get("/widget?program="+e.prog.ID+c.query, map[string]string{"Accept-Language": c.accept})
			body := w.Body.String()
			if w.Code != http.StatusOK || !strings.Contains(body, `<html lang="`+c.lang+`"`) || !strings.Contains(body, "<title>"+c.title+"</title>") {
				t.Errorf("%s: %d\n%s", c.name, w.Code, body)
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://shop.example https://app.shop.example") {
				t.Errorf("%s: CSP %q", c.name, csp)
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("%s: inline script under script-src 'self'", c.name)
			}
		}

		js := get("/widget/assets/widget.js", nil)
		etag := js.Header().Get("ETag")
		if js.Code != http.StatusOK || etag == "" || js.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || !bytes.Equal(js.Body.Bytes(), staticFiles["widget.js"].body) {
			t.Fatalf("widget.js: %d %v", js.Code, js.Header())
		}
		if w := get("/widget/assets/widget.js", map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("revalidation: %d, %d bytes", w.Code, w.Body.Len())
		}
		gz := get("/widget/assets/widget.js", map[string]string{"Accept-Encoding": "gzip, br"})
		zr, err := gzip.NewReader(gz.Body)
		if err != nil || gz.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("gzip: %v %v", err, gz.Header())
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, staticFiles["widget.js"].body) {
			t.Errorf("gzip body differs: %v", err)
		}
		if w := get("/widget/assets/secrets.txt", nil); w.Code != http.StatusNotFound {
			t.Errorf("unknown asset: %d", w.Code)
		}
		snippet := get("/js/parrain.js", nil)
		if snippet.Code != http.StatusOK || snippet.Header().Get("Cache-Control") != "public, max-age=3600" || snippet.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("snippet: %d %v", snippet.Code, snippet.Header())
		}

		pre := e.serve(request("OPTIONS", "/api/v1/widget/invites", "203.0.113.5:1", map[string]string{"Origin": "https://shop.example",
			"Access-Control-Request-Method": "POST"}, ""))
		if pre.Code != http.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(pre.Header().Get("Access-Control-Allow-Headers"), "Idempotency-Key") {
			t.Errorf("preflight: %d %v", pre.Code, pre.Header())
		}
	})
}
